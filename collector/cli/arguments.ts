/** Argument parsing shared by the collector's CLI commands (node:util parseArgs). */
import { parseArgs, type ParseArgsConfig } from 'node:util';

/** A mistake in the command line: printed with usage, exit code 2. */
export class UsageError extends Error {}

export const STORE_OPTIONS = {
  db: { type: 'string' },
  'data-dir': { type: 'string' },
} as const satisfies NonNullable<ParseArgsConfig['options']>;

export function parse<O extends NonNullable<ParseArgsConfig['options']>>(argv: string[], options: O, allowPositionals = false) {
  try {
    return parseArgs({ args: argv, options, allowPositionals, strict: true });
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
}

/** Times the store, exports and manifests can hold (RFC 3339 years 0001 to 9999). */
const YEAR_1 = new Date('0001-01-01T00:00:00Z').getTime();
const YEAR_10000 = new Date('+010000-01-01T00:00:00Z').getTime();

/** `YYYY-MM-DD` (UTC midnight) or any ISO 8601 date-time, in the years 0001 to 9999. */
export function parseTime(value: string | undefined, flag: string, fallback: Date): Date {
  if (value === undefined) return fallback;
  const date = new Date(/^\d{4}-\d{2}-\d{2}$/.test(value) ? `${value}T00:00:00Z` : value);
  if (Number.isNaN(date.getTime())) throw new UsageError(`${flag}: '${value}' is not a date (use YYYY-MM-DD or ISO 8601)`);
  if (date.getTime() < YEAR_1 || date.getTime() >= YEAR_10000) throw new UsageError(`${flag}: '${value}' is outside the years 0001 to 9999`);
  return date;
}

export function parseCount(value: string | undefined, flag: string, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0) throw new UsageError(`${flag}: '${value}' is not a non-negative number`);
  return n;
}
