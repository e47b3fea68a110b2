/**
 * The files under dashboards/ and every PromQL expression in them: Grafana panel
 * targets and template variables, Prometheus alert rules, and the series of the
 * alert rules' unit tests. Each query says where it came from, for messages.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { expandGrafanaVariables } from './promqlReferences.js';

export const DASHBOARDS_DIR = fileURLToPath(new URL('../../dashboards/', import.meta.url));
export const GRAFANA_DASHBOARDS_DIR = join(DASHBOARDS_DIR, 'grafana', 'dashboards');

export interface Query {
  /** e.g. `overview.json › Request duration › B`. */
  source: string;
  /** Plain PromQL (Grafana variables already replaced). */
  expr: string;
  /** Labels the query needs on its selector's metric beyond its matchers (the label of `label_values`). */
  extraLabels: string[];
}

export interface GrafanaTarget { refId?: string; expr?: string; datasource?: { type?: string; uid?: string } }
export interface GrafanaPanel {
  id?: number;
  type?: string;
  title?: string;
  datasource?: { type?: string; uid?: string };
  targets?: GrafanaTarget[];
  panels?: GrafanaPanel[];
}
export interface GrafanaVariable { name: string; type: string; query?: string | { query?: string }; datasource?: { type?: string; uid?: string } }
export interface GrafanaDashboard {
  uid: string;
  title: string;
  panels: GrafanaPanel[];
  templating: { list: GrafanaVariable[] };
}

export interface AlertRule { alert?: string; record?: string; expr: string; for?: string; labels?: Record<string, string>; annotations?: Record<string, string> }
export interface RuleFile { groups: Array<{ name: string; rules: AlertRule[] }> }

export function readYaml<T>(relativePath: string): T {
  return parseYaml(readFileSync(join(DASHBOARDS_DIR, relativePath), 'utf8')) as T;
}

export function dashboardFiles(): Array<{ file: string; dashboard: GrafanaDashboard }> {
  return readdirSync(GRAFANA_DASHBOARDS_DIR)
    .filter((file) => file.endsWith('.json'))
    .sort()
    .map((file) => ({ file, dashboard: JSON.parse(readFileSync(join(GRAFANA_DASHBOARDS_DIR, file), 'utf8')) as GrafanaDashboard }));
}

/** Every panel, rows' nested panels included. */
export function allPanels(panels: readonly GrafanaPanel[]): GrafanaPanel[] {
  return panels.flatMap((panel) => [panel, ...allPanels(panel.panels ?? [])]);
}

export function dashboardQueries(file: string, dashboard: GrafanaDashboard): Query[] {
  const queries: Query[] = [];
  for (const panel of allPanels(dashboard.panels)) {
    for (const target of panel.targets ?? []) {
      if (target.expr) queries.push({ source: `${file} › ${panel.title ?? panel.id} › ${target.refId ?? '?'}`, expr: expandGrafanaVariables(target.expr), extraLabels: [] });
    }
  }
  for (const variable of dashboard.templating.list) {
    if (variable.type !== 'query') continue;
    const text = typeof variable.query === 'string' ? variable.query : variable.query?.query;
    const labelValues = text ? /^label_values\((.+),\s*([A-Za-z_][A-Za-z0-9_]*)\s*\)$/.exec(text.trim()) : null;
    if (labelValues?.[1] && labelValues[2]) {
      queries.push({ source: `${file} › variable ${variable.name}`, expr: expandGrafanaVariables(labelValues[1]), extraLabels: [labelValues[2]] });
    } else if (text) {
      queries.push({ source: `${file} › variable ${variable.name}`, expr: expandGrafanaVariables(text), extraLabels: [] });
    }
  }
  return queries;
}

export function alertRuleQueries(): Query[] {
  const rules = readYaml<RuleFile>('prometheus/alerts.yml');
  return rules.groups.flatMap((group) =>
    group.rules.map((rule) => ({ source: `alerts.yml › ${rule.alert ?? rule.record}`, expr: rule.expr, extraLabels: [] })),
  );
}

interface RuleTests { tests: Array<{ name: string; input_series: Array<{ series: string }> }> }

/** The input series of the alert rules' unit tests, written as selectors. */
export function alertTestSeries(): Query[] {
  const file = readYaml<RuleTests>('prometheus/alerts.test.yml');
  return file.tests.flatMap((test) => test.input_series.map((input) => ({ source: `alerts.test.yml › ${test.name}`, expr: input.series, extraLabels: [] })));
}

export function everyQuery(): Query[] {
  return [...dashboardFiles().flatMap(({ file, dashboard }) => dashboardQueries(file, dashboard)), ...alertRuleQueries(), ...alertTestSeries()];
}
