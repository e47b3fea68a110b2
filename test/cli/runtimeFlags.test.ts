/**
 * The launcher's V8 heap flags (bin/runtimeFlags.mjs, docs/operations.md "Memory
 * per replica"): which commands get them, how an operator replaces them, and that
 * a real start runs with them in the same process (re-executed, not a child).
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
// @ts-expect-error: a plain .mjs launcher module without type declarations
import { runtimeFlags } from '../../bin/runtimeFlags.mjs';

const CLI = join(fileURLToPath(new URL('../..', import.meta.url)), 'bin', 'gatehouse.mjs');
const flagsFor = runtimeFlags as (argv: string[], env: Record<string, string>, execArgv: string[]) => string[];
const argv = (...rest: string[]) => ['node', CLI, ...rest];

describe('runtime flags', () => {
  it('gives the long-running commands the default semi-space size, and nothing to the others', () => {
    for (const command of ['start', 'proxy', 'collector']) expect(flagsFor(argv(command), {}, [])).toEqual(['--max-semi-space-size=16']);
    for (const command of ['audit', 'keys', 'prompts', 'eval']) expect(flagsFor(argv(command), {}, [])).toEqual([]);
    expect(flagsFor(argv(), {}, [])).toEqual([]);
  });

  it('lets GATEHOUSE_NODE_FLAGS replace the defaults, and an empty value turn them off', () => {
    expect(flagsFor(argv('proxy'), { GATEHOUSE_NODE_FLAGS: '--max-semi-space-size=32  --max-old-space-size=512' }, [])).toEqual(['--max-semi-space-size=32', '--max-old-space-size=512']);
    expect(flagsFor(argv('proxy'), { GATEHOUSE_NODE_FLAGS: '' }, [])).toEqual([]);
  });

  it('keeps a setting the operator already gave node, on its command line or in NODE_OPTIONS', () => {
    expect(flagsFor(argv('start'), {}, ['--max-semi-space-size=32'])).toEqual([]);
    expect(flagsFor(argv('start'), { NODE_OPTIONS: '--max_semi_space_size=2' }, [])).toEqual([]);
    expect(flagsFor(argv('start'), { GATEHOUSE_NODE_FLAGS: '--max-semi-space-size=16 --max-old-space-size=512', NODE_OPTIONS: '--max-old-space-size=1024' }, [])).toEqual(['--max-semi-space-size=16']);
  });

  it('refuses a GATEHOUSE_NODE_FLAGS value that is not a list of --flags, and reads quoted NODE_OPTIONS', () => {
    for (const bad of ['-p 1+1', 'foo', '-e x', '--title="a b"', '--max-semi-space-size 32']) {
      expect(() => flagsFor(argv('proxy'), { GATEHOUSE_NODE_FLAGS: bad }, [])).toThrow(/GATEHOUSE_NODE_FLAGS: expected node options/);
    }
    expect(flagsFor(argv('start'), { NODE_OPTIONS: '"--max-semi-space-size=32"' }, [])).toEqual([]);
  });

  it('a bad GATEHOUSE_NODE_FLAGS stops the gateway with exit 2 and says why', async () => {
    const child = spawn(process.execPath, [CLI, 'proxy', '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, GATEHOUSE_NODE_FLAGS: '-p 1+1', NODE_OPTIONS: undefined } });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    expect(code).toBe(2);
    expect(stderr).toContain("GATEHOUSE_NODE_FLAGS: expected node options written --name or --name=value, separated by spaces; got '-p'");
  }, 30_000);

  it('does not re-execute a process that already applied them', () => {
    expect(flagsFor(argv('start'), { GATEHOUSE_NODE_FLAGS_APPLIED: '1' }, [])).toEqual([]);
  });

  // Needs process.execve (Node >= 22.15): npm test runs on the pinned Node 24, where a missing execve is a failure.
  it('a real proxy runs with them in the same process and says so in its banner', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'gatehouse-flags-'));
    try {
      await writeFile(join(dir, 'gatehouse.yaml'), [
        'providers: { sim: { type: simulated } }',
        'models: { gpt-4o-mini: { targets: [{ provider: sim, model: gpt-4o-mini }] } }',
        `dataDir: ${JSON.stringify(join(dir, 'data'))}`,
        'policy: { enabled: false }',
        'audit: { enabled: false }',
      ].join('\n'));
      const child = spawn(process.execPath, [CLI, 'proxy', '--config', join(dir, 'gatehouse.yaml'), '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, GATEHOUSE_NODE_FLAGS: undefined, NODE_OPTIONS: undefined } });
      try {
        let out = '';
        await new Promise<void>((resolve, reject) => {
          const timer = setTimeout(() => reject(new Error(`no banner: ${out}`)), 60_000);
          child.stdout.on('data', (chunk: Buffer) => {
            out += chunk.toString();
            if (out.includes('runtime:')) {
              clearTimeout(timer);
              resolve();
            }
          });
          child.once('exit', (code) => reject(new Error(`exited ${code}: ${out}`)));
        });
        await new Promise((r) => setTimeout(r, 100));
        expect(out).toMatch(/runtime: {4}Node \d+\.\d+\.\d+ \(heap: --max-semi-space-size=16\)/);
        // The pid the test started is the gateway: re-executed in place, no parent process left behind.
        const cmdline = (await readFile(`/proc/${child.pid}/cmdline`, 'utf8')).split('\0');
        expect(cmdline).toContain('--max-semi-space-size=16');
        expect(cmdline).toContain('proxy');
        const environ = await readFile(`/proc/${child.pid}/environ`, 'utf8');
        expect(environ).toContain('GATEHOUSE_NODE_FLAGS_APPLIED=1'); // the exec'd image's initial environment
      } finally {
        child.kill('SIGTERM');
        await new Promise((resolve) => child.once('exit', resolve));
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 90_000);
});
