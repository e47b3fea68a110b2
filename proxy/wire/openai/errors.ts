/**
 * Any GatehouseError → the OpenAI error shape `{error:{message, type, param, code}}`.
 * `type` is the OpenAI error type an SDK user expects for that class of failure;
 * `code` is always Gatehouse's stable code, which is what tests and clients match on.
 */
import type { ErrorCode, GatehouseError } from '../../errors.js';
import type { RenderedError } from '../types.js';

const ERROR_TYPE: Record<ErrorCode, string> = {
  invalid_request: 'invalid_request_error',
  unsupported_media_type: 'invalid_request_error',
  request_too_large: 'invalid_request_error',
  unsupported_operation: 'invalid_request_error',
  method_not_allowed: 'invalid_request_error',
  request_timeout: 'invalid_request_error',
  request_header_too_large: 'invalid_request_error',
  cancelled: 'invalid_request_error',
  invalid_api_key: 'authentication_error',
  header_not_allowed: 'permission_error',
  model_not_allowed: 'permission_error',
  policy_denied: 'permission_error',
  approval_required: 'permission_error',
  approval_denied: 'permission_error',
  approval_expired: 'permission_error',
  approval_used: 'permission_error',
  approval_not_found: 'invalid_request_error',
  approval_conflict: 'invalid_request_error',
  prompt_not_found: 'invalid_request_error',
  prompt_variables_invalid: 'invalid_request_error',
  agent_not_registered: 'permission_error',
  agent_suspended: 'permission_error',
  delegation_depth_exceeded: 'permission_error',
  delegation_loop: 'permission_error',
  forbidden: 'permission_error',
  tool_not_found: 'not_found_error',
  tool_result_too_large: 'server_error',
  run_budget_exceeded: 'rate_limit_error',
  model_not_found: 'not_found_error',
  not_found: 'not_found_error',
  rate_limited: 'rate_limit_error',
  budget_exceeded: 'insufficient_quota',
  policy_error: 'server_error',
  limits_unavailable: 'server_error',
  audit_unavailable: 'server_error',
  upstream_error: 'server_error',
  upstream_unavailable: 'server_error',
  upstream_timeout: 'server_error',
  internal_error: 'server_error',
};

export interface OpenAIErrorBody {
  error: { message: string; type: string; param: string | null; code: ErrorCode };
}

export function errorBody(error: GatehouseError): OpenAIErrorBody {
  return {
    error: { message: error.message, type: ERROR_TYPE[error.code], param: error.param ?? null, code: error.code },
  };
}

export function renderError(error: GatehouseError): RenderedError {
  return { status: error.status, body: errorBody(error) };
}
