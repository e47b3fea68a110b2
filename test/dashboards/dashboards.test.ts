/**
 * The Grafana dashboards and Prometheus alert rules refer only to metrics and
 * labels that a running gateway really exports on GET /metrics. The gateway is
 * started in-process, driven with a few requests over both wires, and scraped.
 */
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulatedGateway, startTestGateway, type TestGateway } from '../support/gateway.js';
import { everyQuery, type Query } from './observabilityFiles.js';
import { promqlReferences } from './promqlReferences.js';
import { familyOf, mergeScrapes, parseScrape, type Scrape } from './scrape.js';

/**
 * Metrics the dashboards use that the gateway declares but does not emit yet.
 * Each entry names the file that declares the instrument, which this test checks;
 * remove the entry once the metric shows up on /metrics.
 */
const NOT_YET_EMITTED: Record<string, { instrument: string; declaredIn: string; why: string }> = {
  gatehouse_requests_inflight: {
    instrument: 'gatehouse.requests.inflight',
    declaredIn: 'proxy/telemetry/metrics.ts',
    why: 'GatewayMetrics.inflight exists, but no pipeline stage adds to it yet',
  },
};

/** Series Prometheus itself writes for every scrape target. */
const SCRAPE_METRICS: Record<string, string[]> = { up: ['job', 'instance'] };
/** Labels Prometheus attaches to every scraped series. */
const SCRAPE_LABELS = new Set(['job', 'instance']);

const QUERIES = everyQuery();

async function post(gw: TestGateway, path: string, body: object, headers: Record<string, string>): Promise<Response> {
  const response = await fetch(`${gw.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
  await response.arrayBuffer(); // drain streams to their end, so the request is finished and recorded
  return response;
}

async function scrapeOf(gw: TestGateway): Promise<Scrape> {
  const response = await fetch(`${gw.url}/metrics`);
  expect(response.status).toBe(200);
  return parseScrape(await response.text());
}

/** A stand-in OTLP endpoint that refuses every export with a non-retryable 400. */
async function startRefusingOtlpEndpoint(): Promise<{ url: string; server: Server }> {
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => res.writeHead(400, { 'content-type': 'application/json' }).end('{}'));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/traces`, server };
}

/**
 * A gateway whose OTLP exporter fails, so gatehouse_telemetry_export_failures_total
 * exists. The exporter reads its endpoint from process.env when it is built, so
 * the variable is set for the duration of the start only.
 */
async function startGatewayWithFailingExporter(endpoint: string): Promise<TestGateway> {
  const previous = process.env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT;
  process.env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT = endpoint;
  try {
    return await startTestGateway(
      {
        providers: { sim: { type: 'simulated' } },
        models: { 'gpt-4o-mini': { targets: [{ provider: 'sim', model: 'gpt-4o-mini' }] } },
      },
      undefined,
      { env: { OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: endpoint } },
    );
  } finally {
    if (previous === undefined) delete process.env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT;
    else process.env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT = previous;
  }
}

