/**
 * `gatehouse console-keys create|list|revoke`: the people who may open the web
 * console (docs/console.md). Only hashes are kept, in
 * `<data dir>/console-keys.json` (mode 0600), which a running console re-reads
 * within seconds; a revoked key's sessions end at their next request.
 */
import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { generateConsoleKey, hashKey } from '../../proxy/identity/keyHash.js';
import { CONSOLE_KEY_ID_RULE, CONSOLE_ROLES, consoleKeysPath, GLOBAL_TENANT, readConsoleKeys, validConsoleKeyId, writeConsoleKeys, type ConsoleRole } from '../console/consoleKeys.js';
import { parse, UsageError } from './arguments.js';
import { storeLocation, type CommandIO } from './commandIO.js';

const USAGE = 'usage: gatehouse console-keys create --id ID --role viewer|auditor|approver|admin --tenant TENANT|"*" [--user USER] | list | revoke --id ID  [--data-dir DIR | --file FILE]';

export async function consoleKeysCommand(argv: string[], io: CommandIO): Promise<number> {
  const [action, ...rest] = argv;
  const { values } = parse(rest, {
    id: { type: 'string' }, role: { type: 'string' }, tenant: { type: 'string' }, user: { type: 'string' },
    'data-dir': { type: 'string' }, file: { type: 'string' },
  });
  const file = values.file ?? consoleKeysPath(storeLocation({ 'data-dir': values['data-dir'] }).dataDir);
  const keys = await readConsoleKeys(file);
  switch (action) {
    case 'create': {
      const { id, role, tenant, user } = values;
      if (id === undefined || role === undefined || tenant === undefined) throw new UsageError(`--id, --role and --tenant are required\n${USAGE}`);
      if (!validConsoleKeyId(id)) throw new UsageError(`--id '${id}': expected ${CONSOLE_KEY_ID_RULE}`);
      if (!(CONSOLE_ROLES as readonly string[]).includes(role)) throw new UsageError(`--role '${role}': one of ${CONSOLE_ROLES.join(', ')}`);
      if (role === 'approver' && (user === undefined || tenant === GLOBAL_TENANT)) throw new UsageError('an approver key needs --user (decisions are recorded under it) and one --tenant (approvals belong to a tenant)');
      if (keys.some((k) => k.id === id)) throw new UsageError(`a console key with id '${id}' exists; revoke it first, or pick another id`);
      const key = generateConsoleKey();
      await mkdir(dirname(file), { recursive: true, mode: 0o700 });
      await writeConsoleKeys(file, [...keys, {
        id, hash: hashKey(key), role: role as ConsoleRole, tenant, ...(user !== undefined ? { user } : {}), created_at: new Date().toISOString(),
      }]);
      io.err(`Give this key to ${user ?? id} (${role}, ${tenant === GLOBAL_TENANT ? 'all tenants' : `tenant ${tenant}`}); only its hash is kept, in ${file}:`);
      io.out(key);
      return 0;
    }
    case 'list':
      if (keys.length === 0) io.out(`no console keys in ${file}`);
      for (const k of keys) io.out(`${k.id}\t${k.role}\t${k.tenant}\t${k.user ?? '-'}\t${k.created_at ?? ''}`);
      return 0;
    case 'revoke': {
      const id = values.id;
      if (id === undefined) throw new UsageError(`--id is required\n${USAGE}`);
      if (!keys.some((k) => k.id === id)) {
        io.err(`no console key with id '${id}' in ${file}`);
        return 1;
      }
      await writeConsoleKeys(file, keys.filter((k) => k.id !== id));
      io.out(`revoked console key '${id}'; its sessions end at their next request`);
      return 0;
    }
    default:
      throw new UsageError(USAGE);
  }
}
