/**
 * The MCP wire: JSON-RPC 2.0. Any GatehouseError becomes a JSON-RPC error whose
 * `data` carries the stable Gatehouse `code` (what clients and tests match on)
 * and the HTTP status the same failure has on the model routes:
 *
 *   invalid_request, tool_not_found  -> -32602 (Invalid params; an unknown tool per the MCP spec)
 *   internal_error                   -> -32603 (Internal error)
 *   anything else                    -> -32000 (server error), e.g. policy_denied, rate_limited
 *
 * A tool's own failure is not an error here: it is a result with `isError: true`.
 */
import { McpError } from '@modelcontextprotocol/sdk/types.js';
import type { GatehouseError } from '../errors.js';
import type { ClientWire, RenderedError } from '../wire/types.js';
import { GatehouseError as Failure } from '../errors.js';

export const PARSE_ERROR = -32700;
export const INVALID_REQUEST = -32600;
export const INVALID_PARAMS = -32602;
export const INTERNAL_ERROR = -32603;
export const GATEHOUSE_ERROR = -32000;

export interface JsonRpcErrorData {
  code: string;
  status: number;
  reasons?: string[];
  retry_after_seconds?: number;
  /** For approval_required and the other approval codes: the approval (docs/approvals.md). */
  approval?: unknown;
}

export function jsonRpcCodeOf(error: GatehouseError): number {
  if (error.code === 'invalid_request' || error.code === 'tool_not_found') return INVALID_PARAMS;
  if (error.code === 'internal_error') return INTERNAL_ERROR;
  return GATEHOUSE_ERROR;
}

function dataOf(error: GatehouseError, reasons?: string[]): JsonRpcErrorData {
  return {
    code: error.code, status: error.status,
    ...(reasons && reasons.length > 0 ? { reasons } : {}),
    ...(error.retryAfterSeconds !== undefined ? { retry_after_seconds: error.retryAfterSeconds } : {}),
    ...(error.details !== undefined ? error.details : {}),
  };
}

/** What an MCP request handler throws: the SDK sends it as the JSON-RPC error of that request. */
export function mcpErrorOf(error: GatehouseError, reasons?: string[]): McpError {
  const rpc = new McpError(jsonRpcCodeOf(error), error.message, dataOf(error, reasons));
  // McpError prefixes "MCP error <code>: "; the caller gets the message as it is.
  rpc.message = error.message;
  return rpc;
}

/** A whole JSON-RPC error message, for failures answered before the SDK sees the request (401, parse errors). */
export function jsonRpcErrorBody(error: GatehouseError, id: string | number | null = null): unknown {
  return { jsonrpc: '2.0', error: { code: jsonRpcCodeOf(error), message: error.message, data: dataOf(error) }, id };
}

const unsupported = (): never => {
  throw new Failure('unsupported_operation', 'the MCP endpoint serves tools, not model calls');
};

/** The request context's wire for MCP requests: it only renders errors. */
export const mcpWire: ClientWire = {
  name: 'mcp',
  decodeChat: unsupported,
  encodeChat: unsupported,
  streamEncoder: unsupported,
  renderModels: unsupported,
  renderError(error: GatehouseError): RenderedError {
    return { status: error.status, body: jsonRpcErrorBody(error) };
  },
};
