/**
 * UTC calendar periods for budgets. A request is charged to the day and month of
 * its reservation instant, also when it settles after midnight.
 */

export interface Periods {
  /** `YYYY-MM-DD` (UTC). */
  readonly day: string;
  /** `YYYY-MM` (UTC). */
  readonly month: string;
  /** Unix ms at which the day and the month end. */
  readonly dayEndsAt: number;
  readonly monthEndsAt: number;
}

function pad(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}

/** The periods of the day last asked for: nearly every request falls in the same day as the one before. */
let lastDay: { startsAt: number; periods: Periods } | undefined;

/** The UTC day and month containing `now` (Unix ms), and when each ends. Shared: do not modify. */
export function periodsAt(now: number): Periods {
  if (lastDay !== undefined && now >= lastDay.startsAt && now < lastDay.periods.dayEndsAt) return lastDay.periods;
  const date = new Date(now);
  const y = date.getUTCFullYear();
  const m = date.getUTCMonth();
  const d = date.getUTCDate();
  const month = `${y}-${pad(m + 1)}`;
  const periods: Periods = {
    day: `${month}-${pad(d)}`,
    month,
    dayEndsAt: Date.UTC(y, m, d + 1),
    monthEndsAt: Date.UTC(y, m + 1, 1),
  };
  lastDay = { startsAt: Date.UTC(y, m, d), periods };
  return periods;
}

/** Unix ms at which the period named by a `YYYY-MM-DD` or `YYYY-MM` id ends. */
export function periodEndsAt(id: string): number {
  const [y, m, d] = id.split('-').map(Number) as [number, number, number | undefined];
  return d === undefined ? Date.UTC(y, m, 1) : Date.UTC(y, m - 1, d + 1);
}
