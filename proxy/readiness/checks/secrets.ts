/**
 * Secrets: no credential sits inline in the config file; each comes from the
 * environment. Every string in the file whose name says it is a credential
 * (api key, token, secret, password, credential, authorization or cookie
 * headers) must be a `${ENV}` reference, optionally after a scheme word
 * ("Bearer ${TOKEN}"); and no URL may carry a password.
 */
import { fail, listed, pass, type CheckResult } from '../check.js';
import type { ReadinessInputs } from '../inputs.js';

const ID = 'secrets.inline';
const TITLE = 'no secret is written in the config file';
const SECRET_NAME = /(api[-_]?key|apikey|token|secret|passw(or)?d|credential|authorization|cookie|private[-_]?key)/i;
const REFERENCE = /\$\{[A-Za-z_][A-Za-z0-9_]*\}/g;

/** True when the value, once its `${ENV}` references are taken out, leaves nothing but a scheme word. */
function fromEnvironment(value: string): boolean {
  if (!REFERENCE.test(value)) return false;
  REFERENCE.lastIndex = 0;
  return /^\s*(Bearer|Basic|Token|ApiKey)?\s*$/i.test(value.replace(REFERENCE, ''));
}

function urlWithPassword(value: string): boolean {
  try {
    const url = new URL(value);
    return url.password !== '' && !fromEnvironment(decodeURIComponent(url.password));
  } catch {
    return false;
  }
}

function walk(value: unknown, path: string, found: string[]): void {
  if (typeof value === 'string') {
    const name = path.split('.').pop() ?? '';
    if (SECRET_NAME.test(name) && value !== '' && !fromEnvironment(value)) found.push(path);
    else if (/^[a-z][a-z0-9+.-]*:\/\//i.test(value) && urlWithPassword(value)) found.push(`${path} (a password in the URL)`);
    return;
  }
  if (Array.isArray(value)) {
    value.forEach((item, i) => walk(item, `${path}[${i}]`, found));
    return;
  }
  if (typeof value === 'object' && value !== null) {
    for (const [key, item] of Object.entries(value)) {
      // Key hashes are not secrets: only the sha256 of a key is stored.
      if (key === 'hash' && typeof item === 'string' && item.startsWith('sha256:')) continue;
      walk(item, path === '' ? key : `${path}.${key}`, found);
    }
  }
}

export function checkSecrets(inputs: ReadinessInputs): CheckResult {
  const raw = inputs.raw;
  if (raw === undefined || raw === null || typeof raw !== 'object') return pass(ID, TITLE, `${inputs.source}: keys come from the environment`);
  const found: string[] = [];
  walk(raw, '', found);
  if (found.length > 0) return fail(ID, TITLE, `inline: ${listed(found)}`, 'write "${ENV_NAME}" (or "Bearer ${ENV_NAME}") and set the variable from your secret store');
  return pass(ID, TITLE, 'every credential is a ${ENV} reference');
}
