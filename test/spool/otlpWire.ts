/**
 * A minimal protobuf wire-format reader, enough to look inside OTLP
 * ExportTraceServiceRequest bytes in tests without trusting the serializer:
 * request.resource_spans(1) > scope_spans(2) > spans(2) > span_id(2).
 */

interface Field {
  number: number;
  /** Length-delimited payload (wire type 2); undefined for other wire types. */
  bytes: Uint8Array | undefined;
}

function readVarint(buffer: Uint8Array, at: number): [value: number, next: number] {
  let value = 0;
  let shift = 0;
  for (;;) {
    const byte = buffer[at++];
    if (byte === undefined) throw new Error('protobuf: truncated varint');
    value += (byte & 0x7f) * 2 ** shift;
    if ((byte & 0x80) === 0) return [value, at];
    shift += 7;
  }
}

/** Every field of one message, in wire order; throws on malformed input. */
export function fields(buffer: Uint8Array): Field[] {
  const out: Field[] = [];
  let at = 0;
  while (at < buffer.length) {
    const [tag, afterTag] = readVarint(buffer, at);
    const number = Math.floor(tag / 8);
    const wireType = tag % 8;
    at = afterTag;
    if (wireType === 0) at = readVarint(buffer, at)[1];
    else if (wireType === 1) at += 8;
    else if (wireType === 5) at += 4;
    else if (wireType === 2) {
      const [length, afterLength] = readVarint(buffer, at);
      if (afterLength + length > buffer.length) throw new Error('protobuf: truncated field');
      out.push({ number, bytes: buffer.subarray(afterLength, afterLength + length) });
      at = afterLength + length;
      continue;
    } else throw new Error(`protobuf: unsupported wire type ${wireType}`);
    if (at > buffer.length) throw new Error('protobuf: truncated field');
    out.push({ number, bytes: undefined });
  }
  return out;
}

function children(message: Uint8Array, number: number): Uint8Array[] {
  return fields(message)
    .filter((field) => field.number === number && field.bytes !== undefined)
    .map((field) => field.bytes as Uint8Array);
}

/** The resource_spans messages of an ExportTraceServiceRequest. */
export function resourceSpans(request: Uint8Array): Uint8Array[] {
  return children(request, 1);
}

/** The hex span ids of every span in an ExportTraceServiceRequest, in order. */
export function spanIds(request: Uint8Array): string[] {
  const ids: string[] = [];
  for (const resource of resourceSpans(request)) {
    for (const scope of children(resource, 2)) {
      for (const span of children(scope, 2)) {
        const id = children(span, 2)[0];
        if (id) ids.push(Buffer.from(id).toString('hex'));
      }
    }
  }
  return ids;
}
