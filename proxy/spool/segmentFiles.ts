/**
 * Segment files in a spool directory: naming, listing and reading committed
 * frames. Segments are numbered from 1 and named `seg-<12 digits>.spool`, so
 * that lexical and numeric order agree. A process never appends to a segment
 * an earlier process wrote: it starts a new one, which leaves any torn tail
 * from a crash at the end of the old segment.
 */
import { open, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { FRAME_HEADER_BYTES, scanFrames, type Frame } from './frames.js';

const SEGMENT_NAME = /^seg-(\d{12})\.spool$/;

export function segmentPath(dir: string, segment: number): string {
  return join(dir, `seg-${String(segment).padStart(12, '0')}.spool`);
}

export interface SegmentInfo {
  segment: number;
  bytes: number;
}

/** The segments in `dir`, oldest first, with their sizes. */
export async function listSegments(dir: string): Promise<SegmentInfo[]> {
  const names = await readdir(dir);
  const found: SegmentInfo[] = [];
  for (const name of names) {
    const match = SEGMENT_NAME.exec(name);
    if (!match?.[1]) continue;
    const segment = Number(match[1]);
    try {
      const info = await stat(join(dir, name));
      found.push({ segment, bytes: info.size });
    } catch {
      // Deleted between readdir and stat: shipped meanwhile.
    }
  }
  return found.sort((a, b) => a.segment - b.segment);
}

export interface FrameRead {
  frames: Frame[];
  /** Offset just after the last whole frame read. */
  end: number;
  /** A torn frame starts at `end`: nothing after it in this segment is readable. */
  torn: boolean;
}

/**
 * Reads whole frames of `segment` from `offset` up to `limit` (the committed
 * size), at most about `maxBytes` of them (always at least one frame, whatever
 * its size). Returns no frames when the segment no longer exists.
 */
export async function readFrames(
  dir: string,
  segment: number,
  offset: number,
  limit: number,
  maxBytes: number,
): Promise<FrameRead> {
  if (limit - offset < FRAME_HEADER_BYTES) return { frames: [], end: offset, torn: limit > offset };
  let handle;
  try {
    handle = await open(segmentPath(dir, segment), 'r');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { frames: [], end: offset, torn: false };
    throw error;
  }
  try {
    let want = Math.min(limit - offset, Math.max(maxBytes, FRAME_HEADER_BYTES));
    for (;;) {
      const buffer = Buffer.allocUnsafe(want);
      const { bytesRead } = await handle.read(buffer, 0, want, offset);
      const scan = scanFrames(buffer.subarray(0, bytesRead), offset);
      if (scan.kind === 'torn') return { frames: scan.frames, end: scan.end, torn: true };
      if (scan.frames.length > 0) return { frames: scan.frames, end: scan.end, torn: false };
      // No whole frame at `offset`: either it is larger than `want`, or it is torn.
      const size = scan.nextFrameBytes;
      if (size !== undefined && size > want && offset + size <= limit) {
        want = size; // one frame larger than maxBytes: read it alone
        continue;
      }
      return { frames: [], end: offset, torn: true };
    }
  } finally {
    await handle.close();
  }
}
