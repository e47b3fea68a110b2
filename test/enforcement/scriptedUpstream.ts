/**
 * A tiny OpenAI-compatible upstream whose answer a test computes from the request
 * it received: `answer(body)` returns the text chunks, each streamed as one
 * `chat.completion.chunk` (a non-streamed answer is their concatenation). It
 * records every request body, so a test can check what left the gateway.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

type Json = Record<string, unknown>;

export interface ScriptedUpstream {
  /** `http://127.0.0.1:<port>/v1`, for an `openai-compatible` provider. */
  readonly baseUrl: string;
  readonly apiKey: string;
  /** Every request body received, in order. */
  readonly requests: Json[];
  stop(): Promise<void>;
}

/** The text of every message the upstream received in one request. */
export function receivedText(body: Json): string {
  const messages = Array.isArray(body.messages) ? (body.messages as Json[]) : [];
  return messages.map((m) => (typeof m.content === 'string' ? m.content : JSON.stringify(m.content))).join('\n');
}

export async function startScriptedUpstream(answer: (body: Json) => string[]): Promise<ScriptedUpstream> {
  const apiKey = 'sk-scripted-upstream-0123456789';
  const requests: Json[] = [];
  const sockets = new Set<Socket>();
  const server: Server = createServer((req, res) => {
    const parts: Buffer[] = [];
    req.on('data', (chunk: Buffer) => parts.push(chunk));
    req.on('end', () => {
      const body = JSON.parse(Buffer.concat(parts).toString('utf8') || '{}') as Json;
      requests.push(body);
      if (req.headers.authorization !== `Bearer ${apiKey}`) {
        res.writeHead(401, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { message: 'bad key', type: 'invalid_request_error', code: 'invalid_api_key' } }));
        return;
      }
      const chunks = answer(body);
      const text = chunks.join('');
      const usage = { prompt_tokens: 20, completion_tokens: Math.max(1, Math.ceil(text.length / 4)), total_tokens: 20 + Math.max(1, Math.ceil(text.length / 4)) };
      const base = { id: `chatcmpl-scripted${requests.length}`, created: 1_750_000_000, model: String(body.model) };
      if (body.stream !== true) {
        const completion = { ...base, object: 'chat.completion', choices: [{ index: 0, message: { role: 'assistant', content: text }, finish_reason: 'stop' }], usage };
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(completion));
        return;
      }
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      const frame = (choices: Json[], extra: Json = {}) => `data: ${JSON.stringify({ ...base, object: 'chat.completion.chunk', choices, ...extra })}\n\n`;
      res.write(frame([{ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null }]));
      for (const chunk of chunks) res.write(frame([{ index: 0, delta: { content: chunk }, finish_reason: null }]));
      res.write(frame([{ index: 0, delta: {}, finish_reason: 'stop' }]));
      if ((body.stream_options as Json | undefined)?.include_usage === true) res.write(frame([], { usage }));
      res.end('data: [DONE]\n\n');
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  let stopped: Promise<void> | undefined;
  return {
    baseUrl: `http://127.0.0.1:${port}/v1`,
    apiKey,
    requests,
    stop: () =>
      (stopped ??= new Promise((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      })),
  };
}
