/**
 * The console's query and form parameters, read strictly: a value that is not
 * exactly what a page expects is a 400 `invalid_request`, never a guess.
 */

export class BadInput extends Error {}
/** The role may open the page, but not this part of it (403 forbidden). */
export class Forbidden extends Error {}

const LOCAL_TIME = /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2}))?)?$/;
const ISO_INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:\d{2})$/;

/**
 * `YYYY-MM-DD` or `YYYY-MM-DDTHH:MM[:SS]` (a date or datetime-local field, read
 * as UTC), or an ISO 8601 instant with `Z` or an offset; years 1970 to 9999,
 * and no day that does not exist (2026-02-30 is refused, not moved to March).
 */
export function instant(value: string | undefined, name: string): Date | undefined {
  if (value === undefined || value === '') return undefined;
  const bad = () => new BadInput(`${name}: expected a UTC date and time such as 2026-12-01T09:00, or an ISO 8601 instant with Z or an offset`);
  const local = LOCAL_TIME.exec(value);
  let date: Date;
  if (local !== null) {
    const [y, mo, d, h = '0', mi = '0', sec = '0'] = local.slice(1).map((part) => part ?? undefined) as string[];
    date = new Date(0);
    date.setUTCFullYear(Number(y), Number(mo) - 1, Number(d));
    date.setUTCHours(Number(h), Number(mi), Number(sec), 0);
    // A day or time that does not exist rolls over: refuse it.
    if (date.getUTCFullYear() !== Number(y) || date.getUTCMonth() !== Number(mo) - 1 || date.getUTCDate() !== Number(d)
      || date.getUTCHours() !== Number(h) || date.getUTCMinutes() !== Number(mi) || date.getUTCSeconds() !== Number(sec)) throw bad();
  } else if (ISO_INSTANT.test(value)) {
    date = new Date(value);
  } else {
    throw bad();
  }
  if (Number.isNaN(date.getTime()) || date.getUTCFullYear() < 1970 || date.getUTCFullYear() > 9999) throw bad();
  return date;
}

/** A record's seq: a positive decimal integer as written, nothing else. */
export function seqOf(value: string | undefined, name: string): number | undefined {
  if (value === undefined || value === '') return undefined;
  if (!/^[1-9]\d{0,15}$/.test(value)) throw new BadInput(`${name}: a record seq (a positive integer)`);
  return Number(value);
}

export function short(value: string | undefined, name: string): string | undefined {
  if (value === undefined || value === '') return undefined;
  if (value.length > 256) throw new BadInput(`${name}: at most 256 characters`);
  return value;
}
