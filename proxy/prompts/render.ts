/**
 * Rendering a prompt version: its variables checked (variables.ts), its message
 * templates rendered with Mustache (logic-less: no code runs, and nothing is
 * HTML-escaped), its parameters and tools applied where the request leaves them
 * unset. A rendered system message whose template reads no variable is marked
 * `source: 'registry'` (the gateway wrote all of it); one that interpolates
 * variables carries caller text, so the policy judges it like the caller's own.
 */
import Mustache from 'mustache';
import type { ValidateFunction } from 'ajv';
import type { ChatRequest, Message, ToolDefinition } from '../canonical.js';
import { GatehouseError } from '../errors.js';
import { templateVariables, type LoadedVersion } from './check.js';
import type { PromptVersionFile } from './promptSchema.js';
import { describeVariables, variableValidator } from './variables.js';

export interface CompiledVersion {
  id: string;
  version: number;
  sha256: string;
  content: PromptVersionFile;
  validate: ValidateFunction;
  /** Per message: whether its template reads any variable (then its text carries caller input). */
  variablesUsed: boolean[];
}

/** Characters of all rendered messages of one request at most (a section over a long list must not balloon the request). */
export const MAX_RENDERED_CHARS = 1_000_000;

const NO_ESCAPE = { escape: (text: string) => text };

export function compileVersion(version: LoadedVersion): CompiledVersion {
  // Parsed once here; Mustache caches the parse by template text.
  const variablesUsed = version.content.messages.map((message) => templateVariables(message.content).size > 0);
  return { id: version.id, version: version.version, sha256: version.sha256, content: version.content, validate: variableValidator(version.content.variables), variablesUsed };
}

/** The version's messages for these variables; `prompt_variables_invalid` (400) when they do not fit its schema. */
export function renderMessages(version: CompiledVersion, variables: Record<string, unknown>): Message[] {
  if (!version.validate(variables)) {
    throw new GatehouseError('prompt_variables_invalid', `prompt ${version.id} version ${version.version}: ${describeVariables(version.validate)}`, { param: 'variables' });
  }
  let total = 0;
  return version.content.messages.map((message, i): Message => {
    const text = Mustache.render(message.content, variables, undefined, NO_ESCAPE);
    total += text.length;
    if (total > MAX_RENDERED_CHARS) {
      throw new GatehouseError('prompt_variables_invalid', `prompt ${version.id} version ${version.version}: the rendered messages exceed ${MAX_RENDERED_CHARS} characters`, { param: 'variables' });
    }
    const content = [{ type: 'text' as const, text }];
    if (message.role !== 'system') return { role: message.role, content };
    // Trusted only when no caller text went into it: a system message with variables is judged like the caller's.
    return version.variablesUsed[i] === true ? { role: 'system', content } : { role: 'system', content, source: 'registry' };
  });
}

/**
 * The request with the prompt applied: its rendered messages before the
 * caller's (system messages first, as always); its parameters and tools where
 * the request sets none.
 */
export function applyPrompt(request: ChatRequest, version: CompiledVersion, variables: Record<string, unknown>): ChatRequest {
  const rendered = renderMessages(version, variables);
  const { parameters, tools } = version.content;
  // System messages stay first (the canonical order): the prompt's, then the caller's; then the rest likewise.
  const system = (m: Message) => m.role === 'system';
  const messages = [...rendered.filter(system), ...request.messages.filter(system), ...rendered.filter((m) => !system(m)), ...request.messages.filter((m) => !system(m))];
  const applied: ChatRequest = { ...request, messages };
  if (applied.temperature === undefined && parameters.temperature !== undefined) applied.temperature = parameters.temperature;
  if (applied.topP === undefined && parameters.top_p !== undefined) applied.topP = parameters.top_p;
  if (applied.maxTokens === undefined && parameters.max_tokens !== undefined) applied.maxTokens = parameters.max_tokens;
  if ((applied.tools === undefined || applied.tools.length === 0) && tools !== undefined) {
    applied.tools = tools.map((t): ToolDefinition => ({ name: t.name, ...(t.description !== undefined ? { description: t.description } : {}), parameters: t.parameters }));
  }
  return applied;
}
