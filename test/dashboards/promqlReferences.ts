/**
 * What a PromQL expression refers to, read with Prometheus's own grammar
 * (@prometheus-io/lezer-promql): the metric of every selector with the labels it
 * matches on, the labels it groups or matches by, and any syntax error.
 * Grafana's variables are replaced by plain values first, so that dashboard
 * queries parse as the Prometheus server would see them.
 */
import { parser } from '@prometheus-io/lezer-promql';

export interface Selector {
  metric: string;
  /** Label names in the matchers, e.g. `gatehouse_tenant_id` in `{gatehouse_tenant_id=~"$tenant"}`. */
  labels: string[];
}

export interface PromqlReferences {
  selectors: Selector[];
  /** Labels named in `by`, `without`, `on` and `ignoring` clauses. */
  groupingLabels: string[];
  /** The text around each syntax error; empty when the expression parses. */
  syntaxErrors: string[];
}

/**
 * Replaces Grafana's built-in and template variables (`$__rate_interval`,
 * `${tenant:regex}`, `$model`) with values that keep the expression valid.
 * Durations become `5m`; every other variable sits inside a label matcher's
 * regex and becomes `.*`.
 */
export function expandGrafanaVariables(expr: string): string {
  return expr
    .replace(/\$__(rate_interval|interval|range)\b|\$\{__(rate_interval|interval|range)\}/g, '5m')
    .replace(/\$\{[A-Za-z_][A-Za-z0-9_]*(:[a-z]+)?\}|\$[A-Za-z_][A-Za-z0-9_]*/g, '.*');
}

export function promqlReferences(expr: string): PromqlReferences {
  const tree = parser.parse(expr);
  const selectors: Selector[] = [];
  const groupingLabels: string[] = [];
  const syntaxErrors: string[] = [];
  const text = (from: number, to: number) => expr.slice(from, to);
  tree.iterate({
    enter(node) {
      if (node.type.isError) {
        syntaxErrors.push(`at ${node.from}: '${text(Math.max(0, node.from - 20), node.to + 20)}'`);
        return;
      }
      if (node.name === 'VectorSelector') {
        const selectorNode = node.node;
        const identifier = selectorNode.getChild('Identifier');
        const labels: string[] = [];
        const cursor = selectorNode.cursor();
        cursor.iterate((inner) => {
          if (inner.name === 'LabelName' || inner.name === 'QuotedLabelName') labels.push(unquote(text(inner.from, inner.to)));
        });
        const metric = identifier ? text(identifier.from, identifier.to) : nameFromMatchers(expr, selectorNode.from, selectorNode.to);
        if (metric) selectors.push({ metric, labels: labels.filter((label) => label !== '__name__') });
        return false;
      }
      if (node.name === 'GroupingLabels') {
        const cursor = node.node.cursor();
        cursor.iterate((inner) => {
          if (inner.name === 'LabelName' || inner.name === 'QuotedLabelName') groupingLabels.push(unquote(text(inner.from, inner.to)));
        });
        return false;
      }
      return undefined;
    },
  });
  return { selectors, groupingLabels, syntaxErrors };
}

/** `{__name__="x"}` selectors name their metric in a matcher. */
function nameFromMatchers(expr: string, from: number, to: number): string | undefined {
  return /__name__\s*=\s*"([^"]+)"/.exec(expr.slice(from, to))?.[1];
}

function unquote(name: string): string {
  return name.startsWith('"') ? name.slice(1, -1) : name;
}
