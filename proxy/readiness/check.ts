/**
 * One readiness check's result (docs/readiness.md): a stable id, what it checks,
 * pass, warn or fail, what was found, and how to fix it.
 */
export type CheckStatus = 'pass' | 'warn' | 'fail';

export interface CheckResult {
  id: string;
  title: string;
  status: CheckStatus;
  /** What was found: every offending key, alias, tenant, agent or tool is named. */
  detail: string;
  /** How to fix it (empty on pass). */
  fix: string;
}

export function pass(id: string, title: string, detail: string): CheckResult {
  return { id, title, status: 'pass', detail, fix: '' };
}

export function warn(id: string, title: string, detail: string, fix: string): CheckResult {
  return { id, title, status: 'warn', detail, fix };
}

export function fail(id: string, title: string, detail: string, fix: string): CheckResult {
  return { id, title, status: 'fail', detail, fix };
}

/** "a, b and 3 more" — names in a detail stay readable. */
export function listed(names: readonly string[], max = 10): string {
  if (names.length <= max) return names.join(', ');
  return `${names.slice(0, max).join(', ')} and ${names.length - max} more`;
}
