// Loaded into the Portkey peer only (node --import, bench/lib/peers.ts). Portkey's Node
// server adds its headers to the upstream's streamed Response, whose headers Node's fetch
// marks immutable, and throws `TypeError: immutable` on every streamed request
// (Portkey-AI/gateway issues #1389 and #1550). Its own proposed fix (PR #1551) gives the
// streamed response a copy with mutable headers; this does the same from outside, for
// event streams only, so the non-streamed rows run Portkey exactly as published.
const original = globalThis.fetch;
globalThis.fetch = async (...args) => {
  const response = await original(...args);
  if (!(response.headers.get('content-type') ?? '').startsWith('text/event-stream')) return response;
  return new Response(response.body, { status: response.status, statusText: response.statusText, headers: new Headers(response.headers) });
};
