/**
 * Where a pipeline writes its answer. The HTTP adapter implements it over
 * node:http; an in-process adapter could implement it over a fetch Response.
 */
export interface ResponseSink {
  /** Sends a whole response. */
  send(status: number, headers: Record<string, string>, body: string): void;
  /** Starts an SSE response. */
  startStream(headers: Record<string, string>): void;
  /** Writes stream bytes; resolves when the client can take more (backpressure). */
  write(chunk: string): Promise<void>;
  /** Ends a started stream, optionally with a last chunk. */
  end(chunk?: string): void;
  /** True once response headers went out. */
  readonly started: boolean;
}
