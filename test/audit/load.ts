/**
 * Load for the end-to-end audit tests: chat requests at a fixed concurrency
 * over undici, remembering the `x-request-id` of every request the client got
 * a complete 200 response for (its body read to the end; for streams, through
 * `[DONE]`). A request that fails in any way is not acknowledged.
 */
import { Agent, request } from 'undici';

export interface LoadOptions {
  url: string;
  key: string;
  model?: string;
  concurrency: number;
  /** Stop after this many requests were started; absent means until `stop()`. */
  total?: number;
  /** Every n-th request streams (0: none). */
  streamEvery?: number;
  headers?: Record<string, string>;
}

export interface Load {
  /** Request ids the client got a complete 200 for, in completion order. */
  readonly acknowledged: string[];
  readonly failed: number;
  readonly statuses: Map<number, number>;
  /** Stops starting requests; resolves once the ones in flight settled. */
  stop(): Promise<void>;
  /** Resolves once `total` requests settled (or `stop()` was called and in-flight ones settled). */
  readonly done: Promise<void>;
}

export function startLoad(options: LoadOptions): Load {
  const agent = new Agent({ connections: options.concurrency, keepAliveTimeout: 10_000, headersTimeout: 15_000, bodyTimeout: 15_000 });
  const acknowledged: string[] = [];
  const statuses = new Map<number, number>();
  let failed = 0;
  let started = 0;
  let stopping = false;
  const endpoint = `${options.url}/v1/chat/completions`;

  const one = async (n: number): Promise<void> => {
    const stream = options.streamEvery ? n % options.streamEvery === 0 : false;
    const body = JSON.stringify({ model: options.model ?? 'gpt-4o-mini', stream, messages: [{ role: 'user', content: `request ${n}` }] });
    try {
      const response = await request(endpoint, {
        method: 'POST',
        dispatcher: agent,
        headers: { authorization: `Bearer ${options.key}`, 'content-type': 'application/json', ...options.headers },
        body,
      });
      statuses.set(response.statusCode, (statuses.get(response.statusCode) ?? 0) + 1);
      const text = await response.body.text();
      const id = response.headers['x-request-id'];
      const complete = stream ? text.includes('data: [DONE]') : text.endsWith('}');
      if (response.statusCode === 200 && typeof id === 'string' && complete) acknowledged.push(id);
      else failed++;
    } catch {
      failed++;
    }
  };

  const worker = async (): Promise<void> => {
    while (!stopping && (options.total === undefined || started < options.total)) await one(started++);
  };
  const done = Promise.all(Array.from({ length: options.concurrency }, worker)).then(async () => {
    await agent.destroy().catch(() => undefined);
  });
  return {
    acknowledged,
    statuses,
    get failed() { return failed; },
    done,
    stop: async () => {
      stopping = true;
      await done;
    },
  };
}
