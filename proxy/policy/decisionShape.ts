/**
 * Checks and completes the raw JSON a policy returned (freshly parsed and owned by
 * the caller, so arrays are kept rather than copied). Missing arrays
 * become [], missing booleans false. Anything malformed throws: a limit with a
 * negative rate, an unknown PII class or a non-boolean `allow` is a policy or data
 * bug, and the engine turns it into `policy_error` (fail closed) rather than
 * enforcing less than the policy meant.
 */
import type { ApprovalRequirement, Budget, PiiClass, RateLimit, RequestDecision, ResponseDecision, ScopeKind, ToolDecision } from './decision.js';

const SCOPES: ReadonlySet<string> = new Set<ScopeKind>(['tenant', 'team', 'user', 'agent', 'key', 'feature', 'global']);
const PII: ReadonlySet<string> = new Set<PiiClass>(['email', 'phone', 'payment_card', 'iban', 'us_ssn', 'secret']);
const ACTIONS: ReadonlySet<string> = new Set(['allow', 'block', 'redact']);
const LIMIT_NUMBERS = ['requestsPerMinute', 'tokensPerMinute'] as const;
const BUDGET_NUMBERS = ['usdPerDay', 'usdPerMonth', 'tokensPerDay', 'tokensPerMonth'] as const;

/** The reason given when a policy denies or blocks without saying why. */
const DEFAULT_REASON = 'Denied by policy.';
/** The text sent instead of a blocked answer when the policy gives none. */
export const DEFAULT_REPLACEMENT = 'This response was withheld by policy.';

type Raw = Record<string, unknown>;

export class DecisionShapeError extends Error {}

function fail(path: string, expected: string): never {
  throw new DecisionShapeError(`decision.${path}: expected ${expected}`);
}

function isObject(value: unknown): value is Raw {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function stringArray(raw: Raw, name: string): string[] {
  const value = raw[name];
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) fail(name, 'an array of strings');
  for (const item of value) if (typeof item !== 'string') fail(name, 'an array of strings');
  return value as string[];
}

function piiClasses(raw: Raw, name: string): PiiClass[] {
  const classes = stringArray(raw, name);
  for (const item of classes) if (!PII.has(item)) fail(name, `PII classes (${[...PII].join(', ')}), got '${item}'`);
  return classes as PiiClass[];
}

function optionalString(raw: Raw, name: string): string | undefined {
  const value = raw[name];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') fail(name, 'a string');
  return value;
}

function scoped<T extends RateLimit | Budget>(raw: Raw, name: string, numbers: readonly string[]): T[] {
  const value = raw[name];
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) fail(name, 'an array');
  value.forEach((entry: unknown, i) => {
    if (!isObject(entry)) fail(`${name}[${i}]`, 'an object');
    if (typeof entry.scope !== 'string' || !SCOPES.has(entry.scope)) fail(`${name}[${i}].scope`, `one of ${[...SCOPES].join(', ')}`);
    if (typeof entry.key !== 'string' || entry.key === '') fail(`${name}[${i}].key`, 'a non-empty string');
    for (const field of numbers) {
      const number = entry[field];
      if (number !== undefined && (typeof number !== 'number' || !(number >= 0))) fail(`${name}[${i}].${field}`, 'a number ≥ 0');
    }
  });
  return value as T[];
}

/**
 * The part of a RequestDecision that depends only on the caller and the data
 * (entrypoint `gatehouse/request/caller`). Deeply frozen: the engine shares one per
 * principal across requests.
 */
type CallerFields = 'limits' | 'budgets' | 'redact' | 'pseudonymize' | 'allowedModels' | 'maxTokens' | 'inspectResponses' | 'responseHoldChars' | 'detectors' | 'runBudget';
export type CallerDecision = Readonly<Pick<RequestDecision, CallerFields>>;

/** Text held back per streamed answer when the policy does not say (characters). */
export const DEFAULT_RESPONSE_HOLD_CHARS = 400;
/** The most a policy may ask the proxy to hold per streamed answer. */
const MAX_RESPONSE_HOLD_CHARS = 16_384;
/** A detector name: what config `detectors` keys may be. */
const DETECTOR_NAME = /^[a-z][a-z0-9_-]{0,63}$/;

