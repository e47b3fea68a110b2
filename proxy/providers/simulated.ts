/**
 * The built-in `simulated` provider: deterministic answers in-process, with
 * configurable latency and pace, and scripted faults. It serves the embedded
 * default and the tests. Every output word is exactly one token, so usage is exact
 * and an aborted stream's token count is the number of words sent.
 */
import type { ChatRequest, ChatResponse, EmbeddingRequest, EmbeddingResponse, Message, StreamEvent, ToolCall, ToolDefinition } from '../canonical.js';
import type { Fault, SimulatedProviderConfig } from '../config/schema.js';
import { sleep } from '../time.js';
import { tokenCounter, type TokenCounter } from '../tokenCount.js';
import { reasonForStatus, UpstreamFailure, type AttemptOptions, type Provider } from './types.js';

const WORDS = ['the', 'quick', 'brown', 'fox', 'jumps', 'over', 'a', 'lazy', 'dog', 'and', 'then', 'runs', 'back', 'home', 'to', 'rest'];

export class SimulatedProvider implements Provider {
  readonly kind = 'simulated' as const;
  readonly system = 'gatehouse.simulated';
  readonly address = undefined;
  /** Requests that reached this provider (faulted or not). */
  calls = 0;
  private faults: Fault[];
  private faultIndex = 0;
  private faultUses = 0;
  private sequence = 0;
  private readonly replies: Array<{ system?: RegExp; user?: RegExp; answers: string[]; next: number }>;

  constructor(
    readonly name: string,
    private readonly config: SimulatedProviderConfig,
  ) {
    this.faults = [...config.faults];
    this.replies = (config.replies ?? []).map((r) => ({
      ...(r.system !== undefined ? { system: new RegExp(r.system, 'i') } : {}),
      ...(r.user !== undefined ? { user: new RegExp(r.user, 'i') } : {}),
      answers: r.answers, next: 0,
    }));
  }

  /** Replaces the fault script (tests and chaos drills). */
  setFaults(faults: Fault[]): void {
    this.faults = [...faults];
    this.faultIndex = 0;
    this.faultUses = 0;
  }

  async chat(request: ChatRequest, model: string, options: AttemptOptions): Promise<ChatResponse> {
    const fault = await this.begin(options);
    if (fault?.kind === 'stream_cut') throw new UpstreamFailure('bad_response', `${this.name}: simulated cut body`);
    const answer = this.answer(request, model, await tokenCounter());
    return {
      id: answer.id,
      model,
      created: answer.created,
      content: answer.text ? [{ type: 'text', text: answer.text }] : [],
      toolCalls: answer.toolCalls,
      finishReason: answer.finishReason,
      usage: { inputTokens: answer.inputTokens, outputTokens: answer.outputTokens, cachedInputTokens: 0, cacheWriteTokens: 0 },
    };
  }

  async chatStream(request: ChatRequest, model: string, options: AttemptOptions): Promise<AsyncIterable<StreamEvent>> {
    const fault = await this.begin(options);
    const answer = this.answer(request, model, await tokenCounter());
    const cutAfter = fault?.kind === 'stream_cut' ? (fault.afterChunks ?? 0) : Infinity;
    return this.stream(answer, model, cutAfter, options.signal);
  }

  async embed(request: EmbeddingRequest, model: string, options: AttemptOptions): Promise<EmbeddingResponse> {
    const dimensions = request.dimensions ?? 8;
    // Caller input never sizes an allocation without a bound: the caller's request, not the provider, is at fault.
    if (request.input.length * dimensions > MAX_EMBEDDING_VALUES) {
      throw new UpstreamFailure('client_error', `${this.name}: at most ${MAX_EMBEDDING_VALUES} embedding values (inputs x dimensions) per request`, { upstreamStatus: 400 });
    }
    await this.begin(options);
    const countTokens = await tokenCounter();
    return {
      model,
      vectors: request.input.map((input) => embeddingOf(input, dimensions)),
      usage: { inputTokens: request.input.reduce((sum, input) => sum + countTokens(input), 0) },
    };
  }

