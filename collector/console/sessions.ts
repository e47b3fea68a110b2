/**
 * Console sessions: a random id in an HttpOnly, SameSite=Strict cookie, and a
 * per-session CSRF token that every state-changing form carries. Kept in the
 * console's memory (a restart logs everyone out), bounded in number, ended by
 * idle time, by age, by logout, and by revoking the key they were opened with.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { ConsoleKeyEntry, ConsoleKeys, ConsoleRole } from './consoleKeys.js';

export const SESSION_COOKIE = 'gatehouse_console';
export const IDLE_MS = 30 * 60_000;
export const MAX_AGE_MS = 8 * 3_600_000;
export const MAX_SESSIONS = 10_000;

export interface Session {
  id: string;
  keyId: string;
  role: ConsoleRole;
  /** `*` for a global key. */
  tenant: string;
  user: string | undefined;
  csrf: string;
  createdAt: number;
  seenAt: number;
}

export class Sessions {
  private readonly byId = new Map<string, Session>();

  constructor(private readonly keys: ConsoleKeys, private readonly now: () => number = Date.now) {}

  open(key: ConsoleKeyEntry): Session {
    const now = this.now();
    // Map order is insertion order: the oldest session goes first when full.
    if (this.byId.size >= MAX_SESSIONS) this.byId.delete(this.byId.keys().next().value as string);
    const session: Session = {
      id: randomBytes(32).toString('base64url'), keyId: key.id, role: key.role, tenant: key.tenant, user: key.user,
      csrf: randomBytes(32).toString('base64url'), createdAt: now, seenAt: now,
    };
    this.byId.set(session.id, session);
    return session;
  }

  /** The live session for a cookie value; its key must still exist with the same role and tenant. */
  find(id: string | undefined): Session | undefined {
    if (id === undefined) return undefined;
    const session = this.byId.get(id);
    if (session === undefined) return undefined;
    const now = this.now();
    const key = this.keys.current(session.keyId);
    if (now - session.seenAt > IDLE_MS || now - session.createdAt > MAX_AGE_MS || key === undefined || key.role !== session.role || key.tenant !== session.tenant) {
      this.byId.delete(id);
      return undefined;
    }
    session.seenAt = now;
    return session;
  }

  close(id: string | undefined): void {
    if (id !== undefined) this.byId.delete(id);
  }

  get size(): number {
    return this.byId.size;
  }
}

export function csrfMatches(session: Session, given: unknown): boolean {
  if (typeof given !== 'string') return false;
  const a = Buffer.from(given);
  const b = Buffer.from(session.csrf);
  return a.length === b.length && timingSafeEqual(a, b);
}
