/**
 * The fetch the upstream MCP clients use. The SDK's Streamable HTTP client passes
 * one long-lived AbortSignal (the transport's) to every request, and the fetch in
 * Node keeps an abort listener on that signal for each request until the request
 * is garbage collected: the listener list grows with the traffic, and every new
 * request walks it (measured: ~80 µs per tool call under load, `npm run bench:mcp`).
 *
 * This fetch gives each request its own signal, aborted when the transport's
 * signal aborts, and drops that link when the response is done: at once for a
 * JSON answer (the SDK reads it whole), at the end of the stream for an SSE one.
 */
import type { FetchLike } from '@modelcontextprotocol/sdk/shared/transport.js';

export const upstreamFetch: FetchLike = async (url, init) => {
  const outer = init?.signal;
  if (!outer) return fetch(url, init);
  const inner = new AbortController();
  const abort = () => inner.abort(outer.reason);
  if (outer.aborted) abort();
  else outer.addEventListener('abort', abort, { once: true });
  const unlink = () => outer.removeEventListener('abort', abort);
  let response: Response;
  try {
    response = await fetch(url, { ...init, signal: inner.signal });
  } catch (error) {
    unlink();
    throw error;
  }
  if (!response.body || !response.headers.get('content-type')?.includes('text/event-stream')) {
    unlink();
    return response;
  }
  // An SSE stream: keep the link until the stream ends or is cancelled.
  const body = response.body.pipeThrough(new TransformStream<Uint8Array, Uint8Array>({ flush: unlink }));
  return new Response(body, { status: response.status, statusText: response.statusText, headers: response.headers });
};
