import { hash, randomBytes } from 'node:crypto';

/**
 * `sha256:<hex>` of a virtual key: the only form in which keys are stored or configured.
 * One-shot crypto.hash: a third of createHash's cost, on every request.
 */
export function hashKey(key: string): string {
  return `sha256:${hash('sha256', key, 'hex')}`;
}

/** A new virtual key: `gh-` and 32 random bytes in base64url. */
export function generateKey(): string {
  return `gh-${randomBytes(32).toString('base64url')}`;
}

/** A new collector ingest key (one per gateway instance): `ghi_` and 32 random bytes in base64url. */
export function generateIngestKey(): string {
  return `ghi_${randomBytes(32).toString('base64url')}`;
}

/** A new console key (a person's login to the web console): `ghc_` and 32 random bytes in base64url. */
export function generateConsoleKey(): string {
  return `ghc_${randomBytes(32).toString('base64url')}`;
}
