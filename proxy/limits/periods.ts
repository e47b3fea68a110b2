/**
 * UTC calendar periods for budgets. A request is charged to the day and month of
 * its reservation instant, also when it settles after midnight.
 */

export interface Periods {
  /** `YYYY-MM-DD` (UTC). */
  day: string;
  /** `YYYY-MM` (UTC). */
  month: string;
  /** Unix ms at which the day and the month end. */
  dayEndsAt: number;
  monthEndsAt: number;
}

function pad(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}

/** The UTC day and month containing `now` (Unix ms), and when each ends. */
export function periodsAt(now: number): Periods {
  const date = new Date(now);
  const y = date.getUTCFullYear();
  const m = date.getUTCMonth();
  const d = date.getUTCDate();
  const month = `${y}-${pad(m + 1)}`;
  return {
    day: `${month}-${pad(d)}`,
    month,
    dayEndsAt: Date.UTC(y, m, d + 1),
    monthEndsAt: Date.UTC(y, m + 1, 1),
  };
}

/** Unix ms at which the period named by a `YYYY-MM-DD` or `YYYY-MM` id ends. */
export function periodEndsAt(id: string): number {
  const [y, m, d] = id.split('-').map(Number) as [number, number, number | undefined];
  return d === undefined ? Date.UTC(y, m, 1) : Date.UTC(y, m - 1, d + 1);
}
