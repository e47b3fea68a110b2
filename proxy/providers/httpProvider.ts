/**
 * The one engine for HTTP providers: applies an HttpProviderSpec over an undici
 * keep-alive pool. It owns transport concerns only: URL, auth headers, timeouts,
 * status classification, SSE framing. Mapping lives in the spec.
 */
import { createParser } from 'eventsource-parser';
import { Pool } from 'undici';
import type { ChatRequest, ChatResponse, EmbeddingRequest, EmbeddingResponse, StreamEvent } from '../canonical.js';
import type { HttpProviderSpec, StreamDecoder } from './spec.js';
import { parseRetryAfter, reasonForStatus, UpstreamFailure, type AttemptOptions, type Provider } from './types.js';

export interface HttpProviderOptions {
  name: string;
  spec: HttpProviderSpec;
  baseUrl: string;
  apiKey: string | undefined;
  headers: Record<string, string>;
  connections: number;
}

type Body = Awaited<ReturnType<Pool['request']>>['body'];

export class HttpProvider implements Provider {
  readonly name: string;
  readonly kind: HttpProviderSpec['kind'];
  readonly system: string;
  readonly address: { host: string; port: number };
  private readonly spec: HttpProviderSpec;
  private readonly pool: Pool;
  private readonly basePath: string;
  private readonly query: string;
  private readonly headers: Record<string, string>;
  /** Kept only to mask it out of upstream error messages. */
  private readonly apiKey: string | undefined;
  private closed = false;

  constructor(options: HttpProviderOptions) {
    const url = new URL(options.baseUrl);
    this.name = options.name;
    this.spec = options.spec;
    this.kind = options.spec.kind;
    this.system = options.spec.system;
    this.address = { host: url.hostname, port: Number(url.port) || (url.protocol === 'https:' ? 443 : 80) };
    this.basePath = url.pathname.replace(/\/$/, '');
    this.query = url.search;
    this.headers = { 'content-type': 'application/json', ...options.headers, ...options.spec.authHeaders(options.apiKey) };
    this.apiKey = options.apiKey;
    this.pool = new Pool(url.origin, {
      connections: options.connections,
      keepAliveTimeout: 30_000,
      connect: { timeout: 10_000 },
    });
  }

  async chat(request: ChatRequest, model: string, options: AttemptOptions): Promise<ChatResponse> {
    const body = await this.post(this.spec.chatPath, this.spec.encodeChat(request, model), options, 'application/json');
    return this.spec.decodeChat(await readJson(body, options.signal));
  }

  async chatStream(request: ChatRequest, model: string, options: AttemptOptions): Promise<AsyncIterable<StreamEvent>> {
    const body = await this.post(this.spec.chatPath, this.spec.encodeChat(request, model), options, 'text/event-stream');
    return decodeStream(body, this.spec.createStreamDecoder());
  }

  async embed(request: EmbeddingRequest, model: string, options: AttemptOptions): Promise<EmbeddingResponse> {
    const { embeddingsPath, encodeEmbeddings, decodeEmbeddings } = this.spec;
    if (!embeddingsPath || !encodeEmbeddings || !decodeEmbeddings) {
      throw new UpstreamFailure('client_error', `provider ${this.name} has no embeddings API`, { upstreamStatus: 400 });
    }
    const body = await this.post(embeddingsPath, encodeEmbeddings.call(this.spec, request, model), options, 'application/json');
    return decodeEmbeddings.call(this.spec, await readJson(body, options.signal));
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.pool.close();
  }

