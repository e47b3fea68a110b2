/**
 * What each console role may open (docs/console.md, "Roles"), and the tenant a
 * session's queries are limited to.
 */
import type { ConsoleRole } from './consoleKeys.js';
import { GLOBAL_TENANT } from './consoleKeys.js';
import type { Session } from './sessions.js';

export type Area = 'costs' | 'records' | 'integrity' | 'agents' | 'approvals' | 'prompts';

export const AREAS_OF: Record<ConsoleRole, readonly Area[]> = {
  viewer: ['costs'],
  auditor: ['costs', 'records', 'integrity', 'agents', 'prompts'],
  approver: ['approvals'],
  admin: ['costs', 'records', 'integrity', 'agents', 'approvals', 'prompts'],
};

export function mayOpen(session: Session, area: Area): boolean {
  return AREAS_OF[session.role].includes(area);
}

/** The tenant every query of this session is limited to; undefined for a global key. */
export function tenantOf(session: Session): string | undefined {
  return session.tenant === GLOBAL_TENANT ? undefined : session.tenant;
}

/** The first page a role may open (where login lands). */
export function homeOf(role: ConsoleRole): string {
  const first = AREAS_OF[role][0];
  return first === 'approvals' ? '/approvals' : first === 'records' ? '/requests' : `/${first}`;
}
