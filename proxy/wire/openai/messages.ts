/**
 * OpenAI Chat Completions `messages` → canonical messages. System and developer
 * messages become `system` and are moved to the front in their original order (the
 * canonical contract); every other message keeps its place.
 */
import type { ContentPart, ImageSource, Message, ToolCall } from '../../canonical.js';
import { invalidRequest } from '../../errors.js';
import {
  kindOf,
  quoted,
  isObject,
  optionalString,
  requireArray,
  requireNonEmptyString,
  requireObject,
  requireString,
} from '../fieldChecks.js';
import { boundLength, MAX_MESSAGES } from '../bounds.js';

/** Which content part types a role accepts. */
type PartKinds = 'text' | 'text+image' | 'text+refusal';

export function decodeMessages(value: unknown): Message[] {
  if (value === undefined || value === null) throw invalidRequest('messages', 'is required');
  const list = requireArray(value, 'messages');
  if (list.length === 0) throw invalidRequest('messages', 'must contain at least one message');
  boundLength(list, MAX_MESSAGES, 'messages');
  const systems: Message[] = [];
  const rest: Message[] = [];
  for (let i = 0; i < list.length; i++) {
    const message = decodeMessage(list[i], `messages[${i}]`);
    (message.role === 'system' ? systems : rest).push(message);
  }
  if (systems.length === 0) return rest;
  if (rest.length === 0) return systems;
  return systems.concat(rest);
}

function decodeMessage(value: unknown, path: string): Message {
  const message = requireObject(value, path);
  const role = message.role;
  switch (role) {
    case 'system':
    case 'developer':
      return { role: 'system', content: decodeContent(message.content, `${path}.content`, 'text') };
    case 'user':
      return { role: 'user', content: decodeContent(message.content, `${path}.content`, 'text+image') };
    case 'assistant':
      return decodeAssistant(message, path);
    case 'tool':
      return {
        role: 'tool',
        toolCallId: requireNonEmptyString(message.tool_call_id, `${path}.tool_call_id`),
        content: decodeContent(message.content, `${path}.content`, 'text'),
      };
    case undefined:
    case null:
      throw invalidRequest(`${path}.role`, 'is required');
    default:
      throw invalidRequest(
        `${path}.role`,
        `unsupported role ${quoted(role)}; expected system, developer, user, assistant or tool`,
      );
  }
}

function decodeAssistant(message: Record<string, unknown>, path: string): Message {
  const rawCalls = message.tool_calls;
  const toolCalls = rawCalls === undefined || rawCalls === null ? undefined : decodeToolCalls(rawCalls, `${path}.tool_calls`);
  const rawContent = message.content;
  if (rawContent === undefined || rawContent === null) {
    if (!toolCalls || toolCalls.length === 0) {
      throw invalidRequest(`${path}.content`, 'is required unless tool_calls is given');
    }
    return { role: 'assistant', content: [], toolCalls };
  }
  const content = decodeContent(rawContent, `${path}.content`, 'text+refusal');
  return toolCalls && toolCalls.length > 0 ? { role: 'assistant', content, toolCalls } : { role: 'assistant', content };
}

function decodeToolCalls(value: unknown, path: string): ToolCall[] {
  const list = requireArray(value, path);
  const calls: ToolCall[] = new Array(list.length);
  for (let i = 0; i < list.length; i++) {
    const callPath = `${path}[${i}]`;
    const call = requireObject(list[i], callPath);
    if (call.type !== 'function') throw invalidRequest(`${callPath}.type`, "expected 'function'");
    const fn = requireObject(call.function, `${callPath}.function`);
    calls[i] = {
      id: requireNonEmptyString(call.id, `${callPath}.id`),
      name: requireNonEmptyString(fn.name, `${callPath}.function.name`),
      arguments: requireString(fn.arguments, `${callPath}.function.arguments`),
    };
  }
  return calls;
}

function decodeContent(value: unknown, path: string, kinds: PartKinds): ContentPart[] {
  if (typeof value === 'string') return [{ type: 'text', text: value }];
  if (value === undefined || value === null) throw invalidRequest(path, 'is required');
  if (!Array.isArray(value)) throw invalidRequest(path, `expected a string or an array of content parts, got ${kindOf(value)}`);
  if (value.length === 0) throw invalidRequest(path, 'must contain at least one content part');
  const parts: ContentPart[] = new Array(value.length);
  for (let i = 0; i < value.length; i++) parts[i] = decodePart(value[i], `${path}[${i}]`, kinds);
  return parts;
}

function decodePart(value: unknown, path: string, kinds: PartKinds): ContentPart {
  if (!isObject(value)) throw invalidRequest(path, `expected a content part object, got ${kindOf(value)}`);
  const type = value.type;
  if (type === 'text') return { type: 'text', text: requireString(value.text, `${path}.text`) };
  if (type === 'image_url' && kinds === 'text+image') {
    return { type: 'image', source: decodeImage(value.image_url, `${path}.image_url`) };
  }
  if (type === 'refusal' && kinds === 'text+refusal') {
    return { type: 'text', text: requireString(value.refusal, `${path}.refusal`) };
  }
  const allowed = kinds === 'text' ? 'text' : kinds === 'text+image' ? 'text, image_url' : 'text, refusal';
  const shown = quoted(type);
  throw invalidRequest(`${path}.type`, `unsupported content part type ${shown} here; expected ${allowed}`);
}

const DATA_URL = /^data:([\w.+-]+\/[\w.+-]+);base64,/;

function decodeImage(value: unknown, path: string): ImageSource {
  const image = requireObject(value, path);
  const url = requireNonEmptyString(image.url, `${path}.url`);
  const detail = optionalString(image.detail, `${path}.detail`);
  if (detail !== undefined && detail !== 'auto' && detail !== 'low' && detail !== 'high') {
    throw invalidRequest(`${path}.detail`, "expected 'auto', 'low' or 'high'");
  }
  if (url.startsWith('data:')) {
    const match = DATA_URL.exec(url);
    if (!match) throw invalidRequest(`${path}.url`, 'data URL must be data:<media type>;base64,<data>');
    return { kind: 'base64', mediaType: match[1]!, data: url.slice(match[0].length) };
  }
  if (!url.startsWith('https://') && !url.startsWith('http://')) {
    throw invalidRequest(`${path}.url`, 'expected an http(s) URL or a base64 data URL');
  }
  return { kind: 'url', url };
}