describe('dashboards and alert rules against a running gateway', () => {
  let scrape: Scrape;
  const stops: Array<() => Promise<unknown>> = [];

  beforeAll(async () => {
    const gw = await startSimulatedGateway();
    stops.push(() => gw.stop());
    const bearer = { authorization: `Bearer ${gw.keys['k-acme']}` };
    const chat = { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Hello' }] };
    const statuses = [
      (await post(gw, '/v1/chat/completions', chat, bearer)).status,
      (await post(gw, '/v1/chat/completions', { ...chat, stream: true }, bearer)).status,
      (await post(gw, '/v1/messages', { model: 'claude-haiku-4-5', max_tokens: 32, stream: true, messages: [{ role: 'user', content: 'Hello' }] }, { 'x-api-key': gw.keys['k-acme'] ?? '', 'anthropic-version': '2023-06-01' })).status,
      (await post(gw, '/v1/embeddings', { model: 'text-embedding-3-small', input: 'Hello' }, bearer)).status,
      (await post(gw, '/v1/chat/completions', chat, { authorization: 'Bearer not-a-key' })).status,
    ];
    expect(statuses).toEqual([200, 200, 200, 200, 401]);

    const otlp = await startRefusingOtlpEndpoint();
    stops.push(() => new Promise((resolve) => otlp.server.close(resolve)));
    const exporting = await startGatewayWithFailingExporter(otlp.url);
    stops.unshift(() => exporting.stop());
    expect((await post(exporting, '/v1/chat/completions', chat, { authorization: `Bearer ${exporting.keys['k-acme']}` })).status).toBe(200);
    await exporting.telemetry.forceFlush().catch(() => undefined); // the refused export is the point

    scrape = mergeScrapes([await scrapeOf(gw), await scrapeOf(exporting)]);
  });

  afterAll(async () => {
    for (const stop of stops) await stop();
  });

  it('finds PromQL in every dashboard, the alert rules and their tests', () => {
    const sources = new Set(QUERIES.map((query) => query.source.split(' › ')[0]));
    expect([...sources].sort()).toEqual(['alerts.test.yml', 'alerts.yml', 'cost-and-tokens.json', 'overview.json', 'upstreams.json']);
  });

  it('parses every expression with the PromQL grammar', () => {
    const broken = QUERIES.map((query) => ({ query, errors: promqlReferences(query.expr).syntaxErrors })).filter((entry) => entry.errors.length > 0);
    expect(broken.map(({ query, errors }) => `${query.source}: ${errors.join('; ')}`)).toEqual([]);
  });

  it('refers only to metrics the gateway exports (or the documented pending list)', () => {
    const unknown = new Set<string>();
    for (const query of QUERIES) {
      for (const { metric } of promqlReferences(query.expr).selectors) {
        if (!scrape.samples.has(metric) && !(metric in NOT_YET_EMITTED) && !(metric in SCRAPE_METRICS)) unknown.add(`${query.source}: ${metric}`);
      }
    }
    expect([...unknown]).toEqual([]);
  });

  it('matches only on labels that the metric carries', () => {
    const wrong: string[] = [];
    for (const query of QUERIES) {
      const { selectors } = promqlReferences(query.expr);
      for (const [index, { metric, labels }] of selectors.entries()) {
        const known = scrape.samples.get(metric) ?? (SCRAPE_METRICS[metric] ? new Set(SCRAPE_METRICS[metric]) : undefined);
        if (!known) continue; // pending or unknown: reported by the test above
        const needed = index === 0 ? [...labels, ...query.extraLabels] : labels;
        for (const label of needed) if (!known.has(label) && !SCRAPE_LABELS.has(label)) wrong.push(`${query.source}: ${metric} has no label ${label}`);
      }
    }
    expect(wrong).toEqual([]);
  });

  it('groups only by labels that some metric of the expression carries', () => {
    const wrong: string[] = [];
    for (const query of QUERIES) {
      const { selectors, groupingLabels } = promqlReferences(query.expr);
      const available = new Set<string>(SCRAPE_LABELS);
      for (const { metric } of selectors) for (const label of scrape.samples.get(metric) ?? SCRAPE_METRICS[metric] ?? []) available.add(label);
      const pendingOnly = selectors.every(({ metric }) => metric in NOT_YET_EMITTED);
      for (const label of groupingLabels) if (!available.has(label) && !pendingOnly) wrong.push(`${query.source}: no metric has label ${label}`);
    }
    expect(wrong).toEqual([]);
  });

  it('uses every histogram through its _bucket, _sum or _count series', () => {
    const referenced = new Set(QUERIES.flatMap((query: Query) => promqlReferences(query.expr).selectors.map(({ metric }) => metric)));
    const histograms = [...scrape.families].filter(([, type]) => type === 'histogram').map(([name]) => name);
    expect(histograms.filter((name) => referenced.has(name))).toEqual([]);
    // Each histogram the gateway exports is on a dashboard.
    const families = new Set([...referenced].map((metric) => familyOf(metric, scrape)));
    expect(histograms.filter((name) => !families.has(name))).toEqual([]);
  });

  it('keeps the pending list honest: each entry is declared in the proxy and used by a dashboard', () => {
    const referenced = new Set(QUERIES.flatMap((query) => promqlReferences(query.expr).selectors.map(({ metric }) => metric)));
    for (const [metric, entry] of Object.entries(NOT_YET_EMITTED)) {
      const source = readFileSync(fileURLToPath(new URL(`../../${entry.declaredIn}`, import.meta.url)), 'utf8');
      expect(source, `${metric}: ${entry.why}`).toContain(`'${entry.instrument}'`);
      expect(referenced.has(metric)).toBe(true);
    }
  });
});
