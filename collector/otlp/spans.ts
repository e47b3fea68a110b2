/**
 * The receiver's view of a span, independent of the wire (protobuf or JSON)
 * it arrived in. Decoders guarantee: ids are lowercase hex of the right length
 * (32 for trace ids, 16 for span ids, '' for a missing parent), times are unix
 * nanoseconds, and attribute values are plain JSON-compatible values.
 */

export type AttributeValue =
  | string
  | number
  | boolean
  | null
  | AttributeValue[]
  | { [key: string]: AttributeValue };

export interface ReceivedSpan {
  traceId: string;
  spanId: string;
  parentSpanId: string;
  name: string;
  /** OTLP SpanKind: 0 unspecified, 1 internal, 2 server, 3 client, 4 producer, 5 consumer. */
  kind: number;
  startUnixNano: bigint;
  endUnixNano: bigint;
  attributes: Map<string, AttributeValue>;
  /** OTLP StatusCode: 0 unset, 1 ok, 2 error. */
  statusCode: number;
  statusMessage: string;
  /** Attributes of the resource that produced the span (service.name, ...). */
  resource: Map<string, AttributeValue>;
  scopeName: string;
}

/** One decoded export request. */
export interface DecodedExport {
  spans: ReceivedSpan[];
  /** Spans dropped because they were malformed (bad ids); reported as partial success. */
  rejected: number;
  /**
   * The same request re-encoded in its original wire format, with every span
   * attribute whose key is in `keys` removed. Used for content-stripping forwarding.
   */
  encodeWithout(keys: ReadonlySet<string>): Uint8Array;
}

export const SPAN_KIND_SERVER = 2;
export const SPAN_KIND_CLIENT = 3;

const HEX = /^[0-9a-f]*$/;

/** Normalises an id to lowercase hex; returns undefined unless it has exactly `length` hex digits and is not all zeros. */
export function validId(hex: string, length: number): string | undefined {
  const id = hex.toLowerCase();
  if (id.length !== length || !HEX.test(id) || /^0+$/.test(id)) return undefined;
  return id;
}

/** The latest span time the store and exports can hold: the end of year 9999, in Unix nanoseconds. */
export const MAX_UNIX_NANO = 253_402_300_800n * 1_000_000_000n - 1n;

/**
 * Whether a decoded span's parent id and times can be stored: the parent is
 * empty or 16 hex digits, and both times fall between the epoch and year 9999.
 * A span that fails is rejected (counted in the partial-success answer), never
 * stored, so it cannot fail the batch it arrived in.
 */
export function storable(span: ReceivedSpan): boolean {
  return (span.parentSpanId === '' || (span.parentSpanId.length === 16 && HEX.test(span.parentSpanId)))
    && span.startUnixNano >= 0n && span.startUnixNano <= MAX_UNIX_NANO && span.endUnixNano >= 0n && span.endUnixNano <= MAX_UNIX_NANO;
}
