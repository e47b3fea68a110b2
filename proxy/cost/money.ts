/**
 * Exact money. Amounts are integers of pico-USD (1e-12 USD) held in BigInt, and
 * written as decimal strings with at most 12 digits after the point: the audit
 * trail's `cost_usd` is DECIMAL(38,12). A price per 1M tokens with at most six
 * decimals is a whole number of pico-USD per token, so a request's cost is an
 * exact product and a total an exact sum; nothing is a binary float.
 */

export const USD_SCALE = 12;
const SCALE = 10n ** BigInt(USD_SCALE);
/** Decimal places a price per 1M tokens may have (pico-USD per token stays whole). */
export const PRICE_DECIMALS = 6;

/** The plain-notation decimal text of a finite JS number (its shortest round-trip digits), e.g. 1.5e-7 -> '0.00000015'. */
export function decimalTextOf(n: number): string {
  if (!Number.isFinite(n)) throw new RangeError(`${n} is not a finite number`);
  const text = String(n);
  const match = /^(-?)(\d)(?:\.(\d+))?e([+-]\d+)$/.exec(text);
  if (!match) return text;
  const [, sign, lead, rest = '', exp] = match;
  const digits = lead + rest;
  const point = 1 + Number(exp);
  if (point <= 0) return `${sign}0.${'0'.repeat(-point)}${digits}`;
  if (point >= digits.length) return `${sign}${digits}${'0'.repeat(point - digits.length)}`;
  return `${sign}${digits.slice(0, point)}.${digits.slice(point)}`;
}

/**
 * Parses a decimal string ('12', '-0.5', '0.000015750000') into units of
 * 10^-scale. Returns undefined when it is not a plain decimal or has more than
 * `scale` digits after the point (no silent rounding).
 */
export function parseDecimal(text: string, scale = USD_SCALE): bigint | undefined {
  const match = /^(-?)(\d{1,26})(?:\.(\d+))?$/.exec(text);
  if (!match) return undefined;
  const [, sign, whole = '0', fraction = ''] = match;
  if (fraction.length > scale) return undefined;
  const units = BigInt(whole) * 10n ** BigInt(scale) + BigInt(fraction.padEnd(scale, '0') || '0');
  return sign === '-' ? -units : units;
}

/**
 * Rounds a decimal string with any number of fraction digits to `scale` places,
 * half to even (used only for amounts that arrive as binary floats from older
 * writers). Undefined when it is not a decimal.
 */
export function roundDecimal(text: string, scale = USD_SCALE): bigint | undefined {
  const match = /^(-?)(\d{1,26})(?:\.(\d+))?$/.exec(text);
  if (!match) return undefined;
  const [, sign, whole = '0', fraction = ''] = match;
  const kept = fraction.slice(0, scale).padEnd(scale, '0');
  let units = BigInt(whole) * 10n ** BigInt(scale) + BigInt(kept || '0');
  const dropped = fraction.slice(scale);
  if (dropped.length > 0) {
    const first = Number(dropped[0]);
    const tail = /[1-9]/.test(dropped.slice(1));
    if (first > 5 || (first === 5 && (tail || units % 2n === 1n))) units += 1n;
  }
  return sign === '-' ? -units : units;
}

/** Units of 10^-scale as a decimal string with exactly `scale` fraction digits, e.g. 15750000n -> '0.000015750000'. */
export function formatUnits(units: bigint, scale = USD_SCALE): string {
  const negative = units < 0n;
  const abs = negative ? -units : units;
  const factor = 10n ** BigInt(scale);
  const text = `${abs / factor}.${(abs % factor).toString().padStart(scale, '0')}`;
  return negative ? `-${text}` : text;
}

/** The same, without trailing fraction zeros ('0.00001575', '3', '0'). */
export function formatUnitsShort(units: bigint, scale = USD_SCALE): string {
  const full = formatUnits(units, scale);
  return full.replace(/\.?0+$/, '');
}

/** Pico-USD as a JS number of USD (for metrics and budgets, which are not the ledger). */
export function picoToUsd(pico: bigint): number {
  return Number(pico) / Number(SCALE);
}

/**
 * Pico-USD per token of a price in USD per 1M tokens. Throws when the price has
 * more than six decimals (it would not be a whole number of pico-USD per token).
 */
export function picoPerToken(usdPerMillion: number): bigint {
  const units = parseDecimal(decimalTextOf(usdPerMillion), PRICE_DECIMALS);
  if (units === undefined || units < 0n) throw new RangeError(`price ${usdPerMillion}: expected a non-negative amount with at most ${PRICE_DECIMALS} decimals`);
  return units;
}

const picoOfUsd = new Map<number, bigint>();

/**
 * A JS number of USD (a budget cap from policy data, an estimate) as pico-USD:
 * the decimal the number prints as, rounded half to even at 12 places, so
 * 0.05 is exactly 50,000,000,000 pico-USD. Non-finite or negative is 0.
 * Memoized (caps repeat on every request), up to 4,096 values.
 */
export function usdToPico(usd: number): bigint {
  if (!Number.isFinite(usd) || usd <= 0) return 0n;
  let pico = picoOfUsd.get(usd);
  if (pico === undefined) {
    // More than 26 digits before the point is no cap that spending could reach: as good as none.
    pico = roundDecimal(decimalTextOf(usd)) ?? 10n ** 40n;
    if (picoOfUsd.size >= 4_096) picoOfUsd.clear();
    picoOfUsd.set(usd, pico);
  }
  return pico;
}
