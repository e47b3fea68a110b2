/**
 * A prompt's variables, checked against its JSON Schema with Ajv. Extra
 * variables are refused unless the schema says `additionalProperties`: a typo in
 * a variable name is an error, not a silently empty placeholder.
 */
import { Ajv, type ValidateFunction } from 'ajv';

const ajv = new Ajv({ allErrors: false, strict: true });

export function variableValidator(schema: Record<string, unknown>): ValidateFunction {
  const closed = 'additionalProperties' in schema ? schema : { ...schema, additionalProperties: false };
  return ajv.compile(closed);
}

/** The first problem, in words: `missing customer_name`, `extra tone`, `plan: must be string`. */
export function describeVariables(validate: ValidateFunction): string {
  const error = validate.errors?.[0];
  if (error === undefined) return 'invalid';
  const params = error.params as { missingProperty?: string; additionalProperty?: string };
  if (error.keyword === 'required') return `missing variable '${params.missingProperty}'`;
  if (error.keyword === 'additionalProperties') return `unknown variable '${params.additionalProperty}'`;
  const path = error.instancePath.replace(/^\//, '').replace(/\//g, '.');
  return `${path === '' ? 'variables' : path}: ${error.message ?? 'invalid'}`;
}
