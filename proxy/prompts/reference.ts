/**
 * How a request asks for a registry prompt (docs/prompts.md): the OpenAI body
 * field `gatehouse_prompt` ({id, label | version, variables}), or, on any wire,
 * the headers `x-gatehouse-prompt` (the id), `x-gatehouse-prompt-label` or
 * `x-gatehouse-prompt-version`, and `x-gatehouse-prompt-variables` (a JSON object).
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { PromptReference } from '../canonical.js';
import { GatehouseError } from '../errors.js';
import { assertBoundedJson } from '../wire/jsonBounds.js';
import { LABEL, MAX_VERSION, PROMPT_ID } from './promptSchema.js';

/** Bytes of the variables header at most. */
/** Bytes of the variables header at most (all headers together are bounded at 16 KiB by the server: 431). */
const MAX_VARIABLES_HEADER = 8 * 1024;

function bad(param: string, message: string): GatehouseError {
  return new GatehouseError('invalid_request', `${param}: ${message}`, { param });
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function versionOf(value: unknown, param: string, fromHeader: boolean): number {
  const number = fromHeader && typeof value === 'string' && /^[0-9]{1,7}$/.test(value) ? Number(value) : value;
  if (typeof number !== 'number' || !Number.isInteger(number) || number < 1 || number > MAX_VERSION) throw bad(param, `expected a version number from 1 to ${MAX_VERSION}`);
  return number;
}

function reference(id: unknown, label: unknown, version: unknown, variables: unknown, param: string, fromHeader = false): PromptReference {
  if (typeof id !== 'string' || !PROMPT_ID.test(id)) throw bad(`${param}.id`, 'expected a prompt id (a-z, 0-9, _ and -)');
  if (label !== undefined && version !== undefined) throw bad(param, 'give a label or a version, not both');
  if (label !== undefined && (typeof label !== 'string' || !LABEL.test(label))) throw bad(`${param}.label`, 'expected a label (a-z, 0-9, _, . and -)');
  if (variables !== undefined && !isObject(variables)) throw bad(`${param}.variables`, 'expected an object');
  const ref: PromptReference = { id, variables: (variables as Record<string, unknown> | undefined) ?? {} };
  if (version !== undefined) ref.version = versionOf(version, `${param}.version`, fromHeader);
  if (label !== undefined) ref.label = label as string;
  return ref;
}

/** The OpenAI body field. */
export function promptReferenceOf(value: unknown, param: string): PromptReference {
  if (!isObject(value)) throw bad(param, 'expected an object {id, label | version, variables}');
  for (const key of Object.keys(value)) if (!['id', 'label', 'version', 'variables'].includes(key)) throw bad(`${param}.${key}`, 'unrecognized field');
  return reference(value.id, value.label ?? undefined, value.version ?? undefined, value.variables ?? undefined, param);
}

function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** The headers, when `x-gatehouse-prompt` is sent. */
export function promptReferenceFromHeaders(headers: IncomingHttpHeaders): PromptReference | undefined {
  const id = header(headers, 'x-gatehouse-prompt');
  if (id === undefined) return undefined;
  const raw = header(headers, 'x-gatehouse-prompt-variables');
  let variables: unknown;
  if (raw !== undefined) {
    if (raw.length > MAX_VARIABLES_HEADER) throw bad('x-gatehouse-prompt-variables', `at most ${MAX_VARIABLES_HEADER} bytes; send larger variables in the body field gatehouse_prompt`);
    // HTTP headers carry ASCII; other characters are \u escapes in the JSON (or the body field).
    if (/[^\x20-\x7e]/.test(raw)) throw bad('x-gatehouse-prompt-variables', 'expected ASCII JSON: write other characters as \\u escapes, or use the body field gatehouse_prompt');
    try {
      variables = JSON.parse(raw);
    } catch {
      throw bad('x-gatehouse-prompt-variables', 'expected a JSON object');
    }
    // The same bounds as a body: nesting depth, well-formed Unicode.
    assertBoundedJson(variables, true);
  }
  return reference(id, header(headers, 'x-gatehouse-prompt-label'), header(headers, 'x-gatehouse-prompt-version'), variables, 'x-gatehouse-prompt', true);
}
