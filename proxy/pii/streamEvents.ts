/**
 * Restores placeholders in a canonical event stream: text deltas and each tool call's
 * argument deltas have their own unmasker (arguments are JSON). Held-back tails are
 * released before any event of another kind, so the order the client sees is kept,
 * and at the latest before `finish` (or by `end()` for a stream that stops without one).
 */
import type { StreamEvent } from '../canonical.js';
import type { Pseudonymizer } from './pseudonymizer.js';
import type { StreamUnmasker } from './streamUnmasker.js';

/** Which unmasker an event belongs to: 'text', a tool call index, or none. */
type Channel = 'text' | number | undefined;

export class StreamEventUnmasker {
  readonly #pseudonymizer: Pseudonymizer;
  #text: StreamUnmasker | undefined;
  readonly #tools = new Map<number, StreamUnmasker>();

  constructor(pseudonymizer: Pseudonymizer) {
    this.#pseudonymizer = pseudonymizer;
  }

  /** Feeds one event; returns the events to forward now, in order (possibly none). */
  push(event: StreamEvent): StreamEvent[] {
    const channel: Channel = event.type === 'text' ? 'text' : event.type === 'tool_call_delta' ? event.index : undefined;
    const out = this.#release(channel);
    if (event.type === 'text') {
      this.#text ??= this.#pseudonymizer.createStreamUnmasker();
      const text = this.#text.push(event.text);
      if (text !== '') out.push(text === event.text ? event : { ...event, text });
    } else if (event.type === 'tool_call_delta') {
      let unmasker = this.#tools.get(event.index);
      if (unmasker === undefined) {
        unmasker = this.#pseudonymizer.createStreamUnmasker({ json: true });
        this.#tools.set(event.index, unmasker);
      }
      const args = unmasker.push(event.arguments);
      if (args !== '') out.push(args === event.arguments ? event : { ...event, arguments: args });
    } else {
      out.push(event);
    }
    return out;
  }

  /** Releases everything still held; call when a stream ends without `finish`. */
  end(): StreamEvent[] {
    return this.#release(undefined);
  }

  /** Flushes every channel except `keep`, as events. */
  #release(keep: Channel): StreamEvent[] {
    const out: StreamEvent[] = [];
    if (keep !== 'text' && this.#text !== undefined) {
      const text = this.#text.flush();
      if (text !== '') out.push({ type: 'text', text });
    }
    for (const [index, unmasker] of this.#tools) {
      if (index === keep) continue;
      const args = unmasker.flush();
      if (args !== '') out.push({ type: 'tool_call_delta', index, arguments: args });
    }
    return out;
  }
}
