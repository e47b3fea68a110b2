import type { ServerResponse } from 'node:http';
import type { ResponseSink } from './pipeline/sink.js';

/** ResponseSink over a node:http ServerResponse. */
export class NodeSink implements ResponseSink {
  constructor(private readonly res: ServerResponse) {}

  get started(): boolean {
    return this.res.headersSent;
  }

  send(status: number, headers: Record<string, string>, body: string): void {
    if (this.res.destroyed) return;
    headers['content-length'] = String(Buffer.byteLength(body));
    this.res.writeHead(status, headers);
    this.res.end(body);
  }

  startStream(headers: Record<string, string>): void {
    this.res.writeHead(200, headers);
    this.res.flushHeaders();
  }

  write(chunk: string): Promise<void> {
    const res = this.res;
    if (res.destroyed || res.write(chunk)) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        res.off('drain', done);
        res.off('close', done);
        resolve();
      };
      res.on('drain', done);
      res.on('close', done);
    });
  }

  end(chunk?: string): void {
    if (this.res.destroyed) return;
    if (chunk) this.res.end(chunk);
    else this.res.end();
  }
}