  async close(): Promise<void> {}

  /** Counts the call, waits the latency, and applies the next scripted fault. */
  private async begin(options: AttemptOptions): Promise<Fault | undefined> {
    this.calls++;
    const fault = this.nextFault();
    if (this.config.latencyMs > 0) await sleep(this.config.latencyMs, options.signal);
    if (!fault) return undefined;
    switch (fault.kind) {
      case 'status': {
        const status = fault.status ?? 500;
        throw new UpstreamFailure(reasonForStatus(status), `${this.name} answered ${status}`, {
          upstreamStatus: status,
          ...(fault.retryAfterSeconds !== undefined ? { retryAfterMs: fault.retryAfterSeconds * 1000 } : {}),
        });
      }
      case 'connect_timeout':
        await sleep(options.timeoutMs, options.signal);
        throw new UpstreamFailure('timeout', `${this.name}: simulated connect timeout`);
      case 'garbage':
        throw new UpstreamFailure('bad_response', `${this.name}: simulated garbage body`);
      case 'stream_cut':
        return fault;
    }
  }

  private nextFault(): Fault | undefined {
    const fault = this.faults[this.faultIndex];
    if (!fault) return undefined;
    this.faultUses++;
    if (fault.times !== undefined && this.faultUses >= fault.times) {
      this.faultIndex++;
      this.faultUses = 0;
    }
    return fault;
  }

  private answer(request: ChatRequest, model: string, countTokens: TokenCounter): Answer {
    const id = `sim-${++this.sequence}`;
    const created = Math.floor(Date.now() / 1000);
    const inputTokens = Math.max(1, countTokens(inputText(request.messages)));
    const scripted = this.scripted(request);
    if (scripted !== undefined) {
      return { id, created, text: scripted, toolCalls: [], finishReason: 'stop', inputTokens, outputTokens: Math.max(1, countTokens(scripted)) };
    }
    const tool = toolToCall(request);
    if (tool) {
      const call: ToolCall = { id: `call_${id.replace(/-/g, '_')}`, name: tool.name, arguments: JSON.stringify(exampleArguments(tool)) };
      return { id, created, text: '', toolCalls: [call], finishReason: 'tool_calls', inputTokens, outputTokens: Math.ceil(call.arguments.length / 4) };
    }
    const wanted = this.config.outputTokens;
    const count = request.maxTokens !== undefined ? Math.min(wanted, request.maxTokens) : wanted;
    const words: string[] = [];
    for (let i = 0; i < count; i++) words.push(WORDS[i % WORDS.length]!);
    return {
      id,
      created,
      text: words.join(' '),
      toolCalls: [],
      finishReason: count < wanted ? 'length' : 'stop',
      inputTokens,
      outputTokens: count,
    };
  }

  /** The scripted reply for this request (config `replies`), cycling through the rule's answers. */
  private scripted(request: ChatRequest): string | undefined {
    if (this.replies.length === 0) return undefined;
    const system = request.messages.filter((m) => m.role === 'system').map((m) => textOfParts(m.content)).join('\n');
    const lastUser = [...request.messages].reverse().find((m) => m.role === 'user');
    const user = lastUser === undefined ? '' : textOfParts(lastUser.content);
    for (const rule of this.replies) {
      if ((rule.system === undefined || rule.system.test(system)) && (rule.user === undefined || rule.user.test(user))) {
        const answer = rule.answers[rule.next % rule.answers.length]!;
        rule.next++;
        return answer;
      }
    }
    return undefined;
  }

