/**
 * The gateway's metrics, created once from a Meter. Names follow the GenAI
 * semantic conventions where one exists (`gen_ai.server.*`, `gen_ai.client.token.usage`);
 * the rest are `gatehouse.*`. Labels are bounded: tenant, model, provider, outcome,
 * wire; never user ids.
 */
import type { Attributes, Counter, Histogram, Meter, ObservableResult, UpDownCounter } from '@opentelemetry/api';
import { A } from './attributes.js';

const SECONDS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120];
const TOKENS = [1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576];

/**
 * The labels every per-request metric carries, all bounded: tenant, model alias,
 * operation, wire, and the registry prompt and version (`none` for requests that
 * did not render one: a client's own prompt ids are free text, so never labels).
 */
export interface RequestLabels {
  tenant: string;
  model: string;
  operation: string;
  wire: string;
  promptId: string;
  promptVersion: string;
}

/** What one finished request adds to the metrics. */
export interface RequestMetrics {
  outcome: string;
  errorCode: string;
  durationS: number;
  ttftS: number | undefined;
  usage: { input: number; output: number; costUsd: number; priceKnown: boolean } | undefined;
}

/** A cumulative sum of one counter for one attribute set. */
interface Sum {
  readonly attributes: Attributes;
  value: number;
}

/** The attribute objects of one label set, built once and reused (never mutated). */
interface LabelSet {
  key: string;
  base: Attributes;
  input: Attributes;
  output: Attributes;
}

/**
 * Per-request hot path: the counters are summed here, in maps keyed by their label
 * values, and reported through observable counters when metrics are collected; only
 * the histograms are recorded per request. That replaces eight SDK calls per request
 * (each sorting and hashing its attributes, after an object spread) with three, and
 * the label objects are built once per label set.
 */
export class GatewayMetrics {
  readonly duration: Histogram;
  readonly timeToFirstToken: Histogram;
  readonly tokenUsage: Histogram;
  readonly exportFailures: Counter;
  readonly inflight: UpDownCounter;
  private readonly labelSets = new Map<string, LabelSet>();
  private readonly requestSums = new Map<string, Sum>();
  private readonly tokenSums = new Map<string, Sum>();
  private readonly costSums = new Map<string, Sum>();
  private readonly attemptSums = new Map<string, Sum>();

  constructor(meter: Meter) {
    const observe = (sums: Map<string, Sum>) => (result: ObservableResult) => {
      for (const sum of sums.values()) result.observe(sum.value, sum.attributes);
    };
    meter.createObservableCounter('gatehouse.requests', { description: 'Requests by outcome' }).addCallback(observe(this.requestSums));
    this.duration = meter.createHistogram('gen_ai.server.request.duration', {
      description: 'Time from request to the last byte of the response',
      unit: 's',
      advice: { explicitBucketBoundaries: SECONDS },
    });
    this.timeToFirstToken = meter.createHistogram('gen_ai.server.time_to_first_token', {
      description: 'Time from request to the first streamed token sent to the client',
      unit: 's',
      advice: { explicitBucketBoundaries: SECONDS },
    });
    this.tokenUsage = meter.createHistogram('gen_ai.client.token.usage', {
      description: 'Tokens per request by type',
      unit: '{token}',
      advice: { explicitBucketBoundaries: TOKENS },
    });
    meter.createObservableCounter('gatehouse.tokens', { description: 'Tokens by tenant, model and type', unit: '{token}' }).addCallback(observe(this.tokenSums));
    meter.createObservableCounter('gatehouse.cost', { description: 'Cost in USD by tenant and model', unit: 'USD' }).addCallback(observe(this.costSums));
    meter.createObservableCounter('gatehouse.upstream.attempts', { description: 'Upstream attempts by target and outcome' }).addCallback(observe(this.attemptSums));
    this.exportFailures = meter.createCounter('gatehouse.telemetry.export_failures', { description: 'Span batches an exporter failed to send' });
    this.inflight = meter.createUpDownCounter('gatehouse.requests.inflight', { description: 'Requests being served' });
  }

  /** Everything one finished request adds: request count, duration, time to first token, tokens and cost. */
  recordRequest(labels: RequestLabels, facts: RequestMetrics): void {
    const set = this.labelSet(labels);
    add(this.requestSums, `${set.key}\u001f${facts.outcome}\u001f${facts.errorCode}`, 1, () => ({ ...set.base, [A.outcome]: facts.outcome, [A.errorCode]: facts.errorCode }));
    this.duration.record(facts.durationS, set.base);
    if (facts.ttftS !== undefined) this.timeToFirstToken.record(facts.ttftS, set.base);
    const usage = facts.usage;
    if (!usage) return;
    if (usage.input > 0) {
      add(this.tokenSums, `${set.key}\u001finput`, usage.input, () => set.input);
      this.tokenUsage.record(usage.input, set.input);
    }
    if (usage.output > 0) {
      add(this.tokenSums, `${set.key}\u001foutput`, usage.output, () => set.output);
      this.tokenUsage.record(usage.output, set.output);
    }
    if (usage.priceKnown && usage.costUsd > 0) add(this.costSums, set.key, usage.costUsd, () => set.base);
  }

  /** One upstream attempt (not a skipped target). */
  recordAttempt(target: string, outcome: string, reason: string): void {
    add(this.attemptSums, `${target}\u001f${outcome}\u001f${reason}`, 1, () => ({ [A.routeTarget]: target, [A.attemptOutcome]: outcome, [A.failoverReason]: reason }));
  }

  private labelSet(labels: RequestLabels): LabelSet {
    const key = `${labels.tenant}\u001f${labels.model}\u001f${labels.operation}\u001f${labels.wire}\u001f${labels.promptId}\u001f${labels.promptVersion}`;
    let set = this.labelSets.get(key);
    if (!set) {
      const base: Attributes = {
        [A.tenant]: labels.tenant, [A.requestModel]: labels.model, [A.operation]: labels.operation, [A.clientWire]: labels.wire,
        [A.promptId]: labels.promptId, [A.promptVersion]: labels.promptVersion,
      };
      set = { key, base, input: { ...base, 'gen_ai.token.type': 'input' }, output: { ...base, 'gen_ai.token.type': 'output' } };
      this.labelSets.set(key, set);
    }
    return set;
  }
}

function add(sums: Map<string, Sum>, key: string, value: number, attributes: () => Attributes): void {
  const sum = sums.get(key);
  if (sum) sum.value += value;
  else sums.set(key, { attributes: attributes(), value });
}
