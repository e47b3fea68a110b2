/**
 * OTLP/protobuf encoding of finished spans (an ExportTraceServiceRequest), for the
 * audit spool's hot path. The bytes are identical to
 * `ProtobufTraceSerializer.serializeRequest` of @opentelemetry/otlp-transformer
 * (test/telemetry/otlpSpans.test.ts checks that); it is cheaper because it makes
 * one pass instead of a size-estimating pass plus a writing pass, writes into one
 * reused scratch buffer, copies each attribute key's encoded bytes from a cache,
 * and turns hex ids into bytes in place.
 *
 * Contract: `encodeSpans` returns a fresh Uint8Array the caller owns (the scratch
 * buffer is copied out), so it may be handed to an asynchronous write.
 */
import type { Attributes, AttributeValue, Link, SpanContext } from '@opentelemetry/api';
import type { ReadableSpan, TimedEvent } from '@opentelemetry/sdk-trace-base';
import { ProtobufWriter } from './protobufWriter.js';

const HAS_IS_REMOTE = 0x100;
const IS_REMOTE = 0x200;
const MIN_INT64 = -(2 ** 63);
const MAX_INT64 = 2 ** 63;
/** Encoded `KeyValue.key` fields (tag, length, UTF-8), by key; bounded. */
const KEY_CACHE_LIMIT = 4096;
const keyCache = new Map<string, Uint8Array>();
const textEncoder = new TextEncoder();

const scratch = new ProtobufWriter();

/** The spans as one OTLP ExportTraceServiceRequest (grouped by resource, then scope, in first-seen order). */
export function encodeSpans(spans: readonly ReadableSpan[]): Uint8Array {
  const groups = new Map<ReadableSpan['resource'], Map<ReadableSpan['instrumentationScope'], ReadableSpan[]>>();
  for (const span of spans) {
    let scopes = groups.get(span.resource);
    if (!scopes) groups.set(span.resource, (scopes = new Map()));
    const list = scopes.get(span.instrumentationScope);
    if (list) list.push(span);
    else scopes.set(span.instrumentationScope, [span]);
  }
  const w = scratch;
  w.pos = 0;
  for (const [resource, scopes] of groups) {
    w.tag(1, 2);
    const resourceSpans = w.start();
    w.tag(1, 2);
    const resourceAt = w.start();
    attributes(w, resource.attributes, 1);
    w.tag(2, 0);
    w.varint(0);
    w.finish(resourceAt);
    for (const [scope, list] of scopes) {
      w.tag(2, 2);
      const scopeSpans = w.start();
      w.tag(1, 2);
      const scopeAt = w.start();
      w.tag(1, 2);
      w.string(scope.name);
      if (scope.version) {
        w.tag(2, 2);
        w.string(scope.version);
      }
      const scoped = scope as { attributes?: Attributes; droppedAttributesCount?: number };
      if (scoped.attributes) attributes(w, scoped.attributes, 3);
      if (scoped.droppedAttributesCount) {
        w.tag(4, 0);
        w.varint(scoped.droppedAttributesCount);
      }
      w.finish(scopeAt);
      for (const span of list) {
        w.tag(2, 2);
        encodeSpan(w, span);
      }
      if (scope.schemaUrl) {
        w.tag(3, 2);
        w.string(scope.schemaUrl);
      }
      w.finish(scopeSpans);
    }
    if (resource.schemaUrl) {
      w.tag(3, 2);
      w.string(resource.schemaUrl);
    }
    w.finish(resourceSpans);
  }
  return w.buf.slice(0, w.pos);
}

function encodeSpan(w: ProtobufWriter, span: ReadableSpan): void {
  const at = w.start();
  const ctx = span.spanContext();
  w.tag(1, 2);
  w.hex(ctx.traceId);
  w.tag(2, 2);
  w.hex(ctx.spanId);
  const traceState = ctx.traceState?.serialize();
  if (traceState) {
    w.tag(3, 2);
    w.string(traceState);
  }
  const parent = span.parentSpanContext;
  if (parent?.spanId) {
    w.tag(4, 2);
    w.hex(parent.spanId);
  }
  w.tag(5, 2);
  w.string(span.name);
  const kind = span.kind == null ? 0 : span.kind + 1;
  if (kind !== 0) {
    w.tag(6, 0);
    w.varint(kind);
  }
  w.tag(7, 1);
  w.hrTime(span.startTime);
  w.tag(8, 1);
  w.hrTime(span.endTime);
  if (span.attributes) attributes(w, span.attributes, 9);
  w.tag(10, 0);
  w.varint(span.droppedAttributesCount);
  for (const event of span.events) {
    w.tag(11, 2);
    encodeEvent(w, event);
  }
  w.tag(12, 0);
  w.varint(span.droppedEventsCount);
  for (const link of span.links) {
    w.tag(13, 2);
    encodeLink(w, link);
  }
  w.tag(14, 0);
  w.varint(span.droppedLinksCount);
  w.tag(15, 2);
  const status = w.start();
  if (span.status.message) {
    w.tag(2, 2);
    w.string(span.status.message);
  }
  w.tag(3, 0);
  w.varint(span.status.code);
  w.finish(status);
  w.tag(16, 5);
  w.fixed32(flags(ctx, parent?.isRemote));
  w.finish(at);
}

