/**
 * Protobuf wire-format reading (varints, fixed64, length-delimited fields,
 * skipping unknown fields) for the OTLP decoder. Every read is bounded by the
 * end offset of the message it belongs to; running past it throws RangeError.
 */
const VARINT = 0;
const FIXED64 = 1;
export const LEN = 2;
const START_GROUP = 3;
const END_GROUP = 4;
const FIXED32 = 5;

const MAX_INTERNED = 48;
const INTERNED_SLOTS = 4096;
const interned: Array<string | undefined> = new Array<string | undefined>(INTERNED_SLOTS);

/** A cursor over the request bytes; nested messages are read up to an explicit end offset. */
export class WireReader {
  pos = 0;
  private readonly view: DataView;

  constructor(readonly buf: Buffer) {
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }

  private byte(end: number): number {
    if (this.pos >= end) throw new RangeError('truncated varint');
    return this.buf[this.pos++] as number;
  }

  /** A varint as a number (exact up to 2^53: tags, lengths, enums, bools). */
  varint(end: number): number {
    let result = 0;
    let shift = 1;
    for (let i = 0; i < 10; i++) {
      const b = this.byte(end);
      result += (b & 0x7f) * shift;
      if (b < 0x80) return result;
      shift *= 128;
    }
    throw new RangeError('varint longer than 10 bytes');
  }

  /** A varint int64 as protobufjs (with Long) gave it: high (signed) * 2^32 + low (unsigned). */
  int64(end: number): number {
    let lo = 0;
    for (let i = 0; i < 4; i++) {
      const b = this.byte(end);
      lo |= (b & 0x7f) << (i * 7);
      if (b < 0x80) return lo >>> 0;
    }
    const b4 = this.byte(end);
    lo |= (b4 & 0x7f) << 28;
    let hi = (b4 & 0x7f) >> 4;
    if (b4 >= 0x80) {
      for (let i = 0; ; i++) {
        if (i === 5) throw new RangeError('varint longer than 10 bytes');
        const b = this.byte(end);
        hi |= (b & 0x7f) << (i * 7 + 3);
        if (b < 0x80) break;
      }
    }
    return (hi | 0) * 4294967296 + (lo >>> 0);
  }

  /** Reads a length prefix; returns the payload's end offset (the payload starts at `pos`). */
  len(end: number): number {
    const n = this.varint(end);
    const stop = this.pos + n;
    if (stop > end) throw new RangeError('length-delimited field runs past its message');
    return stop;
  }

  fixed64(end: number): bigint {
    if (this.pos + 8 > end) throw new RangeError('truncated fixed64');
    const v = this.view.getBigUint64(this.pos, true);
    this.pos += 8;
    return v;
  }

  double(end: number): number {
    if (this.pos + 8 > end) throw new RangeError('truncated double');
    const v = this.view.getFloat64(this.pos, true);
    this.pos += 8;
    return v;
  }

  /**
   * The UTF-8 text of the length-delimited field at `pos`. Short ASCII texts
   * (attribute keys, tenant, model and status values, which repeat from span to
   * span) are interned, so decoding them allocates nothing.
   */
  text(end: number): string {
    const stop = this.len(end);
    const start = this.pos;
    const buf = this.buf;
    this.pos = stop;
    const n = stop - start;
    if (n > MAX_INTERNED) return buf.toString('utf8', start, stop);
    let h = n;
    for (let i = start; i < stop; i++) {
      const c = buf[i] as number;
      if (c >= 0x80) return buf.toString('utf8', start, stop);
      h = Math.imul(h ^ c, 0x01000193);
    }
    const slot = h & (INTERNED_SLOTS - 1);
    const cached = interned[slot];
    if (cached !== undefined && cached.length === n) {
      let same = true;
      for (let i = 0; i < n; i++) {
        if (cached.charCodeAt(i) !== buf[start + i]) { same = false; break; }
      }
      if (same) return cached;
    }
    const s = buf.toString('latin1', start, stop); // ASCII: latin1 is the same text, and cheaper to decode
    interned[slot] = s;
    return s;
  }

  /**
   * The id in the bytes field at `pos` as lowercase hex, or undefined unless it
   * has exactly `bytes` bytes and is not all zeros (what validId accepts).
   */
  id(end: number, bytes: number): string | undefined {
    const stop = this.len(end);
    const start = this.pos;
    this.pos = stop;
    if (stop - start !== bytes) return undefined;
    for (let i = start; i < stop; i++) if (this.buf[i] !== 0) return this.buf.toString('hex', start, stop);
    return undefined;
  }

  /** Lowercase hex of the bytes field at `pos` ('' when empty). */
  hex(end: number): string {
    const stop = this.len(end);
    const start = this.pos;
    this.pos = stop;
    return start === stop ? '' : this.buf.toString('hex', start, stop);
  }

  skip(wireType: number, end: number): void {
    switch (wireType) {
      case VARINT: this.varint(end); return;
      case FIXED64: this.pos += 8; break;
      case LEN: this.pos = this.len(end); return;
      case FIXED32: this.pos += 4; break;
      case START_GROUP:
        for (;;) {
          const tag = this.varint(end);
          if ((tag & 7) === END_GROUP) return;
          this.skip(tag & 7, end);
        }
      default: throw new RangeError(`invalid wire type ${wireType}`);
    }
    if (this.pos > end) throw new RangeError('truncated field');
  }
}