  private async *stream(answer: Answer, model: string, cutAfter: number, signal: AbortSignal): AsyncGenerator<StreamEvent> {
    const gapMs = this.config.tokensPerSecond > 0 ? 1000 / this.config.tokensPerSecond : 0;
    yield { type: 'start', id: answer.id, model, created: answer.created, inputTokens: answer.inputTokens };
    const pieces: StreamEvent[] = [];
    if (answer.text) answer.text.split(' ').forEach((word, i) => pieces.push({ type: 'text', text: i === 0 ? word : ` ${word}` }));
    answer.toolCalls.forEach((call, index) => {
      pieces.push({ type: 'tool_call_start', index, id: call.id, name: call.name });
      // Four code points a delta: never half of a surrogate pair.
      const points = Array.from(call.arguments);
      for (let at = 0; at < points.length; at += 4) pieces.push({ type: 'tool_call_delta', index, arguments: points.slice(at, at + 4).join('') });
    });
    let sent = 0;
    for (const piece of pieces) {
      if (sent >= cutAfter) throw new UpstreamFailure('stream_cut', `${this.name}: simulated stream cut after ${sent} chunks`);
      if (gapMs > 0) await sleep(gapMs, signal);
      yield piece;
      sent++;
    }
    yield { type: 'finish', reason: answer.finishReason };
    yield { type: 'usage', usage: { inputTokens: answer.inputTokens, outputTokens: answer.outputTokens, cachedInputTokens: 0, cacheWriteTokens: 0 } };
  }
}

interface Answer {
  id: string;
  created: number;
  text: string;
  toolCalls: ToolCall[];
  finishReason: 'stop' | 'length' | 'tool_calls';
  inputTokens: number;
  outputTokens: number;
}

function inputText(messages: readonly Message[]): string {
  let out = '';
  for (const message of messages) for (const part of message.content) if (part.type === 'text') out += `${part.text}\n`;
  return out;
}

/** The model calls a tool when tools are offered and the last message is the user's (not a tool result). */
function toolToCall(request: ChatRequest): ToolDefinition | undefined {
  const tools = request.tools;
  if (!tools?.length || request.toolChoice === 'none') return undefined;
  if (request.messages.at(-1)?.role !== 'user') return undefined;
  const choice = request.toolChoice;
  if (choice && typeof choice === 'object') return tools.find((tool) => tool.name === choice.name) ?? tools[0];
  return tools[0];
}

/** Example arguments from whatever the tool's schema says; any schema, however odd, gives an answer (never a failure). */
function exampleArguments(tool: ToolDefinition): Record<string, unknown> {
  const declared: unknown = tool.parameters.properties;
  const properties = typeof declared === 'object' && declared !== null && !Array.isArray(declared) ? (declared as Record<string, unknown>) : {};
  const args: Record<string, unknown> = {};
  for (const [name, raw] of Object.entries(properties)) {
    const schema = (typeof raw === 'object' && raw !== null ? raw : {}) as { type?: unknown; enum?: unknown };
    if (Array.isArray(schema.enum) && schema.enum.length > 0) args[name] = schema.enum[0];
    else if (schema.type === 'number' || schema.type === 'integer') args[name] = 1;
    else if (schema.type === 'boolean') args[name] = true;
    else if (schema.type === 'array') args[name] = [];
    else if (schema.type === 'object') args[name] = {};
    else args[name] = `example ${name}`;
  }
  return args;
}

/** Embedding values (inputs x dimensions) the simulated provider makes for one request. */
export const MAX_EMBEDDING_VALUES = 1_048_576;

function embeddingOf(input: string, dimensions: number): number[] {
  const vector: number[] = [];
  let seed = 2166136261;
  for (let i = 0; i < input.length; i++) seed = Math.imul(seed ^ input.charCodeAt(i), 16777619);
  for (let i = 0; i < dimensions; i++) {
    seed = Math.imul(seed ^ (seed >>> 15), 2246822507) ^ i;
    vector.push(Math.fround(((seed >>> 0) % 2000) / 1000 - 1));
  }
  return vector;
}

function textOfParts(content: Message['content']): string {
  return typeof content === 'string' ? content : content.map((part) => (part.type === 'text' ? part.text : '')).join('');
}
