import { appendFile, readFile, readdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { AuditSpool, SpoolFullError } from '../../proxy/spool/index.js';
import { FRAME_HEADER_BYTES, scanFrames } from '../../proxy/spool/frames.js';
import { listSegments, readFrames, segmentPath } from '../../proxy/spool/segmentFiles.js';
import { spanIds } from './otlpWire.js';
import { spooledTracer, tempDir } from './spoolFixture.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

async function setup(options: Parameters<typeof spooledTracer>[0] extends infer O ? Omit<O & object, 'dir'> : never = {}) {
  const temp = await tempDir();
  const traced = spooledTracer({ dir: temp.dir, ...options });
  cleanups.push(async () => {
    await traced.shutdown();
    await temp.remove();
  });
  return { ...traced, dir: temp.dir };
}

describe('AuditSpool', () => {
  it('writes all spans ended in one tick with one write (group commit)', async () => {
    const { spool, endRequests, dir } = await setup();
    await spool.start();
    const ids = endRequests(500);
    await spool.durable();
    expect(spool.counters.writes).toBe(1);
    expect(spool.counters.spooledSpans).toBe(1000);
    const [segment] = await listSegments(dir);
    const scan = scanFrames(await readFile(segmentPath(dir, segment!.segment)), 0);
    expect(scan.frames).toHaveLength(1);
    expect(scan.frames[0]!.spanCount).toBe(1000);
    expect(new Set(spanIds(scan.frames[0]!.payload))).toEqual(new Set(ids));
  });

  it('groups concurrent enqueuers into far fewer writes than spans', async () => {
    const { spool, endRequests } = await setup();
    await spool.start();
    await Promise.all(
      Array.from({ length: 64 }, async () => {
        for (let i = 0; i < 20; i++) {
          endRequests(1);
          await spool.durable();
        }
      }),
    );
    expect(spool.counters.spooledSpans).toBe(64 * 20 * 2);
    expect(spool.counters.writes).toBeLessThanOrEqual(64 * 20 / 8);
  });

  it("stops accepting when full in 'required' mode, and never exceeds maxBytes", async () => {
    const errors: Error[] = [];
    const maxBytes = 32 << 10;
    const { spool, endRequests } = await setup({ maxBytes, mode: 'required', onError: (e) => errors.push(e) });
    let admitted = 0;
    while (spool.accepting()) {
      endRequests(10);
      await spool.durable();
      admitted++;
    }
    expect(admitted).toBeGreaterThan(0);
    expect(spool.counters.full).toBe(1);
    expect(spool.counters.bytesOnDisk).toBeLessThanOrEqual(maxBytes);
    // Requests admitted before the spool filled still end: past the hard bound, durable() fails closed.
    let rejection: unknown;
    for (let i = 0; i < 100 && rejection === undefined; i++) {
      endRequests(10);
      await spool.durable().catch((error: unknown) => (rejection = error));
    }
    expect(rejection).toMatchObject({ code: 'audit_unavailable', status: 503 });
    expect(spool.counters.droppedSpans).toBeGreaterThan(0);
    expect(spool.counters.bytesOnDisk).toBeLessThanOrEqual(maxBytes);
    expect(errors.some((e) => e instanceof SpoolFullError)).toBe(true);
  });

  it("keeps serving when full in 'best-effort' mode, counts drops and raises one alarm", async () => {
    const errors: Error[] = [];
    const maxBytes = 32 << 10;
    const { spool, endRequests } = await setup({ maxBytes, mode: 'best-effort', onError: (e) => errors.push(e) });
    for (let i = 0; i < 200; i++) {
      expect(spool.accepting()).toBe(true);
      endRequests(10);
      await spool.durable();
    }
    expect(spool.counters.droppedSpans).toBeGreaterThan(0);
    expect(spool.counters.spooledSpans + spool.counters.droppedSpans).toBe(200 * 20);
    expect(spool.counters.bytesOnDisk).toBeLessThanOrEqual(maxBytes);
    expect(errors.filter((e) => e instanceof SpoolFullError)).toHaveLength(1);
  });

  it("fails closed in 'required' mode when the spool cannot be written", async () => {
    const { dir, remove } = await tempDir();
    cleanups.push(remove);
    const file = join(dir, 'not-a-directory');
    await writeFile(file, '');
    const errors: Error[] = [];
    const traced = spooledTracer({ dir: join(file, 'spool'), onError: (e) => errors.push(e) });
    traced.endRequests(1);
    await expect(traced.spool.durable()).rejects.toMatchObject({ code: 'audit_unavailable' });
    expect(errors.length).toBeGreaterThan(0);
    expect(traced.spool.accepting()).toBe(false);
    expect(traced.spool.counters.droppedSpans).toBe(2);
    await traced.shutdown();
  });

  it('bounds memory: spans beyond maxQueuedSpans are dropped and fail their batch when required', async () => {
    const required = await setup({ maxQueuedSpans: 10 });
    required.endRequests(10);
    expect(required.spool.accepting()).toBe(false);
    await expect(required.spool.durable()).rejects.toMatchObject({ code: 'audit_unavailable' });
    expect(required.spool.counters.droppedSpans).toBe(10);

    const lenient = await setup({ maxQueuedSpans: 10, mode: 'best-effort' });
    lenient.endRequests(10);
    await lenient.spool.durable();
    expect(lenient.spool.counters.droppedSpans).toBe(10);
    expect(lenient.spool.counters.spooledSpans).toBe(10);
  });

  it('shutdown is safe twice and without start, and creates nothing', async () => {
    const { dir, remove } = await tempDir();
    cleanups.push(remove);
    const spool = new AuditSpool({ dir: join(dir, 'never'), maxBytes: 1 << 20, mode: 'required' });
    await spool.shutdown();
    await spool.shutdown();
    await expect(readdir(dir)).resolves.toEqual([]);
  });

  it('writes queued spans on shutdown', async () => {
    const { spool, endRequests, shutdown } = await setup();
    endRequests(5);
    await shutdown();
    expect(spool.counters.spooledSpans).toBe(10);
    await shutdown();
  });

  it('rotates segments at segmentBytes and detects a torn tail', async () => {
    const { spool, endRequests, dir } = await setup({ segmentBytes: 4096 });
    for (let i = 0; i < 20; i++) {
      endRequests(5);
      await spool.durable();
    }
    await spool.shutdown();
    const segments = await listSegments(dir);
    expect(segments.length).toBeGreaterThan(2);
    const last = segments.filter((segment) => segment.bytes > 0).at(-1)!;
    const whole = await readFrames(dir, last.segment, 0, last.bytes, 1 << 20);
    expect(whole.torn).toBe(false);
    // A crash mid-write leaves a frame whose header promises more than the file holds.
    const torn = Buffer.alloc(FRAME_HEADER_BYTES + 10);
    torn.writeUInt32LE(0x31534847, 0);
    torn.writeUInt32LE(500, 4);
    await appendFile(segmentPath(dir, last.segment), torn);
    const size = (await stat(segmentPath(dir, last.segment))).size;
    const read = await readFrames(dir, last.segment, 0, size, 1 << 20);
    expect(read.frames).toHaveLength(whole.frames.length);
    expect(read.end).toBe(whole.end);
    const after = await readFrames(dir, last.segment, read.end, size, 1 << 20);
    expect(after).toMatchObject({ frames: [], end: whole.end, torn: true });
    // A flipped payload byte fails the CRC.
    const bytes = await readFile(segmentPath(dir, last.segment));
    bytes[FRAME_HEADER_BYTES + 3]! ^= 0xff;
    expect(scanFrames(bytes, 0)).toMatchObject({ kind: 'torn', frames: [], end: 0 });
  });
});
