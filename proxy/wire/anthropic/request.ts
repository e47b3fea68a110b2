/**
 * Decodes an Anthropic Messages API request body (`POST /v1/messages`) into a
 * canonical ChatRequest, validating it the way the Messages API does. Every
 * failure is `invalid_request` naming the exact field.
 *
 * Fields without a canonical home (top_k, thinking, service_tier, container,
 * mcp_servers, …) are kept verbatim in `extra: { wire: 'anthropic', fields }`, only
 * when at least one is present, and reach only an Anthropic upstream.
 */
import type { ChatRequest, Message, ToolChoice, ToolDefinition } from '../../canonical.js';
import { invalidRequest } from '../../errors.js';
import {
  optionalBoolean,
  optionalNumber,
  optionalString,
  optionalStringArray,
  requireArray,
  requireNonEmptyString,
  requireObject,
  requirePositiveInteger,
  type JsonObject,
} from '../fieldChecks.js';
import { boundLength, boundNumber, MAX_OUTPUT_TOKENS, MAX_TOOLS } from '../bounds.js';
import { decodeMessages, decodeSystem } from './messages.js';

const KNOWN_FIELDS: ReadonlySet<string> = new Set([
  'model',
  'max_tokens',
  'system',
  'messages',
  'tools',
  'tool_choice',
  'stop_sequences',
  'temperature',
  'top_p',
  'stream',
  'metadata',
]);

export function decodeChat(body: unknown): ChatRequest {
  const fields = requireObject(body, 'body');
  const model = requireNonEmptyString(fields.model, 'model');
  const maxTokens = boundNumber(requirePositiveInteger(fields.max_tokens, 'max_tokens'), MAX_OUTPUT_TOKENS, 'max_tokens');

  const messages: Message[] = [];
  const system = decodeSystem(fields.system);
  if (system) messages.push(system);
  decodeMessages(fields.messages, messages);

  const request: ChatRequest = {
    model,
    messages,
    stream: optionalBoolean(fields.stream, 'stream') ?? false,
    streamUsage: false,
    maxTokens,
  };

  const temperature = optionalNumber(fields.temperature, 'temperature', 0, 1);
  if (temperature !== undefined) request.temperature = temperature;
  const topP = optionalNumber(fields.top_p, 'top_p', 0, 1);
  if (topP !== undefined) request.topP = topP;
  const stop = optionalStringArray(fields.stop_sequences, 'stop_sequences');
  if (stop !== undefined && stop.length > 0) request.stop = stop;

  const tools = decodeTools(fields.tools);
  if (tools !== undefined) request.tools = tools;
  decodeToolChoice(fields.tool_choice, request);

  const endUser = decodeEndUser(fields.metadata);
  if (endUser !== undefined) request.endUser = endUser;

  let extra: Record<string, unknown> | undefined;
  for (const key in fields) {
    if (!KNOWN_FIELDS.has(key)) (extra ??= {})[key] = fields[key];
  }
  if (extra) request.extra = { wire: 'anthropic', fields: extra };
  return request;
}

function decodeTools(value: unknown): ToolDefinition[] | undefined {
  if (value === undefined || value === null) return undefined;
  const tools = requireArray(value, 'tools');
  boundLength(tools, MAX_TOOLS, 'tools');
  const out: ToolDefinition[] = [];
  for (let i = 0; i < tools.length; i++) {
    const path = `tools[${i}]`;
    const tool = requireObject(tools[i], path);
    if (tool.type !== undefined && tool.type !== null && tool.type !== 'custom') {
      throw invalidRequest(`${path}.type`, `server tool '${String(tool.type)}' is not supported by this gateway`);
    }
    const definition: ToolDefinition = {
      name: requireNonEmptyString(tool.name, `${path}.name`),
      parameters: requireObject(tool.input_schema, `${path}.input_schema`),
    };
    const description = optionalString(tool.description, `${path}.description`);
    if (description !== undefined) definition.description = description;
    out.push(definition);
  }
  return out;
}

/** Sets `toolChoice` and `parallelToolCalls` from `tool_choice`. */
function decodeToolChoice(value: unknown, request: ChatRequest): void {
  if (value === undefined || value === null) return;
  const choice = requireObject(value, 'tool_choice');
  let toolChoice: ToolChoice;
  switch (choice.type) {
    case 'auto':
      toolChoice = 'auto';
      break;
    case 'any':
      toolChoice = 'required';
      break;
    case 'none':
      toolChoice = 'none';
      break;
    case 'tool':
      toolChoice = { name: requireNonEmptyString(choice.name, 'tool_choice.name') };
      break;
    case undefined:
      throw invalidRequest('tool_choice.type', 'Field required');
    default:
      throw invalidRequest('tool_choice.type', "must be one of 'auto', 'any', 'tool', 'none'");
  }
  request.toolChoice = toolChoice;
  const disableParallel = optionalBoolean(choice.disable_parallel_tool_use, 'tool_choice.disable_parallel_tool_use');
  if (disableParallel !== undefined) request.parallelToolCalls = !disableParallel;
}

function decodeEndUser(value: unknown): string | undefined {
  if (value === undefined || value === null) return undefined;
  const metadata: JsonObject = requireObject(value, 'metadata');
  return optionalString(metadata.user_id, 'metadata.user_id');
}
