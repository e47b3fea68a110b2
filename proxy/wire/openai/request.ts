/**
 * OpenAI Chat Completions request body → canonical ChatRequest.
 *
 * Validation is hand-written rather than a zod schema: every check names the
 * exact OpenAI field path in `invalid_request`, the body is read in one pass with
 * no intermediate parsed copy, and the messages are built directly in canonical
 * form. Unknown top-level fields are rejected like the OpenAI API does; fields
 * with no canonical home but safe to forward go to `extra` for OpenAI-wire
 * providers only.
 */
import { promptReferenceOf } from '../../prompts/reference.js';
import type { ChatRequest } from '../../canonical.js';
import { invalidRequest } from '../../errors.js';
import {
  optionalBoolean,
  optionalNumber,
  optionalPositiveInteger,
  optionalString,
  requireNonEmptyString,
  requireObject,
  type JsonObject,
} from '../fieldChecks.js';
import { boundNumber, MAX_OUTPUT_TOKENS } from '../bounds.js';
import { decodeMessages } from './messages.js';
import { decodeToolChoice, decodeTools } from './tools.js';

/** Fields decoded into canonical fields. */
const CANONICAL_FIELDS: ReadonlySet<string> = new Set([
  'model',
  'messages',
  'stream',
  'stream_options',
  'max_tokens',
  'max_completion_tokens',
  'temperature',
  'top_p',
  'stop',
  'tools',
  'tool_choice',
  'parallel_tool_calls',
  'user',
  'n',
]);

/** Fields with no canonical home, forwarded as-is to OpenAI-wire providers. */
const FORWARDED_FIELDS: ReadonlySet<string> = new Set([
  'response_format',
  'seed',
  'frequency_penalty',
  'presence_penalty',
  'logit_bias',
  'logprobs',
  'top_logprobs',
  'metadata',
  'store',
  'service_tier',
  'reasoning_effort',
  'prediction',
  'modalities',
  'audio',
  'verbosity',
  'web_search_options',
  'safety_identifier',
  'prompt_cache_key',
  'prompt_cache_retention',
]);

/** Deprecated fields that would define tools outside `tools`, so tool policy could not see them. */
const REJECTED_FIELDS: ReadonlySet<string> = new Set(['functions', 'function_call']);

const MAX_STOP_SEQUENCES = 4;

/** The body field that asks for a registry prompt (docs/prompts.md); read here, never forwarded. */
const PROMPT_FIELD = 'gatehouse_prompt';

export function decodeChat(body: unknown): ChatRequest {
  const fields = requireObject(body, 'body');
  const model = requireNonEmptyString(fields.model, 'model');
  const messages = decodeMessages(fields.messages);

  let extra: JsonObject | undefined;
  for (const key in fields) {
    if (CANONICAL_FIELDS.has(key)) continue;
    if (FORWARDED_FIELDS.has(key)) {
      const value = fields[key];
      if (value !== undefined && value !== null) (extra ??= {})[key] = value;
      continue;
    }
    if (key === PROMPT_FIELD) continue;
    if (REJECTED_FIELDS.has(key)) throw invalidRequest(key, 'deprecated; use tools and tool_choice');
    throw invalidRequest(key, 'unrecognized request field');
  }

  const n = optionalPositiveInteger(fields.n, 'n');
  if (n !== undefined && n > 1) throw invalidRequest('n', 'only n=1 is supported');

  const stream = optionalBoolean(fields.stream, 'stream') ?? false;
  let streamUsage = false;
  if (fields.stream_options !== undefined && fields.stream_options !== null) {
    const options = requireObject(fields.stream_options, 'stream_options');
    streamUsage = optionalBoolean(options.include_usage, 'stream_options.include_usage') ?? false;
  }

  const request: ChatRequest = { model, messages, stream, streamUsage };
  const maxTokens =
    boundNumber(optionalPositiveInteger(fields.max_completion_tokens, 'max_completion_tokens'), MAX_OUTPUT_TOKENS, 'max_completion_tokens') ??
    boundNumber(optionalPositiveInteger(fields.max_tokens, 'max_tokens'), MAX_OUTPUT_TOKENS, 'max_tokens');
  if (maxTokens !== undefined) request.maxTokens = maxTokens;
  const temperature = optionalNumber(fields.temperature, 'temperature', 0, 2);
  if (temperature !== undefined) request.temperature = temperature;
  const topP = optionalNumber(fields.top_p, 'top_p', 0, 1);
  if (topP !== undefined) request.topP = topP;
  const stop = decodeStop(fields.stop);
  if (stop !== undefined) request.stop = stop;
  const tools = decodeTools(fields.tools);
  if (tools !== undefined && tools.length > 0) request.tools = tools;
  const toolChoice = decodeToolChoice(fields.tool_choice, tools);
  if (toolChoice !== undefined) request.toolChoice = toolChoice;
  const parallelToolCalls = optionalBoolean(fields.parallel_tool_calls, 'parallel_tool_calls');
  if (parallelToolCalls !== undefined) request.parallelToolCalls = parallelToolCalls;
  const endUser = optionalString(fields.user, 'user');
  if (endUser !== undefined) request.endUser = endUser;
  if (extra !== undefined) request.extra = { wire: 'openai', fields: extra };
  if (fields[PROMPT_FIELD] !== undefined && fields[PROMPT_FIELD] !== null) request.prompt = promptReferenceOf(fields[PROMPT_FIELD], PROMPT_FIELD);
  return request;
}

function decodeStop(value: unknown): string[] | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'string') return [value];
  if (!Array.isArray(value)) throw invalidRequest('stop', 'expected a string or an array of strings');
  if (value.length > MAX_STOP_SEQUENCES) throw invalidRequest('stop', `at most ${MAX_STOP_SEQUENCES} sequences`);
  for (let i = 0; i < value.length; i++) {
    if (typeof value[i] !== 'string') throw invalidRequest(`stop[${i}]`, 'expected a string');
  }
  return value.length === 0 ? undefined : (value as string[]);
}
