/**
 * Typed readers for request fields of the Anthropic wire. Every failure throws
 * `invalidRequest(path, …)` naming the exact field, e.g.
 * `messages[1].content[0].tool_use_id`. JSON `null` counts as absent for optional
 * fields.
 */
import { invalidRequest } from '../../errors.js';

export type JsonObject = Record<string, unknown>;

export function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return `a ${typeof value}`;
}

export function requireObject(value: unknown, path: string): JsonObject {
  if (value === undefined) throw invalidRequest(path, 'Field required');
  if (!isObject(value)) throw invalidRequest(path, `expected an object, got ${describe(value)}`);
  return value;
}

export function requireArray(value: unknown, path: string): unknown[] {
  if (value === undefined) throw invalidRequest(path, 'Field required');
  if (!Array.isArray(value)) throw invalidRequest(path, `expected an array, got ${describe(value)}`);
  return value;
}

export function requireString(value: unknown, path: string): string {
  if (value === undefined) throw invalidRequest(path, 'Field required');
  if (typeof value !== 'string') throw invalidRequest(path, `expected a string, got ${describe(value)}`);
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
  if (typeof value !== 'boolean') throw invalidRequest(path, `expected a boolean, got ${describe(value)}`);
  return value;
}

/** A finite number within [min, max], or undefined when absent. */
export function optionalNumber(value: unknown, path: string, min: number, max: number): number | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw invalidRequest(path, `expected a number, got ${describe(value)}`);
  }
  if (value < min || value > max) throw invalidRequest(path, `must be between ${min} and ${max}`);
  return value;
}

export function requirePositiveInteger(value: unknown, path: string): number {
  if (value === undefined) throw invalidRequest(path, 'Field required');
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
    throw invalidRequest(path, 'expected a positive integer');
  }
  return value;
}

/** An array of strings, or undefined when absent. */
export function optionalStringArray(value: unknown, path: string): string[] | undefined {
  if (value === undefined || value === null) return undefined;
  const items = requireArray(value, path);
  for (let i = 0; i < items.length; i++) requireString(items[i], `${path}[${i}]`);
  return items as string[];
}
