/**
 * The console's routes (Hono): login and logout, then every page behind a
 * session cookie (or, for the JSON API under /api, a console key as a Bearer
 * token), each limited to the areas its role may open and to its tenant.
 * State-changing forms need the session's CSRF token, and every POST's Origin
 * must be this console (hono/csrf). Pages are server-rendered; each one's data
 * is one query over the rollups or an indexed range (docs/console.md).
 */
import { readdir, readFile } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { Hono, type Context } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import { bodyLimit } from 'hono/body-limit';
import { csrf } from 'hono/csrf';
import { HTTPException } from 'hono/http-exception';
import { secureHeaders } from 'hono/secure-headers';
import { approversOf, effectiveStatus, type ApprovalStatus } from '../../proxy/approvals/approval.js';
import { formatUnits, parseDecimal } from '../../proxy/cost/money.js';
import { GatehouseError } from '../../proxy/errors.js';
import { log } from '../../proxy/log.js';
import { ROLLUP_DIMENSIONS, type RollupDimension } from '../store/schema.js';
import { searchRequests, showRecord } from '../reports/requestSearch.js';
import { agentInventory, unregisteredAgents } from '../agents/inventory.js';
import { promptHistory, promptImpact } from '../prompts/impact.js';
import { homeOf, mayOpen, tenantOf, type Area } from './access.js';
import { assets } from './assets.js';
import { budgetBurn } from './data/budgetBurn.js';
import { bucketFor, costSeries } from './data/costSeries.js';
import { promptVersions } from './data/promptVersions.js';
import type { ConsoleDeps } from './deps.js';
import { LoginThrottle } from './loginThrottle.js';
import { BadInput, Forbidden, instant, seqOf, short } from './params.js';
import { csrfMatches, SESSION_COOKIE, IDLE_MS, MAX_AGE_MS, type Session } from './sessions.js';
import { agentsPage } from './views/agents.js';
import { approvalsPage, type ApprovalRow } from './views/approvals.js';
import { budgetsPage, costsPage, RANGES } from './views/costs.js';
import { integrityPage, type ExportDone } from './views/integrity.js';
import { page, type Html } from './views/layout.js';
import { loginPage } from './views/login.js';
import { promptImpactPage, promptsPage } from './views/prompts.js';
import { recordPage, requestsPage, type RequestFilter } from './views/requests.js';

type Env = { Variables: { session: Session } };

const HOUR = 3_600_000;
const MAX_RANGE_MS = 2 * 366 * 24 * HOUR;
const PAGE_SIZE = 50;
/** The largest form the console accepts (a key, a reason, a date range). */
const MAX_FORM_BYTES = 16 * 1024;
const GROUPINGS: Record<string, RollupDimension> = {
  team: 'team_id', user: 'user_id', agent: 'agent_id', model: 'model', 'prompt-version': 'prompt_version',
  tenant: 'tenant_id', feature: 'feature', provider: 'provider',
};


