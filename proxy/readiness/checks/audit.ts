/**
 * The audit trail: `audit: required`, a collector to ship to, a writable spool
 * with room, a record schema that covers who, the client, tool calls, the
 * response, the policy decision and the prompt version, and a signing key.
 */
import { constants, existsSync } from 'node:fs';
import { access, stat, statfs } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { A, AUDIT_ATTRIBUTES } from '../../telemetry/attributes.js';
import { fail, pass, warn, type CheckResult } from '../check.js';
import type { ReadinessInputs } from '../inputs.js';

export function checkAuditMode(inputs: ReadinessInputs): CheckResult {
  const { audit } = inputs.config;
  const id = 'audit.mode';
  const title = 'no request is served without its audit record';
  if (!audit.enabled) return fail(id, title, 'audit.enabled is false: nothing is recorded', 'remove audit.enabled: false');
  if (audit.mode !== 'required') return fail(id, title, `audit.mode is ${audit.mode}: requests are served when their record cannot be spooled`, 'set audit.mode: required');
  return pass(id, title, 'audit.mode: required');
}

export async function checkCollector(inputs: ReadinessInputs, fetchImpl: typeof fetch = fetch): Promise<CheckResult> {
  const id = 'audit.collector';
  const title = 'the spool has a collector to ship to';
  if (inputs.embeddedCollector) return pass(id, title, 'the collector runs in the gateway process (gatehouse start)');
  const secretUrl = inputs.config.audit.collectorUrl;
  const url = secretUrl === undefined ? undefined : shownUrl(secretUrl);
  if (url === undefined || secretUrl === undefined) return fail(id, title, 'audit.collectorUrl is not set and the collector is not embedded: records stay in the spool', 'set audit.collectorUrl to your collector, or run gatehouse start');
  try {
    const response = await fetchImpl(`${secretUrl.replace(/\/$/, '')}/healthz`, { signal: AbortSignal.timeout(3_000) });
    await response.body?.cancel();
    if (!response.ok) return fail(id, title, `${url}/healthz answered ${response.status}`, 'check the collector (gatehouse collector) and its logs');
    return pass(id, title, `${url} is up`);
  } catch {
    return fail(id, title, `${url} cannot be reached`, 'start the collector, or fix audit.collectorUrl');
  }
}

const MIN_FREE_BYTES = 1024 * 1024 * 1024;
const PROBE_TIMEOUT_MS = 5_000;

function withTimeout<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(Object.assign(new Error('no answer'), { code: `no answer within ${ms / 1000} s` })), ms);
    timer.unref();
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

export async function checkSpool(inputs: ReadinessInputs): Promise<CheckResult> {
  const id = 'audit.spool';
  const title = 'the audit spool is writable and has room';
  const dir = resolve(inputs.config.audit.spoolDir ?? join(inputs.config.dataDir, 'spool'));
  try {
    // A hung mount (or a pseudo filesystem) must not hang the check: it gets 5 s.
    // Looks, never writes: the spool directory (or the nearest folder that exists, where the gateway would create it) must be writable.
    const fs = await withTimeout((async () => {
      const existing = await nearestExisting(dir);
      if (!(await stat(existing)).isDirectory()) throw Object.assign(new Error('not a directory'), { code: `${existing} is not a directory` });
      await access(existing, constants.W_OK);
      return statfs(existing);
    })(), PROBE_TIMEOUT_MS);
    const free = fs.bavail * fs.bsize;
    const needed = Math.min(MIN_FREE_BYTES, inputs.config.audit.maxBytes);
    if (free < needed) return fail(id, title, `${dir} has ${Math.round(free / 1048576)} MiB free, under ${Math.round(needed / 1048576)} MiB`, 'give the spool volume more room');
    return pass(id, title, `${dir}: writable, ${Math.round(free / 1048576)} MiB free`);
  } catch (error) {
    return fail(id, title, `${dir}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`, 'make the spool directory writable by the service user');
  }
}

/** What an auditor asks of every record, and the attributes that answer it. */
const COVERAGE: Record<string, readonly string[]> = {
  who: [A.tenant, A.team, A.user, A.keyId, A.agent],
  'client context': [A.clientIp, A.clientUserAgent, A.clientWire],
  'tool calls': [A.toolCalls, A.toolName, A.toolArgumentsSha256],
  response: [A.outputTokens, A.finishReasons, A.httpStatus],
  'policy decision': [A.policyDecision, A.policyCode, A.policyRevision],
  'prompt version': [A.promptId, A.promptVersion, A.promptSha256],
};

async function nearestExisting(dir: string): Promise<string> {
  for (let current = dir; ; current = dirname(current)) {
    if (await stat(current).then(() => true, () => false)) return current;
    if (dirname(current) === current) return current;
  }
}

/** A URL as it may be shown: without user and password. */
export function shownUrl(url: string): string {
  try {
    const parsed = new URL(url);
    parsed.username = '';
    parsed.password = '';
    return parsed.toString().replace(/\/$/, '');
  } catch {
    return '(an invalid URL)';
  }
}

export function checkSchema(attributes: ReadonlyArray<{ name: string }> = AUDIT_ATTRIBUTES): CheckResult {
  const id = 'audit.schema';
  const title = 'the audit record covers who, client, tool calls, response, policy decision and prompt version';
  const recorded = new Set<string>(attributes.map((a) => a.name));
  const missing = Object.entries(COVERAGE).flatMap(([what, names]) => names.filter((n) => !recorded.has(n)).map((n) => `${what}: ${n}`));
  if (missing.length > 0) return fail(id, title, `not recorded: ${missing.join(', ')}`, 'add the attributes to AUDIT_ATTRIBUTES (proxy/telemetry/attributes.ts)');
  return pass(id, title, Object.keys(COVERAGE).join(', '));
}

export function checkSigningKey(inputs: ReadinessInputs): CheckResult {
  const id = 'audit.signing-key';
  const title = 'checkpoints are signed with a key that is backed up';
  const file = join(resolve(inputs.config.dataDir), 'audit-signing-key.pem');
  if (!existsSync(file)) {
    if (!inputs.embeddedCollector) return warn(id, title, `no ${file} here: the key lives with the collector`, 'check the collector\'s data directory has audit-signing-key.pem, and back it up');
    return warn(id, title, `${file} does not exist yet: the collector creates it at its first start`, 'start once, then back up audit-signing-key.pem and give audit-signing-key.pub.pem to auditors');
  }
  return pass(id, title, `${file} is present`);
}
