/**
 * Reads a JSON request body: 415 for a non-JSON content type, 413 past the size
 * limit (checked on Content-Length first, then while reading), 400 naming the
 * position for malformed JSON, 408 when node's request timeout cut the body, and
 * `cancelled` when the client went away mid-body.
 */
import type { IncomingMessage } from 'node:http';
import { GatehouseError } from './errors.js';

export async function readJsonBody(req: IncomingMessage, maxBytes: number): Promise<unknown> {
  const type = req.headers['content-type'];
  if (!type || !isJson(type)) {
    throw new GatehouseError('unsupported_media_type', `content-type must be application/json, got ${type ? `'${type.slice(0, 100)}'` : 'none'}`);
  }
  const declared = Number(req.headers['content-length']);
  if (declared > maxBytes) throw tooLarge(maxBytes);
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of req as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > maxBytes) throw tooLarge(maxBytes);
      chunks.push(chunk);
    }
  } catch (error) {
    throw bodyFailure(req, error);
  }
  const text = chunks.length === 1 ? chunks[0]!.toString('utf8') : Buffer.concat(chunks, size).toString('utf8');
  if (text.length === 0) throw new GatehouseError('invalid_request', 'body: the request body is empty; expected a JSON object', { param: 'body' });
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new GatehouseError('invalid_request', `body: not valid JSON (${(error as Error).message})`, { param: 'body' });
  }
}

function isJson(type: string): boolean {
  const semicolon = type.indexOf(';');
  const media = (semicolon === -1 ? type : type.slice(0, semicolon)).trim().toLowerCase();
  return media === 'application/json' || (media.startsWith('application/') && media.endsWith('+json'));
}

/** Why the body stopped: node's request timeout (408), or the client went away (cancelled). */
function bodyFailure(req: IncomingMessage, error: unknown): GatehouseError {
  if (error instanceof GatehouseError) return error;
  const socketError = req.socket.errored as { code?: string } | null;
  if (socketError?.code === 'ERR_HTTP_REQUEST_TIMEOUT') {
    return new GatehouseError('request_timeout', 'the request body did not arrive within the time limit', { cause: error });
  }
  return new GatehouseError('cancelled', 'the client went away before sending the whole body', { cause: error });
}

function tooLarge(maxBytes: number): GatehouseError {
  return new GatehouseError('request_too_large', `request body is larger than the limit of ${maxBytes} bytes`);
}
