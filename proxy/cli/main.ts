/**
 * The `gatehouse` command. Every subcommand is registered here, in one table.
 */
import { collectorCommands } from '../../collector/cli/index.js';
import { keysCommand } from './keys.js';
import { proxyCommand, startCommand } from './start.js';

type Command = (argv: string[]) => Promise<number>;

const COMMANDS: Record<string, { run: Command; help: string }> = {
  start: { run: startCommand, help: 'start the gateway (embedded default when no --config)' },
  proxy: { run: proxyCommand, help: 'start the proxy alone (for several replicas); ships to audit.collectorUrl' },
  collector: { run: need('collector'), help: 'start the collector alone (OTLP receiver, audit trail, rollups)' },
  'audit export': { run: need('audit export'), help: 'export records to zstd Parquet (or CSV) with a manifest' },
  'audit verify': { run: need('audit verify'), help: 'verify the chain and signatures of the store or an export' },
  'audit show': { run: need('audit show'), help: 'show one request\'s full record' },
  'audit search': { run: need('audit search'), help: 'find requests by user, agent and time' },
  'audit retention': { run: need('audit retention'), help: 'delete whole exported segments past retention' },
  'audit public-key': { run: need('audit public-key'), help: 'print the checkpoint signing public key' },
  'report costs': { run: need('report costs'), help: 'cost by team, user, agent, model or prompt version' },
  keys: { run: keysCommand, help: 'create a virtual key, or hash one for the config' },
};

function need(name: string): Command {
  const command = collectorCommands[name];
  if (!command) throw new Error(`collector command '${name}' is not registered`);
  return command;
}

async function main(argv: string[]): Promise<number> {
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
    process.stderr.write(`gatehouse: ${(error as Error).stack ?? String(error)}\n`);
    process.exitCode = 1;
  },
);