/** The part of a RequestDecision that depends on the request (entrypoint `gatehouse/request/verdict`). */
export type RequestVerdict = Pick<RequestDecision, 'allow' | 'code' | 'reasons' | 'annotations'>;

/** Validates a `gatehouse/request/caller` result into a new, deeply frozen CallerDecision. */
export function callerDecisionOf(raw: unknown): CallerDecision {
  if (!isObject(raw)) fail('', 'an object');
  const maxTokens = raw.maxTokens;
  if (maxTokens !== undefined && maxTokens !== null && !(Number.isInteger(maxTokens) && (maxTokens as number) > 0)) {
    fail('maxTokens', 'a positive integer');
  }
  if (raw.pseudonymize !== undefined && typeof raw.pseudonymize !== 'boolean') fail('pseudonymize', 'a boolean');
  if (raw.inspectResponses !== undefined && raw.inspectResponses !== null && typeof raw.inspectResponses !== 'boolean') fail('inspectResponses', 'a boolean');
  const allowedModels = raw.allowedModels === undefined || raw.allowedModels === null ? undefined : stringArray(raw, 'allowedModels');
  const hold = raw.responseHoldChars ?? DEFAULT_RESPONSE_HOLD_CHARS;
  if (!(Number.isInteger(hold) && (hold as number) >= 0 && (hold as number) <= MAX_RESPONSE_HOLD_CHARS)) {
    fail('responseHoldChars', `an integer from 0 to ${MAX_RESPONSE_HOLD_CHARS}`);
  }
  const detectors = stringArray(raw, 'detectors');
  for (const name of detectors) if (!DETECTOR_NAME.test(name)) fail('detectors', `detector names (${DETECTOR_NAME.source}), got '${name}'`);
  const limits = scoped<RateLimit>(raw, 'limits', LIMIT_NUMBERS);
  const budgets = scoped<Budget>(raw, 'budgets', BUDGET_NUMBERS);
  for (const entry of limits) Object.freeze(entry);
  for (const entry of budgets) Object.freeze(entry);
  const caller: Pick<RequestDecision, CallerFields> = {
    limits: Object.freeze(limits) as RateLimit[],
    budgets: Object.freeze(budgets) as Budget[],
    redact: Object.freeze(piiClasses(raw, 'redact')) as PiiClass[],
    pseudonymize: raw.pseudonymize === true,
    // Absent means inspect: a policy that does not say gets every answer judged.
    inspectResponses: raw.inspectResponses !== false,
    responseHoldChars: hold as number,
    detectors: Object.freeze(detectors) as string[],
  };
  if (allowedModels !== undefined) caller.allowedModels = Object.freeze(allowedModels) as string[];
  const runBudget = runBudgetOf(raw.runBudget);
  if (runBudget !== undefined) caller.runBudget = runBudget;
  if (maxTokens !== undefined && maxTokens !== null) caller.maxTokens = maxTokens as number;
  return Object.freeze(caller);
}

/** `runBudget`: null/absent, or an object of positive numbers `calls`, `tokens`, `usd` (at least one). */
function runBudgetOf(value: unknown): RequestDecision['runBudget'] {
  if (value === undefined || value === null) return undefined;
  if (!isObject(value)) fail('runBudget', 'an object {calls, tokens, usd} or null');
  const out: NonNullable<RequestDecision['runBudget']> = {};
  for (const field of ['calls', 'tokens', 'usd'] as const) {
    const n = value[field];
    if (n === undefined || n === null) continue;
    if (typeof n !== 'number' || !(n > 0) || (field !== 'usd' && !Number.isInteger(n))) fail(`runBudget.${field}`, field === 'usd' ? 'a number > 0' : 'a positive integer');
    out[field] = n;
  }
  return Object.keys(out).length === 0 ? undefined : Object.freeze(out);
}

