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

/** `YYYY-MM-DD` (UTC midnight) or any ISO 8601 date-time. */
export function parseTime(value: string | undefined, flag: string, fallback: Date): Date {
  if (value === undefined) return fallback;
  const date = new Date(/^\d{4}-\d{2}-\d{2}$/.test(value) ? `${value}T00:00:00Z` : value);
  if (Number.isNaN(date.getTime())) throw new UsageError(`${flag}: '${value}' is not a date (use YYYY-MM-DD or ISO 8601)`);
  return date;
}

export function parseCount(value: string | undefined, flag: string, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0) throw new UsageError(`${flag}: '${value}' is not a non-negative number`);
  return n;
}
