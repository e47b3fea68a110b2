/**
 * `gatehouse ingest-keys create|list|revoke`: the keys that let gateway
 * instances write the audit trail. Only hashes are kept, in
 * `<data dir>/ingest-keys.json` (mode 0600), which a running collector re-reads
 * within seconds: no restart for a new replica or a revocation.
 */
import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { hashKey } from '../../proxy/identity/keyHash.js';
import { generateIngestKey, INGEST_KEY_ID_RULE, ingestKeysPath, readIngestKeys, validIngestKeyId, writeIngestKeys } from '../otlp/ingestKeys.js';
import { parse, UsageError } from './arguments.js';
import { storeLocation, type CommandIO } from './commandIO.js';

const USAGE = 'usage: gatehouse ingest-keys create --id ID | list | revoke --id ID  [--data-dir DIR | --file FILE]';

export async function ingestKeysCommand(argv: string[], io: CommandIO): Promise<number> {
  const [action, ...rest] = argv;
  const { values } = parse(rest, { id: { type: 'string' }, 'data-dir': { type: 'string' }, file: { type: 'string' } });
  const file = values.file ?? ingestKeysPath(storeLocation({ 'data-dir': values['data-dir'] }).dataDir);
  const keys = await readIngestKeys(file);
  switch (action) {
    case 'create': {
      const id = values.id;
      if (id === undefined) throw new UsageError(`--id is required\n${USAGE}`);
      if (!validIngestKeyId(id)) throw new UsageError(`--id '${id}': expected ${INGEST_KEY_ID_RULE}`);
      if (keys.some((k) => k.id === id)) throw new UsageError(`an ingest key with id '${id}' exists; revoke it first, or pick another id (rotation: create '${id}-2', move the replica, revoke '${id}')`);
      const key = generateIngestKey();
      await mkdir(dirname(file), { recursive: true, mode: 0o700 });
      // Validated by the same parser the collector uses before anything is written.
      await writeIngestKeys(file, [...keys, { id, hash: hashKey(key), created_at: new Date().toISOString() }]);
      io.err(`Give this key to gateway instance '${id}' (audit.collectorToken, or GATEHOUSE_INGEST_KEY); only its hash is kept, in ${file}:`);
      io.out(key);
      return 0;
    }
    case 'list':
      if (keys.length === 0) io.out(`no ingest keys in ${file}`);
      for (const k of keys) io.out(`${k.id}\t${k.hash.slice(0, 19)}…\t${k.created_at ?? ''}`);
      return 0;
    case 'revoke': {
      const id = values.id;
      if (id === undefined) throw new UsageError(`--id is required\n${USAGE}`);
      if (!keys.some((k) => k.id === id)) {
        io.err(`no ingest key with id '${id}' in ${file}`);
        return 1;
      }
      await writeIngestKeys(file, keys.filter((k) => k.id !== id));
      io.out(`revoked ingest key '${id}'; a running collector refuses it within seconds`);
      return 0;
    }
    default:
      throw new UsageError(USAGE);
  }
}
