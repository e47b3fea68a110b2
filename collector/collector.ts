/**
 * The collector process: OTLP/HTTP receiver -> audit writer (DuckDB) ->
 * forwarders, plus optional periodic retention and the admin endpoint that
 * lets `gatehouse audit ...` commands run against the open store while the
 * collector holds the DuckDB file. Started downstream-first (store, then
 * forwarders, then the HTTP listener) and stopped in reverse.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { rm, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { openStore, shareStore, storeLocation, type StoreHandle } from './cli/commandIO.js';
import { applyRetention } from './export/retention.js';
import { IngestStats } from './ingestStats.js';
import { Forwarder, type ForwardTarget } from './otlp/forwarder.js';
import { IngestKeys, ingestKeysPath, type IngestKeySecret } from './otlp/ingestKeys.js';
import { handleTraces, TRACES_PATH } from './otlp/receiver.js';
import type { WriterOptions } from './store/auditWriter.js';
import { log } from '../proxy/log.js';

export const ADMIN_FILE = 'collector.json';
export const ADMIN_PATH = '/admin/command';

export interface CollectorOptions extends WriterOptions {
  /** Directory of the DuckDB file and the signing key. Default $GATEHOUSE_DATA_DIR or ./data. */
  dataDir?: string;
  host?: string;
  /** 0 picks a free port. Default 4318 (the OTLP/HTTP port). */
  port?: number;
  maxBodyBytes?: number;
  forward?: ForwardTarget[];
  /** Delete exported segments older than this many days (checked hourly). */
  retentionDays?: number;
  /** Ingest keys held in memory (the embedded default's own proxy), in addition to the file's. */
  ingestKeys?: IngestKeySecret[];
  /** The ingest keys file. Default `<dataDir>/ingest-keys.json`. */
  ingestKeysFile?: string;
  /** `reject` (default): 401 for spans without a valid ingest key; `forward`: forward them, never record them. */
  unauthenticated?: 'reject' | 'forward';
  /** Runs a CLI command in this process (wired by cli/index.ts to avoid an import cycle). */
  runCommand?: (name: string, argv: string[], store: StoreHandle) => Promise<{ code: number; stdout: string; stderr: string }>;
}

export interface RunningCollector {
  /** Base URL, e.g. http://127.0.0.1:4318; traces go to `${url}/v1/traces`. */
  url: string;
  tracesUrl: string;
  store: StoreHandle;
  forwarder: Forwarder;
  ingest: IngestStats;
  /** Stops accepting, drains, signs the head, closes the store. Safe to call twice. */
  stop(): Promise<void>;
}

async function readJson(req: IncomingMessage, limit: number): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) throw new Error('body too large');
    chunks.push(chunk as Buffer);
  }
  return JSON.parse(Buffer.concat(chunks).toString('utf8'));
}

function json(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

export async function startCollector(options: CollectorOptions = {}): Promise<RunningCollector> {
  const location = storeLocation({ 'data-dir': options.dataDir });
  const store = await openStore(location, 'write', options);
  const writer = store.writer;
  if (writer === undefined) throw new Error('store opened without a writer');
  const unshare = shareStore(store, location.dbFile);
  const forwarder = new Forwarder(options.forward ?? []);
  const keys = await IngestKeys.open(options.ingestKeysFile ?? ingestKeysPath(store.dataDir), options.ingestKeys ?? []);
  if (keys.size === 0) log.warn('collector: no ingest keys; every span will be refused until one is created (gatehouse ingest-keys create --id <replica>)', { file: keys.file });
  const stats = new IngestStats();
  const unauthenticated = options.unauthenticated ?? 'reject';
  const token = randomBytes(32).toString('hex');
  let stopping = false;

  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    const route = async (): Promise<void> => {
      if (path === TRACES_PATH) {
        if (stopping) return json(res, 503, { code: 14, message: 'collector is stopping' });
        return handleTraces(req, res, {
          maxBodyBytes: options.maxBodyBytes,
          authenticate: (authorization) => keys.authenticate(authorization),
          unauthenticated,
          refused: (reason, request) => stats.refused(reason, request, unauthenticated === 'forward'),
          ingest: async (decoded, instance) => {
            const result = await writer.ingest(decoded.spans, instance);
            stats.recordedFrom(instance, result.recorded, result.duplicateRequestIds);
          },
          received: forwarder.enabled ? (body, decoded, type) => forwarder.forward(body, decoded, type) : undefined,
        });
      }
      if (path === '/healthz') {
        return json(res, 200, { status: 'ok', chain_id: writer.chainId, last_seq: writer.lastSeq, ingest: stats.snapshot(), forward: forwarder.snapshot() });
      }
      if (path === '/metrics' && (req.method === 'GET' || req.method === 'HEAD')) return stats.serveMetrics(req, res);
      if (path === ADMIN_PATH && req.method === 'POST' && options.runCommand) {
        const given = Buffer.from((req.headers.authorization ?? '').replace(/^Bearer /, ''));
        if (given.length !== token.length || !timingSafeEqual(given, Buffer.from(token))) return json(res, 401, { error: 'bad token' });
        const body = (await readJson(req, 1 << 20)) as { command?: unknown; argv?: unknown };
        if (typeof body.command !== 'string' || !Array.isArray(body.argv)) return json(res, 400, { error: 'command and argv required' });
        return json(res, 200, await options.runCommand(body.command, body.argv.map(String), store));
      }
      return json(res, 404, { error: 'not found' });
    };
    route().catch(() => { if (!res.headersSent) json(res, 500, { error: 'internal error' }); else res.destroy(); });
  });
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port ?? 4318, options.host ?? '127.0.0.1', () => resolve());
    });
  } catch (error) {
    // E.g. the port is taken (the embedded default then retries on a free port): let go of the store first.
    // A DuckDB instance left open on the file would write its stale state back over the retry's at exit.
    keys.close();
    await stats.shutdown();
    unshare();
    await store.close();
    throw error;
  }
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const url = `http://${host}:${address.port}`;
  const adminFile = join(store.dataDir, ADMIN_FILE);
  await writeFile(adminFile, JSON.stringify({ url, token, pid: process.pid }), { mode: 0o600 });

  let retention: NodeJS.Timeout | undefined;
  if (options.retentionDays !== undefined) {
    const days = options.retentionDays;
    retention = setInterval(() => {
      void writer.exclusive(() => applyRetention(store.db, writer, { days })).catch(() => undefined);
    }, 3_600_000);
    retention.unref();
  }

  let stopped: Promise<void> | undefined;
  return {
    url,
    tracesUrl: `${url}${TRACES_PATH}`,
    store,
    forwarder,
    ingest: stats,
    stop() {
      stopped ??= (async () => {
        stopping = true;
        clearInterval(retention);
        await new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeIdleConnections();
        });
        await forwarder.drain();
        keys.close();
        await stats.shutdown();
        await rm(adminFile, { force: true });
        unshare();
        await store.close();
      })();
      return stopped;
    },
  };
}
