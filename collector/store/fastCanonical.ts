/**
 * A DuckDB SQL expression that computes a row's canonical JSON (docs/audit-format.md,
 * section 3) inside DuckDB, so that verification moves one value per row into
 * JS instead of ~70. It is only a fast path: a row whose result does not hash
 * to its stored hash is re-checked exactly (verifyChain), so where this
 * expression and the canonical form could differ (a literal "\u000B" text in a
 * string, a DOUBLE whose shortest digits DuckDB chose differently) the verdict
 * is still exact, only slower.
 *
 * Per type: VARCHAR and VARCHAR[] via to_json (which escapes as JSON.stringify
 * does, except that it writes \u00XX escapes in uppercase: fixed below),
 * BIGINT and BOOLEAN as DuckDB prints them, TIMESTAMP as epoch microseconds,
 * DECIMAL as a JSON string of DuckDB's text (exactly scale digits after the point),
 * DOUBLE re-printed the ECMAScript way from DuckDB's shortest round-trip digits.
 * NULL members drop out (concat_ws skips NULLs).
 */

/** Control characters whose \u00XX escape has hex letters (others use \b \t \n \f \r or digits only). */
const UPPER_ESCAPES = ['0B', '0E', '0F', '1A', '1B', '1C', '1D', '1E', '1F'];

function sqlString(s: string): string {
  return `'${s.replace(/'/g, "''")}'`;
}

/**
 * ECMAScript Number::toString of a positive DOUBLE `a`, from DuckDB's text `d`
 * (e.g. '120.0', '0.00125', '1.5e-05', '1e+16'): plain notation for
 * 1e-6 <= a < 1e21, otherwise exponent notation without leading zeros.
 */
function positiveNumber(a: string): string {
  const d = `(${a})::VARCHAR`;
  const mantissa = `split_part(${d}, 'e', 1)`;
  const exponent = `split_part(${d}, 'e', 2)::INTEGER`;
  const digits = `replace(${mantissa}, '.', '')`;
  return `CASE
    WHEN NOT contains(${d}, 'e') THEN (CASE WHEN suffix(${d}, '.0') THEN left(${d}, length(${d}) - 2) ELSE ${d} END)
    WHEN ${exponent} BETWEEN -6 AND -1 THEN '0.' || repeat('0', -${exponent} - 1) || ${digits}
    WHEN ${exponent} BETWEEN 0 AND 20 AND length(${digits}) - 1 <= ${exponent} THEN ${digits} || repeat('0', ${exponent} - length(${digits}) + 1)
    ELSE ${mantissa} || 'e' || (CASE WHEN ${exponent} < 0 THEN '-' ELSE '+' END) || abs(${exponent})::VARCHAR
  END`;
}

/** The JSON text of column `name` of SQL type `type` (NULL when the value is NULL). */
function valueSql(name: string, type: string): string {
  const col = `"${name}"`;
  if (type === 'VARCHAR' || type.endsWith('[]')) return `to_json(${col})::VARCHAR`;
  if (type === 'BIGINT' || type === 'INTEGER' || type === 'BOOLEAN') return `${col}::VARCHAR`;
  if (type.startsWith('TIMESTAMP')) return `epoch_us(${col})::VARCHAR`;
  // DECIMAL prints with exactly its scale's digits after the point: the canonical string.
  if (type.startsWith('DECIMAL')) return `to_json(${col}::VARCHAR)::VARCHAR`;
  if (type === 'DOUBLE') {
    return `(CASE WHEN ${col} = 0 THEN '0' WHEN ${col} < 0 THEN '-' || ${positiveNumber(`-${col}`)} ELSE ${positiveNumber(col)} END)`;
  }
  return `to_json(${col})::VARCHAR`;
}

/**
 * SQL for the canonical JSON of a row whose hashed columns are `columns` (every
 * column but `hash`), before lowercaseEscapes.
 */
export function canonicalJsonSql(columns: ReadonlyArray<{ name: string; type: string }>): string {
  const sorted = [...columns].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const members = sorted.map((c) => `${sqlString(`"${c.name}":`)} || ${valueSql(c.name, c.type)}`);
  return `'{' || concat_ws(',', ${members.join(', ')}) || '}'`;
}

/**
 * SQL that lowercases the hex of \u00XX escapes in the JSON text `json` (a
 * column name). A text with an escaped backslash before "u00" (a string value
 * holding a literal "\u00..") gives NULL, as plain replacing could change that
 * value: the row then takes the exact check.
 */
export function lowercaseEscapes(json: string): string {
  const fixed = UPPER_ESCAPES.reduce((s, hex) => `replace(${s}, '\\u00${hex}', '\\u00${hex.toLowerCase()}')`, json);
  return `CASE WHEN contains(${json}, '\\\\u00') THEN NULL WHEN contains(${json}, '\\u00') THEN ${fixed} ELSE ${json} END`;
}
