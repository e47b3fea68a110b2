/**
 * Detectors for credentials: provider API keys by their published prefixes, private
 * key PEM blocks, JWTs, bearer tokens, and `password=` / `api_key: "…"` style
 * assignments whose value looks like a real secret. Only the value is reported, so
 * `password=hunter22` becomes `password=[REDACTED_SECRET]`.
 */
import { caseless, whole, type Detector, type ValueSpan } from './detector.js';
import { looksRandom } from './checks.js';

/** Not inside a longer identifier. */
const START = '(?<![A-Za-z0-9_-])';
const END = '(?![A-Za-z0-9_-])';

/** Keywords whose value is a password: any non-trivial value counts. */
const PASSWORD_WORDS = ['password', 'passwd', 'passphrase', 'pwd'];
/** Keywords whose value is a key or token: only random-looking values count. */
const KEY_WORDS = [
  'client_secret', 'client-secret', 'secret_key', 'secret-key', 'secret',
  'api_key', 'api-key', 'apikey', 'access_key', 'access-key', 'private_key',
  'access_token', 'auth_token', 'refresh_token', 'token', 'credentials', 'credential',
];

const KEYWORD = `(?:${[...PASSWORD_WORDS, ...KEY_WORDS].map(caseless).join('|')})`;
// Quoted, quoted with JSON-escaped quotes (inside a JSON string), or bare.
const VALUE = `(?:"[^"\\r\\n]{1,256}"|'[^'\\r\\n]{1,256}'|\\\\"[^"\\\\\\r\\n]{1,256}\\\\"|[^\\s"',;<>\\\\]{1,256})`;
const ASSIGNMENT = `(?<![A-Za-z])${KEYWORD}["']?[ \\t]{0,3}(?::=|=>|[:=])[ \\t]{0,3}${VALUE}`;
const KEYWORD_PREFIX = new RegExp(`^${KEYWORD}`);
const SEPARATOR = /^["']?[ \t]*(?::=|=>|[:=])[ \t]*/;

/** Values that name a type, a default or a reference rather than being a secret. */
const NOT_SECRETS = new Set([
  'string', 'number', 'boolean', 'bool', 'null', 'none', 'nil', 'undefined', 'true', 'false',
  'required', 'optional', 'str', 'text', 'password', 'secret', 'redacted', 'hidden', 'empty',
]);

function acceptAssignment(match: string): ValueSpan | undefined {
  const keyword = KEYWORD_PREFIX.exec(match)![0];
  const separator = SEPARATOR.exec(match.slice(keyword.length));
  if (separator === null) return undefined;
  let start = keyword.length + separator[0].length;
  let end = match.length;
  const quote = match[start];
  if (quote === '"' || quote === "'") {
    start += 1;
    end -= 1;
  } else if (quote === '\\') {
    start += 2;
    end -= 2;
  }
  const value = match.slice(start, end);
  if (!isSecretValue(value, PASSWORD_WORDS.includes(keyword.toLowerCase()))) return undefined;
  return [start, end];
}

function isSecretValue(value: string, isPassword: boolean): boolean {
  const first = value[0];
  if (first === '$' || first === '{' || first === '%' || first === '[' || first === '(') return false;
  if (/^(.)\1*$/.test(value) || NOT_SECRETS.has(value.toLowerCase())) return false;
  return isPassword ? value.length >= 6 : looksRandom(value, 8);
}

function acceptBearer(match: string): ValueSpan | undefined {
  const start = /^[Bb]earer[ \t]+/.exec(match)![0].length;
  return looksRandom(match.slice(start), 16) ? [start, match.length] : undefined;
}

const mixed = (prefixLength: number) => whole((m) => looksRandom(m.slice(prefixLength), 16));

export const SECRET_DETECTORS: readonly Detector[] = [
  {
    name: 'secret_pem',
    kind: 'secret',
    // A truncated block (no END line) is taken to the end of the text.
    source: '-----BEGIN[A-Z ]{0,40}PRIVATE KEY(?: BLOCK)?-----[\\s\\S]*?(?:-----END[A-Z ]{0,40}PRIVATE KEY(?: BLOCK)?-----|$)',
  },
  { name: 'secret_jwt', kind: 'secret', source: `${START}eyJ[A-Za-z0-9_-]{8,}\\.eyJ[A-Za-z0-9_-]{8,}\\.[A-Za-z0-9_-]*${END}` },
  // OpenAI (sk-…, sk-proj-…, sk-svcacct-…) and Anthropic (sk-ant-api03-…) keys.
  { name: 'secret_sk', kind: 'secret', source: `${START}sk-[A-Za-z0-9_-]{20,}${END}`, accept: mixed(3) },
  { name: 'secret_stripe', kind: 'secret', source: `${START}[rs]k_(?:live|test)_[A-Za-z0-9]{16,}${END}` },
  { name: 'secret_aws', kind: 'secret', source: `${START}(?:AKIA|ASIA)[A-Z0-9]{16}${END}` },
  { name: 'secret_github', kind: 'secret', source: `${START}(?:gh[pousr]_[A-Za-z0-9]{36,255}|github_pat_[A-Za-z0-9_]{22,255})${END}` },
  { name: 'secret_slack', kind: 'secret', source: `${START}(?:xox[abposre]|xapp)-[A-Za-z0-9-]{10,}${END}` },
  { name: 'secret_google', kind: 'secret', source: `${START}AIza[0-9A-Za-z_-]{35}${END}` },
  { name: 'secret_bearer', kind: 'secret', source: `(?<![A-Za-z])[Bb]earer[ \\t]+[A-Za-z0-9._~+/-]{16,}=*`, accept: acceptBearer },
  { name: 'secret_assignment', kind: 'secret', source: ASSIGNMENT, accept: acceptAssignment },
];
