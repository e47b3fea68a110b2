/**
 * The example deployment under dashboards/ hangs together: dashboards are
 * well-formed and use the provisioned data sources, docker-compose mounts files
 * that exist where Grafana, Prometheus and the OpenTelemetry Collector look for
 * them, the collector's pipeline names only components it defines and keeps a
 * persistent queue, and promtool (when installed) accepts the rules and config.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, posix } from 'node:path';
import { parse as parseYaml, stringify as toYaml } from 'yaml';
import { describe, expect, it } from 'vitest';
import { describeRequiring } from '../support/requiredTool.js';
import { allPanels, DASHBOARDS_DIR, dashboardFiles, dashboardQueries, readYaml, type RuleFile } from './observabilityFiles.js';

interface ComposeService { image?: string; build?: { context: string; dockerfile: string }; volumes?: string[]; environment?: Record<string, string>; command?: string[] }
interface Compose { services: Record<string, ComposeService>; volumes?: Record<string, unknown> }
interface Datasources { datasources: Array<{ name: string; uid: string; type: string; url: string }> }
interface DashboardProviders { providers: Array<{ name: string; type: string; options: { path: string } }> }
interface Pipeline { receivers: string[]; processors?: string[]; exporters: string[] }
interface CollectorConfig {
  extensions: Record<string, unknown>;
  receivers: Record<string, unknown>;
  processors: Record<string, unknown>;
  exporters: Record<string, { sending_queue?: { enabled?: boolean; storage?: string } }>;
  service: { extensions: string[]; pipelines: Record<string, Pipeline> };
}

const compose = readYaml<Compose>('docker-compose.yml');
const PROMTOOL = spawnSync('promtool', ['--version']).status === 0;

/** `host:container[:ro]` bind mounts of a service whose host side is a path in dashboards/. */
function bindMounts(service: ComposeService): Array<{ host: string; container: string }> {
  return (service.volumes ?? [])
    .map((volume) => volume.split(':'))
    .filter(([host]) => host?.startsWith('.'))
    .map(([host, container]) => ({ host: host ?? '', container: container ?? '' }));
}

describe('Grafana dashboards', () => {
  const dashboards = dashboardFiles();

  it('are the three Gatehouse dashboards, each with a unique uid', () => {
    expect(dashboards.map(({ dashboard }) => dashboard.title).sort()).toEqual(['Gatehouse — cost and tokens', 'Gatehouse — overview', 'Gatehouse — upstreams']);
    expect(new Set(dashboards.map(({ dashboard }) => dashboard.uid)).size).toBe(dashboards.length);
  });

  it('query through the dashboard datasource variable, with tenant and model variables', () => {
    for (const { file, dashboard } of dashboards) {
      const variables = dashboard.templating.list.map((variable) => variable.name);
      expect(variables, file).toEqual(expect.arrayContaining(['datasource', 'tenant', 'model']));
      for (const panel of allPanels(dashboard.panels).filter((p) => p.targets)) {
        expect(panel.datasource, `${file} › ${panel.title}`).toEqual({ type: 'prometheus', uid: '${datasource}' });
        for (const target of panel.targets ?? []) expect(target.datasource?.uid, `${file} › ${panel.title}`).toBe('${datasource}');
      }
      expect(dashboardQueries(file, dashboard).length, file).toBeGreaterThan(5);
    }
  });

  it('have unique panel ids that fit the 24-column grid', () => {
    for (const { file, dashboard } of dashboards) {
      const panels = allPanels(dashboard.panels) as Array<{ id?: number; gridPos?: { x: number; w: number } }>;
      expect(new Set(panels.map((panel) => panel.id)).size, file).toBe(panels.length);
      for (const panel of panels) expect((panel.gridPos?.x ?? 0) + (panel.gridPos?.w ?? 0), `${file} panel ${panel.id}`).toBeLessThanOrEqual(24);
    }
  });
});

describe('Grafana provisioning', () => {
  it('provides the Prometheus and Jaeger data sources, reachable by compose service name', () => {
    const { datasources } = readYaml<Datasources>('grafana/provisioning/datasources/gatehouse.yaml');
    const byType = new Map(datasources.map((source) => [source.type, source]));
    expect(byType.get('prometheus')?.url).toBe('http://prometheus:9090');
    expect(byType.get('jaeger')?.url).toBe('http://jaeger:16686');
    expect(Object.keys(compose.services)).toEqual(expect.arrayContaining(['prometheus', 'jaeger']));
  });

  it('loads dashboards from the folder docker-compose mounts the dashboard JSON into', () => {
    const { providers } = readYaml<DashboardProviders>('grafana/provisioning/dashboards/gatehouse.yaml');
    const mounts = bindMounts(compose.services.grafana ?? {});
    const dashboardsMount = mounts.find((mount) => posix.normalize(mount.host) === 'grafana/dashboards');
    expect(dashboardsMount).toBeDefined();
    expect(providers.map((provider) => provider.options.path)).toContain(dashboardsMount?.container);
    expect(mounts.map((mount) => mount.container)).toEqual(expect.arrayContaining(['/etc/grafana/provisioning/datasources', '/etc/grafana/provisioning/dashboards']));
  });
});

