/**
 * Decodes the Anthropic `system` and `messages` fields into canonical messages.
 *
 * - A user message's `tool_result` blocks become canonical `tool` messages, in
 *   order, and its remaining text/image blocks one canonical user message after
 *   them (omitted when there are none).
 * - An assistant message's `tool_use` blocks become tool calls whose `arguments`
 *   is the JSON text of `input`.
 * - `thinking` and `redacted_thinking` blocks are accepted and DROPPED: the
 *   canonical model has no place for reasoning, and a non-Anthropic upstream could
 *   not use it. (A consequence: extended thinking combined with tool use cannot be
 *   continued through Gatehouse, since Anthropic wants those blocks back.)
 * - `cache_control` and `citations` on blocks are ignored.
 * - Any other block type (document, search_result, server tool blocks, …) is an
 *   invalid_request naming the block's `type`.
 */
import { boundLength, MAX_MESSAGES } from '../bounds.js';
import type { ContentPart, ImageSource, Message, ToolCall } from '../../canonical.js';
import { invalidRequest } from '../../errors.js';
import {
  optionalBoolean,
  requireArray,
  requireNonEmptyString,
  requireObject,
  requireString,
  type JsonObject,
} from '../fieldChecks.js';

const IMAGE_MEDIA_TYPES: ReadonlySet<string> = new Set(['image/jpeg', 'image/png', 'image/gif', 'image/webp']);

/** Top-level `system`: a string or an array of text blocks, as one canonical system message. */
export function decodeSystem(value: unknown): Message | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'string') return { role: 'system', content: [{ type: 'text', text: value }] };
  const blocks = requireArray(value, 'system');
  const content: ContentPart[] = [];
  for (let i = 0; i < blocks.length; i++) {
    const path = `system[${i}]`;
    const block = requireObject(blocks[i], path);
    if (block.type !== 'text') throw invalidRequest(`${path}.type`, "system blocks must be of type 'text'");
    content.push({ type: 'text', text: requireString(block.text, `${path}.text`) });
  }
  return { role: 'system', content };
}

/** Appends the canonical form of `messages` to `out`. */
export function decodeMessages(value: unknown, out: Message[]): void {
  const messages = requireArray(value, 'messages');
  if (messages.length === 0) throw invalidRequest('messages', 'at least one message is required');
  boundLength(messages, MAX_MESSAGES, 'messages');
  for (let i = 0; i < messages.length; i++) {
    const path = `messages[${i}]`;
    const message = requireObject(messages[i], path);
    const role = message.role;
    if (role === 'user') decodeUser(message.content, `${path}.content`, out);
    else if (role === 'assistant') out.push(decodeAssistant(message.content, `${path}.content`));
    else if (role === undefined) throw invalidRequest(`${path}.role`, 'Field required');
    else throw invalidRequest(`${path}.role`, "must be 'user' or 'assistant'");
  }
}

function decodeUser(value: unknown, path: string, out: Message[]): void {
  if (typeof value === 'string') {
    out.push({ role: 'user', content: [{ type: 'text', text: value }] });
    return;
  }
  const blocks = requireArray(value, path);
  const content: ContentPart[] = [];
  for (let i = 0; i < blocks.length; i++) {
    const blockPath = `${path}[${i}]`;
    const block = requireObject(blocks[i], blockPath);
    switch (block.type) {
      case 'text':
      case 'image':
        content.push(decodePart(block, blockPath));
        break;
      case 'tool_result':
        out.push(decodeToolResult(block, blockPath));
        break;
      default:
        throw unsupportedBlock(block.type, blockPath, 'user messages');
    }
  }
  if (content.length > 0 || blocks.length === 0) out.push({ role: 'user', content });
}

function decodeAssistant(value: unknown, path: string): Message {
  if (typeof value === 'string') return { role: 'assistant', content: [{ type: 'text', text: value }] };
  const blocks = requireArray(value, path);
  const content: ContentPart[] = [];
  let toolCalls: ToolCall[] | undefined;
  for (let i = 0; i < blocks.length; i++) {
    const blockPath = `${path}[${i}]`;
    const block = requireObject(blocks[i], blockPath);
    switch (block.type) {
      case 'text':
      case 'image':
        content.push(decodePart(block, blockPath));
        break;
      case 'tool_use':
        (toolCalls ??= []).push(decodeToolUse(block, blockPath));
        break;
      case 'thinking':
      case 'redacted_thinking':
        break;
      default:
        throw unsupportedBlock(block.type, blockPath, 'assistant messages');
    }
  }
  return toolCalls ? { role: 'assistant', content, toolCalls } : { role: 'assistant', content };
}

function unsupportedBlock(type: unknown, path: string, where: string): Error {
  if (type === undefined) return invalidRequest(`${path}.type`, 'Field required');
  if (typeof type !== 'string') return invalidRequest(`${path}.type`, 'expected a string');
  return invalidRequest(`${path}.type`, `block type '${type}' is not supported in ${where}`);
}

/** A `text` or `image` block (the caller checked `type`). */
function decodePart(block: JsonObject, path: string): ContentPart {
  if (block.type === 'text') return { type: 'text', text: requireString(block.text, `${path}.text`) };
  return { type: 'image', source: decodeImageSource(block.source, `${path}.source`) };
}

function decodeImageSource(value: unknown, path: string): ImageSource {
  const source = requireObject(value, path);
  if (source.type === 'base64') {
    const mediaType = requireString(source.media_type, `${path}.media_type`);
    if (!IMAGE_MEDIA_TYPES.has(mediaType)) {
      throw invalidRequest(`${path}.media_type`, 'must be one of image/jpeg, image/png, image/gif, image/webp');
    }
    return { kind: 'base64', mediaType, data: requireNonEmptyString(source.data, `${path}.data`) };
  }
  if (source.type === 'url') return { kind: 'url', url: requireNonEmptyString(source.url, `${path}.url`) };
  if (source.type === undefined) throw invalidRequest(`${path}.type`, 'Field required');
  throw invalidRequest(`${path}.type`, "image source type must be 'base64' or 'url'");
}

function decodeToolUse(block: JsonObject, path: string): ToolCall {
  const id = requireNonEmptyString(block.id, `${path}.id`);
  const name = requireNonEmptyString(block.name, `${path}.name`);
  const input = requireObject(block.input, `${path}.input`);
  return { id, name, arguments: JSON.stringify(input) };
}

function decodeToolResult(block: JsonObject, path: string): Message {
  const toolCallId = requireNonEmptyString(block.tool_use_id, `${path}.tool_use_id`);
  const isError = optionalBoolean(block.is_error, `${path}.is_error`);
  const content = decodeToolResultContent(block.content, `${path}.content`);
  return isError === undefined
    ? { role: 'tool', toolCallId, content }
    : { role: 'tool', toolCallId, content, isError };
}

function decodeToolResultContent(value: unknown, path: string): ContentPart[] {
  if (value === undefined || value === null) return [];
  if (typeof value === 'string') return [{ type: 'text', text: value }];
  const blocks = requireArray(value, path);
  const content: ContentPart[] = [];
  for (let i = 0; i < blocks.length; i++) {
    const blockPath = `${path}[${i}]`;
    const block = requireObject(blocks[i], blockPath);
    if (block.type !== 'text' && block.type !== 'image') throw unsupportedBlock(block.type, blockPath, 'tool_result content');
    content.push(decodePart(block, blockPath));
  }
  return content;
}
