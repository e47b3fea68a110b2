/**
 * An OTLP/HTTP endpoint on 127.0.0.1:0 that stands in for the collector of proxy
 * processes: their audit spools ship request spans here, and a test reads the
 * decoded spans (the same decoder the collector uses).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { decodeProtobuf } from '../../collector/otlp/protobufDecoder.js';
import type { ReceivedSpan } from '../../collector/otlp/spans.js';

export interface SpanSink {
  /** Base URL for `audit.collectorUrl`. */
  readonly url: string;
  /** Request spans (`gatehouse.audit = true`) received so far, deduplicated by span id. */
  requestSpans(): ReceivedSpan[];
  stop(): Promise<void>;
}

export async function startSpanSink(): Promise<SpanSink> {
  const spans = new Map<string, ReceivedSpan>();
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      try {
        for (const span of decodeProtobuf(new Uint8Array(Buffer.concat(chunks))).spans) spans.set(span.spanId, span);
        res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
      } catch {
        res.writeHead(400).end();
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  let stopped: Promise<void> | undefined;
  return {
    url: `http://127.0.0.1:${port}`,
    requestSpans: () => [...spans.values()].filter((span) => span.attributes.get('gatehouse.audit') === true),
    stop: () =>
      (stopped ??= new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      })),
  };
}