function encodeEvent(w: ProtobufWriter, event: TimedEvent): void {
  const at = w.start();
  w.tag(1, 1);
  w.hrTime(event.time);
  w.tag(2, 2);
  w.string(event.name);
  if (event.attributes) attributes(w, event.attributes, 3);
  w.tag(4, 0);
  w.varint(event.droppedAttributesCount || 0);
  w.finish(at);
}

function encodeLink(w: ProtobufWriter, link: Link): void {
  const at = w.start();
  const context = link.context;
  w.tag(1, 2);
  w.hex(context.traceId);
  w.tag(2, 2);
  w.hex(context.spanId);
  const traceState = context.traceState?.serialize();
  if (traceState) {
    w.tag(3, 2);
    w.string(traceState);
  }
  if (link.attributes) attributes(w, link.attributes, 4);
  w.tag(5, 0);
  w.varint(link.droppedAttributesCount || 0);
  w.tag(6, 5);
  w.fixed32(flags(context, context.isRemote));
  w.finish(at);
}

function flags(context: SpanContext, isRemote: boolean | undefined): number {
  return (context.traceFlags & 0xff) | HAS_IS_REMOTE | (isRemote ? IS_REMOTE : 0);
}

function attributes(w: ProtobufWriter, attrs: Attributes, field: number): void {
  for (const key in attrs) {
    if (!Object.prototype.hasOwnProperty.call(attrs, key)) continue;
    w.tag(field, 2);
    const at = w.start();
    w.copy(encodedKey(key));
    w.tag(2, 2);
    const value = w.start();
    anyValue(w, attrs[key]);
    w.finish(value);
    w.finish(at);
  }
}

function encodedKey(key: string): Uint8Array {
  let bytes = keyCache.get(key);
  if (bytes) return bytes;
  const utf8 = textEncoder.encode(key);
  const length = utf8.length;
  const head = [0x0a];
  let v = length;
  while (v > 0x7f) {
    head.push((v & 0x7f) | 0x80);
    v >>>= 7;
  }
  head.push(v);
  bytes = new Uint8Array(head.length + length);
  bytes.set(head);
  bytes.set(utf8, head.length);
  if (keyCache.size < KEY_CACHE_LIMIT) keyCache.set(key, bytes);
  return bytes;
}

function anyValue(w: ProtobufWriter, value: AttributeValue | unknown): void {
  const type = typeof value;
  if (type === 'string') {
    w.tag(1, 2);
    w.string(value as string);
  } else if (type === 'boolean') {
    w.tag(2, 0);
    w.varint(value ? 1 : 0);
  } else if (type === 'number') {
    const n = value as number;
    if (Number.isInteger(n) && n >= MIN_INT64 && n < MAX_INT64) {
      w.tag(3, 0);
      w.varint(n);
    } else {
      w.tag(4, 1);
      w.double(n);
    }
  } else if (value instanceof Uint8Array) {
    w.tag(7, 2);
    w.raw(value);
  } else if (Array.isArray(value)) {
    w.tag(5, 2);
    const array = w.start();
    for (const item of value) {
      w.tag(1, 2);
      const at = w.start();
      anyValue(w, item);
      w.finish(at);
    }
    w.finish(array);
  } else if (type === 'object' && value !== null) {
    w.tag(6, 2);
    const list = w.start();
    const object = value as Record<string, unknown>;
    for (const key in object) {
      if (!Object.prototype.hasOwnProperty.call(object, key)) continue;
      w.tag(1, 2);
      const at = w.start();
      w.copy(encodedKey(key));
      w.tag(2, 2);
      const inner = w.start();
      anyValue(w, object[key]);
      w.finish(inner);
      w.finish(at);
    }
    w.finish(list);
  }
}
