/**
 * One error type with stable codes. Every failure a client can see is a
 * GatehouseError; each wire renders it into its own error shape
 * (see wire/openai/errors.ts, wire/anthropic/errors.ts). Tests assert on `code`,
 * never on message text. Messages never contain keys or message content.
 */

export type ErrorCode =
  | 'invalid_request'
  | 'unsupported_media_type'
  | 'request_too_large'
  | 'invalid_api_key'
  | 'header_not_allowed'
  | 'model_not_allowed'
  | 'model_not_found'
  | 'not_found'
  | 'method_not_allowed'
  | 'rate_limited'
  | 'budget_exceeded'
  | 'policy_denied'
  | 'policy_error'
  | 'limits_unavailable'
  | 'approval_required'
  | 'approval_denied'
  | 'approval_expired'
  | 'approval_used'
  | 'approval_not_found'
  | 'approval_conflict'
  | 'prompt_not_found'
  | 'prompt_variables_invalid'
  | 'agent_not_registered'
  | 'agent_suspended'
  | 'delegation_depth_exceeded'
  | 'delegation_loop'
  | 'run_budget_exceeded'
  | 'forbidden'
  | 'tool_not_found'
  | 'tool_result_too_large'
  | 'audit_unavailable'
  | 'upstream_error'
  | 'upstream_unavailable'
  | 'upstream_timeout'
  | 'unsupported_operation'
  | 'request_timeout'
  | 'request_header_too_large'
  | 'cancelled'
  | 'internal_error';

const STATUS: Record<ErrorCode, number> = {
  invalid_request: 400,
  unsupported_media_type: 415,
  request_too_large: 413,
  invalid_api_key: 401,
  header_not_allowed: 403,
  model_not_allowed: 403,
  model_not_found: 404,
  not_found: 404,
  method_not_allowed: 405,
  rate_limited: 429,
  budget_exceeded: 429,
  policy_denied: 403,
  policy_error: 503,
  limits_unavailable: 503,
  approval_required: 403,
  approval_denied: 403,
  approval_expired: 403,
  approval_used: 403,
  approval_not_found: 404,
  approval_conflict: 409,
  prompt_not_found: 404,
  prompt_variables_invalid: 400,
  agent_not_registered: 403,
  agent_suspended: 403,
  delegation_depth_exceeded: 403,
  delegation_loop: 403,
  run_budget_exceeded: 429,
  forbidden: 403,
  tool_not_found: 404,
  tool_result_too_large: 502,
  audit_unavailable: 503,
  upstream_error: 502,
  upstream_unavailable: 503,
  upstream_timeout: 504,
  unsupported_operation: 400,
  request_timeout: 408,
  request_header_too_large: 431,
  cancelled: 499,
  internal_error: 500,
};

export interface ErrorOptions {
  cause?: unknown;
  /** The request field the error is about, e.g. `messages[2].content`. */
  param?: string;
  /** Seconds after which a retry may succeed; sent as `Retry-After`. */
  retryAfterSeconds?: number;
  /** Extra response headers (for example `x-ratelimit-*`). */
  headers?: Record<string, string>;
  /** Overrides the code's default status (e.g. an upstream 4xx passed through). */
  status?: number;
  /** Structured facts the caller can act on (e.g. the approval id and where to approve); rendered where the wire has room. */
  details?: Record<string, unknown>;
}

export class GatehouseError extends Error {
  override readonly name = 'GatehouseError';
  readonly code: ErrorCode;
  readonly status: number;
  readonly param: string | undefined;
  readonly retryAfterSeconds: number | undefined;
  readonly headers: Record<string, string> | undefined;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: ErrorCode, message: string, options: ErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.status = options.status ?? STATUS[code];
    this.param = options.param;
    this.retryAfterSeconds = options.retryAfterSeconds;
    this.headers = options.headers;
    this.details = options.details;
  }
}

export function invalidRequest(param: string, message: string): GatehouseError {
  return new GatehouseError('invalid_request', `${param}: ${message}`, { param });
}

/** Any thrown value as a GatehouseError; unknown errors become `internal_error` without their message. */
export function asGatehouseError(error: unknown): GatehouseError {
  if (error instanceof GatehouseError) return error;
  return new GatehouseError('internal_error', 'internal error', { cause: error });
}
