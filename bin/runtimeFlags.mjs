// The V8 heap settings the long-running commands (start, proxy, collector) run with.
//
// Why: V8 sizes the young generation from the machine's memory. On Node 24 with
// 24 GiB it grows to 64 MB (two 32 MB semi-spaces; Node 20 stopped at 32 MB),
// and a gateway under load fills all of it, which alone pushed a replica's peak
// RSS past 300 MB. 16 MB semi-spaces (Node 20's size) gave the lowest peak RSS
// of the values measured with `npm run bench:heap`; 8 MB promoted more
// short-lived objects to the old space, which raised the RSS again. The
// figures are in docs/operations.md ("Memory per replica").
//
// How: heap flags only take effect on the command line (v8.setFlagsFromString
// is read once, when the heap is set up), so the launcher re-executes itself
// with them in place (process.execve, Node >= 22.15: same pid, same stdio, no
// parent left behind). `--workers` forks inherit them through execArgv.
//
// Operators choose with GATEHOUSE_NODE_FLAGS: its value replaces the defaults
// ("" runs with V8's own). Flags already given to node (on its command line or
// in NODE_OPTIONS) for the same settings win, and nothing is re-executed.
const DEFAULT_FLAGS = ['--max-semi-space-size=16'];
const LONG_RUNNING = new Set(['start', 'proxy', 'collector']);
const APPLIED_ENV = 'GATEHOUSE_NODE_FLAGS_APPLIED';

/** One V8/node option as GATEHOUSE_NODE_FLAGS takes it: `--name` or `--name=value`, no spaces, no quotes. */
const FLAG = /^--[a-z][a-z0-9_-]*(=[^\s"']+)?$/i;

/**
 * The flags to add for this invocation, or [] when none are (or can be) added.
 * Throws a message for a GATEHOUSE_NODE_FLAGS value that is not a list of flags
 * (a bare word would become node's entry script, `-e`/`-p` would run code).
 */
export function runtimeFlags(argv = process.argv, env = process.env, execArgv = process.execArgv) {
  if (!LONG_RUNNING.has(argv[2] ?? '') || env[APPLIED_ENV] === '1') return [];
  const chosen = env.GATEHOUSE_NODE_FLAGS === undefined ? DEFAULT_FLAGS : env.GATEHOUSE_NODE_FLAGS.split(/\s+/).filter(Boolean);
  const wrong = chosen.find((flag) => !FLAG.test(flag));
  if (wrong !== undefined) throw new Error(`GATEHOUSE_NODE_FLAGS: expected node options written --name or --name=value, separated by spaces; got '${wrong}'`);
  const given = [...execArgv, ...(env.NODE_OPTIONS ?? '').split(/\s+/)];
  const name = (flag) => flag.replace(/^["']+/, '').split('=')[0].replaceAll('_', '-');
  return chosen.filter((flag) => !given.some((other) => name(other) === name(flag)));
}

/** Re-executes node with the runtime flags when any are missing; returns only when it did not. */
export function applyRuntimeFlags() {
  if (process.env[APPLIED_ENV] === '1') {
    delete process.env[APPLIED_ENV]; // not inherited by anything this process starts
    return;
  }
  let flags;
  try {
    flags = runtimeFlags();
  } catch (error) {
    process.stderr.write(`gatehouse: ${error.message}\n`);
    process.exit(2);
  }
  if (flags.length === 0 || typeof process.execve !== 'function' || process.platform === 'win32') return;
  try {
    process.execve(process.execPath, [process.execPath, ...flags, ...process.execArgv, ...process.argv.slice(1)], { ...process.env, [APPLIED_ENV]: '1' });
  } catch (error) {
    // Refused before exec (the permission model, a platform without it): run without the flags, and say so.
    process.stderr.write(`gatehouse: could not re-execute with ${flags.join(' ')} (${error.code ?? error.message}); running with V8's heap defaults\n`);
  }
}
