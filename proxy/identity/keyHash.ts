import { createHash, randomBytes } from 'node:crypto';

/** `sha256:<hex>` of a virtual key: the only form in which keys are stored or configured. */
export function hashKey(key: string): string {
  return `sha256:${createHash('sha256').update(key).digest('hex')}`;
}

/** A new virtual key: `gh-` and 32 random bytes in base64url. */
export function generateKey(): string {
  return `gh-${randomBytes(32).toString('base64url')}`;
}