export function consoleApp(deps: ConsoleDeps): Hono<Env> {
  const app = new Hono<Env>();
  const throttle = new LoginThrottle();
  const cookie = { httpOnly: true, sameSite: 'Strict' as const, path: '/', secure: deps.secureCookies };

  app.use('*', secureHeaders({
    contentSecurityPolicy: { defaultSrc: ["'self'"], scriptSrc: ["'self'"], styleSrc: ["'self'"], imgSrc: ["'self'", 'data:'], frameAncestors: ["'none'"], formAction: ["'self'"] },
    referrerPolicy: 'same-origin',
  }));
  // Every POST must come from a page of this console (Origin, or Sec-Fetch-Site for browsers that send no Origin).
  app.use('*', csrf());
  // Forms are small; a larger body is refused before it is read.
  // The unread rest of the body leaves the connection unusable: it is closed.
  app.post('*', bodyLimit({ maxSize: MAX_FORM_BYTES, onError: (c) => c.text('the form is too large', 413, { connection: 'close' }) }));
  app.use('*', async (c, next) => {
    await next();
    if (!c.req.path.startsWith('/assets/')) c.header('cache-control', 'no-store');
  });

  app.get('/assets/:name', (c) => {
    const asset = assets().get(c.req.param('name'));
    if (asset === undefined) return c.text('not found', 404);
    return c.body(typeof asset.body === 'string' ? asset.body : new Uint8Array(asset.body), 200, { 'content-type': asset.type, 'cache-control': 'public, max-age=86400' });
  });
  app.get('/healthz', (c) => c.json({ status: 'ok' }));

  app.get('/login', (c) => c.html(loginPage()));
  app.post('/login', async (c) => {
    const address = c.env && typeof c.env === 'object' && 'incoming' in c.env ? String((c.env as { incoming: { socket: { remoteAddress?: string } } }).incoming.socket.remoteAddress) : 'unknown';
    const form = await c.req.parseBody();
    const key = typeof form.key === 'string' ? form.key.trim() : '';
    // A key in force always logs in; wrong keys from one address are throttled (behind a proxy, everyone shares it).
    const entry = key.length <= 200 ? await deps.keys.authenticate(key) : undefined;
    if (entry === undefined) {
      if (!throttle.allowed(address)) return c.html(loginPage('Too many failed logins from this address; wait a few minutes.'), 429);
      throttle.failed(address);
      log.warn('console: login refused', { address });
      return c.html(loginPage('That key is not a console key in force.'), 401);
    }
    const session = deps.sessions.open(entry);
    setCookie(c, SESSION_COOKIE, session.id, { ...cookie, maxAge: Math.floor(IDLE_MS / 1000) });
    log.info('console: login', { key: entry.id, role: entry.role, tenant: entry.tenant });
    return c.redirect(homeOf(entry.role), 303);
  });

  // Everything below needs a session (a cookie), or on /api a console key as a Bearer token.
  app.use('*', async (c, next) => {
    const bearer = c.req.header('authorization')?.match(/^Bearer\s+(\S+)$/i)?.[1];
    const api = c.req.path.startsWith('/api/');
    const entry = api && bearer !== undefined && bearer.length <= 200 ? await deps.keys.authenticate(bearer) : undefined;
    const session = entry
      ? { id: '', keyId: entry.id, keyHash: entry.hash, role: entry.role, tenant: entry.tenant, user: entry.user, csrf: '', createdAt: Date.now(), seenAt: Date.now() }
      : deps.sessions.find(getCookie(c, SESSION_COOKIE));
    if (session === undefined) {
      if (api) return c.json({ error: { code: 'unauthenticated', message: 'a console key is required (Authorization: Bearer ghc_...)' } }, 401);
      return c.redirect('/login', 303);
    }
    c.set('session', session);
    // The cookie lives as long as the session may: renewed on use, up to the session's absolute end.
    if (session.id !== '') {
      const left = Math.min(IDLE_MS, MAX_AGE_MS - (Date.now() - session.createdAt));
      setCookie(c, SESSION_COOKIE, session.id, { ...cookie, maxAge: Math.max(1, Math.floor(left / 1000)) });
    }
    // A state-changing form carries the session's CSRF token (an API key needs none: no cookie is involved).
    if (c.req.method === 'POST' && session.id !== '') {
      const form = await c.req.parseBody();
      if (!csrfMatches(session, form._csrf)) return c.html(page('Refused', 'The form was stale or not from this console; reload the page and try again.', session), 403);
    }
    return next();
  });

  app.post('/logout', (c) => {
    deps.sessions.close(c.get('session').id);
    deleteCookie(c, SESSION_COOKIE, { path: '/' });
    return c.redirect('/login', 303);
  });
  app.get('/', (c) => c.redirect(homeOf(c.get('session').role), 303));

  /** A page and its JSON twin under /api, both limited to `area`. */
  function view<T>(area: Area, path: string, load: (c: Context<Env>, session: Session) => Promise<T | undefined>, render: (session: Session, data: T, c: Context<Env>) => Html): void {
    const handle = async (c: Context<Env>, json: boolean) => {
      const session = c.get('session');
      if (!mayOpen(session, area)) {
        const message = `the ${session.role} role cannot open this page`;
        return json ? c.json({ error: { code: 'forbidden', message } }, 403) : c.html(page('Not allowed', `Your role (${session.role}) cannot open this page.`, session), 403);
      }
      try {
        const data = await load(c, session);
        if (data === undefined) return json ? c.json({ error: { code: 'not_found', message: 'no such record' } }, 404) : c.html(page('Not found', 'No such record.', session), 404);
        return json ? c.json(data as object) : c.html(render(session, data, c));
      } catch (error) {
        if (error instanceof BadInput) return json ? c.json({ error: { code: 'invalid_request', message: error.message } }, 400) : c.html(page('Bad request', error.message, session), 400);
        if (error instanceof Forbidden) return json ? c.json({ error: { code: 'forbidden', message: error.message } }, 403) : c.html(page('Not allowed', error.message, session), 403);
        throw error;
      }
    };
    app.get(path, (c) => handle(c, false));
    app.get(`/api${path}`, (c) => handle(c, true));
  }

  view('costs', '/costs', async (c, session) => {
    const by = c.req.query('by') ?? 'team';
    const dimension = GROUPINGS[by];
    if (dimension === undefined || !(ROLLUP_DIMENSIONS as readonly string[]).includes(dimension)) throw new BadInput(`by: one of ${Object.keys(GROUPINGS).join(', ')}`);
    let range = c.req.query('range') ?? '24h';
    const now = Date.now();
    let from: Date;
    let to: Date;
    const givenFrom = instant(c.req.query('from'), 'from');
    const givenTo = instant(c.req.query('to'), 'to');
    if (range === 'custom' || (c.req.query('range') === undefined && givenFrom !== undefined)) {
      range = 'custom';
      to = givenTo ?? new Date(now);
      from = givenFrom ?? new Date(to.getTime() - 24 * HOUR);
    } else {
      const hours = Object.hasOwn(RANGES, range) ? RANGES[range] : undefined;
      if (hours === undefined) throw new BadInput(`range: one of ${Object.keys(RANGES).join(', ')}, custom`);
      // Whole hours: the rollups' grain; the current hour is included.
      to = new Date(Math.floor(now / HOUR) * HOUR + HOUR);
      from = new Date(to.getTime() - hours * HOUR);
    }
    if (to.getTime() <= from.getTime()) throw new BadInput('from must be before to');
    if (to.getTime() - from.getTime() > MAX_RANGE_MS) throw new BadInput('the range is at most two years');
    const tenant = tenantOf(session);
    // Longer than two days reads cost_daily: fold in the records committed since the writer last did.
    if (bucketFor(from, to) !== 'hour') await deps.foldDaily?.();
    const series = await costSeries(deps.store.db, { by: dimension, from, to, top: 8, ...(tenant !== undefined ? { tenant } : {}) });
    let total = 0n;
    let requests = 0;
    for (const t of series.totals) {
      total += parseDecimal(t.cost_usd) ?? 0n;
      requests += t.requests;
    }
    return { by, groupings: Object.keys(GROUPINGS).filter((g) => g !== 'tenant' || tenant === undefined), range, from: series.from, to: series.to, series, total: formatUnits(total), requests };
  }, (session, v) => costsPage(session, v));

  view('costs', '/budgets', async (_c, session) => {
    const tenant = tenantOf(session);
    const budgetsOf = deps.budgetsOf;
    const rows = await budgetBurn(deps.store.db, budgetsOf ?? (() => []), { now: new Date(), warnFraction: deps.warnFraction, ...(tenant !== undefined ? { tenant } : {}) });
    return { scopes: rows, policies: budgetsOf !== undefined, warn_fraction: deps.warnFraction };
  }, (session, v) => budgetsPage(session, v.scopes, { policies: v.policies, warnFraction: v.warn_fraction }));

  view('records', '/requests', async (c, session) => {
    const tenant = tenantOf(session);
    const filter: RequestFilter = {};
    for (const name of ['user', 'agent', 'outcome', 'from', 'to'] as const) {
      const value = short(c.req.query(name), name);
      if (value !== undefined) filter[name] = value;
    }
    const askedTenant = short(c.req.query('tenant'), 'tenant');
    if (tenant === undefined && askedTenant !== undefined) filter.tenant = askedTenant;
    const beforeSeq = seqOf(c.req.query('before'), 'before');
    const from = instant(filter.from, 'from');
    const to = instant(filter.to, 'to');
    if (from !== undefined && to !== undefined && to.getTime() <= from.getTime()) throw new BadInput('from must be before to');
    const rows = await searchRequests(deps.store.db, {
      user: filter.user, agent: filter.agent, outcome: filter.outcome, tenant: tenant ?? filter.tenant, from, to,
      limit: PAGE_SIZE, newestFirst: true, ...(beforeSeq !== undefined ? { beforeSeq } : {}),
    });
    const last = rows[rows.length - 1];
    const next = rows.length === PAGE_SIZE && last ? `/requests?${new URLSearchParams({ ...filter, before: String(last.seq) } as Record<string, string>).toString()}` : undefined;
    return { filter, records: rows, next: next ?? null };
  }, (session, v) => requestsPage(session, v.filter, v.records, v.next ?? undefined));

  view('records', '/requests/:seq', async (c, session) => {
    const seq = seqOf(c.req.param('seq'), 'seq') ?? 0;
    const detail = await showRecord(deps.store.db, seq);
    const tenant = tenantOf(session);
    // Another tenant's records do not exist for this session.
    if (detail === undefined || (tenant !== undefined && detail.record.tenant_id !== tenant)) return undefined;
    return detail;
  }, (session, detail) => recordPage(session, detail, deps.jaegerUiUrl));

  const integrity = async (session: Session, extra: { exported?: ExportDone; error?: string } = {}) => ({
    state: await deps.chain.state(), verification: deps.chain.lastVerification, verifying: deps.chain.verifying, keys: deps.chain.publicKeys(), tenant: session.tenant, ...extra,
  });
  view('integrity', '/integrity', (_c, session) => integrity(session), (session, v) => integrityPage(session, v));
  app.post('/integrity/verify', async (c) => {
    const session = c.get('session');
    if (!mayOpen(session, 'integrity')) return c.html(page('Not allowed', 'Your role cannot verify the chain.', session), 403);
    void deps.chain.verify();
    log.info('console: verification started', { key: session.keyId });
    return c.redirect('/integrity', 303);
  });
  app.post('/integrity/export', async (c) => {
    const session = c.get('session');
    if (!mayOpen(session, 'integrity')) return c.html(page('Not allowed', 'Your role cannot export.', session), 403);
    const form = await c.req.parseBody();
    try {
      const from = instant(typeof form.from === 'string' ? form.from : undefined, 'from') ?? new Date(0);
      const to = instant(typeof form.to === 'string' ? form.to : undefined, 'to') ?? new Date(Date.now() + 86_400_000);
      if (to.getTime() <= from.getTime()) throw new BadInput('from must be before to');
      const tenant = tenantOf(session);
      const done = await deps.chain.export({ from, to, ...(tenant !== undefined ? { tenant } : {}) });
      log.info('console: export', { key: session.keyId, export: done.id, tenant: tenant ?? '*' });
      const exported: ExportDone = {
        id: done.id, records: done.manifest.rows.records, firstSeq: done.manifest.first_seq, lastSeq: done.manifest.last_seq,
        files: (await readdir(done.dir, { recursive: true, withFileTypes: true })).filter((f) => f.isFile())
          .map((f) => relative(done.dir, join(f.parentPath, f.name)).split(sep).join('/')).sort(),
      };
      deps.exports.set(done.id, { dir: done.dir, tenant: session.tenant });
      return c.html(integrityPage(session, await integrity(session, { exported })));
    } catch (error) {
      const message = error instanceof BadInput ? error.message : `export failed: ${(error as Error).message}`;
      return c.html(integrityPage(session, await integrity(session, { error: message })), error instanceof BadInput ? 400 : 500);
    }
  });
  app.get('/integrity/exports/:id/*', async (c) => {
    const session = c.get('session');
    const made = deps.exports.get(c.req.param('id'));
    const file = decodeURIComponent(c.req.path.slice(`/integrity/exports/${c.req.param('id')}/`.length));
    // Only this process's exports, only to the scope that made them, only plain names one folder deep (records/date=…/x.parquet).
    const plain = /^(?:[A-Za-z0-9][A-Za-z0-9._=-]*\/){0,2}[A-Za-z0-9][A-Za-z0-9._=-]*$/.test(file) && !file.split('/').some((part) => part.includes('..'));
    if (!mayOpen(session, 'integrity') || made === undefined || made.tenant !== session.tenant || !plain) return c.text('not found', 404);
    const body = await readFile(join(made.dir, ...file.split('/'))).catch(() => undefined);
    if (body === undefined) return c.text('not found', 404);
    const name = file.split('/').at(-1)!;
    return c.body(new Uint8Array(body), 200, { 'content-type': 'application/octet-stream', 'content-disposition': `attachment; filename="${name}"` });
  });

  view('agents', '/agents', async (_c, session) => {
    const tenant = tenantOf(session);
    const period = { from: new Date(Date.now() - 30 * 24 * HOUR), to: new Date(Date.now() + HOUR) };
    const registered = (deps.agents?.() ?? []).filter((a) => tenant === undefined || a.tenant === tenant);
    const reachable = deps.reachableTools ? await deps.reachableTools(registered) : undefined;
    const rows = await agentInventory(deps.store.db, registered, period, reachable, true);
    const unregistered = (await unregisteredAgents(deps.store.db, period)).filter((u) => tenant === undefined || u.tenant === tenant);
    return { agents: rows, unregistered, registry: deps.agents !== undefined };
  }, (session, v) => agentsPage(session, v.agents, v.unregistered, v.registry));

  const approvalsView = async (session: Session, status: string, notice: { message?: string; error?: string } = {}) => {
    if (!(['pending', 'approved', 'denied', 'expired', 'used'] as string[]).includes(status)) throw new BadInput('status: one of pending, approved, denied, expired, used');
    const tenant = tenantOf(session);
    const service = deps.approvals?.service;
    const now = Date.now();
    const list = service && tenant !== undefined ? await service.list(tenant, status as ApprovalStatus, 200) : [];
    const rows: ApprovalRow[] = list.map((a) => ({ approval: a, status: effectiveStatus(a, now), approvedBy: approversOf(a) }));
    return { approvals: rows, available: service !== undefined, canDecide: canDecide(session), status, global: tenant === undefined, ...notice };
  };
  const canDecide = (s: Session) => deps.approvals !== undefined && (s.role === 'approver' || s.role === 'admin') && s.user !== undefined && tenantOf(s) !== undefined;
  view('approvals', '/approvals', (c, session) => approvalsView(session, c.req.query('status') ?? 'pending'),
    (session, v) => approvalsPage(session, v.approvals, v));
  app.post('/approvals/:id/decide', async (c) => {
    const session = c.get('session');
    if (!mayOpen(session, 'approvals')) return c.html(page('Not allowed', 'Your role cannot decide approvals.', session), 403);
    const form = await c.req.parseBody();
    const decision = form.decision;
    const reason = typeof form.reason === 'string' ? form.reason : '';
    const tenant = tenantOf(session);
    if (!canDecide(session) || deps.approvals === undefined || tenant === undefined || session.user === undefined) {
      return c.html(approvalsPage(session, [], { ...(await approvalsView(session, 'pending')), error: 'Deciding needs an approver key with a user and a tenant.' }), 403);
    }
    if (decision !== 'approve' && decision !== 'deny') return c.html(page('Bad request', 'decision: approve or deny', session), 400);
    try {
      const decided = await deps.approvals.decide(c.req.param('id'), { user: session.user, keyId: `console:${session.keyId}`, tenant }, decision, reason);
      log.info('console: approval decided', { key: session.keyId, approval: decided.id, decision });
      const v = await approvalsView(session, 'pending', { message: `${decision === 'approve' ? 'Approved' : 'Denied'} ${decided.id} (${decided.status}).` });
      return c.html(approvalsPage(session, v.approvals, v));
    } catch (error) {
      if (!(error instanceof GatehouseError)) throw error;
      const v = await approvalsView(session, 'pending', { error: `${error.code}: ${error.message}` });
      return c.html(approvalsPage(session, v.approvals, v), (error.status >= 500 ? 503 : error.status) as 400);
    }
  });

  view('prompts', '/prompts', async (_c, session) => {
    const tenant = tenantOf(session);
    return { prompts: await promptVersions(deps.store.db, deps.prompts?.(), { now: new Date(), ...(tenant !== undefined ? { tenant } : {}) }), registry: deps.prompts !== undefined };
  }, (session, v) => promptsPage(session, v.prompts, v.registry));
  view('prompts', '/prompts/:id', async (c, session) => {
    const id = short(c.req.param('id'), 'id') ?? '';
    // The impact compares every tenant's requests: a tenant's key sees its own traffic on the list page only.
    if (tenantOf(session) !== undefined) throw new Forbidden('the impact of a version covers every tenant; it needs a global console key (tenant "*")');
    return { id, impact: await promptImpact(deps.store.db, id, undefined, new Date(Date.now() - 90 * 24 * HOUR)) ?? null, history: await promptHistory(deps.store.db, id) };
  }, (session, v) => promptImpactPage(session, v.id, v.impact ?? undefined, v.history));

  app.notFound((c) => (c.req.path.startsWith('/api/') ? c.json({ error: { code: 'not_found', message: 'no such page' } }, 404) : c.text('not found', 404)));
  app.onError((error, c) => {
    // E.g. hono/csrf's 403 for a POST from another origin.
    if (error instanceof HTTPException) return error.getResponse();
    log.error('console: request failed', { path: c.req.path, error: String(error) });
    return c.req.path.startsWith('/api/') ? c.json({ error: { code: 'internal_error', message: 'internal error' } }, 500) : c.text('internal error', 500);
  });
  return app;
}
