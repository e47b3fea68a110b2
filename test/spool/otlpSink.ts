/**
 * A tiny OTLP/HTTP trace sink on 127.0.0.1:0 for spool tests. It records the
 * span ids of every request it acknowledges, and answers each request as
 * `respond(n, body)` says (n counts requests from 0), so tests can make it fail.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { resourceSpans, spanIds } from './otlpWire.js';

export interface SinkAnswer {
  status: number;
  headers?: Record<string, string>;
}

export interface OtlpSink {
  /** Base URL to give the shipper as `endpoint`. */
  url: string;
  /** Span ids of acknowledged (2xx) requests, with repeats if resent. */
  received: string[];
  /** Arrival time (ms) and status of every request. */
  requests: Array<{ at: number; status: number; contentType: string | undefined; path: string | undefined; resourceSpans: number }>;
  respond: (n: number, body: Uint8Array) => SinkAnswer;
  close(): Promise<void>;
}

export async function startSink(respond: OtlpSink['respond'] = () => ({ status: 200 })): Promise<OtlpSink> {
  const sink: OtlpSink = { url: '', received: [], requests: [], respond, close: async () => undefined };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const answer = sink.respond(sink.requests.length, body);
      sink.requests.push({
        at: Date.now(),
        status: answer.status,
        contentType: req.headers['content-type'],
        path: req.url,
        resourceSpans: resourceSpans(body).length,
      });
      if (answer.status >= 200 && answer.status < 300) sink.received.push(...spanIds(body));
      res.writeHead(answer.status, answer.headers);
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  sink.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  sink.close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return sink;
}
