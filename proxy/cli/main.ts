/**
 * The `gatehouse` command. Every subcommand is registered here, in one table.
 */
import { restrictUmask } from '../privateFiles.js';

type Command = (argv: string[]) => Promise<number>;

// Each command loads its module on first use: `gatehouse audit show` does not load the gateway.
const start: Command = async (argv) => (await import('./start.js')).startCommand(argv);
const proxy: Command = async (argv) => (await import('./start.js')).proxyCommand(argv);
const keys: Command = async (argv) => (await import('./keys.js')).keysCommand(argv);

function agentsAdmin(action: 'suspend' | 'resume' | 'decommission'): Command {
  return async (argv) => (await import('./agentsAdmin.js')).agentsAdminCommand(action, argv);
}

function approvals(action: 'list' | 'show' | 'approve' | 'deny'): Command {
  return async (argv) => (await import('./approvals.js')).approvalsCommand(action, argv);
}

function prompts(action: 'list' | 'show' | 'render' | 'check' | 'lock'): Command {
  return async (argv) => (await import('./prompts.js')).promptsCommand(action, argv);
}

const readiness: Command = async (argv) => (await import('./readiness.js')).readinessCommand(argv);
const evaluate: Command = async (argv) => (await import('./eval.js')).evalCommand(argv);

function collector(name: string): Command {
  return async (argv) => {
    const command = (await import('../../collector/cli/index.js')).collectorCommands[name];
    if (!command) throw new Error(`collector command '${name}' is not registered`);
    return command(argv);
  };
}

const COMMANDS: Record<string, { run: Command; help: string }> = {
  start: { run: start, help: 'start the gateway (embedded default when no --config)' },
  proxy: { run: proxy, help: 'start the proxy alone (for several replicas); ships to audit.collectorUrl' },
  collector: { run: collector('collector'), help: 'start the collector alone (OTLP receiver, audit trail, rollups)' },
  'audit export': { run: collector('audit export'), help: 'export records to zstd Parquet (or CSV) with a manifest' },
  'audit verify': { run: collector('audit verify'), help: 'verify the chain and signatures of the store or an export' },
  'audit show': { run: collector('audit show'), help: "show one request's full record" },
  'audit search': { run: collector('audit search'), help: 'find requests by user, agent and time' },
  'audit retention': { run: collector('audit retention'), help: 'delete whole exported segments past retention' },
  'audit public-key': { run: collector('audit public-key'), help: 'print the checkpoint signing public key' },
  'report costs': { run: collector('report costs'), help: 'cost by team, user, agent, model or prompt version' },
  'report tools': { run: collector('report tools'), help: 'MCP tool calls by tool, server, agent, user or tenant, and how they ended' },
  'agents list': { run: collector('agents list'), help: 'the agent inventory: owner, purpose, status, models, tools, data, activity' },
  'agents export': { run: collector('agents export'), help: 'the agent inventory as CSV, Parquet or JSON' },
  'agents unregistered': { run: collector('agents unregistered'), help: 'agents that called without being registered' },
  'agents suspend': { run: agentsAdmin('suspend'), help: 'suspend an agent on every replica (recorded in the audit trail)' },
  'agents resume': { run: agentsAdmin('resume'), help: 'resume a suspended agent' },
  'agents decommission': { run: agentsAdmin('decommission'), help: 'decommission an agent for good' },
  'approvals list': { run: approvals('list'), help: 'tool calls waiting for approval (and decided ones: --status)' },
  'approvals show': { run: approvals('show'), help: 'one approval: the call, its arguments, who decided what' },
  'approvals approve': { run: approvals('approve'), help: 'approve a held tool call, as the approver key\'s user' },
  'approvals deny': { run: approvals('deny'), help: 'deny a held tool call' },
  'prompts list': { run: prompts('list'), help: 'the prompt registry: every prompt, its versions and labels' },
  'prompts show': { run: prompts('show'), help: 'one prompt version (by --version or --label, default production)' },
  'prompts render': { run: prompts('render'), help: 'render a prompt version with --vars JSON, as the gateway would' },
  'prompts check': { run: prompts('check'), help: 'for CI: the files, immutability of released versions, labels, variables' },
  'prompts lock': { run: prompts('lock'), help: 'release new version files into versions.lock (never changes a released one)' },
  'prompts history': { run: collector('prompts history'), help: "a prompt's label moves (deploys and rollbacks) from the audit trail" },
  'prompts impact': { run: collector('prompts impact'), help: 'which requests a prompt version affected, against the version before' },
  eval: { run: evaluate, help: 'run a golden dataset against a prompt version through the real pipeline, and gate on it (JUnit, JSON)' },
  readiness: { run: readiness, help: 'check a deployment is ready to hand over: limits, attribution, audit, prompts, failover, agents, tools, secrets, prices' },
  keys: { run: keys, help: 'create a virtual key, or hash one for the config' },
  'ingest-keys': { run: collector('ingest-keys'), help: 'create, list or revoke the keys gateway instances use to write the audit trail' },
  'console-keys': { run: collector('console-keys'), help: 'create, list or revoke the keys people use to open the web console (roles viewer, auditor, approver, admin)' },
};

async function main(argv: string[]): Promise<number> {
  // Everything Gatehouse writes (spool, audit store, keys, exports) is private to the service user.
  restrictUmask();
  const [first, second, ...others] = argv;
  // Two-word commands: `audit export`, `report costs`, ...
  const pair = first && second ? `${first} ${second}` : undefined;
  const name = pair && COMMANDS[pair] ? pair : first;
  const rest = pair && COMMANDS[pair] ? others : argv.slice(1);
  const command = name ? COMMANDS[name] : undefined;
  if (!command) {
    const width = Math.max(...Object.keys(COMMANDS).map((n) => n.length));
    process.stderr.write(
      `usage: gatehouse <command> [options]\n\n${Object.entries(COMMANDS)
        .map(([n, c]) => `  ${n.padEnd(width)}  ${c.help}`)
        .join('\n')}\n`,
    );
    return name ? 2 : 0;
  }
  return command.run(rest);
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    // An unknown option or a missing option value is the caller's mistake: a one-line message and exit 2.
    if (String((error as { code?: unknown }).code).startsWith('ERR_PARSE_ARGS_')) {
      process.stderr.write(`gatehouse: ${(error as Error).message}\n`);
      process.exitCode = 2;
      return;
    }
    process.stderr.write(`gatehouse: ${(error as Error).stack ?? String(error)}\n`);
    process.exitCode = 1;
  },
);
