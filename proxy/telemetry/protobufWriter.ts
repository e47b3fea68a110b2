/**
 * A protobuf writer for one message tree at a time, into a growing buffer that is
 * reused between messages. A nested message reserves one byte for its length and
 * moves its bytes when the length needs more (rare for attributes, once per span).
 * The encodings match @opentelemetry/otlp-transformer's ProtobufWriter byte for byte.
 */
import type { HrTime } from '@opentelemetry/api';

const textEncoder = new TextEncoder();

export class ProtobufWriter {
  buf = new Uint8Array(64 * 1024);
  view = new DataView(this.buf.buffer);
  pos = 0;

  ensure(size: number): void {
    const needed = this.pos + size;
    if (needed <= this.buf.length) return;
    let length = this.buf.length * 2;
    while (length < needed) length *= 2;
    const next = new Uint8Array(length);
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }

  /** Reserves one byte for a length; returns where the message's length goes. */
  start(): number {
    this.ensure(1);
    return this.pos++;
  }

  /** Writes the length of the message begun at `at`, moving its bytes when the length needs more than one byte. */
  finish(at: number): void {
    const length = this.pos - at - 1;
    if (length < 0x80) {
      this.buf[at] = length;
      return;
    }
    const size = varintSize(length);
    this.ensure(size - 1);
    this.buf.copyWithin(at + size, at + 1, this.pos);
    this.pos += size - 1;
    let v = length;
    let p = at;
    while (v > 0x7f) {
      this.buf[p++] = (v & 0x7f) | 0x80;
      v >>>= 7;
    }
    this.buf[p] = v;
  }

  tag(field: number, wire: number): void {
    this.varint((field << 3) | wire);
  }

  varint(value: number): void {
    this.ensure(10);
    const buf = this.buf;
    if (value >= 0 && value <= 0xffffffff) {
      let v = value >>> 0;
      while (v > 0x7f) {
        buf[this.pos++] = (v & 0x7f) | 0x80;
        v >>>= 7;
      }
      buf[this.pos++] = v;
      return;
    }
    let low: number;
    let high: number;
    if (value >= 0) {
      low = value >>> 0;
      high = (value / 0x100000000) >>> 0;
    } else {
      const abs = Math.abs(value);
      low = ~(abs >>> 0) >>> 0;
      high = ~((abs / 0x100000000) >>> 0) >>> 0;
      low = (low + 1) >>> 0;
      if (low === 0) high = (high + 1) >>> 0;
    }
    while (high > 0 || low > 0x7f) {
      buf[this.pos++] = (low & 0x7f) | 0x80;
      low = ((low >>> 7) | (high << 25)) >>> 0;
      high >>>= 7;
    }
    buf[this.pos++] = low & 0x7f;
  }

  fixed32(value: number): void {
    this.ensure(4);
    this.view.setUint32(this.pos, value >>> 0, true);
    this.pos += 4;
  }

  /** An HrTime as fixed64 nanoseconds, exactly (no float rounding). */
  hrTime(time: HrTime): void {
    const seconds = time[0];
    const nanos = time[1];
    const lowPart = (seconds & 0xffff) * 1e9;
    const highPart = ((seconds / 0x10000) >>> 0) * 1e9;
    const low = (lowPart >>> 0) + (((highPart & 0xffff) * 0x10000) >>> 0) + nanos;
    const high = Math.floor(lowPart / 0x100000000) + ((highPart / 0x10000) >>> 0) + Math.floor(low / 0x100000000);
    this.ensure(8);
    this.view.setUint32(this.pos, low >>> 0, true);
    this.view.setUint32(this.pos + 4, high >>> 0, true);
    this.pos += 8;
  }

  double(value: number): void {
    this.ensure(8);
    this.view.setFloat64(this.pos, value, true);
    this.pos += 8;
  }

  string(value: string): void {
    const length = value.length;
    this.ensure(length + 5);
    const at = this.pos;
    // ASCII fast path: the length is the character count.
    if (length < 0x80) {
      const buf = this.buf;
      let p = at + 1;
      for (let i = 0; i < length; i++) {
        const c = value.charCodeAt(i);
        if (c > 0x7f) return this.utf8(value);
        buf[p++] = c;
      }
      buf[at] = length;
      this.pos = p;
      return;
    }
    this.utf8(value);
  }

  private utf8(value: string): void {
    this.raw(textEncoder.encode(value));
  }

  /** Length-prefixed bytes. */
  raw(bytes: Uint8Array): void {
    this.varint(bytes.length);
    this.ensure(bytes.length);
    this.buf.set(bytes, this.pos);
    this.pos += bytes.length;
  }

  /** Bytes already encoded (tag and all). */
  copy(bytes: Uint8Array): void {
    this.ensure(bytes.length);
    this.buf.set(bytes, this.pos);
    this.pos += bytes.length;
  }

  /** A hex trace or span id as length-prefixed bytes. */
  hex(id: string): void {
    const length = id.length >>> 1;
    this.ensure(length + 1);
    const buf = this.buf;
    buf[this.pos++] = length;
    for (let i = 0; i < length; i++) buf[this.pos++] = (nibble(id.charCodeAt(2 * i)) << 4) | nibble(id.charCodeAt(2 * i + 1));
  }
}

function nibble(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 97 && c <= 102) return c - 87;
  if (c >= 65 && c <= 70) return c - 55;
  return 0;
}

function varintSize(v: number): number {
  if (v < 0x80) return 1;
  if (v < 0x4000) return 2;
  if (v < 0x200000) return 3;
  if (v < 0x10000000) return 4;
  return 5;
}
