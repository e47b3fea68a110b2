/** Runs one collector CLI command in its own process: `node --import tsx cliProcess.ts 'report costs' --by team ...`. */
import { collectorCommands } from '../../collector/cli/index.js';

const [name, ...argv] = process.argv.slice(2);
const command = name === undefined ? undefined : collectorCommands[name];
if (command === undefined) {
  process.stderr.write(`unknown command ${name ?? ''}\n`);
  process.exit(2);
}
process.exitCode = await command(argv);
