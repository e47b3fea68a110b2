/**
 * Every provider type, registered in one place: a map from the config's `type`
 * to a factory. Adding an OpenAI-compatible vendor is config, not code.
 */
import type { ProviderConfig } from '../config/schema.js';
import { createAnthropicSpec } from './anthropic.js';
import { HttpProvider } from './httpProvider.js';
import { openaiCompatibleSpec, openaiSpec } from './openai.js';
import { SimulatedProvider } from './simulated.js';
import type { Provider } from './types.js';

type Factory<T extends ProviderConfig['type']> = (name: string, config: Extract<ProviderConfig, { type: T }>) => Provider;

const FACTORIES: { [T in ProviderConfig['type']]: Factory<T> } = {
  openai: (name, config) =>
    new HttpProvider({ name, spec: openaiSpec, baseUrl: config.baseUrl ?? openaiSpec.defaultBaseUrl!, apiKey: config.apiKey, headers: config.headers, connections: config.connections }),
  anthropic: (name, config) => {
    const spec = createAnthropicSpec({ defaultMaxTokens: config.defaultMaxTokens });
    return new HttpProvider({ name, spec, baseUrl: config.baseUrl ?? spec.defaultBaseUrl!, apiKey: config.apiKey, headers: config.headers, connections: config.connections });
  },
  'openai-compatible': (name, config) =>
    new HttpProvider({
      name,
      spec: openaiCompatibleSpec({ system: config.system, authStyle: config.authStyle, maxTokensField: config.maxTokensField }),
      baseUrl: config.baseUrl,
      apiKey: config.apiKey,
      headers: config.headers,
      connections: config.connections,
    }),
  simulated: (name, config) => new SimulatedProvider(name, config),
};

export function createProvider(name: string, config: ProviderConfig): Provider {
  const factory = FACTORIES[config.type] as Factory<typeof config.type>;
  return factory(name, config as never);
}

export function createProviders(configs: Readonly<Record<string, ProviderConfig>>): Map<string, Provider> {
  return new Map(Object.entries(configs).map(([name, config]) => [name, createProvider(name, config)]));
}
