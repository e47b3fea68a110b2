/**
 * OTLP/HTTP trace receiver (POST /v1/traces) as a node:http request handler.
 * Accepts application/x-protobuf and application/json, optionally gzip
 * (Content-Encoding: gzip). Per the OTLP/HTTP spec it answers 200 with an
 * ExportTraceServiceResponse in the request's content type (partial success
 * when spans had invalid ids), 400 with a google.rpc.Status for an undecodable
 * body, 413 over the size limit, 415 for other content types or encodings, and
 * 503 (retryable) when the store could not commit. 200 is sent only after
 * `ingest` resolved, i.e. after the records are durable.
 *
 * Only an authenticated gateway instance writes the audit trail: a request
 * without a valid ingest key (`Authorization: Bearer`) is answered 401
 * UNAUTHENTICATED before its body is read, or, when the collector is told to
 * forward such spans, decoded and forwarded but never recorded.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { gunzip } from 'node:zlib';
import { promisify } from 'node:util';
import { log } from '../../proxy/log.js';
import type { AuthResult } from './ingestKeys.js';
import { decodeJson } from './jsonDecoder.js';
import { decodeProtobuf } from './protobufDecoder.js';
import type { DecodedExport } from './spans.js';
import { ExportTraceServiceResponse, RpcStatus } from './traceProto.js';

const gunzipAsync = promisify(gunzip);

export const TRACES_PATH = '/v1/traces';
const PROTOBUF = 'application/x-protobuf';
const JSON_TYPE = 'application/json';
const INVALID_ARGUMENT = 3;
const UNAVAILABLE = 14;
const UNAUTHENTICATED = 16;

export interface ReceiverOptions {
  /** Largest accepted body, compressed or decompressed. Default 32 MiB. */
  maxBodyBytes?: number;
  /** Which gateway instance sent the request (from its ingest key), or why it was refused. */
  authenticate(authorization: string | undefined): AuthResult;
  /** `reject` (default): 401 for spans without a valid key; `forward`: accept them for forwarding only. */
  unauthenticated?: 'reject' | 'forward';
  /** Called for every request refused or not recorded for want of a valid key. */
  refused?(reason: 'missing' | 'unknown', req: IncomingMessage): void;
  /** Stores the spans sent by gateway `instance`; must resolve only when they are durable. */
  ingest(decoded: DecodedExport, instance: string): Promise<void>;
  /** Called after a successful ingest with the decompressed body (for forwarding). */
  received?(body: Uint8Array, decoded: DecodedExport, contentType: string): void;
}

class HttpFailure extends Error {
  constructor(readonly status: number, message: string) { super(message); }
}

function mediaType(req: IncomingMessage): string {
  return (req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
}

async function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > limit) throw new HttpFailure(413, `body larger than ${limit} bytes`);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) throw new HttpFailure(413, `body larger than ${limit} bytes`);
    chunks.push(chunk as Buffer);
  }
  return chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, size);
}

async function decompress(req: IncomingMessage, body: Buffer, limit: number): Promise<Buffer> {
  const encoding = (req.headers['content-encoding'] ?? 'identity').trim().toLowerCase();
  if (encoding === 'identity' || encoding === '') return body;
  if (encoding !== 'gzip') throw new HttpFailure(415, `unsupported content-encoding '${encoding}'; use gzip or none`);
  try {
    return await gunzipAsync(body, { maxOutputLength: limit });
  } catch (error) {
    if (error instanceof RangeError || (error instanceof Error && 'code' in error && error.code === 'ERR_BUFFER_TOO_LARGE')) {
      throw new HttpFailure(413, `decompressed body larger than ${limit} bytes`);
    }
    throw new HttpFailure(400, 'body is not valid gzip');
  }
}

function send(res: ServerResponse, status: number, contentType: string, body: Uint8Array | string): void {
  res.writeHead(status, { 'content-type': contentType, 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

function sendStatus(res: ServerResponse, status: number, contentType: string, code: number, message: string): void {
  if (contentType === PROTOBUF) send(res, status, PROTOBUF, RpcStatus.encode(RpcStatus.create({ code, message })).finish());
  else send(res, status, JSON_TYPE, JSON.stringify({ code, message }));
}

function sendSuccess(res: ServerResponse, contentType: string, rejected: number): void {
  const partial = rejected > 0 ? { rejectedSpans: rejected, errorMessage: `${rejected} span(s) had an invalid trace, span or parent span id, or a time outside the epoch..year 9999` } : undefined;
  if (contentType === PROTOBUF) {
    const message = ExportTraceServiceResponse.create(partial ? { partialSuccess: partial } : {});
    send(res, 200, PROTOBUF, ExportTraceServiceResponse.encode(message).finish());
  } else {
    send(res, 200, JSON_TYPE, JSON.stringify(partial ? { partialSuccess: partial } : {}));
  }
}

/** Handles one request to TRACES_PATH. */
export async function handleTraces(req: IncomingMessage, res: ServerResponse, options: ReceiverOptions): Promise<void> {
  const limit = options.maxBodyBytes ?? 32 * 1024 * 1024;
  const contentType = mediaType(req);
  const answerType = contentType === PROTOBUF ? PROTOBUF : JSON_TYPE;
  try {
    const auth = options.authenticate(req.headers.authorization);
    if ('refused' in auth) {
      options.refused?.(auth.refused, req);
      if (options.unauthenticated !== 'forward') {
        res.setHeader('www-authenticate', 'Bearer realm="gatehouse-collector"');
        throw new HttpFailure(401, auth.refused === 'missing'
          ? 'an ingest key is required (Authorization: Bearer <key>); see gatehouse ingest-keys create'
          : 'unknown ingest key');
      }
    }
    if (req.method !== 'POST') {
      res.setHeader('allow', 'POST');
      throw new HttpFailure(405, 'use POST');
    }
    if (contentType !== PROTOBUF && contentType !== JSON_TYPE) {
      throw new HttpFailure(415, `unsupported content-type '${contentType}'; use ${PROTOBUF} or ${JSON_TYPE}`);
    }
    const body = await decompress(req, await readBody(req, limit), limit);
    let decoded: DecodedExport;
    try {
      decoded = contentType === PROTOBUF ? decodeProtobuf(body) : decodeJson(body);
    } catch (error) {
      throw new HttpFailure(400, `undecodable ExportTraceServiceRequest: ${error instanceof Error ? error.message : 'invalid'}`);
    }
    try {
      if ('instance' in auth) await options.ingest(decoded, auth.instance);
    } catch (error) {
      log.error('collector: could not store spans; answering 503 so the sender retries', { error, spans: decoded.spans.length });
      res.setHeader('retry-after', '1');
      throw new HttpFailure(503, 'audit store unavailable; retry');
    }
    sendSuccess(res, answerType, decoded.rejected);
    options.received?.(body, decoded, contentType);
  } catch (error) {
    if (!(error instanceof HttpFailure)) throw error;
    if (!req.readableEnded) req.resume();
    res.setHeader('connection', error.status === 413 || error.status === 401 ? 'close' : 'keep-alive');
    const code = error.status === 503 ? UNAVAILABLE : error.status === 401 ? UNAUTHENTICATED : INVALID_ARGUMENT;
    sendStatus(res, error.status, answerType, code, error.message);
  }
}
