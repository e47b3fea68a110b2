/**
 * The collector's CLI commands, for the `gatehouse` CLI to dispatch to:
 * `collectorCommands[name](remainingArgv)` resolves to the exit code
 * (0 ok, 1 failed check or not found, 2 usage error). When a running collector
 * holds the DuckDB file, store commands are sent to it over its admin endpoint
 * (token in `<data dir>/collector.json`, mode 0600) and run in its process.
 */
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { ADMIN_FILE, ADMIN_PATH, startCollector as startCollectorProcess, type CollectorOptions, type RunningCollector } from '../collector.js';
import { STORE_OPTIONS, UsageError } from './arguments.js';
import { auditExportCommand, auditPublicKeyCommand, auditRetentionCommand, auditVerifyCommand } from './auditCommands.js';
import { collectorCommand } from './collectorCommand.js';
import { consoleKeysCommand } from './consoleKeysCommand.js';
import { ingestKeysCommand } from './ingestKeysCommand.js';
import { isLockError, shellIO, storeLocation, type CommandIO, type StoreHandle } from './commandIO.js';
import { auditSearchCommand, auditShowCommand, reportCostsCommand, reportToolsCommand } from './reportCommands.js';
import { agentsExportCommand, agentsListCommand, agentsUnregisteredCommand } from './agentsCommands.js';
import { promptsHistoryCommand, promptsImpactCommand } from './promptCommands.js';

type Command = (argv: string[], io: CommandIO) => Promise<number>;

const STORE_COMMANDS: Record<string, Command> = {
  'audit export': auditExportCommand,
  'audit verify': auditVerifyCommand,
  'audit show': auditShowCommand,
  'audit search': auditSearchCommand,
  'audit retention': auditRetentionCommand,
  'audit public-key': auditPublicKeyCommand,
  'report costs': reportCostsCommand,
  'report tools': reportToolsCommand,
  'agents list': agentsListCommand,
  'agents export': agentsExportCommand,
  'agents unregistered': agentsUnregisteredCommand,
  'prompts history': promptsHistoryCommand,
  'prompts impact': promptsImpactCommand,
};

async function execute(command: Command, argv: string[], io: CommandIO): Promise<number> {
  try {
    return await command(argv, io);
  } catch (error) {
    if (error instanceof UsageError) {
      io.err(`usage error: ${error.message}`);
      return 2;
    }
    throw error;
  }
}

/** Runs a store command inside a running collector, against its open store. */
export async function runInCollector(name: string, argv: string[], store: StoreHandle): Promise<{ code: number; stdout: string; stderr: string }> {
  const command = STORE_COMMANDS[name];
  if (command === undefined) return { code: 2, stdout: '', stderr: `unknown command '${name}'` };
  const stdout: string[] = [];
  const stderr: string[] = [];
  const io: CommandIO = {
    out: (t) => stdout.push(t),
    err: (t) => stderr.push(t),
    store: async () => ({ ...store, close: async () => undefined }),
  };
  try {
    const code = await execute(command, argv, io);
    return { code, stdout: stdout.join('\n'), stderr: stderr.join('\n') };
  } catch (error) {
    return { code: 1, stdout: stdout.join('\n'), stderr: [...stderr, `error: ${error instanceof Error ? error.message : String(error)}`].join('\n') };
  }
}

/** Options naming files or directories: resolved here, since the collector runs in another working directory. */
const PATH_OPTIONS = new Set(['--out', '--dir', '--db', '--data-dir', '--public-key', '--agents-dir', '--config', '--policies', '--tools']);

/** `argv` with the values of PATH_OPTIONS (`--out X` and `--out=X`) made absolute against this process's cwd. */
function absolutePaths(argv: string[]): string[] {
  return argv.map((arg, i) => {
    const [flag, value] = arg.startsWith('--') && arg.includes('=') ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)] : [arg, undefined];
    if (value !== undefined && PATH_OPTIONS.has(flag)) return `${flag}=${resolve(value)}`;
    const previous = argv[i - 1];
    return previous !== undefined && PATH_OPTIONS.has(previous) && !arg.startsWith('--') ? resolve(arg) : arg;
  });
}

async function runRemotely(name: string, argv: string[], io: CommandIO): Promise<number | undefined> {
  const { values } = parseArgs({ args: argv, options: STORE_OPTIONS, strict: false, allowPositionals: true });
  const location = storeLocation({ db: typeof values.db === 'string' ? values.db : undefined, 'data-dir': typeof values['data-dir'] === 'string' ? values['data-dir'] : undefined });
  let admin: { url: string; token: string };
  try {
    admin = JSON.parse(await readFile(join(location.dataDir, ADMIN_FILE), 'utf8')) as { url: string; token: string };
  } catch {
    return undefined;
  }
  const response = await fetch(`${admin.url}${ADMIN_PATH}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${admin.token}` },
    body: JSON.stringify({ command: name, argv: absolutePaths(argv) }),
  });
  if (!response.ok) return undefined;
  const result = (await response.json()) as { code: number; stdout: string; stderr: string };
  if (result.stdout) io.out(result.stdout);
  if (result.stderr) io.err(result.stderr);
  return result.code;
}

function shellCommand(name: string, command: Command): (argv: string[]) => Promise<number> {
  return async (argv) => {
    const io = shellIO();
    try {
      return await execute(command, argv, io);
    } catch (error) {
      if (isLockError(error)) {
        const code = await runRemotely(name, argv, io).catch(() => undefined);
        if (code !== undefined) return code;
        io.err('error: the audit database is in use by another process (a running collector?) and its admin endpoint did not answer');
        return 1;
      }
      io.err(`error: ${error instanceof Error ? error.message : String(error)}`);
      return 1;
    }
  };
}

export const collectorCommands: Record<string, (argv: string[]) => Promise<number>> = {
  collector: (argv) => execute((a, io) => collectorCommand(a, io, runInCollector), argv, shellIO()),
  'ingest-keys': (argv) => execute(ingestKeysCommand, argv, shellIO()),
  'console-keys': (argv) => execute(consoleKeysCommand, argv, shellIO()),
  ...Object.fromEntries(Object.entries(STORE_COMMANDS).map(([name, command]) => [name, shellCommand(name, command)])),
};

/**
 * Starts a collector in this process (port 0 and `dataDir` supported), with the
 * admin endpoint wired so `gatehouse audit ...` works while it runs.
 */
export function startCollector(options: CollectorOptions = {}): Promise<RunningCollector> {
  return startCollectorProcess({ runCommand: runInCollector, ...options });
}

export type { CollectorOptions, RunningCollector };
