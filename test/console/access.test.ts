/**
 * The console's access rules and data, over HTTP (the browser test drives the
 * same pages in Chromium): each role opens only its pages, a tenant's key sees
 * only its tenant, nothing is served without a key, sessions are HttpOnly
 * SameSite=Strict cookies, forms need the CSRF token and a same-origin Origin,
 * bad input is a 400, a revoked key's session ends, and the cost page's JSON
 * adds up to what the clients were charged.
 */
import { Agent, fetch as undiciFetch } from 'undici';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { collectorCommands } from '../../collector/cli/index.js';
import { captureStdout } from '../collector/support.js';
import { describeWithOpa } from '../support/policyFixture.js';
import { sendModelCalls, startConsoleGateway, untilRecorded, type ConsoleGateway } from './consoleGateway.js';

describeWithOpa('console: access and data', () => {
  let h: ConsoleGateway;
  let spent: Map<string, { requests: number; tokens: number }>;

  const api = (keyId: string, path: string) => fetch(`${h.web.url}/api${path}`, { headers: { authorization: `Bearer ${h.consoleKeys[keyId]}` } });
  async function login(keyId: string): Promise<{ cookie: string; csrf: string; setCookie: string }> {
    const response = await fetch(`${h.web.url}/login`, {
      method: 'POST', redirect: 'manual', headers: { origin: h.web.url, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ key: h.consoleKeys[keyId]! }),
    });
    expect(response.status).toBe(303);
    const setCookie = response.headers.get('set-cookie') ?? '';
    const cookie = setCookie.split(';')[0]!;
    const page = await (await fetch(`${h.web.url}/costs`, { headers: { cookie } })).text();
    const csrf = /name="_csrf" value="([^"]+)"/.exec(page)?.[1] ?? '';
    return { cookie, csrf, setCookie };
  }

  beforeAll(async () => {
    h = await startConsoleGateway();
    spent = await sendModelCalls(h.gw, { mailer: 3, payroll: 2, 'globex-user': 1 });
    await untilRecorded(h.collector, 6);
  }, 90_000);
  afterAll(async () => {
    await h?.stop();
  });

  it('serves nothing but the login page and assets without a key', async () => {
    for (const path of ['/', '/costs', '/requests', '/integrity', '/approvals', '/prompts', '/agents', '/budgets']) {
      const response = await fetch(`${h.web.url}${path}`, { redirect: 'manual' });
      expect(response.status, path).toBe(303);
      expect(response.headers.get('location')).toBe('/login');
    }
    expect((await fetch(`${h.web.url}/login`)).status).toBe(200);
    const api401 = await fetch(`${h.web.url}/api/costs`);
    expect(api401.status).toBe(401);
    expect((await api401.json() as { error: { code: string } }).error.code).toBe('unauthenticated');
    expect((await fetch(`${h.web.url}/api/costs`, { headers: { authorization: 'Bearer ghc_not-a-key' } })).status).toBe(401);
  });

  it('gives each role its pages only', async () => {
    const matrix: Record<string, Record<string, number>> = {
      vera: { '/costs': 200, '/budgets': 200, '/requests': 403, '/integrity': 403, '/agents': 403, '/approvals': 403, '/prompts': 403 },
      audrey: { '/costs': 200, '/budgets': 200, '/requests': 200, '/integrity': 200, '/agents': 200, '/approvals': 403, '/prompts': 200 },
      'erin-console': { '/costs': 403, '/requests': 403, '/integrity': 403, '/approvals': 200 },
      root: { '/costs': 200, '/requests': 200, '/integrity': 200, '/agents': 200, '/approvals': 200, '/prompts': 200 },
    };
    for (const [keyId, pages] of Object.entries(matrix)) {
      for (const [path, status] of Object.entries(pages)) {
        const response = await api(keyId, path);
        expect(response.status, `${keyId} ${path}`).toBe(status);
        if (status === 403) expect((await response.json() as { error: { code: string } }).error.code).toBe('forbidden');
      }
    }
  });

  it('adds the costs up from the rollups to what the clients were charged, per user, for the key\'s tenant only', async () => {
    const response = await api('vera', '/costs?by=user&range=24h');
    expect(response.status).toBe(200);
    const body = await response.json() as { total: string; requests: number; series: { totals: Array<{ key: string; cost_usd: string; requests: number }> } };
    // A token costs exactly $0.001 here.
    const bob = spent.get('mailer')!;
    const alice = spent.get('payroll')!;
    expect(body.series.totals.map((t) => t.key).sort()).toEqual(['alice', 'bob']);
    expect(body.series.totals.find((t) => t.key === 'bob')).toMatchObject({ requests: 3, cost_usd: (bob.tokens / 1000).toFixed(12) });
    expect(body.series.totals.find((t) => t.key === 'alice')).toMatchObject({ requests: 2, cost_usd: (alice.tokens / 1000).toFixed(12) });
    expect(body.total).toBe(((bob.tokens + alice.tokens) / 1000).toFixed(12));
    expect(body.requests).toBe(5);
    // Seven days read the daily table, not the hourly rollups: the same figures.
    const week = await (await api('vera', '/costs?by=user&range=7d')).json() as typeof body & { series: { bucket: string } };
    expect(week.series.bucket).toBe('day');
    expect(week.series.totals).toEqual(body.series.totals.map((t) => expect.objectContaining(t)));
    expect(week.total).toBe(body.total);
    // A global key sees every tenant.
    const all = await (await api('root', '/costs?by=tenant&range=7d')).json() as { series: { totals: Array<{ key: string }> } };
    expect(all.series.totals.map((t) => t.key).sort()).toEqual(['acme', 'globex']);
    // A tenant's key cannot group by tenant to peek at others: it is not offered, and the rows stay its own.
    const peek = await (await api('vera', '/costs?by=tenant')).json() as { series: { totals: Array<{ key: string }> } };
    expect(peek.series.totals.map((t) => t.key)).toEqual(['acme']);
  });

  it('marks budgets near their cap from the compiled policy', async () => {
    const body = await (await api('vera', '/budgets')).json() as { scopes: Array<{ scope: string; key: string; usd_per_day?: number; day_usd: string; near: boolean }> };
    const bob = body.scopes.find((s) => s.key === 'acme/bob');
    // Three calls of 11 tokens: $0.033 of $0.04, past the 80% warning.
    expect(bob).toMatchObject({ scope: 'user', usd_per_day: 0.04, day_usd: (spent.get('mailer')!.tokens / 1000).toFixed(12), near: true });
    expect(body.scopes.find((s) => s.key === 'acme/alice')).toMatchObject({ scope: 'user', usd_per_day: 1, near: false });
    expect(body.scopes.some((s) => s.key.startsWith('globex'))).toBe(false);
  });

  it('limits records to the key\'s tenant: another tenant\'s record does not exist', async () => {
    const mine = await (await api('audrey', '/requests')).json() as { records: Array<{ seq: number; tenant_id: string; user_id: string }> };
    expect(mine.records.length).toBe(5);
    expect(new Set(mine.records.map((r) => r.tenant_id))).toEqual(new Set(['acme']));
    const theirs = await (await api('gina-auditor', '/requests')).json() as { records: Array<{ seq: number; user_id: string }> };
    expect(theirs.records.map((r) => r.user_id)).toEqual(['gina']);
    expect((await api('audrey', `/requests/${theirs.records[0]!.seq}`)).status).toBe(404);
    expect((await api('gina-auditor', `/requests/${theirs.records[0]!.seq}`)).status).toBe(200);
    // A tenant key's tenant filter cannot widen it.
    const widened = await (await api('audrey', '/requests?tenant=globex')).json() as { records: Array<{ tenant_id: string }> };
    expect(new Set(widened.records.map((r) => r.tenant_id))).toEqual(new Set(['acme']));
  });

  it('answers bad input with a 400 and a stable code', async () => {
    for (const path of [
      '/costs?range=forever', '/costs?by=salary', '/costs?range=custom&from=2026-13-45', '/requests/abc', '/requests?before=-1', `/requests?user=${'x'.repeat(300)}`,
      '/costs?range=custom&from=2020-01-01&to=2026-01-01', '/costs?range=constructor', '/costs?range=__proto__', '/costs?by=toString',
      '/costs?range=custom&from=2026-02-30', '/costs?range=custom&from=1&to=2', '/costs?range=custom&from=0001-01-01&to=0001-01-05',
      '/requests/0x7', '/requests/%20%207', '/requests/1e2', '/requests/0', '/requests?from=2030-01-01&to=2020-01-01',
    ]) {
      const response = await api('root', path);
      expect(response.status, path).toBe(400);
      expect((await response.json() as { error: { code: string } }).error.code).toBe('invalid_request');
    }
    expect((await api('root', '/requests/999999')).status).toBe(404);
  });

  it('aligns short custom ranges to whole hours, and keeps tenant keys off the cross-tenant impact (403) and global keys off a queue', async () => {
    const now = new Date();
    const inside = (minutes: number) => new Date(Math.floor(now.getTime() / 3_600_000) * 3_600_000 + minutes * 60_000).toISOString().slice(0, 16);
    // A few minutes inside the current hour still count the whole hour's rollup, and say so.
    const narrow = await (await api('vera', `/costs?range=custom&from=${inside(1)}&to=${inside(2)}&by=user`)).json() as { requests: number; from: string; to: string };
    expect(narrow.requests).toBe(5);
    expect(new Date(narrow.from).getUTCMinutes()).toBe(0);
    expect(new Date(narrow.to).getTime() - new Date(narrow.from).getTime()).toBe(3_600_000);
    const impact = await api('audrey', '/prompts/advisor');
    expect(impact.status).toBe(403);
    expect((await impact.json() as { error: { code: string } }).error.code).toBe('forbidden');
    expect((await api('root', '/prompts/advisor')).status).toBe(200);
    const queue = await (await api('root', '/approvals')).json() as { global: boolean; approvals: unknown[] };
    expect(queue).toMatchObject({ global: true, approvals: [] });
  });

  it('refuses a form larger than 16 KiB before reading it, even at the login page', async () => {
    // Its own connection: the server answers before the upload ends and closes it.
    const own = new Agent();
    const response = await undiciFetch(`${h.web.url}/login`, {
      method: 'POST', headers: { origin: h.web.url, 'content-type': 'application/x-www-form-urlencoded' }, body: `key=${'a'.repeat(1_000_000)}`,
      dispatcher: own,
    });
    expect(response.status).toBe(413);
    await own.destroy();
  });

  it('ends a session when its key is made again under the same id, and caps the sessions of one key', async () => {
    const dataDir = h.dataDir;
    const create = (argv: string[]) => captureStdout(() => collectorCommands['console-keys']!(['create', '--data-dir', dataDir, ...argv]));
    const made = await create(['--id', 'temp', '--role', 'viewer', '--tenant', 'acme']);
    h.consoleKeys.temp = made.out.trim();
    const first = await login('temp');
    const sessions = [first];
    for (let i = 0; i < 20; i++) sessions.push(await login('temp'));
    // The 21st login ended the first session; the latest ones live.
    expect((await fetch(`${h.web.url}/costs`, { headers: { cookie: first.cookie }, redirect: 'manual' })).status).toBe(303);
    const latest = sessions.at(-1)!;
    expect((await fetch(`${h.web.url}/costs`, { headers: { cookie: latest.cookie }, redirect: 'manual' })).status).toBe(200);
    // Revoked and made again under the same id: a new secret, so the old sessions end.
    await captureStdout(() => collectorCommands['console-keys']!(['revoke', '--data-dir', dataDir, '--id', 'temp']));
    await create(['--id', 'temp', '--role', 'viewer', '--tenant', 'acme']);
    let status = 200;
    for (const deadline = Date.now() + 5_000; status === 200 && Date.now() < deadline;) {
      await new Promise((r) => setTimeout(r, 250));
      status = (await fetch(`${h.web.url}/costs`, { headers: { cookie: latest.cookie }, redirect: 'manual' })).status;
    }
    expect(status).toBe(303);
  });

  it('uses HttpOnly SameSite=Strict session cookies, and refuses forms without the CSRF token or from another origin', async () => {
    const session = await login('root');
    expect(session.setCookie).toMatch(/HttpOnly/i);
    expect(session.setCookie).toMatch(/SameSite=Strict/i);
    expect(session.csrf).not.toBe('');
    const verify = (headers: Record<string, string>, body: Record<string, string>) => fetch(`${h.web.url}/integrity/verify`, {
      method: 'POST', redirect: 'manual', headers: { cookie: session.cookie, 'content-type': 'application/x-www-form-urlencoded', ...headers }, body: new URLSearchParams(body),
    });
    expect((await verify({ origin: h.web.url }, {})).status).toBe(403);
    expect((await verify({ origin: h.web.url }, { _csrf: 'forged' })).status).toBe(403);
    expect((await verify({ origin: 'http://evil.example' }, { _csrf: session.csrf })).status).toBe(403);
    expect((await verify({ origin: h.web.url }, { _csrf: session.csrf })).status).toBe(303);
  });

  it('exports from the integrity page, today included, and serves every file of the export to the key that made it only', async () => {
    const session = await login('root');
    const page = await (await fetch(`${h.web.url}/integrity`, { headers: { cookie: session.cookie } })).text();
    const csrf = /name="_csrf" value="([^"]+)"/.exec(page)![1]!;
    const to = /name="to" value="([^"]+)"/.exec(page)![1]!;
    const done = await fetch(`${h.web.url}/integrity/export`, {
      method: 'POST', headers: { cookie: session.cookie, origin: h.web.url, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ _csrf: csrf, from: '2000-01-01', to }),
    });
    expect(done.status).toBe(200);
    const html = await done.text();
    const links = [...html.matchAll(/href="(\/integrity\/exports\/[^"]+)"/g)].map((m) => m[1]!);
    expect(links.some((l) => l.endsWith('/manifest.json'))).toBe(true);
    const parquet = links.find((l) => l.endsWith('.parquet'));
    expect(parquet, html).toBeDefined();
    const file = await fetch(`${h.web.url}${parquet}`, { headers: { cookie: session.cookie } });
    expect(file.status).toBe(200);
    expect(Buffer.from(await file.arrayBuffer()).subarray(0, 4).toString()).toBe('PAR1');
    // The manifest counts today's records (the model calls of this suite).
    const manifest = await (await fetch(`${h.web.url}${links.find((l) => l.endsWith('/manifest.json'))}`, { headers: { cookie: session.cookie } })).json() as { rows: { records: number } };
    expect(manifest.rows.records).toBeGreaterThanOrEqual(6);
    // Another key, or a path that leaves the export, gets nothing.
    const other = await login('vera');
    expect((await fetch(`${h.web.url}${parquet}`, { headers: { cookie: other.cookie } })).status).toBe(404);
    expect((await fetch(`${h.web.url}${parquet!.replace(/[^/]+$/, '..%2F..%2Fconsole-keys.json')}`, { headers: { cookie: session.cookie } })).status).toBe(404);
  });

  it('ends a session when its key is revoked', async () => {
    const session = await login('audrey');
    expect((await fetch(`${h.web.url}/requests`, { headers: { cookie: session.cookie }, redirect: 'manual' })).status).toBe(200);
    const { code } = await captureStdout(() => collectorCommands['console-keys']!(['revoke', '--data-dir', h.dataDir, '--id', 'audrey']));
    expect(code).toBe(0);
    // The console re-reads the key file within 2 s.
    let status = 200;
    for (const deadline = Date.now() + 5_000; status === 200 && Date.now() < deadline;) {
      await new Promise((r) => setTimeout(r, 250));
      status = (await fetch(`${h.web.url}/requests`, { headers: { cookie: session.cookie }, redirect: 'manual' })).status;
    }
    expect(status).toBe(303);
  });
});
