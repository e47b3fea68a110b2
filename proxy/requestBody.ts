/**
 * Reads a JSON request body: 415 for a non-JSON content type, 413 past the size
 * limit (checked on Content-Length first, then while reading), 400 for invalid
 * UTF-8, 400 naming the position for malformed JSON, 400 for nesting deeper than
 * MAX_JSON_DEPTH or a lone surrogate (naming the field), 408 `request_timeout`
 * when the body has not arrived `timeoutMs` after reading began (answered in the
 * caller's wire, see server.ts), and `cancelled` when the client went away mid-body.
 */
import { isUtf8 } from 'node:buffer';
import type { IncomingMessage } from 'node:http';
import { GatehouseError } from './errors.js';
import { assertBoundedJson } from './wire/jsonBounds.js';

export async function readJsonBody(req: IncomingMessage, maxBytes: number, timeoutMs: number): Promise<unknown> {
  const type = req.headers['content-type'];
  if (!type || !isJson(type)) {
    throw new GatehouseError('unsupported_media_type', `content-type must be application/json, got ${type ? `'${type.slice(0, 100)}'` : 'none'}`);
  }
  const declared = Number(req.headers['content-length']);
  if (declared > maxBytes) throw tooLarge(maxBytes);
  const bytes = await readBytes(req, maxBytes, timeoutMs);
  // toString would turn invalid sequences into U+FFFD silently: what was sent is not what would be judged and recorded.
  if (!isUtf8(bytes)) throw new GatehouseError('invalid_request', 'body: not valid UTF-8', { param: 'body' });
  const text = bytes.toString('utf8');
  if (text.length === 0) throw new GatehouseError('invalid_request', 'body: the request body is empty; expected a JSON object', { param: 'body' });
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new GatehouseError('invalid_request', `body: not valid JSON (${(error as Error).message})`, { param: 'body' });
  }
  // A lone surrogate can only arrive as a \\uD8xx..\\uDFxx escape (valid UTF-8 cannot carry one).
  assertBoundedJson(parsed, SURROGATE_ESCAPE.test(text));
  return parsed;
}

const SURROGATE_ESCAPE = /\\u[dD][89a-fA-F]/;

/**
 * The whole body, or: 413 past `maxBytes`, 408 `request_timeout` when it has not
 * all arrived `timeoutMs` after reading began, `cancelled` when the client went
 * away. On 413 and 408 the rest is left unread (the caller closes the connection).
 */
function readBytes(req: IncomingMessage, maxBytes: number, timeoutMs: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const finish = (error: GatehouseError | undefined): void => {
      clearTimeout(timer);
      req.off('data', onData).off('end', onEnd).off('error', onError).off('close', onClose);
      if (error) {
        req.pause();
        reject(error);
      } else {
        resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size));
      }
    };
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > maxBytes) return finish(tooLarge(maxBytes));
      chunks.push(chunk);
    };
    const onEnd = (): void => finish(undefined);
    const onError = (error: unknown): void => finish(bodyFailure(req, error));
    const onClose = (): void => { if (!req.complete) finish(bodyFailure(req, undefined)); };
    const timer = setTimeout(
      () => finish(new GatehouseError('request_timeout', `the request body did not arrive within ${timeoutMs} ms`)),
      timeoutMs,
    );
    req.on('data', onData).on('end', onEnd).on('error', onError).on('close', onClose);
  });
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
