/**
 * The engine shared by the mock provider APIs (mockOpenAI.ts, mockAnthropic.ts):
 * a node:http server on 127.0.0.1:0 that records every request it receives
 * (headers and parsed body, and whether the gateway went away before the answer
 * ended) and answers each one by the next scripted step, or normally when the
 * script is empty. A dialect supplies the API's own shapes; this file knows no
 * wire format.
 *
 * `stop()` destroys every open connection (hanging ones included) and is safe to
 * call twice.
 */
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export interface MockToolCall {
  id: string;
  name: string;
  /** JSON text of the arguments. */
  arguments: string;
}

/** What the mock model answers, before it is put in the API's shape. */
export interface MockAnswer {
  id: string;
  model: string;
  /** Each word is one streamed text chunk. */
  words: string[];
  toolCalls: MockToolCall[];
  finish: 'stop' | 'length' | 'tool_calls';
  inputTokens: number;
  outputTokens: number;
  /** Input tokens served from the prompt cache (a subset of inputTokens). */
  cachedInputTokens: number;
  /** Leave every usage field out of the answer (a provider or proxy that does not report usage). */
  omitUsage?: boolean;
}

/** How to answer one request. */
export type Step =
  /** Answer normally, optionally late, paced, or with a different answer. */
  | { kind: 'answer'; delayMs?: number; chunkDelayMs?: number; answer?: Partial<MockAnswer> }
  /** An API error in the API's own shape, optionally with Retry-After (seconds or an HTTP date). */
  | { kind: 'status'; status: number; retryAfter?: string; message?: string }
  /** 200 with a body that is not the API's format. */
  | { kind: 'garbage' }
  /** Send N stream frames (or a partial JSON body), then drop the connection. */
  | { kind: 'cut'; afterChunks: number; chunkDelayMs?: number }
  /** Accept the request and never answer. */
  | { kind: 'hang' };

export interface RecordedRequest {
  readonly method: string;
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
  /** The parsed JSON body (`{}` for none). */
  readonly body: Record<string, unknown>;
  /** Stream frames written so far. */
  chunksSent: number;
  /** `open` until the answer ended, or the gateway closed the connection first (`aborted`). */
  state: 'open' | 'finished' | 'aborted';
  /** Resolves once the state is no longer `open`. */
  readonly settled: Promise<'finished' | 'aborted'>;
}

export interface ApiError {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

/** One provider API's shapes. Every function is pure. */
export interface MockDialect {
  /** The operation a POST path serves, or undefined (404). */
  operation(path: string): 'chat' | 'embeddings' | undefined;
  /** An error when the credentials or required headers are missing or wrong. */
  checkRequest(headers: IncomingHttpHeaders, apiKey: string): ApiError | undefined;
  errorBody(status: number, message: string): unknown;
  answerFor(body: Record<string, unknown>): MockAnswer;
  chatBody(body: Record<string, unknown>, answer: MockAnswer): unknown;
  /** The SSE frames of a streamed answer, each a complete `event:/data:` block. */
  streamFrames(body: Record<string, unknown>, answer: MockAnswer): string[];
  embeddingsBody?(body: Record<string, unknown>): unknown;
  /** Extra headers on every answer (request ids). */
  responseHeaders(): Record<string, string>;
}

const DEFAULT_STEP: Step = { kind: 'answer' };

export class MockUpstream {
  readonly requests: RecordedRequest[] = [];
  private steps: Step[] = [];
  private fallback: Step = DEFAULT_STEP;
  private answerOverride: Partial<MockAnswer> = {};
  private readonly sockets = new Set<Socket>();
  private readonly server: Server;
  private address: AddressInfo | undefined;
  private stopping: Promise<void> | undefined;

  constructor(
    private readonly dialect: MockDialect,
    /** The provider key the mock accepts. */
    readonly apiKey: string,
  ) {
    this.server = createServer((req, res) => {
      this.handle(req, res).catch(() => res.destroy());
    });
    this.server.on('connection', (socket) => {
      this.sockets.add(socket);
      socket.once('close', () => this.sockets.delete(socket));
    });
  }

  async listen(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.address = this.server.address() as AddressInfo;
    return this;
  }

  /** `http://127.0.0.1:<port>`. */
  get origin(): string {
    if (!this.address) throw new Error('mock upstream is not listening');
    return `http://127.0.0.1:${this.address.port}`;
  }

  /** Queues steps: each request takes the next one; when none is left, the fallback applies. */
  script(...steps: Step[]): this {
    this.steps.push(...steps);
    return this;
  }

  /** What to do once the script is used up (default: answer normally). */
  always(step: Step): this {
    this.fallback = step;
    return this;
  }

  /** Changes the default answer of every later request. */
  answerWith(answer: Partial<MockAnswer>): this {
    this.answerOverride = { ...answer };
    return this;
  }

  /** Forgets requests, script, fallback and answer override. */
  reset(): this {
    this.requests.length = 0;
    this.steps = [];
    this.fallback = DEFAULT_STEP;
    this.answerOverride = {};
    return this;
  }

  /** Requests received on a path (all when no path is given). */
  count(path?: string): number {
    return path === undefined ? this.requests.length : this.requests.filter((r) => r.path === path).length;
  }

  last(): RecordedRequest {
    const request = this.requests.at(-1);
    if (!request) throw new Error('the mock upstream received no request');
    return request;
  }

