/**
 * Renders any GatehouseError in the Anthropic error shape:
 * `{ type: 'error', error: { type, message, code, details: { error_code } } }`.
 *
 * `error.type` is the Anthropic error type for the status (what the official SDK
 * and Anthropic clients branch on); `error.code` is Gatehouse's stable code, also
 * repeated as `error.details.error_code`, which the official SDK surfaces as
 * `APIError.errorCode`. The HTTP status is `error.status`.
 */
import type { GatehouseError } from '../../errors.js';
import type { RenderedError } from '../types.js';

export type AnthropicErrorType =
  | 'invalid_request_error'
  | 'authentication_error'
  | 'permission_error'
  | 'not_found_error'
  | 'request_too_large'
  | 'rate_limit_error'
  | 'timeout_error'
  | 'api_error'
  | 'overloaded_error';

/** The Anthropic error type for a Gatehouse error, chosen by status as Anthropic does. */
export function anthropicErrorType(error: GatehouseError): AnthropicErrorType {
  if (error.code === 'upstream_unavailable') return 'overloaded_error';
  switch (error.status) {
    case 401:
      return 'authentication_error';
    case 403:
      return 'permission_error';
    case 404:
      return 'not_found_error';
    case 413:
      return 'request_too_large';
    case 429:
      return 'rate_limit_error';
    case 504:
      return 'timeout_error';
    case 529:
      return 'overloaded_error';
    default:
      return error.status >= 500 ? 'api_error' : 'invalid_request_error';
  }
}

/** The `error` object shared by an HTTP error body and an in-stream `error` event. */
export function errorObject(error: GatehouseError): Record<string, unknown> {
  return {
    type: anthropicErrorType(error),
    message: error.message,
    code: error.code,
    details: { error_code: error.code },
  };
}

export function renderError(error: GatehouseError): RenderedError {
  return { status: error.status, body: { type: 'error', error: errorObject(error) } };
}