  /** Sends one request; resolves with the body of a 2xx answer, rejects with an UpstreamFailure otherwise. */
  private async post(path: string, payload: Record<string, unknown>, options: AttemptOptions, accept: string): Promise<Body> {
    let response: Awaited<ReturnType<Pool['request']>>;
    // undici's own timeouts tick at ~1 s resolution; the wait for the response
    // headers gets a precise timer, the idle limit between body chunks stays undici's.
    // One controller per attempt, aborted by the request's signal or the timer. (A
    // listener instead of AbortSignal.any: `any` costs a composite signal with weak
    // tracking per call. The listener stays for the body read, and goes with the request.)
    const attempt = new AbortController();
    const signal = attempt.signal;
    if (options.signal.aborted) attempt.abort(options.signal.reason);
    else options.signal.addEventListener('abort', () => attempt.abort(options.signal.reason), { once: true });
    const timer = setTimeout(() => attempt.abort(new DOMException('upstream attempt timed out', 'TimeoutError')), options.timeoutMs);
    try {
      response = await this.pool.request({
        method: 'POST',
        path: `${this.basePath}${path}${this.query}`,
        headers: { ...this.headers, accept },
        body: JSON.stringify(payload),
        signal,
        headersTimeout: options.timeoutMs,
        bodyTimeout: options.timeoutMs,
      });
    } catch (error) {
      throw transportFailure(error, signal);
    } finally {
      clearTimeout(timer);
    }
    if (response.statusCode >= 200 && response.statusCode < 300) return response.body;
    let detail: string | undefined;
    try {
      detail = this.spec.errorMessage(JSON.parse(await response.body.text()));
    } catch {
      detail = undefined;
    }
    const headers = response.headers;
    const retryAfterMs = parseRetryAfter({ get: (name) => single(headers[name]) });
    const reason = reasonForStatus(response.statusCode);
    // The spec masks key-shaped text; the configured key is masked whatever its shape (Azure keys are plain hex).
    if (detail && this.apiKey && this.apiKey.length >= 8) detail = detail.split(this.apiKey).join('[key]');
    throw new UpstreamFailure(reason, `${this.name} answered ${response.statusCode}${detail ? `: ${detail.slice(0, 300)}` : ''}`, {
      upstreamStatus: response.statusCode,
      ...(retryAfterMs !== undefined ? { retryAfterMs } : {}),
    });
  }
}

function single(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/** The JSON of a 2xx body; a body cut mid-transfer is `stream_cut` (502), not a connection error. */
async function readJson(body: Body, signal: AbortSignal): Promise<unknown> {
  let text: string;
  try {
    text = await body.text();
  } catch (error) {
    throw transportFailure(error, signal, 'stream_cut');
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new UpstreamFailure('bad_response', 'upstream answered with a body that is not JSON', { cause: error });
  }
}

async function* decodeStream(body: Body, decoder: StreamDecoder): AsyncGenerator<StreamEvent> {
  const pending: StreamEvent[] = [];
  const parser = createParser({
    onEvent: (message) => {
      for (const event of decoder.decode({ event: message.event, data: message.data })) pending.push(event);
    },
  });
  const text = new TextDecoder();
  try {
    for await (const chunk of body as AsyncIterable<Uint8Array>) {
      parser.feed(text.decode(chunk, { stream: true }));
      for (let i = 0; i < pending.length; i++) yield pending[i]!;
      pending.length = 0;
      if (decoder.done) return;
    }
  } catch (error) {
    if (error instanceof UpstreamFailure) throw error;
    throw transportFailure(error, undefined, 'stream_cut');
  } finally {
    if (!body.destroyed) body.destroy();
  }
  if (!decoder.done) throw new UpstreamFailure('stream_cut', 'upstream stream ended before its end marker');
}

/** Maps an undici/network error to an UpstreamFailure. */
export function transportFailure(error: unknown, signal: AbortSignal | undefined, fallback: 'connect_error' | 'stream_cut' = 'connect_error'): UpstreamFailure {
  if (error instanceof UpstreamFailure) return error;
  const code = (error as { code?: string }).code;
  const name = (error as { name?: string }).name;
  if (signal?.aborted || name === 'AbortError' || code === 'UND_ERR_ABORTED') {
    const reason = signal?.reason as { name?: string } | undefined;
    if (reason?.name === 'TimeoutError') return new UpstreamFailure('timeout', 'upstream attempt timed out', { cause: error });
    return new UpstreamFailure('cancelled', 'request cancelled', { cause: error });
  }
  switch (code) {
    case 'UND_ERR_HEADERS_TIMEOUT':
    case 'UND_ERR_BODY_TIMEOUT':
    case 'UND_ERR_CONNECT_TIMEOUT':
      return new UpstreamFailure('timeout', `upstream timed out (${code})`, { cause: error });
    case 'ECONNREFUSED':
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
    case 'EHOSTUNREACH':
      return new UpstreamFailure('connect_error', `cannot connect to upstream (${code})`, { cause: error });
    default:
      return new UpstreamFailure(fallback, `upstream connection failed${code ? ` (${code})` : ''}`, { cause: error });
  }
}
