/**
 * PII on canonical messages: redact or pseudonymize everything of a ChatRequest that
 * leaves for the provider as text, and restore placeholders in a ChatResponse.
 *
 * Copy, not in place: the input is never modified. The result shares every message,
 * part and tool call that had nothing to replace with the input, so a request without
 * PII costs no copy at all (the same object comes back).
 *
 * Covered: text parts of every message (system, user, assistant, tool results), the
 * arguments of assistant tool calls (as JSON), and `endUser`. Not covered: images,
 * tool definitions (written by the developer, not the user) and wire `extra` fields.
 */
import type { ChatRequest, ChatResponse, ContentPart, Message, ToolCall } from '../canonical.js';
import type { PiiClass } from '../policy/decision.js';
import type { Pseudonymizer } from './pseudonymizer.js';
import { redact, type PiiCounts } from './redact.js';

/** Rewrites one text; `json` is true for tool call arguments. Returns the same string when unchanged. */
type Rewrite = (text: string, json: boolean) => string;

export interface MaskedRequest {
  request: ChatRequest;
  /** Occurrences found per class: class names and counts only, safe to record. */
  counts: PiiCounts;
}

/** Replaces values of `classes` with `[REDACTED_…]` markers. */
export function redactChatRequest(request: ChatRequest, classes: readonly PiiClass[]): MaskedRequest {
  const counts: PiiCounts = {};
  if (classes.length === 0) return { request, counts };
  return { request: rewriteRequest(request, (t) => redact(t, classes, counts).text), counts };
}

/**
 * Replaces values of `classes` with placeholders issued by `pseudonymizer` (one per
 * request). Restore the answer with `unmaskChatResponse` or a StreamEventUnmasker
 * built on the same pseudonymizer. `counts` covers this request only.
 */
export function pseudonymizeChatRequest(
  request: ChatRequest,
  classes: readonly PiiClass[],
  pseudonymizer: Pseudonymizer,
): MaskedRequest {
  if (classes.length === 0) return { request, counts: {} };
  const before = pseudonymizer.counts();
  const masked = rewriteRequest(request, (t, json) => pseudonymizer.mask(t, classes, { json }));
  const counts = pseudonymizer.counts();
  for (const cls of Object.keys(before) as PiiClass[]) {
    const n = counts[cls]! - before[cls]!;
    if (n === 0) delete counts[cls];
    else counts[cls] = n;
  }
  return { request: masked, counts };
}

/** The response with placeholders restored in its text parts and tool call arguments (a copy; input untouched). */
export function unmaskChatResponse(response: ChatResponse, pseudonymizer: Pseudonymizer): ChatResponse {
  const rewrite: Rewrite = (t, json) => pseudonymizer.unmask(t, { json });
  const content = rewriteParts(response.content, rewrite);
  const toolCalls = rewriteToolCalls(response.toolCalls, rewrite);
  if (content === response.content && toolCalls === response.toolCalls) return response;
  return { ...response, content, toolCalls };
}

/** The classes found, for the `gatehouse.redaction.classes` span attribute. */
export function classesFound(counts: PiiCounts): PiiClass[] {
  return (Object.keys(counts) as PiiClass[]).filter((cls) => (counts[cls] ?? 0) > 0);
}

function rewriteRequest(request: ChatRequest, rewrite: Rewrite): ChatRequest {
  let messages: Message[] | undefined;
  for (let i = 0; i < request.messages.length; i++) {
    const message = request.messages[i]!;
    const next = rewriteMessage(message, rewrite);
    if (next !== message) (messages ??= request.messages.slice())[i] = next;
  }
  const endUser = request.endUser === undefined ? undefined : rewrite(request.endUser, false);
  if (messages === undefined && endUser === request.endUser) return request;
  const out: ChatRequest = { ...request, messages: messages ?? request.messages };
  if (endUser !== undefined) out.endUser = endUser;
  return out;
}

function rewriteMessage(message: Message, rewrite: Rewrite): Message {
  const content = rewriteParts(message.content, rewrite);
  if (message.role === 'assistant' && message.toolCalls !== undefined) {
    const toolCalls = rewriteToolCalls(message.toolCalls, rewrite);
    if (content === message.content && toolCalls === message.toolCalls) return message;
    return { ...message, content, toolCalls };
  }
  return content === message.content ? message : { ...message, content };
}

function rewriteParts(parts: ContentPart[], rewrite: Rewrite): ContentPart[] {
  let out: ContentPart[] | undefined;
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i]!;
    if (part.type !== 'text') continue;
    const text = rewrite(part.text, false);
    if (text !== part.text) (out ??= parts.slice())[i] = { ...part, text };
  }
  return out ?? parts;
}

function rewriteToolCalls(calls: ToolCall[], rewrite: Rewrite): ToolCall[] {
  let out: ToolCall[] | undefined;
  for (let i = 0; i < calls.length; i++) {
    const call = calls[i]!;
    const args = rewrite(call.arguments, true);
    if (args !== call.arguments) (out ??= calls.slice())[i] = { ...call, arguments: args };
  }
  return out ?? calls;
}
