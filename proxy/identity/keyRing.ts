/**
 * Virtual keys: the config holds only `sha256:` hashes. A presented key is hashed
 * and looked up; the key itself is never kept, logged or recorded.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { KeyConfig } from '../config/schema.js';
import { GatehouseError } from '../errors.js';
import type { Principal } from '../pipeline/context.js';
import { hashKey } from './keyHash.js';

export interface Identity {
  principal: Principal;
  key: KeyConfig;
}

const OVERRIDES = [
  ['user', 'x-gatehouse-user'],
  ['feature', 'x-gatehouse-feature'],
] as const;

export class KeyRing {
  private readonly byHash: Map<string, KeyConfig>;

  constructor(keys: readonly KeyConfig[]) {
    this.byHash = new Map(keys.map((key) => [key.hash, key]));
  }

  /**
   * Who is calling: from `Authorization: Bearer <key>` (OpenAI SDK) or `x-api-key`
   * (Anthropic SDK). 401 `invalid_api_key` for a missing or unknown key. The
   * principal is the key's own binding; per-request tags come from `applyOverrides`.
   */
  authenticate(headers: IncomingHttpHeaders): Identity {
    const presented = presentedKey(headers);
    if (!presented) throw new GatehouseError('invalid_api_key', 'missing API key: send Authorization: Bearer <key> or x-api-key');
    const key = this.byHash.get(hashKey(presented));
    if (!key) throw new GatehouseError('invalid_api_key', 'unknown API key');
    const principal: Principal = { keyId: key.id, tenant: key.tenant };
    if (key.team !== undefined) principal.team = key.team;
    if (key.user !== undefined) principal.user = key.user;
    if (key.agent !== undefined) principal.agent = key.agent;
    if (key.feature !== undefined) principal.feature = key.feature;
    return { principal, key };
  }

  /**
   * Applies x-gatehouse-user / x-gatehouse-feature to the principal: 403
   * `header_not_allowed` for a tag header the key does not allow, 400 for an
   * empty or over-long value.
   */
  static applyOverrides(identity: Identity, headers: IncomingHttpHeaders): void {
    for (const [field, header] of OVERRIDES) {
      const value = headers[header];
      if (value === undefined) continue;
      if (!identity.key.allowHeaders.includes(field)) {
        throw new GatehouseError('header_not_allowed', `this key may not set ${header}`, { param: header });
      }
      const text = Array.isArray(value) ? value[0] : value;
      if (!text || text.length > 256) throw new GatehouseError('invalid_request', `${header}: expected 1 to 256 characters`, { param: header });
      identity.principal[field] = text;
    }
  }

  /** `authenticate` then `applyOverrides`. */
  identify(headers: IncomingHttpHeaders): Identity {
    const identity = this.authenticate(headers);
    KeyRing.applyOverrides(identity, headers);
    return identity;
  }

  /** The user a request claims with x-gatehouse-user (first 256 characters), whether or not the key may claim one. */
  static claimedUser(headers: IncomingHttpHeaders): string | undefined {
    const value = headers['x-gatehouse-user'];
    const text = Array.isArray(value) ? value[0] : value;
    return text ? text.slice(0, 256) : undefined;
  }

  /** Whether the key may use a model alias. */
  static allows(key: KeyConfig, alias: string): boolean {
    return !key.models || key.models.includes('*') || key.models.includes(alias);
  }
}

function presentedKey(headers: IncomingHttpHeaders): string | undefined {
  const authorization = headers.authorization;
  if (authorization) {
    const space = authorization.indexOf(' ');
    if (space > 0 && authorization.slice(0, space).toLowerCase() === 'bearer') return authorization.slice(space + 1).trim() || undefined;
  }
  const apiKey = headers['x-api-key'];
  return (Array.isArray(apiKey) ? apiKey[0] : apiKey) || undefined;
}
