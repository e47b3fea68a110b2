/** Shared setup for collector tests: span builders, OTLP encoders, HTTP posting, temp dirs. */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { A, AUDIT_ATTRIBUTES, AUDIT_MARKER } from '../../proxy/telemetry/attributes.js';
import { startCollector, type CollectorOptions, type RunningCollector } from '../../collector/cli/index.js';
import { ExportTraceServiceRequest } from '../../collector/otlp/traceProto.js';

/** The ingest key the test collectors accept, as gateway instance `test-gateway`. */
export const TEST_INGEST = { id: 'test-gateway', token: `ghi_test_${randomBytes(16).toString('hex')}` };
export const TEST_AUTH = { authorization: `Bearer ${TEST_INGEST.token}` };

/** A collector (in this process) that accepts TEST_INGEST. */
export function startTestCollector(options: CollectorOptions = {}): Promise<RunningCollector> {
  return startCollector({ ingestKeys: [TEST_INGEST], ...options });
}

export type Attr = string | number | boolean | string[];

export interface SpanSpec {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  startMs: number;
  durationMs: number;
  attributes: Record<string, Attr>;
}

const TYPES = new Map<string, string>(AUDIT_ATTRIBUTES.map((a) => [a.name, a.type]));

export function hexId(bytes: number): string {
  return randomBytes(bytes).toString('hex');
}

let counter = 0;

/** A gateway request span (SERVER, gatehouse.audit = true) with plausible attributes; `over` replaces any of them. */
export function auditSpan(over: Record<string, Attr> = {}, spec: Partial<SpanSpec> = {}): SpanSpec {
  counter++;
  return {
    traceId: hexId(16), spanId: hexId(8), name: 'chat gpt-4o', kind: 2, startMs: Date.UTC(2025, 0, 15, 10, 0, 0) + counter, durationMs: 120,
    ...spec,
    attributes: {
      [AUDIT_MARKER]: true,
      [A.requestId]: `req-${counter}-${hexId(4)}`,
      [A.tenant]: 'acme', [A.team]: 'wealth', [A.user]: 'alice', [A.agent]: 'advisor-bot', [A.feature]: 'allocation',
      [A.operation]: 'chat', [A.requestModel]: 'gpt-4o', [A.responseModel]: 'gpt-4o-2024-08-06', [A.providerName]: 'openai',
      [A.inputTokens]: 100, [A.outputTokens]: 50, [A.cacheReadTokens]: 10, [A.costUsd]: 0.00125,
      [A.promptId]: 'allocation', [A.promptVersion]: 'v1', [A.outcome]: 'ok', [A.httpStatus]: 200,
      [A.policyDecision]: 'allow', [A.finishReasons]: ['stop'], [A.durationMs]: 120.5,
      ...over,
    },
  };
}

/** A CLIENT span for one upstream attempt of `parent`. */
export function attemptSpan(parent: SpanSpec, attempt: number, outcome: string): SpanSpec {
  return {
    traceId: parent.traceId, spanId: hexId(8), parentSpanId: parent.spanId, name: 'upstream openai', kind: 3,
    startMs: parent.startMs + attempt, durationMs: 10,
    attributes: { [A.attemptNumber]: attempt, [A.attemptOutcome]: outcome, [A.attemptProvider]: 'openai' },
  };
}

function anyValueJson(key: string, v: Attr): Record<string, unknown> {
  if (Array.isArray(v)) return { arrayValue: { values: v.map((s) => ({ stringValue: s })) } };
  if (typeof v === 'string') return { stringValue: v };
  if (typeof v === 'boolean') return { boolValue: v };
  const type = TYPES.get(key);
  if (type === 'double' || (type === undefined && !Number.isInteger(v))) return { doubleValue: v };
  return { intValue: String(v) };
}

function nanos(ms: number): string {
  return (BigInt(Math.round(ms * 1000)) * 1000n + 123n).toString();
}

/** OTLP/JSON ExportTraceServiceRequest. */
export function otlpJson(spans: SpanSpec[], service = 'gatehouse-proxy'): Record<string, unknown> {
  return {
    resourceSpans: [{
      resource: { attributes: [{ key: 'service.name', value: { stringValue: service } }] },
      scopeSpans: [{
        scope: { name: 'gatehouse' },
        spans: spans.map((s) => ({
          traceId: s.traceId, spanId: s.spanId, parentSpanId: s.parentSpanId ?? '', name: s.name, kind: s.kind,
          startTimeUnixNano: nanos(s.startMs), endTimeUnixNano: nanos(s.startMs + s.durationMs),
          attributes: Object.entries(s.attributes).map(([key, v]) => ({ key, value: anyValueJson(key, v) })),
          status: { code: 0 },
        })),
      }],
    }],
  };
}

/** The same request as protobuf bytes (via protobufjs fromObject, which accepts the JSON shape with base64 ids). */
export function otlpProtobuf(spans: SpanSpec[], service = 'gatehouse-proxy'): Uint8Array {
  const json = otlpJson(spans, service) as { resourceSpans: Array<{ scopeSpans: Array<{ spans: Array<Record<string, unknown>> }> }> };
  for (const rs of json.resourceSpans) {
    for (const ss of rs.scopeSpans) {
      for (const s of ss.spans) {
        for (const k of ['traceId', 'spanId', 'parentSpanId']) s[k] = Buffer.from(String(s[k]), 'hex').toString('base64');
      }
    }
  }
  return ExportTraceServiceRequest.encode(ExportTraceServiceRequest.fromObject(json)).finish();
}

export interface Posted { status: number; contentType: string; body: Buffer }

/** Posts with TEST_INGEST's key unless `headers` says otherwise (an empty object: no key). */
export async function post(url: string, body: Uint8Array | string, contentType: string, gzip = false, headers: Record<string, string> = TEST_AUTH): Promise<Posted> {
  const raw = typeof body === 'string' ? Buffer.from(body) : Buffer.from(body);
  const response = await fetch(url, {
    method: 'POST',
    headers: { ...headers, 'content-type': contentType, ...(gzip ? { 'content-encoding': 'gzip' } : {}) },
    body: gzip ? gzipSync(raw) : raw,
  });
  return { status: response.status, contentType: response.headers.get('content-type') ?? '', body: Buffer.from(await response.arrayBuffer()) };
}

export function postJson(url: string, spans: SpanSpec[], gzip = false, headers: Record<string, string> = TEST_AUTH): Promise<Posted> {
  return post(url, JSON.stringify(otlpJson(spans)), 'application/json', gzip, headers);
}

export function makeTempDir(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'gatehouse-collector-'));
}

export async function removeDir(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
}

export async function withTempDir<T>(work: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'gatehouse-collector-'));
  try {
    return await work(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Collects CLI output of a collector command run through the registry's shell IO. */
export async function captureStdout(run: () => Promise<number>): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const write = process.stdout.write.bind(process.stdout);
  const writeErr = process.stderr.write.bind(process.stderr);
  process.stdout.write = ((chunk: string | Uint8Array) => { out.push(String(chunk)); return true; }) as typeof process.stdout.write;
  process.stderr.write = ((chunk: string | Uint8Array) => { err.push(String(chunk)); return true; }) as typeof process.stderr.write;
  try {
    const code = await run();
    return { code, out: out.join(''), err: err.join('') };
  } finally {
    process.stdout.write = write;
    process.stderr.write = writeErr;
  }
}
