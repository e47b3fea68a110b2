/**
 * The gateway's metrics, created once from a Meter. Names follow the GenAI
 * semantic conventions where one exists (`gen_ai.server.*`, `gen_ai.client.token.usage`);
 * the rest are `gatehouse.*`. Labels are bounded: tenant, model, provider, outcome,
 * wire; never user ids.
 */
import type { Attributes, Counter, Histogram, Meter, UpDownCounter } from '@opentelemetry/api';

const SECONDS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120];
const TOKENS = [1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576];

export class GatewayMetrics {
  readonly requests: Counter;
  readonly duration: Histogram;
  readonly timeToFirstToken: Histogram;
  readonly tokenUsage: Histogram;
  readonly tokens: Counter;
  readonly cost: Counter;
  readonly attempts: Counter;
  readonly exportFailures: Counter;
  readonly inflight: UpDownCounter;

  constructor(meter: Meter) {
    this.requests = meter.createCounter('gatehouse.requests', { description: 'Requests by outcome' });
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
    this.tokens = meter.createCounter('gatehouse.tokens', { description: 'Tokens by tenant, model and type', unit: '{token}' });
    this.cost = meter.createCounter('gatehouse.cost', { description: 'Cost in USD by tenant and model', unit: 'USD' });
    this.attempts = meter.createCounter('gatehouse.upstream.attempts', { description: 'Upstream attempts by target and outcome' });
    this.exportFailures = meter.createCounter('gatehouse.telemetry.export_failures', { description: 'Span batches an exporter failed to send' });
    this.inflight = meter.createUpDownCounter('gatehouse.requests.inflight', { description: 'Requests being served' });
  }

  recordTokens(labels: Attributes, input: number, output: number, costUsd: number, priceKnown: boolean): void {
    if (input > 0) {
      this.tokens.add(input, { ...labels, 'gen_ai.token.type': 'input' });
      this.tokenUsage.record(input, { ...labels, 'gen_ai.token.type': 'input' });
    }
    if (output > 0) {
      this.tokens.add(output, { ...labels, 'gen_ai.token.type': 'output' });
      this.tokenUsage.record(output, { ...labels, 'gen_ai.token.type': 'output' });
    }
    if (priceKnown && costUsd > 0) this.cost.add(costUsd, labels);
  }
}
