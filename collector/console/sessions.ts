/**
 * Console sessions: a random id in an HttpOnly, SameSite=Strict cookie, and a
 * per-session CSRF token that every state-changing form carries. Kept in the
 * console's memory (a restart logs everyone out), bounded in number (20 per key,
 * 10,000 in all), ended by idle time, by age, by logout, and by revoking or
 * changing the key they were opened with (its secret, role, tenant or user).
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { ConsoleKeyEntry, ConsoleKeys, ConsoleRole } from './consoleKeys.js';

export const SESSION_COOKIE = 'gatehouse_console';
export const IDLE_MS = 30 * 60_000;
export const MAX_AGE_MS = 8 * 3_600_000;
export const MAX_SESSIONS = 10_000;
/** Sessions one key may hold; its oldest ends first, so no key can push out another's. */
export const MAX_SESSIONS_PER_KEY = 20;

export interface Session {
  id: string;
  keyId: string;
  /** The hash of the key that opened it: a key revoked and made again under the same id does not inherit it. */
  keyHash: string;
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
    const own = [...this.byId.values()].filter((s) => s.keyId === key.id);
    if (own.length >= MAX_SESSIONS_PER_KEY) this.byId.delete(own[0]!.id);
    if (this.byId.size >= MAX_SESSIONS) {
      this.sweep(now);
      // Still full of live sessions (500 keys at their cap): the least recently used goes.
      if (this.byId.size >= MAX_SESSIONS) this.byId.delete(this.leastRecentlyUsed());
    }
    const session: Session = {
      id: randomBytes(32).toString('base64url'), keyId: key.id, keyHash: key.hash, role: key.role, tenant: key.tenant, user: key.user,
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
    if (!this.live(session, now) || key === undefined || key.hash !== session.keyHash || key.role !== session.role
      || key.tenant !== session.tenant || key.user !== session.user) {
      this.byId.delete(id);
      return undefined;
    }
    session.seenAt = now;
    return session;
  }

  private live(session: Session, now: number): boolean {
    return now - session.seenAt <= IDLE_MS && now - session.createdAt <= MAX_AGE_MS;
  }

  private sweep(now: number): void {
    for (const [id, session] of this.byId) if (!this.live(session, now)) this.byId.delete(id);
  }

  private leastRecentlyUsed(): string {
    let oldest: Session | undefined;
    for (const session of this.byId.values()) if (oldest === undefined || session.seenAt < oldest.seenAt) oldest = session;
    return oldest!.id;
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
