/**
 * A map keyed by scope (kind and policy key), with one inner map per scope kind.
 * The memory store looks up every scope of every request; keying by the policy's
 * key string as it is saves building a `scope:key` string for each lookup.
 */
import type { ScopeKind } from '../policy/decision.js';
import type { ScopeRef } from './types.js';

export class ScopeMap<V> {
  private readonly byKind = new Map<ScopeKind, Map<string, V>>();

  get(ref: ScopeRef): V | undefined {
    return this.byKind.get(ref.scope)?.get(ref.key);
  }

  set(ref: ScopeRef, value: V): void {
    let byKey = this.byKind.get(ref.scope);
    if (byKey === undefined) this.byKind.set(ref.scope, (byKey = new Map()));
    byKey.set(ref.key, value);
  }

  /** Calls `visit` for every entry. */
  forEach(visit: (value: V, scope: ScopeKind, key: string) => void): void {
    for (const [scope, byKey] of this.byKind) for (const [key, value] of byKey) visit(value, scope, key);
  }

  /** Deletes the entries `keep` says no to. */
  retain(keep: (value: V) => boolean): void {
    for (const [scope, byKey] of this.byKind) {
      for (const [key, value] of byKey) if (!keep(value)) byKey.delete(key);
      if (byKey.size === 0) this.byKind.delete(scope);
    }
  }

  get isEmpty(): boolean {
    return this.byKind.size === 0;
  }
}
