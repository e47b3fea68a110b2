import type { ChatRequest, ChatResponse, EmbeddingRequest, EmbeddingResponse, StreamEvent } from '../canonical.js';
import { GatehouseError, type ErrorCode } from '../errors.js';

/** What one upstream attempt may use. */
export interface AttemptOptions {
  /** Aborted when the client disconnects or the attempt times out. */
  signal: AbortSignal;
  /** Per-attempt timeout until response headers arrive, and the idle limit between stream chunks. */
  timeoutMs: number;
}

export type ProviderKind = 'openai' | 'anthropic' | 'openai-compatible' | 'simulated';

/**
 * A configured upstream. Contract:
 * - `chat` resolves with the whole response or rejects with an UpstreamFailure.
 * - `chatStream` resolves once the upstream accepted the request (status 2xx), so
 *   the router can still fail over on any error before it resolves. Errors raised
 *   while iterating are mid-stream failures and must be UpstreamFailure too.
 *   Breaking out of the iteration releases the upstream connection.
 * - Nothing here logs, and no error message contains a key.
 * - `close` is safe to call twice.
 */
export interface Provider {
  /** The name the config gave this provider, e.g. `openai-main`. */
  readonly name: string;
  readonly kind: ProviderKind;
  /** Value for `gen_ai.provider.name`: `openai`, `anthropic`, or `gatehouse.simulated`. */
  readonly system: string;
  /** Upstream host and port, for `server.address` / `server.port` on attempt spans. */
  readonly address: { host: string; port: number } | undefined;
  chat(request: ChatRequest, model: string, options: AttemptOptions): Promise<ChatResponse>;
  chatStream(request: ChatRequest, model: string, options: AttemptOptions): Promise<AsyncIterable<StreamEvent>>;
  /** Absent when the provider has no embeddings API (Anthropic). */
  embed?(request: EmbeddingRequest, model: string, options: AttemptOptions): Promise<EmbeddingResponse>;
  close(): Promise<void>;
}

/** Why an attempt failed, in the words of the failover rules. */
export type FailureReason =
  | 'rate_limited'
  | 'overloaded'
  | 'server_error'
  | 'timeout'
  | 'connect_error'
  | 'bad_response'
  | 'stream_cut'
  | 'client_error'
  /** The upstream refused the gateway's own provider key (401/403): another target may still serve. */
  | 'upstream_auth'
  | 'cancelled';

const RETRYABLE: ReadonlySet<FailureReason> = new Set([
  'rate_limited',
  'overloaded',
  'server_error',
  'timeout',
  'connect_error',
  'bad_response',
  'stream_cut',
  'upstream_auth',
]);

function codeFor(reason: FailureReason): ErrorCode {
  switch (reason) {
    case 'timeout':
      return 'upstream_timeout';
    case 'rate_limited':
    case 'overloaded':
    case 'connect_error':
    case 'server_error':
      return 'upstream_unavailable';
    case 'cancelled':
      return 'cancelled';
    case 'client_error':
      return 'invalid_request';
    default:
      return 'upstream_error';
  }
}

/**
 * An upstream attempt failed. `retryable` decides failover; `retryAfterMs` comes
 * from the upstream's `Retry-After` (or `retry-after-ms`) header.
 */
export class UpstreamFailure extends GatehouseError {
  readonly reason: FailureReason;
  readonly upstreamStatus: number | undefined;
  readonly retryAfterMs: number | undefined;
  readonly retryable: boolean;

  constructor(
    reason: FailureReason,
    message: string,
    options: { upstreamStatus?: number; retryAfterMs?: number; cause?: unknown } = {},
  ) {
    const clientStatus = reason === 'client_error' && options.upstreamStatus ? options.upstreamStatus : undefined;
    super(codeFor(reason), message, {
      cause: options.cause,
      ...(clientStatus !== undefined ? { status: clientStatus } : {}),
      ...(options.retryAfterMs !== undefined ? { retryAfterSeconds: Math.ceil(options.retryAfterMs / 1000) } : {}),
    });
    this.reason = reason;
    this.upstreamStatus = options.upstreamStatus;
    this.retryAfterMs = options.retryAfterMs;
    this.retryable = RETRYABLE.has(reason);
  }
}

/** Classifies an upstream HTTP status into a failure reason. */
export function reasonForStatus(status: number): FailureReason {
  if (status === 429) return 'rate_limited';
  if (status === 401 || status === 403) return 'upstream_auth';
  if (status === 529 || status === 503) return 'overloaded';
  if (status === 408 || status === 504) return 'timeout';
  if (status >= 500) return 'server_error';
  return 'client_error';
}

/** Parses `retry-after-ms` or `Retry-After` (seconds or HTTP date) into milliseconds. */
export function parseRetryAfter(headers: { get(name: string): string | null | undefined }, now = Date.now()): number | undefined {
  const ms = headers.get('retry-after-ms');
  if (ms) {
    const value = Number(ms);
    if (Number.isFinite(value) && value >= 0) return value;
  }
  const raw = headers.get('retry-after');
  if (!raw) return undefined;
  const seconds = Number(raw);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const date = Date.parse(raw);
  if (Number.isFinite(date)) return Math.max(0, date - now);
  return undefined;
}
