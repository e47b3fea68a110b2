/**
 * Starts the web console on its own port (default 127.0.0.1:4319), next to
 * the collector whose store it reads: a separate listener, so the OTLP port
 * can face the gateway replicas while the console stays where people are.
 * With no console key yet, it makes one global `admin` key and writes it to
 * `<dataDir>/console-admin.key` (0600), as the quick start's first login.
 */
import { writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { createAdaptorServer } from '@hono/node-server';
import { generateConsoleKey, hashKey } from '../../proxy/identity/keyHash.js';
import { log } from '../../proxy/log.js';
import type { StoreHandle } from '../cli/commandIO.js';
import { consoleApp } from './app.js';
import { ConsoleKeys, consoleKeysPath, GLOBAL_TENANT, writeConsoleKeys } from './consoleKeys.js';
import { ChainStatus } from './data/integrity.js';
import type { ConsoleDeps } from './deps.js';
import { Sessions } from './sessions.js';

export const ADMIN_KEY_FILE = 'console-admin.key';
/** The largest chain verified at start (about a second of hashing); beyond it, verification waits for an auditor's click. */
export const VERIFY_ON_START_MAX_RECORDS = 100_000;

export interface ConsoleOptions extends Omit<ConsoleDeps, 'store' | 'keys' | 'sessions' | 'chain' | 'exports' | 'warnFraction' | 'secureCookies' | 'foldDaily'> {
  store: StoreHandle;
  host?: string;
  /** 0 picks a free port; a taken port falls back to a free one. */
  port?: number;
  secureCookies?: boolean;
  warnFraction?: number;
  /** Verify the whole chain in the background at start (the integrity page's first status), up to VERIFY_ON_START_MAX_RECORDS. */
  verifyOnStart?: boolean;
}

export interface RunningConsole {
  url: string;
  /** Where the bootstrap admin key was written, when this start made one. */
  adminKeyFile: string | undefined;
  stop(): Promise<void>;
}

async function bootstrapAdmin(keys: ConsoleKeys, dataDir: string): Promise<string | undefined> {
  if (keys.size > 0) return undefined;
  const secret = generateConsoleKey();
  const file = join(dataDir, ADMIN_KEY_FILE);
  await writeFile(file, `${secret}\n`, { mode: 0o600 });
  await writeConsoleKeys(keys.file, [{ id: 'admin', hash: hashKey(secret), role: 'admin', tenant: GLOBAL_TENANT, created_at: new Date().toISOString() }]);
  await keys.reload();
  return file;
}

export async function startConsole(options: ConsoleOptions): Promise<RunningConsole> {
  const keys = await ConsoleKeys.open(consoleKeysPath(options.store.dataDir));
  const adminKeyFile = await bootstrapAdmin(keys, options.store.dataDir);
  const chain = new ChainStatus(options.store);
  const { store, host, port, secureCookies, warnFraction, verifyOnStart, ...rest } = options;
  const app = consoleApp({
    ...rest, store, keys, chain, sessions: new Sessions(keys), exports: new Map(),
    ...(store.writer ? { foldDaily: () => store.writer!.foldDaily() } : {}),
    warnFraction: warnFraction ?? 0.8, secureCookies: secureCookies ?? false,
  });
  const server = createAdaptorServer({ fetch: app.fetch });
  const listen = (p: number) => new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(p, host ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  try {
    await listen(port ?? 4319);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw error;
    log.warn('console port in use; the console listens on a free port instead', { port });
    await listen(0);
  }
  const address = server.address() as AddressInfo;
  const shown = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  // A full verification hashes every record on this thread: at start only for a store small enough not to
  // hold up the requests of the gateway in the same process; a larger chain is verified when an auditor asks.
  if (verifyOnStart ?? true) {
    void chain.state().then((state) => {
      if (Number(state.last_seq ?? 0) <= VERIFY_ON_START_MAX_RECORDS) void chain.verify();
    }).catch(() => undefined);
  }
  let stopped: Promise<void> | undefined;
  return {
    url: `http://${shown}:${address.port}`,
    adminKeyFile,
    stop() {
      stopped ??= (async () => {
        keys.close();
        await new Promise<void>((resolve) => {
          server.close(() => resolve());
          if ('closeAllConnections' in server) server.closeAllConnections();
        });
        // A running verification reads the store the collector is about to close.
        while (chain.verifying) await new Promise((r) => setTimeout(r, 20));
      })();
      return stopped;
    },
  };
}
