import { spawn } from 'node:child_process';
import { appendFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { SpoolShipper } from '../../proxy/spool/index.js';
import { FRAME_HEADER_BYTES, FRAME_MAGIC } from '../../proxy/spool/frames.js';
import { listSegments, segmentPath } from '../../proxy/spool/segmentFiles.js';
import { startSink } from './otlpSink.js';
import { spooledTracer, tempDir, until } from './spoolFixture.js';

const child = fileURLToPath(new URL('./crashChild.ts', import.meta.url));
const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** Runs the child until it acknowledged at least `acks` requests, then SIGKILLs it; returns the acknowledged ids. */
function runAndKill(dir: string, acks: number): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, ['--import', 'tsx', child, dir], { stdio: ['ignore', 'pipe', 'inherit'] });
    const acknowledged: string[] = [];
    let buffered = '';
    let killed = false;
    proc.stdout.setEncoding('utf8');
    proc.stdout.on('data', (chunk: string) => {
      buffered += chunk;
      const lines = buffered.split('\n');
      buffered = lines.pop() ?? '';
      for (const line of lines) if (line !== 'ready') acknowledged.push(line);
      if (!killed && acknowledged.length >= acks) {
        killed = true;
        proc.kill('SIGKILL');
      }
    });
    proc.on('error', reject);
    proc.on('exit', (_code, signal) => {
      if (signal !== 'SIGKILL') reject(new Error(`child exited without being killed (${signal ?? _code})`));
      else resolve(acknowledged); // a partial last line was never acknowledged
    });
  });
}

describe('kill -9', () => {
  it('every request acknowledged before SIGKILL is shipped by the next process, torn tail skipped', async () => {
    const { dir, remove } = await tempDir();
    cleanups.push(remove);
    const acknowledged = await runAndKill(dir, 3_000);
    expect(acknowledged.length).toBeGreaterThanOrEqual(3_000);

    // Whatever the kill left, also simulate the worst case: a frame torn mid-write at the tail.
    const segments = await listSegments(dir);
    const torn = Buffer.alloc(FRAME_HEADER_BYTES + 7);
    torn.writeUInt32LE(FRAME_MAGIC, 0);
    torn.writeUInt32LE(4096, 4);
    await appendFile(segmentPath(dir, segments.at(-1)!.segment), torn);

    const sink = await startSink();
    cleanups.push(() => sink.close());
    const restarted = spooledTracer({ dir });
    cleanups.push(() => restarted.shutdown());
    const shipper = new SpoolShipper(restarted.spool, { endpoint: sink.url, lingerMs: 5 });
    cleanups.push(() => shipper.shutdown());
    await shipper.start();

    const received = new Set<string>();
    await until(() => {
      for (const id of sink.received.splice(0)) received.add(id);
      return acknowledged.every((id) => received.has(id));
    }, 20_000, 'every acknowledged span shipped');
    await until(() => restarted.spool.counters.tornFrames >= 1, 5_000, 'torn tail skipped');
  });
});
