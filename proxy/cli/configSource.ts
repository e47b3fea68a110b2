/** Where `gatehouse start|proxy` gets its config: --config, $GATEHOUSE_CONFIG, or the embedded default. */
import { resolve } from 'node:path';
import { embeddedDefault } from '../config/embedded.js';
import { loadConfigFile, parseConfig } from '../config/load.js';
import type { Config } from '../config/schema.js';

export interface ConfigSource {
  config: Config;
  /** Set for the embedded default: the demo key to print at start. */
  demoKey?: string;
  demoKeyFile?: string;
  source: string;
}

export async function resolveConfig(file: string | undefined, env: NodeJS.ProcessEnv = process.env, options: { persist?: boolean } = {}): Promise<ConfigSource> {
  const path = file ?? env.GATEHOUSE_CONFIG;
  if (path) return { config: await loadConfigFile(resolve(path), env), source: resolve(path) };
  const dataDir = resolve(env.GATEHOUSE_DATA_DIR ?? './data');
  const embedded = await embeddedDefault(dataDir, env, options);
  return {
    config: parseConfig(embedded.config, 'embedded default', env),
    demoKey: embedded.demoKey,
    demoKeyFile: embedded.demoKeyFile,
    source: 'embedded default',
  };
}
