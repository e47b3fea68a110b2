/**
 * Tight, allocation-free checks for request fields, shared by the client wires.
 * Every failure throws `invalidRequest(path, …)` naming the exact field, e.g.
 * `messages[1].content[0].tool_use_id`. JSON `null` counts as absent for
 * optional fields, as both the OpenAI and the Anthropic APIs accept it.
 */
import { invalidRequest } from '../errors.js';

export type JsonObject = Record<string, unknown>;

export function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** What kind of JSON value this is, for messages ("a number", "an array", "null"). */
export function kindOf(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return `a ${typeof value}`;
}

/** A client-sent token (role, part type, tool name) for a message: quoted and cut short, or its kind. */
export function quoted(value: unknown): string {
  if (typeof value !== 'string') return kindOf(value);
  return value.length > 40 ? `'${value.slice(0, 40)}…'` : `'${value}'`;
}

export function requireObject(value: unknown, path: string): JsonObject {
  if (value === undefined) throw invalidRequest(path, 'is required');
  if (!isObject(value)) throw invalidRequest(path, `expected an object, got ${kindOf(value)}`);
  return value;
}

export function requireArray(value: unknown, path: string): unknown[] {
  if (value === undefined) throw invalidRequest(path, 'is required');
  if (!Array.isArray(value)) throw invalidRequest(path, `expected an array, got ${kindOf(value)}`);
  return value;
}

export function requireString(value: unknown, path: string): string {
  if (value === undefined) throw invalidRequest(path, 'is required');
  if (typeof value !== 'string') throw invalidRequest(path, `expected a string, got ${kindOf(value)}`);
  return value;
}

export function requireNonEmptyString(value: unknown, path: string): string {
  const result = requireString(value, path);
  if (result.length === 0) throw invalidRequest(path, 'must not be empty');
  return result;
}

export function optionalString(value: unknown, path: string): string | undefined {
  return value === undefined || value === null ? undefined : requireString(value, path);
}

export function optionalBoolean(value: unknown, path: string): boolean | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'boolean') throw invalidRequest(path, `expected a boolean, got ${kindOf(value)}`);
  return value;
}

/** A finite number within [min, max], or undefined when absent. */
export function optionalNumber(value: unknown, path: string, min: number, max: number): number | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw invalidRequest(path, `expected a number, got ${kindOf(value)}`);
  }
  if (value < min || value > max) throw invalidRequest(path, `must be between ${min} and ${max}`);
  return value;
}

/** A positive integer, or undefined when absent. */
export function optionalPositiveInteger(value: unknown, path: string): number | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
    throw invalidRequest(path, 'expected a positive integer');
  }
  return value;
}

/** Fails on any key of `object` that is not in `known`, naming it like the OpenAI API does. */
export function rejectUnknownFields(object: JsonObject, known: ReadonlySet<string>, path: string): void {
  for (const key in object) {
    if (!known.has(key)) throw invalidRequest(path ? `${path}.${key}` : key, 'unrecognized field');
  }
}

export function requirePositiveInteger(value: unknown, path: string): number {
  if (value === undefined) throw invalidRequest(path, 'is required');
  return optionalPositiveInteger(value, path)!;
}

/** An array of strings, or undefined when absent. */
export function optionalStringArray(value: unknown, path: string): string[] | undefined {
  if (value === undefined || value === null) return undefined;
  const items = requireArray(value, path);
  for (let i = 0; i < items.length; i++) requireString(items[i], `${path}[${i}]`);
  return items as string[];
}
