/**
 * The `gatehouse` command. Every subcommand is registered here, in one table.
 */
import { keysCommand } from './keys.js';
import { startCommand } from './start.js';

type Command = (argv: string[]) => Promise<number>;

const COMMANDS: Record<string, { run: Command; help: string }> = {
  start: { run: startCommand, help: 'start the gateway (embedded default when no --config)' },
  proxy: { run: startCommand, help: 'start the proxy alone (for several replicas)' },
  keys: { run: keysCommand, help: 'create a virtual key, or hash one for the config' },
};

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
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
