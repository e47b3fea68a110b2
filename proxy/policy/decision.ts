/**
 * What the Rego policies decide. The request policy (`gatehouse/request/decision`)
 * and the response policy (`gatehouse/response/decision`) return these shapes;
 * TypeScript only enforces them. docs/policies.md documents them for policy authors.
 */

/** A scope a limit or budget is counted in, e.g. `{ scope: 'user', key: 'tenant-a/advisor-1' }`. */
export type ScopeKind = 'tenant' | 'team' | 'user' | 'agent' | 'key' | 'feature' | 'global';

export interface RateLimit {
  scope: ScopeKind;
  /** The counter's identity within the scope, chosen by policy (usually tenant-qualified). */
  key: string;
  requestsPerMinute?: number;
  tokensPerMinute?: number;
}

export interface Budget {
  scope: ScopeKind;
  key: string;
  usdPerDay?: number;
  usdPerMonth?: number;
  tokensPerDay?: number;
  tokensPerMonth?: number;
}

export type PiiClass = 'email' | 'phone' | 'payment_card' | 'iban' | 'us_ssn' | 'secret';

export interface RequestDecision {
  allow: boolean;
  /** Stable code when denied, e.g. `policy_denied`, `prompt_injection`, `model_not_allowed`. */
  code?: string;
  /** Human-readable reasons, safe to show the client and to record. */
  reasons: string[];
  limits: RateLimit[];
  budgets: Budget[];
  /** PII classes to redact before anything leaves for a provider. */
  redact: PiiClass[];
  /** When true, redacted values are replaced by placeholders restored in the answer. */
  pseudonymize: boolean;
  /** Models (aliases or provider models) the request may be routed to; absent means any. */
  allowedModels?: string[];
  /** Caps the request's max tokens. */
  maxTokens?: number;
  /**
   * Whether the caller's answers go through the response policy (default true).
   * False when no response rule applies to the caller: the answer is then not
   * evaluated, whole or streamed, and its decision is recorded as `not_inspected`.
   */
  inspectResponses: boolean;
  /**
   * Streamed answers: hold text until it is judged, up to this many characters of
   * an unfinished sentence (streamGuard.ts); 0 forwards each delta at once (a
   * violation is then cut on the delta that completes it, after the start of its
   * sentence was sent). Default 400.
   */
  responseHoldChars: number;
  /** Detectors (config `detectors`) whose scores this caller's requests need, in `input.signals`. */
  detectors: string[];
  /** Calls, tokens and USD one run (one trace id) may use; absent when no run budget applies. */
  runBudget?: { calls?: number; tokens?: number; usd?: number };
  /** Free-form annotations recorded on the span and the audit record. */
  annotations: Record<string, string>;
}

export type ResponseAction = 'allow' | 'block' | 'redact';

export interface ResponseDecision {
  action: ResponseAction;
  code?: string;
  reasons: string[];
  /** The safe message sent instead of a blocked answer. */
  replacement?: string;
  /** PII classes to redact from the answer when action is `redact`. */
  redact?: PiiClass[];
}

/** The call-time tool decision (`gatehouse/tools/decision`). */
export interface ToolDecision {
  allow: boolean;
  /** e.g. `tool_not_found`, `data_not_allowed`, `approval_required`. */
  code?: string;
  reasons: string[];
  /** Set when every denial is an approval rule: the call may go through with human sign-off (docs/approvals.md). */
  approval?: ApprovalRequirement;
}

/** What a tool call needs to go through (docs/approvals.md). */
export interface ApprovalRequirement {
  /** Approvals from distinct people, 1 to 10. */
  count: number;
  /** Approver groups named by the rule (for the record and the approvers' view). */
  groups: string[];
  /** User ids that may approve; undefined: any approver key of the tenant. */
  approvers?: string[];
  /** 1 s to 30 days. */
  expiresInSeconds: number;
  /** Shown to approvers. */
  reason: string;
}
