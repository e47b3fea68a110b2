/** `gatehouse collector`: runs the collector until SIGINT/SIGTERM. */
import { startCollector, type CollectorOptions } from '../collector.js';
import type { ForwardTarget } from '../otlp/forwarder.js';
import { parse, parseCount, UsageError } from './arguments.js';
import type { CommandIO, StoreHandle } from './commandIO.js';

export type CommandRunner = (name: string, argv: string[], store: StoreHandle) => Promise<{ code: number; stdout: string; stderr: string }>;

export async function collectorCommand(argv: string[], io: CommandIO, runCommand: CommandRunner): Promise<number> {
  const { values } = parse(argv, {
    'data-dir': { type: 'string' }, host: { type: 'string' }, port: { type: 'string' },
    'checkpoint-every': { type: 'string' }, 'checkpoint-interval': { type: 'string' },
    forward: { type: 'string', multiple: true }, 'forward-strip-content': { type: 'boolean' },
    'no-content': { type: 'boolean' }, 'retention-days': { type: 'string' }, 'max-body-bytes': { type: 'string' },
    'ingest-keys': { type: 'string' }, unauthenticated: { type: 'string' }, 'memory-limit': { type: 'string' }, 'dedupe-days': { type: 'string' },
  });
  const memoryLimit = values['memory-limit'];
  if (memoryLimit !== undefined && !/^\d+(\.\d+)?\s*(KB|MB|GB|TB|KiB|MiB|GiB|TiB)$/i.test(memoryLimit)) throw new UsageError(`--memory-limit: '${memoryLimit}'; use a size such as 512MB or 2GB`);
  const unauthenticated = values.unauthenticated ?? 'reject';
  if (unauthenticated !== 'reject' && unauthenticated !== 'forward') throw new UsageError(`--unauthenticated: '${unauthenticated}'; use reject or forward`);
  const forward: ForwardTarget[] = (values.forward ?? []).map((url) => {
    if (!/^https?:\/\//.test(url)) throw new UsageError(`--forward: '${url}' is not an http(s) URL`);
    return { url, stripContent: values['forward-strip-content'] ?? false };
  });
  const options: CollectorOptions = {
    dataDir: values['data-dir'],
    host: values.host ?? '127.0.0.1',
    port: parseCount(values.port, '--port', 4318),
    checkpointEvery: parseCount(values['checkpoint-every'], '--checkpoint-every', 1000),
    checkpointIntervalMs: parseCount(values['checkpoint-interval'], '--checkpoint-interval', 10) * 1000,
    storeContent: !(values['no-content'] ?? false),
    forward,
    retentionDays: values['retention-days'] === undefined ? undefined : parseCount(values['retention-days'], '--retention-days', 0),
    maxBodyBytes: values['max-body-bytes'] === undefined ? undefined : parseCount(values['max-body-bytes'], '--max-body-bytes', 0),
    runCommand,
    unauthenticated,
    ...(values['ingest-keys'] ? { ingestKeysFile: values['ingest-keys'] } : {}),
    ...(memoryLimit ? { memoryLimit } : {}),
    ...(values['dedupe-days'] ? { dedupeDays: parseCount(values['dedupe-days'], '--dedupe-days', 7) } : {}),
  };
  const collector = await startCollector(options);
  io.out(`collector listening on ${collector.tracesUrl} (chain ${collector.store.writer?.chainId ?? '-'}, data in ${collector.store.dataDir})`);
  await new Promise<void>((resolve) => {
    const stop = (): void => { process.off('SIGINT', stop); process.off('SIGTERM', stop); resolve(); };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
  await collector.stop();
  io.out('collector stopped; head signed');
  return 0;
}
