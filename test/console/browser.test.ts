/**
 * Issue 16, "Done means": the console in a real browser (Debian's Chromium,
 * headless, driven by Playwright) on a gateway with real traffic: login; the
 * cost page's totals for a known set of requests; searching for and opening a
 * record; an approver approving a held tool call, which then executes; and a
 * viewer refused the audit pages. Each page's screenshot is written under
 * test-output/console/ for a reviewer.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { refusal } from '../approvals/approvalGateway.js';
import { mcpClient, untilListed } from '../mcp/mcpGateway.js';
import { REPO_ROOT } from '../support/policyFixture.js';
import { describeRequiring } from '../support/requiredTool.js';
import { OPA } from '../support/policyFixture.js';
import { sendModelCalls, startConsoleGateway, untilRecorded, type ConsoleGateway } from './consoleGateway.js';

const CHROMIUM = process.env.GATEHOUSE_CHROMIUM ?? '/usr/bin/chromium';
const SHOTS = join(REPO_ROOT, 'test-output', 'console');
const missing = !existsSync(CHROMIUM) ? `Chromium is not installed at ${CHROMIUM} (apt-get install chromium)` : OPA === undefined ? 'the OPA CLI is not installed' : undefined;

describeRequiring('console in a browser', missing, () => {
  let h: ConsoleGateway;
  let browser: Browser;
  let spent: Map<string, { requests: number; tokens: number }>;

  async function loggedIn(keyId: string): Promise<Page> {
    const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
    const page = await context.newPage();
    await page.goto(`${h.web.url}/`);
    expect(new URL(page.url()).pathname).toBe('/login');
    await page.getByLabel('Console key').fill(h.consoleKeys[keyId]!);
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.waitForURL((url) => url.pathname !== '/login');
    return page;
  }
  const shot = (page: Page, name: string) => page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });

  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true });
    h = await startConsoleGateway();
    spent = await sendModelCalls(h.gw, { mailer: 3, payroll: 2 });
    await untilRecorded(h.collector, 5);
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'], headless: true });
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await h?.stop();
  });

  it('logs in with a console key, and refuses a wrong one', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${h.web.url}/costs`);
    await expect.poll(() => new URL(page.url()).pathname).toBe('/login');
    await shot(page, '01-login');
    await page.getByLabel('Console key').fill('ghc_wrong');
    await page.getByRole('button', { name: 'Log in' }).click();
    await expect.poll(() => page.locator('#login-error').textContent()).toContain('not a console key');
    await page.getByLabel('Console key').fill(h.consoleKeys.vera!);
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.waitForURL(/\/costs/);
    const [cookie] = await context.cookies();
    expect(cookie).toMatchObject({ name: 'gatehouse_console', httpOnly: true, sameSite: 'Strict' });
    await context.close();
  });

  it('shows the right cost totals, per user, with a chart', async () => {
    const page = await loggedIn('vera');
    await page.goto(`${h.web.url}/costs?by=user&range=24h`);
    const bob = spent.get('mailer')!;
    const alice = spent.get('payroll')!;
    // A token costs exactly $0.001: the page's total is what the clients' usage says.
    const dollars = (tokens: number) => `$${(tokens / 1000).toFixed(3).replace(/0+$/, '').replace(/\.$/, '')}`;
    await expect.poll(() => page.locator('#cost-total').textContent()).toBe(dollars(bob.tokens + alice.tokens));
    expect(await page.locator('#cost-requests').textContent()).toBe('5');
    expect(await page.locator('#cost-table tr[data-key="bob"] td').nth(1).textContent()).toBe(dollars(bob.tokens));
    expect(await page.locator('#cost-table tr[data-key="alice"] td').nth(1).textContent()).toBe(dollars(alice.tokens));
    // Chart.js drew on the canvas.
    await expect.poll(() => page.evaluate(`window.Chart?.getChart(document.getElementById('cost-chart'))?.data.datasets.map((d) => d.label).sort().join()`)).toBe('alice,bob');
    // A bar slot for each of the range's 24 hours.
    expect(await page.evaluate(`window.Chart.getChart(document.getElementById('cost-chart')).data.labels.length`)).toBe(24);
    await shot(page, '02-costs');
    await page.goto(`${h.web.url}/budgets`);
    await expect.poll(() => page.locator('#budget-table tr.near-cap[data-key="acme/bob"]').count()).toBe(1);
    await shot(page, '03-budgets');
    await page.context().close();
  });

  it('refuses a viewer the audit pages', async () => {
    const page = await loggedIn('vera');
    for (const path of ['/requests', '/integrity', '/agents', '/prompts', '/approvals']) {
      const response = await page.goto(`${h.web.url}${path}`);
      expect(response?.status(), path).toBe(403);
      expect(await page.locator('main').textContent()).toContain('Your role (viewer) cannot open this page.');
    }
    // The navigation offers only the cost pages.
    expect(await page.locator('header nav a').allTextContents()).toEqual(['Costs', 'Budgets']);
    await shot(page, '04-viewer-refused');
    await page.context().close();
  });

  it('searches the records and opens one with who, context, policy, attempts and the trace link', async () => {
    const page = await loggedIn('audrey');
    await page.goto(`${h.web.url}/requests`);
    await page.getByLabel('User').fill('bob');
    await page.getByRole('button', { name: 'Search' }).click();

    await page.waitForURL(/user=bob/);
    const rows = page.locator('#request-table tbody tr');
    await expect.poll(() => rows.count()).toBe(3);
    expect(new Set(await page.locator('#request-table tbody tr td:nth-child(4)').allTextContents())).toEqual(new Set(['bob']));
    await shot(page, '05-requests');
    const requestId = await rows.first().locator('a').textContent();
    await rows.first().locator('a').click();
    await page.waitForURL(/\/requests\/\d+$/);
    expect(await page.locator('#record-request-id').textContent()).toBe(requestId);
    const main = await page.locator('main').textContent();
    for (const heading of ['Who', 'Context', 'Policy decision', 'Usage and cost', 'Attempts', 'Integrity']) expect(main).toContain(heading);
    expect(main).toContain('user_id');
    expect(await page.locator('#trace-link').getAttribute('href')).toMatch(/^http:\/\/jaeger\.example:16686\/trace\/[0-9a-f]{32}$/);
    await shot(page, '06-record');
    for (const [path, name] of [['/integrity', '07-integrity'], ['/agents', '08-agents'], ['/prompts', '09-prompts']] as const) {
      await page.goto(`${h.web.url}${path}`);
      await shot(page, name);
    }
    await expect.poll(async () => {
      await page.goto(`${h.web.url}/integrity`);
      return page.locator('#chain-status header').textContent();
    }, { timeout: 15_000 }).toBe('Chain verified');
    expect(await page.locator('.fingerprint').first().textContent()).toMatch(/^SHA256:[A-Za-z0-9+/]{43}$/);
    await page.context().close();
  });

  it('lets an approver approve a held tool call in the browser, and the call then executes once', async () => {
    const mailer = await mcpClient(h.gw, 'mailer');
    h.clients.push(mailer);
    await untilListed(mailer, 'email.send');
    const news = { to: ['ann@customer.example'], subject: 'Your statement', body: 'Attached.' };
    const held = await refusal(mailer.callTool({ name: 'email.send', arguments: news }));
    expect(held.data.code).toBe('approval_required');
    const id = held.data.approval!.id;
    expect(h.email.sent).toEqual([]);

    const page = await loggedIn('erin-console');
    expect(new URL(page.url()).pathname).toBe('/approvals');
    const card = page.locator(`article[data-approval="${id}"]`);
    await expect.poll(() => card.count()).toBe(1);
    expect(await card.textContent()).toContain('ann@customer.example');
    await shot(page, '10-approvals');
    await card.getByLabel('Reason').fill('statement recipient checked');
    await card.getByRole('button', { name: 'Approve' }).click();
    await expect.poll(() => page.locator('#approval-message').textContent()).toBe(`Approved ${id} (approved).`);
    await shot(page, '11-approved');

    const sent = await mailer.callTool({ name: 'email.send', arguments: news });
    expect(sent.isError).toBeFalsy();
    expect(h.email.sent).toEqual([expect.objectContaining({ to: ['ann@customer.example'] })]);
    // Recorded: erin approved it from the console, with her reason.
    await expect.poll(async () => (await h.collector.store.db.query(
      `SELECT approval_actor AS actor, approval_reason AS reason FROM audit_records WHERE record_type = 'approval' AND approval_id = $1 AND approval_event = 'approved'`, [id],
    ))[0], { timeout: 15_000 }).toEqual({ actor: 'erin', reason: 'statement recipient checked' });
    await page.context().close();
  });
});
