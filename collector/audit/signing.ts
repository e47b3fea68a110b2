/**
 * Ed25519 signing of checkpoints. The private key lives in a PEM file in the
 * data directory (mode 0600), never in the database; it is generated on first
 * start. A checkpoint signs the RFC 8785 canonical JSON of
 * {chain_id, seq, hash, time} (see docs/audit-format.md).
 */
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify, type KeyObject } from 'node:crypto';
import { chmod, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import canonicalize from 'canonicalize';

export const PRIVATE_KEY_FILE = 'audit-signing-key.pem';
export const PUBLIC_KEY_FILE = 'audit-signing-key.pub.pem';

export interface SigningKey {
  privateKey: KeyObject;
  publicKeyPem: string;
  /** First 16 hex digits of SHA-256 over the DER SubjectPublicKeyInfo. */
  keyId: string;
}

export interface Checkpoint {
  chain_id: string;
  seq: number;
  hash: string;
  /** RFC 3339 UTC time with milliseconds, exactly as signed. */
  time: string;
  key_id: string;
  /** Base64 Ed25519 signature over checkpointMessage(). */
  signature: string;
}

export function keyIdOf(publicKeyPem: string): string {
  const der = createPublicKey(publicKeyPem).export({ type: 'spki', format: 'der' });
  return createHash('sha256').update(der).digest('hex').slice(0, 16);
}

function isMissing(error: unknown): boolean {
  return error instanceof Error && 'code' in error && error.code === 'ENOENT';
}

/** Loads the signing key from `dataDir`, generating it (0600) on first use. */
export async function loadOrCreateSigningKey(dataDir: string): Promise<SigningKey> {
  const file = join(dataDir, PRIVATE_KEY_FILE);
  let pem: string;
  try {
    pem = await readFile(file, 'utf8');
  } catch (error) {
    if (!isMissing(error)) throw error;
    const { privateKey } = generateKeyPairSync('ed25519');
    pem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    try {
      await writeFile(file, pem, { mode: 0o600, flag: 'wx' });
    } catch (raced) {
      if (!(raced instanceof Error && 'code' in raced && raced.code === 'EEXIST')) throw raced;
      pem = await readFile(file, 'utf8');
    }
  }
  await chmod(file, 0o600);
  const privateKey = createPrivateKey(pem);
  const publicKeyPem = createPublicKey(privateKey).export({ type: 'spki', format: 'pem' }).toString();
  await writeFile(join(dataDir, PUBLIC_KEY_FILE), publicKeyPem, { mode: 0o600 });
  return { privateKey, publicKeyPem, keyId: keyIdOf(publicKeyPem) };
}

/** An Ed25519 signature (64 bytes) in standard padded base64, and nothing else. */
const SIGNATURE_BASE64 = /^[A-Za-z0-9+/]{86}==$/;

/** The exact bytes a checkpoint signature covers. */
export function checkpointMessage(c: Pick<Checkpoint, 'chain_id' | 'seq' | 'hash' | 'time'>): Buffer {
  const text = canonicalize({ chain_id: c.chain_id, seq: c.seq, hash: c.hash, time: c.time });
  return Buffer.from(text ?? '', 'utf8');
}

export function signCheckpoint(key: SigningKey, chainId: string, seq: number, hash: string, at: Date = new Date()): Checkpoint {
  const unsigned = { chain_id: chainId, seq, hash, time: at.toISOString() };
  const signature = sign(null, checkpointMessage(unsigned), key.privateKey).toString('base64');
  return { ...unsigned, key_id: key.keyId, signature };
}

/** True when `signature` is a valid Ed25519 signature by `publicKeyPem` over the checkpoint. */
export function checkpointSignatureValid(c: Checkpoint, publicKeyPem: string): boolean {
  if (typeof c.signature !== 'string' || !SIGNATURE_BASE64.test(c.signature)) return false;
  try {
    return verify(null, checkpointMessage(c), createPublicKey(publicKeyPem), Buffer.from(c.signature, 'base64'));
  } catch {
    return false;
  }
}

/** A signature over an export manifest (docs/audit-format.md, section 5). */
export interface ManifestSignature {
  key_id: string;
  /** Standard padded base64 of the Ed25519 signature over the manifest's canonical JSON without `signature`. */
  value: string;
}

/** The exact bytes a manifest signature covers: RFC 8785 canonical JSON of the manifest without its `signature` member. */
export function manifestMessage(manifest: object): Buffer {
  const { signature: _ignored, ...rest } = manifest as { signature?: unknown };
  const text = canonicalize(rest);
  if (text === undefined) throw new Error('manifest cannot be canonicalised');
  return Buffer.from(text, 'utf8');
}

export function signManifest(key: SigningKey, manifest: object): ManifestSignature {
  return { key_id: key.keyId, value: sign(null, manifestMessage(manifest), key.privateKey).toString('base64') };
}

export function manifestSignatureValid(manifest: object, signature: ManifestSignature, publicKeyPem: string): boolean {
  if (typeof signature.value !== 'string' || !SIGNATURE_BASE64.test(signature.value)) return false;
  try {
    return verify(null, manifestMessage(manifest), createPublicKey(publicKeyPem), Buffer.from(signature.value, 'base64'));
  } catch {
    return false;
  }
}
