/** OpenAI `tools` and `tool_choice` → canonical tool definitions and choice. */
import { boundLength, MAX_TOOLS } from '../bounds.js';
import type { ToolChoice, ToolDefinition } from '../../canonical.js';
import { invalidRequest } from '../../errors.js';
import { isObject, kindOf, quoted, optionalBoolean, optionalString, requireArray, requireObject } from '../fieldChecks.js';

const TOOL_NAME = /^[a-zA-Z0-9_-]{1,64}$/;

export function decodeTools(value: unknown): ToolDefinition[] | undefined {
  if (value === undefined || value === null) return undefined;
  const list = requireArray(value, 'tools');
  boundLength(list, MAX_TOOLS, 'tools');
  const tools: ToolDefinition[] = new Array(list.length);
  const seen = new Set<string>();
  for (let i = 0; i < list.length; i++) {
    const path = `tools[${i}]`;
    const tool = requireObject(list[i], path);
    if (tool.type !== 'function') {
      const shown = quoted(tool.type);
      throw invalidRequest(`${path}.type`, `unsupported tool type ${shown}; expected 'function'`);
    }
    const fn = requireObject(tool.function, `${path}.function`);
    const name = fn.name;
    if (typeof name !== 'string' || !TOOL_NAME.test(name)) {
      throw invalidRequest(`${path}.function.name`, 'must be 1-64 characters of a-z, A-Z, 0-9, _ or -');
    }
    if (seen.has(name)) throw invalidRequest(`${path}.function.name`, `duplicate tool name ${quoted(name)}`);
    seen.add(name);
    const description = optionalString(fn.description, `${path}.function.description`);
    optionalBoolean(fn.strict, `${path}.function.strict`);
    const rawParameters = fn.parameters;
    let parameters: Record<string, unknown>;
    if (rawParameters === undefined || rawParameters === null) parameters = { type: 'object', properties: {} };
    else if (isObject(rawParameters)) parameters = rawParameters;
    else throw invalidRequest(`${path}.function.parameters`, `expected a JSON Schema object, got ${kindOf(rawParameters)}`);
    tools[i] = description === undefined ? { name, parameters } : { name, description, parameters };
  }
  return tools;
}

export function decodeToolChoice(value: unknown, tools: readonly ToolDefinition[] | undefined): ToolChoice | undefined {
  if (value === undefined || value === null) return undefined;
  if (value === 'auto' || value === 'none' || value === 'required') {
    if (value === 'required' && !tools?.length) throw invalidRequest('tool_choice', "'required' needs tools");
    return value;
  }
  if (!isObject(value)) {
    throw invalidRequest('tool_choice', "expected 'none', 'auto', 'required' or {type:'function', function:{name}}");
  }
  if (value.type !== 'function') throw invalidRequest('tool_choice.type', "expected 'function'");
  const fn = requireObject(value.function, 'tool_choice.function');
  const name = fn.name;
  if (typeof name !== 'string' || name.length === 0) throw invalidRequest('tool_choice.function.name', 'expected a tool name');
  if (!tools?.some((tool) => tool.name === name)) {
    throw invalidRequest('tool_choice.function.name', `no tool named ${quoted(name)} in tools`);
  }
  return { name };
}
