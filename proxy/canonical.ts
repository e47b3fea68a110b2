/**
 * The one model of a request and a response inside Gatehouse.
 *
 * Wire formats (OpenAI, Anthropic) exist only at the edges: a client wire decodes
 * into these types and encodes out of them; a provider adapter encodes these types
 * into its upstream request and decodes its upstream response back. No pipeline
 * stage knows which wire a request came in on.
 */

export type WireName = 'openai' | 'anthropic' | 'mcp';

export type ImageSource =
  | { kind: 'url'; url: string }
  | { kind: 'base64'; mediaType: string; data: string };

export type ContentPart =
  | { type: 'text'; text: string }
  | { type: 'image'; source: ImageSource };

export interface ToolCall {
  id: string;
  name: string;
  /** The arguments as JSON text, exactly as the model produced them. */
  arguments: string;
}

export type Message =
  /** `source: 'registry'`: rendered by the gateway's prompt registry (trusted), not sent by the caller. */
  | { role: 'system'; content: ContentPart[]; source?: 'registry' }
  | { role: 'user'; content: ContentPart[] }
  | { role: 'assistant'; content: ContentPart[]; toolCalls?: ToolCall[] }
  | { role: 'tool'; toolCallId: string; content: ContentPart[]; isError?: boolean };

export interface ToolDefinition {
  name: string;
  description?: string;
  /** JSON Schema of the arguments. */
  parameters: Record<string, unknown>;
}

export type ToolChoice = 'auto' | 'none' | 'required' | { name: string };

export interface ChatRequest {
  /** The model the client asked for: an alias until routing picks a target. */
  model: string;
  /** System messages appear first, in order; OpenAI `developer` messages map to `system`. */
  messages: Message[];
  stream: boolean;
  /** The client asked for a usage chunk at the end of an OpenAI stream. */
  streamUsage: boolean;
  maxTokens?: number;
  temperature?: number;
  topP?: number;
  stop?: string[];
  tools?: ToolDefinition[];
  toolChoice?: ToolChoice;
  parallelToolCalls?: boolean;
  /** End-user id the client sent in the body (OpenAI `user`, Anthropic `metadata.user_id`). */
  endUser?: string;
  /**
   * Fields of the client's wire that have no canonical home (for example OpenAI
   * `response_format` or `seed`). They are passed on only to a provider that speaks
   * the same wire, so nothing is silently translated into something else.
   */
  extra?: { wire: WireName; fields: Record<string, unknown> };
  /** A registry prompt to render (OpenAI body field `gatehouse_prompt`); never sent upstream. */
  prompt?: PromptReference;
}

/** Which registry prompt a request asks for, and its variables (docs/prompts.md). */
export interface PromptReference {
  id: string;
  /** An exact version; otherwise `label` (default `production`). */
  version?: number;
  label?: string;
  variables: Record<string, unknown>;
}

export type FinishReason = 'stop' | 'length' | 'tool_calls' | 'content_filter' | 'error';

export interface Usage {
  inputTokens: number;
  outputTokens: number;
  /** Input tokens read from the provider's prompt cache (a subset of inputTokens). */
  cachedInputTokens: number;
  /** Input tokens written to the provider's prompt cache (Anthropic), a subset of inputTokens. */
  cacheWriteTokens: number;
}

export const ZERO_USAGE: Readonly<Usage> = Object.freeze({
  inputTokens: 0,
  outputTokens: 0,
  cachedInputTokens: 0,
  cacheWriteTokens: 0,
});

export interface ChatResponse {
  id: string;
  /** The model the provider says answered. */
  model: string;
  /** Unix seconds. */
  created: number;
  /** Text parts in order; empty when the model only called tools. */
  content: ContentPart[];
  toolCalls: ToolCall[];
  finishReason: FinishReason;
  /** The stop sequence that ended generation, when the provider reports it. */
  stopSequence?: string;
  /**
   * What the provider reported; absent when it reported none. The pipeline then
   * counts the tokens itself (flagged `usage_estimated`) and fills this in before
   * the answer is encoded, so clients always get a usage object.
   */
  usage?: Usage;
}

/**
 * One event of a streamed response. A stream is: one `start`, then any number of
 * `text` / `tool_call_start` / `tool_call_delta`, then `finish`, then at most one
 * `usage` (usage may also come before `finish`; consumers must accept both orders).
 */
export type StreamEvent =
  | { type: 'start'; id: string; model: string; created: number; inputTokens?: number }
  | { type: 'text'; text: string }
  | { type: 'tool_call_start'; index: number; id: string; name: string }
  | { type: 'tool_call_delta'; index: number; arguments: string }
  | { type: 'finish'; reason: FinishReason; stopSequence?: string }
  | { type: 'usage'; usage: Usage };

export interface EmbeddingRequest {
  model: string;
  input: string[];
  dimensions?: number;
  /** What the client wants back; providers are always asked for floats. */
  encodingFormat: 'float' | 'base64';
  endUser?: string;
}

export interface EmbeddingResponse {
  model: string;
  vectors: Float32Array[] | number[][];
  /** Absent when the provider reported none (the pipeline counts the input then). */
  usage?: { inputTokens: number };
}

/** Plain text of a list of content parts, images left out. */
export function textOf(parts: readonly ContentPart[]): string {
  if (parts.length === 1 && parts[0]!.type === 'text') return parts[0]!.text;
  let out = '';
  for (const part of parts) if (part.type === 'text') out += part.text;
  return out;
}

export function text(value: string): ContentPart[] {
  return [{ type: 'text', text: value }];
}