describe('docker-compose', () => {
  it('runs gatehouse, prometheus, grafana, jaeger and the OpenTelemetry Collector', () => {
    expect(Object.keys(compose.services).sort()).toEqual(['gatehouse', 'grafana', 'jaeger', 'otel-collector', 'prometheus']);
  });

  it('mounts only files that exist', () => {
    for (const [name, service] of Object.entries(compose.services)) {
      for (const mount of bindMounts(service)) expect(existsSync(join(DASHBOARDS_DIR, mount.host)), `${name}: ${mount.host}`).toBe(true);
    }
    const build = compose.services.gatehouse?.build;
    expect(build && existsSync(join(DASHBOARDS_DIR, build.context, build.dockerfile))).toBe(true);
  });

  it('points the proxy at the collector, and Prometheus at the proxy', () => {
    const env = compose.services.gatehouse?.environment ?? {};
    expect(env.OTEL_EXPORTER_OTLP_ENDPOINT).toBe('http://otel-collector:4318');
    const prometheus = readYaml<{ scrape_configs: Array<{ job_name: string; metrics_path: string; static_configs: Array<{ targets: string[] }> }> }>('prometheus/prometheus.yml');
    const job = prometheus.scrape_configs.find((config) => config.job_name === 'gatehouse');
    expect(job?.metrics_path).toBe('/metrics');
    expect(job?.static_configs.flatMap((config) => config.targets)).toContain('gatehouse:8080');
  });
});

describe('OpenTelemetry Collector config', () => {
  const config = readYaml<CollectorConfig>('otel-collector/config.yaml');

  it('names only components it defines', () => {
    for (const extension of config.service.extensions) expect(config.extensions).toHaveProperty([extension]);
    for (const [name, pipeline] of Object.entries(config.service.pipelines)) {
      for (const receiver of pipeline.receivers) expect(config.receivers, `${name}: ${receiver}`).toHaveProperty([receiver]);
      for (const processor of pipeline.processors ?? []) expect(config.processors, `${name}: ${processor}`).toHaveProperty([processor]);
      for (const exporter of pipeline.exporters) expect(config.exporters, `${name}: ${exporter}`).toHaveProperty([exporter]);
    }
  });

  it('receives OTLP/HTTP on 4318 and exports traces through a persistent sending queue', () => {
    expect(config.receivers).toHaveProperty(['otlp', 'protocols', 'http', 'endpoint'], '0.0.0.0:4318');
    const traces = config.service.pipelines.traces;
    expect(traces).toBeDefined();
    for (const exporter of traces?.exporters ?? []) {
      const queue = config.exporters[exporter]?.sending_queue;
      expect(queue?.enabled).toBe(true);
      expect(config.service.extensions).toContain(queue?.storage);
    }
  });
});

describe('files', () => {
  it('every YAML file under dashboards/ parses', () => {
    const files = readdirSync(DASHBOARDS_DIR, { recursive: true, encoding: 'utf8' }).filter((file) => /\.ya?ml(\.example)?$/.test(file));
    expect(files.length).toBeGreaterThanOrEqual(8);
    for (const file of files) expect(() => parseYaml(readFileSync(join(DASHBOARDS_DIR, file), 'utf8')), file).not.toThrow();
  });

  it('every alert names a runbook section that exists in docs/operations.md', () => {
    const operations = readFileSync(join(DASHBOARDS_DIR, '..', 'docs', 'operations.md'), 'utf8');
    const anchors = new Set([...operations.matchAll(/^#{2,4} (.+)$/gm)].map((heading) => (heading[1] ?? '').trim().toLowerCase().replace(/[^a-z0-9 -]/g, '').replace(/ /g, '-')));
    for (const rule of readYaml<RuleFile>('prometheus/alerts.yml').groups.flatMap((group) => group.rules)) {
      const runbook = rule.annotations?.runbook ?? '';
      expect(runbook, rule.alert).toMatch(/^docs\/operations\.md#/);
      expect(anchors.has(runbook.split('#')[1] ?? ''), `${rule.alert}: ${runbook}`).toBe(true);
    }
  });
});

describeRequiring('promtool', PROMTOOL ? undefined : 'promtool is not installed (apt-get install prometheus)', () => {
  /** promtool's output; it reports some problems (lint) on stderr with exit code 0, so both count. */
  const promtool = (...args: string[]) => {
    const run = spawnSync('promtool', args, { cwd: join(DASHBOARDS_DIR, 'prometheus'), encoding: 'utf8' });
    const output = `${run.stdout}${run.stderr}`;
    expect(run.status, output).toBe(0);
    expect(output).not.toContain('FAILED');
    return output;
  };

  it('accepts prometheus.yml with its rule file', () => {
    expect(promtool('check', 'config', 'prometheus.yml')).toContain('SUCCESS');
  });

  it('passes the alert rules unit tests', () => {
    expect(promtool('test', 'rules', 'alerts.test.yml')).toContain('SUCCESS');
  });

  it('accepts every dashboard query as a recording rule', () => {
    let count = 0;
    const rules: RuleFile = {
      groups: dashboardFiles().map(({ file, dashboard }) => ({
        name: file,
        rules: dashboardQueries(file, dashboard).map((query) => ({ record: `dashboard:query_${++count}`, expr: query.expr })),
      })),
    };
    const dir = mkdtempSync(join(tmpdir(), 'gatehouse-dashboards-'));
    try {
      writeFileSync(join(dir, 'dashboard-queries.yml'), toYaml(rules));
      expect(promtool('check', 'rules', join(dir, 'dashboard-queries.yml'))).toContain('SUCCESS');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
