/**
 * A spool on a file system that really fills up (a 256 KiB tmpfs): ENOSPC raises
 * the spool-full alarm (counters.full, the gauge SREs alert on), 'required' mode
 * stops admitting requests, repeated failures do not leave a trail of empty
 * segment files, and the spool recovers once space is freed. Needs root to mount
 * the tmpfs (CI runs as root; elsewhere the suite says it was skipped).
 */
import { execFileSync } from 'node:child_process';
import { mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeRequiring } from '../support/requiredTool.js';
import { spooledTracer } from './spoolFixture.js';

function canMount(): string | undefined {
  if (process.getuid?.() !== 0) return 'mounting a tmpfs needs root';
  try {
    execFileSync('mount', ['--version'], { stdio: 'ignore' });
    return undefined;
  } catch {
    return 'the mount command is missing';
  }
}

describeRequiring('spool on a full disk', canMount(), () => {
  let mountPoint: string;
  beforeAll(async () => {
    mountPoint = await mkdtemp(join(tmpdir(), 'gatehouse-fulldisk-'));
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=256k', 'tmpfs', mountPoint]);
  });
  afterAll(async () => {
    execFileSync('umount', [mountPoint]);
    await rm(mountPoint, { recursive: true, force: true });
  });

  it('raises the full alarm on ENOSPC, creates no empty segments, refuses new requests, and recovers when space returns', async () => {
    const dir = join(mountPoint, 'spool');
    const errors: Error[] = [];
    const traced = spooledTracer({ dir, maxBytes: 64 << 20, onError: (e) => errors.push(e) });
    const { spool } = traced;
    await spool.start();
    // Fill the file system with something else, leaving a little room.
    const filler = join(mountPoint, 'filler');
    await writeFile(filler, Buffer.alloc(200 * 1024));
    let rejected = 0;
    for (let i = 0; i < 200 && rejected === 0; i++) {
      traced.endRequests(20);
      await spool.durable().catch(() => rejected++);
    }
    expect(rejected).toBe(1);
    expect(spool.counters.full).toBe(1);
    expect(spool.accepting()).toBe(false);
    expect(errors.some((e) => e.name === 'SpoolFullError' && /ENOSPC/.test(e.message))).toBe(true);
    // More failing writes (after the hold, as new requests probe) never add empty files.
    const before = (await readdir(dir)).filter((f) => f.endsWith('.spool'));
    for (let i = 0; i < 5; i++) {
      await new Promise((r) => setTimeout(r, 1_050));
      expect(spool.accepting()).toBe(true);
      traced.endRequests(20);
      await spool.durable().catch(() => undefined);
      expect(spool.counters.full).toBe(1);
    }
    const after = (await readdir(dir)).filter((f) => f.endsWith('.spool'));
    expect(before.length).toBeGreaterThan(0);
    expect(after).toEqual(before);
    for (const file of after) expect((await stat(join(dir, file))).mode & 0o777).toBe(0o600);
    // Space comes back: the next write succeeds and the alarm clears.
    await rm(filler);
    await new Promise((r) => setTimeout(r, 1_050));
    traced.endRequests(5);
    await spool.durable();
    expect(spool.counters.full).toBe(0);
    expect(spool.accepting()).toBe(true);
    await traced.shutdown();
  }, 30_000);
});
