/**
 * Canonical stream events → OpenAI `chat.completion.chunk` SSE.
 *
 * Hot path: the JSON prefix shared by every chunk (id, object, created, model) is
 * built once per stream, at `start`; each event then stringifies only its variable
 * part (a text delta, a name, the usage). A `usage` event becomes a final
 * `choices: []` chunk only when the client asked for it (`stream_options.include_usage`);
 * it is always written after the finish chunk, whichever order the events came in.
 */
import { randomUUID } from 'node:crypto';
import type { ChatRequest, StreamEvent, Usage } from '../../canonical.js';
import type { GatehouseError } from '../../errors.js';
import { sseData } from '../sse.js';
import type { StreamEncoder } from '../types.js';
import { errorBody } from './errors.js';
import { openaiFinishReason, openaiUsage } from './response.js';

const CHOICE_OPEN = '[{"index":0,"delta":';
const CHOICE_CLOSE = ',"logprobs":null,"finish_reason":null}]}';
const ROLE_DELTA = '{"role":"assistant","content":"","refusal":null}';

class OpenAIStreamEncoder implements StreamEncoder {
  /** `{"id":…,"object":"chat.completion.chunk","created":…,"model":…,"choices":` */
  private prefix: string | undefined;
  private finished = false;
  private closed = false;
  private heldUsage: Usage | undefined;

  constructor(private readonly request: ChatRequest) {}

  event(event: StreamEvent): string {
    if (this.closed) return '';
    switch (event.type) {
      case 'start': {
        if (this.prefix !== undefined) return '';
        this.prefix = chunkPrefix(event.id, event.created, event.model);
        return this.delta(ROLE_DELTA);
      }
      case 'text':
        if (event.text.length === 0) return '';
        return this.opening() + this.delta(`{"content":${JSON.stringify(event.text)}}`);
      case 'tool_call_start': {
        const call = `{"index":${event.index},"id":${JSON.stringify(event.id)},"type":"function"`;
        const fn = `"function":{"name":${JSON.stringify(event.name)},"arguments":""}`;
        return this.opening() + this.delta(`{"tool_calls":[${call},${fn}}]}`);
      }
      case 'tool_call_delta':
        if (event.arguments.length === 0) return '';
        return (
          this.opening() +
          this.delta(`{"tool_calls":[{"index":${event.index},"function":{"arguments":${JSON.stringify(event.arguments)}}}]}`)
        );
      case 'finish': {
        if (this.finished) return '';
        this.finished = true;
        const reason = openaiFinishReason(event.reason);
        let out = this.opening();
        out += sseData(`${this.prefix}[{"index":0,"delta":{},"logprobs":null,"finish_reason":"${reason}"}]}`);
        if (this.heldUsage !== undefined) out += this.usageChunk(this.heldUsage);
        this.heldUsage = undefined;
        return out;
      }
      case 'usage':
        if (!this.request.streamUsage) return '';
        if (!this.finished) {
          this.heldUsage = event.usage;
          return '';
        }
        return this.opening() + this.usageChunk(event.usage);
    }
  }

  end(): string {
    if (this.closed) return '';
    this.closed = true;
    let out = '';
    if (this.heldUsage !== undefined) out = this.opening() + this.usageChunk(this.heldUsage);
    this.heldUsage = undefined;
    return `${out}data: [DONE]\n\n`;
  }

  error(error: GatehouseError): string {
    if (this.closed) return '';
    this.closed = true;
    return sseData(JSON.stringify(errorBody(error)));
  }

  /** The role chunk, when an event arrives before `start` (which a provider should never do). */
  private opening(): string {
    if (this.prefix !== undefined) return '';
    this.prefix = chunkPrefix(`chatcmpl-${randomUUID()}`, Math.floor(Date.now() / 1000), this.request.model);
    return this.delta(ROLE_DELTA);
  }

  private delta(delta: string): string {
    return sseData(this.prefix + CHOICE_OPEN + delta + CHOICE_CLOSE);
  }

  private usageChunk(usage: Usage): string {
    return sseData(`${this.prefix}[],"usage":${JSON.stringify(openaiUsage(usage))}}`);
  }
}

function chunkPrefix(id: string, created: number, model: string): string {
  const head = `{"id":${JSON.stringify(id)},"object":"chat.completion.chunk","created":${Math.floor(created)}`;
  return `${head},"model":${JSON.stringify(model)},"choices":`;
}

export function streamEncoder(request: ChatRequest): StreamEncoder {
  return new OpenAIStreamEncoder(request);
}
