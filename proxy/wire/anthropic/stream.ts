/**
 * Encodes canonical stream events as the Messages API's SSE event sequence:
 *
 *   message_start
 *   (content_block_start, content_block_delta*, content_block_stop)*
 *   message_delta { stop_reason, stop_sequence, usage }
 *   message_stop
 *
 * Text goes into `text` blocks (`text_delta`), each tool call into its own
 * `tool_use` block (`input_json_delta`). A new block opens whenever the kind
 * changes or a new tool call starts; the open block is closed first. A delta for
 * an earlier tool call (an upstream interleaving parallel calls) is sent to that
 * call's block index, which Anthropic clients accumulate by index.
 *
 * `finish` may arrive before or after `usage` (OpenAI upstreams send usage last):
 * message_delta is written once both are known, or at `end()` with what is known.
 * A stream that never saw `start` gets a message_start built from the request.
 */
import type { ChatRequest, FinishReason, StreamEvent, Usage } from '../../canonical.js';
import type { GatehouseError } from '../../errors.js';
import { sseEvent } from '../sse.js';
import type { StreamEncoder } from '../types.js';
import { errorObject } from './errors.js';
import { stopReasonOf } from './stopReason.js';
import { usageToAnthropic } from './usage.js';

const NO_BLOCK = -1;
const TEXT_BLOCK = -2;

const MESSAGE_STOP = sseEvent('message_stop', '{"type":"message_stop"}');

export function streamEncoder(request: ChatRequest): StreamEncoder {
  return new AnthropicStreamEncoder(request.model);
}

class AnthropicStreamEncoder implements StreamEncoder {
  private started = false;
  private finished = false;
  /** Next content block index. */
  private nextBlock = 0;
  /** What the open block is: NO_BLOCK, TEXT_BLOCK, or the canonical index of the tool call it holds. */
  private open = NO_BLOCK;
  /** Content block index of each canonical tool-call index. */
  private readonly toolBlocks = new Map<number, number>();
  private finish: { reason: FinishReason; stopSequence: string | undefined } | undefined;
  private usage: Usage | undefined;

  constructor(private readonly model: string) {}

  event(event: StreamEvent): string {
    switch (event.type) {
      case 'text':
        if (event.text.length === 0) return '';
        return this.ensureStarted() + this.textDelta(event.text);
      case 'tool_call_delta':
        if (event.arguments.length === 0) return '';
        return this.ensureStarted() + this.toolDelta(event.index, event.arguments);
      case 'tool_call_start':
        return this.ensureStarted() + this.toolStart(event.index, event.id, event.name);
      case 'start':
        if (this.started) return '';
        this.started = true;
        return messageStart(event.id, event.model, event.inputTokens ?? 0);
      case 'finish':
        this.finish = { reason: event.reason, stopSequence: event.stopSequence };
        return this.usage ? this.ensureStarted() + this.messageDelta() : '';
      case 'usage':
        this.usage = event.usage;
        return this.finish ? this.ensureStarted() + this.messageDelta() : '';
    }
  }

  end(): string {
    let out = this.ensureStarted();
    if (!this.finished) out += this.messageDelta();
    return out + MESSAGE_STOP;
  }

  error(error: GatehouseError): string {
    return sseEvent('error', JSON.stringify({ type: 'error', error: errorObject(error) }));
  }

  private ensureStarted(): string {
    if (this.started) return '';
    this.started = true;
    return messageStart(`msg_gatehouse_${Date.now().toString(36)}`, this.model, 0);
  }

  private textDelta(text: string): string {
    let out = '';
    if (this.open !== TEXT_BLOCK) {
      out = this.closeBlock();
      this.open = TEXT_BLOCK;
      out += sseEvent(
        'content_block_start',
        `{"type":"content_block_start","index":${this.nextBlock},"content_block":{"type":"text","text":""}}`,
      );
    }
    const data = `{"type":"content_block_delta","index":${this.nextBlock},"delta":{"type":"text_delta","text":${JSON.stringify(text)}}}`;
    return out + sseEvent('content_block_delta', data);
  }

  private toolStart(index: number, id: string, name: string): string {
    const out = this.closeBlock();
    this.open = index;
    this.toolBlocks.set(index, this.nextBlock);
    const block = JSON.stringify({ type: 'tool_use', id, name, input: {} });
    return (
      out +
      sseEvent('content_block_start', `{"type":"content_block_start","index":${this.nextBlock},"content_block":${block}}`)
    );
  }

  private toolDelta(index: number, partialJson: string): string {
    const block = this.toolBlocks.get(index);
    if (block === undefined) return ''; // no tool_call_start for it: nothing to attach the arguments to
    const data = `{"type":"content_block_delta","index":${block},"delta":{"type":"input_json_delta","partial_json":${JSON.stringify(partialJson)}}}`;
    return sseEvent('content_block_delta', data);
  }

  /** Closes the open block, if any, and advances the block index. */
  private closeBlock(): string {
    if (this.open === NO_BLOCK) return '';
    const out = sseEvent('content_block_stop', `{"type":"content_block_stop","index":${this.nextBlock}}`);
    this.open = NO_BLOCK;
    this.nextBlock++;
    return out;
  }

  private messageDelta(): string {
    if (this.finished) return '';
    this.finished = true;
    const finish = this.finish ?? { reason: 'stop' as const, stopSequence: undefined };
    const delta = {
      type: 'message_delta',
      delta: {
        stop_reason: stopReasonOf(finish.reason, finish.stopSequence),
        stop_sequence: finish.stopSequence ?? null,
      },
      usage: this.usage ? usageToAnthropic(this.usage) : { output_tokens: 0 },
    };
    return this.closeBlock() + sseEvent('message_delta', JSON.stringify(delta));
  }
}

function messageStart(id: string, model: string, inputTokens: number): string {
  const message = {
    type: 'message_start',
    message: {
      id,
      type: 'message',
      role: 'assistant',
      model,
      content: [],
      stop_reason: null,
      stop_sequence: null,
      usage: { input_tokens: inputTokens, output_tokens: 0, cache_read_input_tokens: 0, cache_creation_input_tokens: 0 },
    },
  };
  return sseEvent('message_start', JSON.stringify(message));
}