/** Validates and completes a `gatehouse/request/verdict` result (its arrays and annotations are kept, not copied). */
export function requestVerdictOf(raw: unknown): RequestVerdict {
  if (!isObject(raw)) fail('', 'an object');
  if (typeof raw.allow !== 'boolean') fail('allow', 'a boolean');
  const reasons = stringArray(raw, 'reasons');
  if (!raw.allow && reasons.length === 0) reasons.push(DEFAULT_REASON);
  const code = optionalString(raw, 'code');
  const annotations = raw.annotations ?? {};
  if (!isObject(annotations)) fail('annotations', 'an object of strings');
  for (const key in annotations) {
    const value = annotations[key];
    if (typeof value !== 'string') {
      if (typeof value !== 'number' && typeof value !== 'boolean') fail(`annotations.${key}`, 'a string');
      annotations[key] = String(value);
    }
  }
  const verdict: RequestVerdict = { allow: raw.allow, reasons, annotations: annotations as Record<string, string> };
  if (code !== undefined) verdict.code = code;
  else if (!raw.allow) verdict.code = 'policy_denied';
  return verdict;
}

/** Validates and completes a `gatehouse/response/decision` result. */
export function responseDecisionOf(raw: unknown): ResponseDecision {
  if (!isObject(raw)) fail('', 'an object');
  if (typeof raw.action !== 'string' || !ACTIONS.has(raw.action)) fail('action', 'one of allow, block, redact');
  const reasons = stringArray(raw, 'reasons');
  const code = optionalString(raw, 'code');
  const replacement = optionalString(raw, 'replacement');
  const decision = raw as unknown as ResponseDecision;
  decision.reasons = reasons;
  if (code === undefined) delete decision.code;
  if (decision.action === 'block') {
    if (reasons.length === 0) reasons.push(DEFAULT_REASON);
    decision.code = code ?? 'policy_denied';
    decision.replacement = replacement ?? DEFAULT_REPLACEMENT;
  } else if (replacement === undefined) {
    delete decision.replacement;
  }
  if (decision.action === 'redact') decision.redact = piiClasses(raw, 'redact');
  else if (raw.redact !== undefined) decision.redact = piiClasses(raw, 'redact');
  return decision;
}

/** Validates a `gatehouse/tools/decision` result. */
export function toolDecisionOf(raw: unknown): ToolDecision {
  if (!isObject(raw)) fail('', 'an object');
  if (typeof raw.allow !== 'boolean') fail('allow', 'a boolean');
  const reasons = stringArray(raw, 'reasons');
  if (!raw.allow && reasons.length === 0) reasons.push(DEFAULT_REASON);
  const code = optionalString(raw, 'code');
  const decision: ToolDecision = { allow: raw.allow, reasons };
  if (code !== undefined) decision.code = code;
  if (raw.approval !== undefined && raw.approval !== null) {
    if (raw.allow || code !== 'approval_required') fail('approval', 'null unless the code is approval_required');
    decision.approval = approvalOf(raw.approval);
  }
  return decision;
}

const MAX_APPROVALS = 10;
const MIN_EXPIRY_SECONDS = 1;
const MAX_EXPIRY_SECONDS = 30 * 86_400;

function approvalOf(raw: unknown): ApprovalRequirement {
  if (!isObject(raw)) fail('approval', 'an object');
  const count = raw.count;
  if (!Number.isInteger(count) || (count as number) < 1 || (count as number) > MAX_APPROVALS) fail('approval.count', `an integer from 1 to ${MAX_APPROVALS}`);
  const expires = raw.expires_in_seconds;
  if (!Number.isInteger(expires) || (expires as number) < MIN_EXPIRY_SECONDS || (expires as number) > MAX_EXPIRY_SECONDS) {
    fail('approval.expires_in_seconds', `an integer from ${MIN_EXPIRY_SECONDS} to ${MAX_EXPIRY_SECONDS}`);
  }
  const reason = optionalString(raw, 'reason');
  if (reason === undefined || reason === '') fail('approval.reason', 'a non-empty string');
  const requirement: ApprovalRequirement = { count: count as number, groups: stringArray(raw, 'groups'), expiresInSeconds: expires as number, reason };
  if (raw.approvers !== null && raw.approvers !== undefined) requirement.approvers = stringArray(raw, 'approvers');
  return requirement;
}