  stop(): Promise<void> {
    return (this.stopping ??= new Promise((resolve) => {
      for (const socket of this.sockets) socket.destroy();
      this.server.close(() => resolve());
    }));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const raw = await readBody(req);
    const path = (req.url ?? '/').split('?')[0]!;
    let body: Record<string, unknown> = {};
    try {
      if (raw.length > 0) body = JSON.parse(raw) as Record<string, unknown>;
    } catch {
      return this.send(res, { status: 400, body: this.dialect.errorBody(400, 'body is not valid JSON') });
    }
    let settle!: (state: 'finished' | 'aborted') => void;
    const record: RecordedRequest = {
      method: req.method ?? 'GET',
      path,
      headers: req.headers,
      body,
      chunksSent: 0,
      state: 'open',
      settled: new Promise((resolve) => (settle = resolve)),
    };
    res.once('close', () => {
      record.state = res.writableFinished ? 'finished' : 'aborted';
      settle(record.state);
    });
    this.requests.push(record);

    const operation = req.method === 'POST' ? this.dialect.operation(path) : undefined;
    if (!operation) return this.send(res, { status: 404, body: this.dialect.errorBody(404, `no route ${req.method} ${path}`) });
    const denied = this.dialect.checkRequest(req.headers, this.apiKey);
    if (denied) return this.send(res, denied);
    const step = this.steps.shift() ?? this.fallback;
    await this.answer(res, record, operation, step);
  }

  private async answer(res: ServerResponse, record: RecordedRequest, operation: 'chat' | 'embeddings', step: Step): Promise<void> {
    const { body } = record;
    switch (step.kind) {
      case 'hang':
        return;
      case 'status': {
        const headers: Record<string, string> = {};
        if (step.retryAfter !== undefined) headers['retry-after'] = step.retryAfter;
        return this.send(res, { status: step.status, headers, body: this.dialect.errorBody(step.status, step.message ?? `mock error ${step.status}`) });
      }
      case 'garbage':
        res.writeHead(200, { ...this.dialect.responseHeaders(), 'content-type': body.stream === true ? 'text/event-stream' : 'application/json' });
        res.end(body.stream === true ? 'data: <html>502 Bad Gateway</html>\n\n' : '<html><body>502 Bad Gateway</body></html>');
        return;
      case 'cut':
      case 'answer':
        break;
    }
    if (step.kind === 'answer' && step.delayMs) {
      await delay(step.delayMs);
      if (res.destroyed) return;
    }
    if (operation === 'embeddings') {
      const payload = this.dialect.embeddingsBody?.(body);
      if (payload === undefined) return this.send(res, { status: 404, body: this.dialect.errorBody(404, 'no embeddings here') });
      return this.send(res, { status: 200, body: payload });
    }
    const answer = { ...this.dialect.answerFor(body), ...this.answerOverride, ...(step.kind === 'answer' ? step.answer : {}) };
    const cutAfter = step.kind === 'cut' ? step.afterChunks : Infinity;
    if (body.stream === true) return this.stream(res, record, this.dialect.streamFrames(body, answer), cutAfter, step.chunkDelayMs ?? 0);
    const json = JSON.stringify(this.dialect.chatBody(body, answer));
    if (cutAfter === Infinity) return this.send(res, { status: 200, body: JSON.parse(json) as unknown });
    res.writeHead(200, { ...this.dialect.responseHeaders(), 'content-type': 'application/json' });
    await write(res, json.slice(0, Math.floor(json.length / 2)));
    res.destroy();
  }

  private async stream(res: ServerResponse, record: RecordedRequest, frames: string[], cutAfter: number, gapMs: number): Promise<void> {
    res.writeHead(200, { ...this.dialect.responseHeaders(), 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache' });
    res.flushHeaders();
    for (const frame of frames) {
      if (record.chunksSent >= cutAfter) {
        res.destroy();
        return;
      }
      if (gapMs > 0 && record.chunksSent > 0) await delay(gapMs);
      if (res.destroyed) return;
      await write(res, frame);
      record.chunksSent++;
    }
    if (record.chunksSent >= cutAfter) res.destroy();
    else res.end();
  }

  private send(res: ServerResponse, error: ApiError): void {
    const payload = JSON.stringify(error.body);
    res.writeHead(error.status, {
      ...this.dialect.responseHeaders(),
      ...error.headers,
      'content-type': 'application/json',
      'content-length': String(Buffer.byteLength(payload)),
    });
    res.end(payload);
  }
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req as AsyncIterable<Buffer>) chunks.push(chunk);
  return Buffer.concat(chunks).toString('utf8');
}

/** Resolves once the chunk is handed to the socket, or the connection is gone. */
function write(res: ServerResponse, chunk: string): Promise<void> {
  return new Promise((resolve) => {
    if (res.destroyed) return resolve();
    const done = () => {
      res.off('close', done);
      resolve();
    };
    res.once('close', done);
    res.write(chunk, done);
  });
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** The mock's default input token count: one per 4 characters of the messages' JSON, like a rough tokenizer. */
export function roughTokens(value: unknown): number {
  return Math.max(1, Math.ceil(JSON.stringify(value ?? '').length / 4));
}

/** The default text answer: common English words, one token each. */
export const DEFAULT_WORDS = ['Hello', 'from', 'the', 'mock', 'model', 'and', 'have', 'a', 'good', 'day'];

/** Splits tool-call arguments into the pieces a streaming API sends. */
export function argumentPieces(args: string, size = 5): string[] {
  const pieces: string[] = [];
  for (let at = 0; at < args.length; at += size) pieces.push(args.slice(at, at + size));
  return pieces;
}
