/**
 * Caller decisions memoized per principal.
 *
 * The `gatehouse/request/caller` entrypoint (limits, budgets, redaction, models,
 * max tokens) is evaluated with an input that holds only the principal's six
 * fields (callerInput), so its result is a pure function of the principal and the
 * policy's data. Policy still decides; the memo only avoids recomputing that
 * function on every request. One memo belongs to one PolicyEngine, that is to one
 * policy revision: a reload of the Rego or the data builds a new engine, and the
 * old memo goes with the old engine.
 */
import type { PolicyPrincipal } from './input.js';

/** Entries kept before the oldest is dropped; a miss costs one caller evaluation. */
export const MAX_MEMOIZED_CALLERS = 10_000;

/**
 * An unambiguous key over the six principal fields: each is length-prefixed, and an
 * absent field (`-`) differs from an empty one (`0:`), as it may in Rego.
 */
export function principalKey(principal: PolicyPrincipal): string {
  return `${part(principal.tenant)}${part(principal.team)}${part(principal.user)}${part(principal.agent)}${part(principal.key_id)}${part(principal.feature)}`;
}

function part(value: string | undefined): string {
  return value === undefined ? '-' : `${value.length}:${value}`;
}

/** The caller entrypoint's input: exactly the fields principalKey reads, nothing else. */
export function callerInput(principal: PolicyPrincipal): { principal: PolicyPrincipal } {
  const only: PolicyPrincipal = { tenant: principal.tenant };
  if (principal.team !== undefined) only.team = principal.team;
  if (principal.user !== undefined) only.user = principal.user;
  if (principal.agent !== undefined) only.agent = principal.agent;
  if (principal.key_id !== undefined) only.key_id = principal.key_id;
  if (principal.feature !== undefined) only.feature = principal.feature;
  return { principal: only };
}

/** A bounded map from principalKey to a value; when full, the oldest entry is dropped. */
export class CallerMemo<T> {
  private readonly entries = new Map<string, T>();

  constructor(private readonly capacity = MAX_MEMOIZED_CALLERS) {}

  get size(): number {
    return this.entries.size;
  }

  get(key: string): T | undefined {
    return this.entries.get(key);
  }

  set(key: string, value: T): void {
    if (this.entries.size >= this.capacity && !this.entries.has(key)) {
      const oldest = this.entries.keys().next();
      if (oldest.done !== true) this.entries.delete(oldest.value);
    }
    this.entries.set(key, value);
  }
}
