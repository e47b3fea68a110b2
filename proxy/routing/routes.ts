/**
 * The routing table: each model alias maps to an ordered list of targets
 * (provider + model). Breakers are per (provider, model) and shared by every
 * alias that routes there.
 */
import type { Config } from '../config/schema.js';
import { GatehouseError } from '../errors.js';
import type { Provider } from '../providers/types.js';
import { CircuitBreaker } from './breaker.js';

export interface Target {
  /** `provider/model`, the name of the target on spans and metrics. */
  readonly id: string;
  readonly provider: Provider;
  readonly model: string;
  readonly weight: number;
  readonly breaker: CircuitBreaker;
}

export interface Route {
  readonly alias: string;
  readonly kind: 'chat' | 'embeddings';
  readonly strategy: 'failover' | 'weighted';
  readonly targets: readonly Target[];
}

export class RouteTable {
  private readonly routes = new Map<string, Route>();
  readonly breakers = new Map<string, CircuitBreaker>();

  constructor(config: Config, providers: ReadonlyMap<string, Provider>) {
    for (const [alias, model] of Object.entries(config.models)) {
      const targets = model.targets.map((target): Target => {
        const id = `${target.provider}/${target.model}`;
        let breaker = this.breakers.get(id);
        if (!breaker) this.breakers.set(id, (breaker = new CircuitBreaker(config.routing.breaker)));
        const provider = providers.get(target.provider);
        if (!provider) throw new Error(`models.${alias}: provider '${target.provider}' is not started`);
        return { id, provider, model: target.model, weight: target.weight, breaker };
      });
      this.routes.set(alias, { alias, kind: model.kind, strategy: model.strategy, targets });
    }
  }

  aliases(): string[] {
    return [...this.routes.keys()];
  }

  /** The route for a client's `model`; 404 `model_not_found` listing the known aliases of that kind. */
  resolve(alias: string, kind: Route['kind']): Route {
    const route = this.routes.get(alias);
    if (route && route.kind === kind) return route;
    const known = [...this.routes.values()].filter((r) => r.kind === kind).map((r) => r.alias);
    throw new GatehouseError('model_not_found', `model '${alias}' is not served here; known ${kind} models: ${known.join(', ')}`, { param: 'model' });
  }
}
