/**
 * Issue 16: SREs see Gatehouse's spans in a real Jaeger. A Jaeger v2 built from
 * its Go module (scripts/install-jaeger.sh) runs with the config operators get
 * in dashboards/jaeger/jaeger-local.yaml; the gateway's OTLP exporter points at
 * it; requests go through with failover; then Jaeger's query API must find the
 * trace by service and by tenant tag, with the SERVER span, its upstream
 * attempt spans and the GenAI attributes, and no key anywhere.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { openaiClient, startTestGateway, type TestGateway } from '../support/gateway.js';
import { REPO_ROOT } from '../support/policyFixture.js';
import { freePort } from '../support/processes.js';
import { describeRequiring } from '../support/requiredTool.js';

const JAEGER = process.env.GATEHOUSE_JAEGER ?? join(REPO_ROOT, '.tools', 'bin', 'jaeger');
const CONFIG = join(REPO_ROOT, 'dashboards', 'jaeger', 'jaeger-local.yaml');
const SERVICE = 'gatehouse';

interface JaegerTag { key: string; type: string; value: unknown }
interface JaegerSpan { traceID: string; spanID: string; operationName: string; references: Array<{ refType: string; spanID: string }>; tags: JaegerTag[] }
interface JaegerTrace { traceID: string; spans: JaegerSpan[]; processes: Record<string, { serviceName: string }> }

const tag = (span: JaegerSpan, key: string) => span.tags.find((t) => t.key === key)?.value;

describeRequiring('Jaeger end to end', existsSync(JAEGER) ? undefined : `Jaeger is not built at ${JAEGER} (scripts/install-jaeger.sh)`, () => {
  let jaeger: ChildProcess;
  let queryUrl: string;
  let gw: TestGateway;
  let output = '';

  async function traces(query: Record<string, string>): Promise<JaegerTrace[]> {
    const response = await fetch(`${queryUrl}/api/traces?${new URLSearchParams({ service: SERVICE, limit: '50', ...query }).toString()}`);
    expect(response.status).toBe(200);
    return ((await response.json()) as { data: JaegerTrace[] | null }).data ?? [];
  }

  beforeAll(async () => {
    const [otlp, query, grpc] = [await freePort(), await freePort(), await freePort()];
    jaeger = spawn(JAEGER, ['--config', CONFIG], {
      env: { ...process.env, JAEGER_OTLP_HTTP_PORT: String(otlp), JAEGER_QUERY_PORT: String(query), JAEGER_QUERY_GRPC_PORT: String(grpc) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    jaeger.stdout!.on('data', (d: Buffer) => { output += d.toString(); });
    jaeger.stderr!.on('data', (d: Buffer) => { output += d.toString(); });
    queryUrl = `http://127.0.0.1:${query}`;
    for (const deadline = Date.now() + 20_000; ;) {
      const up = await fetch(`${queryUrl}/api/services`).then((r) => r.ok, () => false);
      if (up) break;
      if (Date.now() > deadline || jaeger.exitCode !== null) throw new Error(`Jaeger did not start:\n${output}`);
      await new Promise((r) => setTimeout(r, 200));
    }
    gw = await startTestGateway({
      providers: {
        sim: { type: 'simulated', latencyMs: 0, outputTokens: 6 },
        down: { type: 'simulated', latencyMs: 0, faults: [{ kind: 'status', status: 503 }] },
      },
      models: { 'gpt-4o': { targets: [{ provider: 'down', model: 'gpt-4o' }, { provider: 'sim', model: 'gpt-4o-mini' }] } },
    }, undefined, { env: { OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${otlp}` } });
  }, 60_000);
  afterAll(async () => {
    await gw?.stop();
    jaeger?.kill('SIGTERM');
  });

  it('finds the request by service and by tenant, with its SERVER span, upstream attempts and GenAI attributes', async () => {
    expect(gw.telemetry.otlpEnabled).toBe(true);
    const client = openaiClient(gw);
    const { data: answer, response } = await client.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'Hello Jaeger' }] }).withResponse();
    const requestId = response.headers.get('x-request-id');
    expect(requestId).toBeTruthy();
    await gw.telemetry.forceFlush();

    let found: JaegerTrace | undefined;
    for (const deadline = Date.now() + 20_000; found === undefined && Date.now() < deadline;) {
      found = (await traces({ tags: JSON.stringify({ 'gatehouse.tenant.id': 'acme' }) }))
        .find((t) => t.spans.some((s) => tag(s, 'gatehouse.request.id') === requestId));
      if (found === undefined) await new Promise((r) => setTimeout(r, 250));
    }
    expect(found, `no trace for request ${requestId} in Jaeger`).toBeDefined();
    const trace = found!;
    // By service: Jaeger lists the service, and the service search returns the same trace.
    const services = ((await (await fetch(`${queryUrl}/api/services`)).json()) as { data: string[] }).data;
    expect(services).toContain(SERVICE);
    expect((await traces({})).map((t) => t.traceID)).toContain(trace.traceID);
    expect(Object.values(trace.processes).map((p) => p.serviceName)).toContain(SERVICE);

    const server = trace.spans.find((s) => tag(s, 'span.kind') === 'server')!;
    expect(server.operationName).toBe('chat gpt-4o');
    expect(tag(server, 'gen_ai.operation.name')).toBe('chat');
    expect(tag(server, 'gen_ai.request.model')).toBe('gpt-4o');
    expect(tag(server, 'gen_ai.response.model')).toBe(answer.model);
    expect(Number(tag(server, 'gen_ai.usage.input_tokens'))).toBe(answer.usage!.prompt_tokens);
    expect(Number(tag(server, 'gen_ai.usage.output_tokens'))).toBe(answer.usage!.completion_tokens);
    expect(tag(server, 'gatehouse.tenant.id')).toBe('acme');
    expect(tag(server, 'gatehouse.user.id')).toBe('alice');
    expect(tag(server, 'gatehouse.outcome')).toBe('ok');
    expect(Number(tag(server, 'gatehouse.route.attempts'))).toBe(2);

    const attempts = trace.spans.filter((s) => tag(s, 'span.kind') === 'client' && s.references.some((r) => r.refType === 'CHILD_OF' && r.spanID === server.spanID))
      .sort((a, b) => Number(tag(a, 'gatehouse.attempt.number')) - Number(tag(b, 'gatehouse.attempt.number')));
    expect(attempts).toHaveLength(2);
    expect(attempts.map((a) => tag(a, 'gatehouse.attempt.outcome'))).toEqual(['failed', 'ok']);
    expect(tag(attempts[0]!, 'gatehouse.failover.reason')).toBe('overloaded');
    expect(attempts.map((a) => tag(a, 'gatehouse.route.target'))).toEqual(['down/gpt-4o', 'sim/gpt-4o-mini']);
    expect(attempts.every((a) => typeof tag(a, 'gen_ai.provider.name') === 'string')).toBe(true);

    // No key on any span.
    expect(JSON.stringify(trace)).not.toContain(gw.keys['k-acme']!);
  });
});
