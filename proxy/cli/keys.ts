/** `gatehouse keys create|hash`: mint a virtual key and print the config entry that holds only its hash. */
import { parseArgs } from 'node:util';
import { stringify } from 'yaml';
import { generateKey, hashKey } from '../identity/keyHash.js';

export async function keysCommand(argv: string[]): Promise<number> {
  const [action, ...rest] = argv;
  if (action === 'hash') {
    const key = rest[0] ?? (await readStdin());
    if (!key) return usage();
    process.stdout.write(`${hashKey(key.trim())}\n`);
    return 0;
  }
  if (action !== 'create') return usage();
  const { values } = parseArgs({
    args: rest,
    options: {
      id: { type: 'string' },
      tenant: { type: 'string' },
      team: { type: 'string' },
      user: { type: 'string' },
      agent: { type: 'string' },
      feature: { type: 'string' },
      'allow-headers': { type: 'string' },
      roles: { type: 'string' },
    },
    strict: true,
  });
  if (!values.id || !values.tenant) {
    process.stderr.write('gatehouse keys create: --id and --tenant are required\n');
    return 2;
  }
  const key = generateKey();
  const entry: Record<string, unknown> = { id: values.id, hash: hashKey(key), tenant: values.tenant };
  for (const field of ['team', 'user', 'agent', 'feature'] as const) if (values[field]) entry[field] = values[field];
  if (values['allow-headers']) entry.allowHeaders = values['allow-headers'].split(',');
  if (values.roles) {
    const roles = values.roles.split(',');
    const unknown = roles.filter((r) => r !== 'agents:admin' && r !== 'approver');
    if (unknown.length > 0) {
      process.stderr.write(`gatehouse keys create: --roles: unknown role ${unknown.join(', ')}; known: agents:admin, approver\n`);
      return 2;
    }
    if (roles.includes('approver') && !values.user) {
      process.stderr.write('gatehouse keys create: an approver key needs --user (the person who approves)\n');
      return 2;
    }
    entry.roles = roles;
  }
  process.stderr.write('Give this key to the caller; it is not stored anywhere and cannot be shown again:\n');
  process.stdout.write(`${key}\n`);
  process.stderr.write('\nAdd this entry under `keys:` in the config:\n');
  process.stderr.write(stringify([entry]));
  return 0;
}

function usage(): number {
  process.stderr.write('usage: gatehouse keys create --id ID --tenant T [--team T --user U --agent A --feature F --allow-headers user,feature --roles agents:admin,approver]\n       gatehouse keys hash KEY\n');
  return 2;
}

async function readStdin(): Promise<string> {
  if (process.stdin.isTTY) return '';
  let text = '';
  for await (const chunk of process.stdin) text += chunk;
  return text;
}
