/**
 * OpenAI Embeddings: request body → canonical EmbeddingRequest, canonical
 * EmbeddingResponse → `{object:'list', data:[…]}`. `base64` vectors are the
 * little-endian float32 bytes of each vector, which is what the official SDKs
 * decode (the Node SDK asks for base64 unless the caller chose a format).
 */
import { endianness } from 'node:os';
import type { EmbeddingRequest, EmbeddingResponse } from '../../canonical.js';
import { invalidRequest } from '../../errors.js';
import {
  optionalPositiveInteger,
  optionalString,
  rejectUnknownFields,
  requireNonEmptyString,
  requireObject,
} from '../fieldChecks.js';
import { boundNumber, MAX_EMBEDDING_DIMENSIONS } from '../bounds.js';

const KNOWN_FIELDS: ReadonlySet<string> = new Set(['model', 'input', 'encoding_format', 'dimensions', 'user']);
const MAX_INPUTS = 2048;
const LITTLE_ENDIAN_HOST = endianness() === 'LE';

export function decodeEmbeddings(body: unknown): EmbeddingRequest {
  const fields = requireObject(body, 'body');
  rejectUnknownFields(fields, KNOWN_FIELDS, '');
  const model = requireNonEmptyString(fields.model, 'model');
  const input = decodeInput(fields.input);
  const format = optionalString(fields.encoding_format, 'encoding_format') ?? 'float';
  if (format !== 'float' && format !== 'base64') throw invalidRequest('encoding_format', "expected 'float' or 'base64'");
  const request: EmbeddingRequest = { model, input, encodingFormat: format };
  const dimensions = boundNumber(optionalPositiveInteger(fields.dimensions, 'dimensions'), MAX_EMBEDDING_DIMENSIONS, 'dimensions');
  if (dimensions !== undefined) request.dimensions = dimensions;
  const endUser = optionalString(fields.user, 'user');
  if (endUser !== undefined) request.endUser = endUser;
  return request;
}

function decodeInput(value: unknown): string[] {
  if (value === undefined || value === null) throw invalidRequest('input', 'is required');
  if (typeof value === 'string') {
    if (value.length === 0) throw invalidRequest('input', 'must not be empty');
    return [value];
  }
  if (!Array.isArray(value)) throw invalidRequest('input', 'expected a string or an array of strings');
  if (value.length === 0) throw invalidRequest('input', 'must contain at least one string');
  if (value.length > MAX_INPUTS) throw invalidRequest('input', `at most ${MAX_INPUTS} inputs`);
  for (let i = 0; i < value.length; i++) {
    const item: unknown = value[i];
    if (typeof item === 'string') {
      if (item.length === 0) throw invalidRequest(`input[${i}]`, 'must not be empty');
      continue;
    }
    if (typeof item === 'number' || Array.isArray(item)) {
      throw invalidRequest('input', 'token-array inputs are not supported; send text');
    }
    throw invalidRequest(`input[${i}]`, 'expected a string');
  }
  return value as string[];
}

export function encodeEmbeddings(response: EmbeddingResponse, request: EmbeddingRequest): Record<string, unknown> {
  const base64 = request.encodingFormat === 'base64';
  const vectors = response.vectors;
  const data: Record<string, unknown>[] = new Array(vectors.length);
  for (let i = 0; i < vectors.length; i++) {
    const vector = vectors[i]!;
    data[i] = { object: 'embedding', index: i, embedding: base64 ? toBase64(vector) : toNumbers(vector) };
  }
  const tokens = response.usage?.inputTokens ?? 0;
  return { object: 'list', data, model: response.model, usage: { prompt_tokens: tokens, total_tokens: tokens } };
}

function toNumbers(vector: Float32Array | number[]): number[] {
  return Array.isArray(vector) ? vector : Array.from(vector);
}

/** Little-endian float32 bytes, base64-encoded. */
function toBase64(vector: Float32Array | number[]): string {
  if (LITTLE_ENDIAN_HOST) {
    const floats = vector instanceof Float32Array ? vector : Float32Array.from(vector);
    return Buffer.from(floats.buffer, floats.byteOffset, floats.byteLength).toString('base64');
  }
  const bytes = Buffer.allocUnsafe(vector.length * 4);
  for (let i = 0; i < vector.length; i++) bytes.writeFloatLE(vector[i]!, i * 4);
  return bytes.toString('base64');
}
