/**
 * The on-disk frame of the audit spool. A segment file is a sequence of frames;
 * each frame holds one serialized OTLP `ExportTraceServiceRequest`:
 *
 *   offset 0  u32 LE  magic 0x31534847 ("GHS1")
 *   offset 4  u32 LE  payload length in bytes
 *   offset 8  u32 LE  number of spans in the payload
 *   offset 12 u32 LE  CRC-32 (zlib/IEEE) of the span count bytes (8..12) followed by the payload
 *   offset 16 payload
 *
 * A frame whose header or payload is incomplete, or whose CRC does not match,
 * is torn: the writer died mid-write. Readers stop at the first torn frame of a
 * segment; the writer never appends after a failed write (it rotates), so a
 * torn frame can only be a segment's tail.
 */
import { crc32 } from 'node:zlib';

export const FRAME_MAGIC = 0x31534847;
export const FRAME_HEADER_BYTES = 16;

/** The header of a frame; `payload` is written right after it (one writev, no copy). */
export function frameHeader(payload: Uint8Array, spanCount: number): Buffer {
  const header = Buffer.allocUnsafe(FRAME_HEADER_BYTES);
  header.writeUInt32LE(FRAME_MAGIC, 0);
  header.writeUInt32LE(payload.byteLength, 4);
  header.writeUInt32LE(spanCount, 8);
  const crc = crc32(payload, crc32(header.subarray(8, 12)));
  header.writeUInt32LE(crc, 12);
  return header;
}

export interface Frame {
  /** Byte offset of the frame's header within its segment. */
  offset: number;
  /** Byte offset just after the frame. */
  end: number;
  spanCount: number;
  /** A view into the buffer the frame was parsed from. */
  payload: Buffer;
}

export type FrameScan =
  /** `frames` are whole and valid; the buffer ended at `end` (maybe mid-frame). */
  | { kind: 'ok'; frames: Frame[]; end: number; nextFrameBytes?: number }
  /** Valid frames up to `end`, then a frame with a bad magic or CRC. */
  | { kind: 'torn'; frames: Frame[]; end: number };

/**
 * Parses the frames in `buffer`, which starts at segment offset `base`. A frame
 * cut off by the end of the buffer is not an error: `end` stops before it and
 * `nextFrameBytes` tells its full size when its header was complete.
 */
export function scanFrames(buffer: Buffer, base: number): FrameScan {
  const frames: Frame[] = [];
  let at = 0;
  while (buffer.length - at >= FRAME_HEADER_BYTES) {
    if (buffer.readUInt32LE(at) !== FRAME_MAGIC) return { kind: 'torn', frames, end: base + at };
    const length = buffer.readUInt32LE(at + 4);
    const total = FRAME_HEADER_BYTES + length;
    if (buffer.length - at < total) return { kind: 'ok', frames, end: base + at, nextFrameBytes: total };
    const payload = buffer.subarray(at + FRAME_HEADER_BYTES, at + total);
    const crc = crc32(payload, crc32(buffer.subarray(at + 8, at + 12)));
    if (crc !== buffer.readUInt32LE(at + 12)) return { kind: 'torn', frames, end: base + at };
    frames.push({ offset: base + at, end: base + at + total, spanCount: buffer.readUInt32LE(at + 8), payload });
    at += total;
  }
  return { kind: 'ok', frames, end: base + at };
}
