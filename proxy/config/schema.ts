/**
 * The gateway's configuration, as one zod schema. The TypeScript types are derived
 * from it (never written twice). Defaults here are the production defaults; the
 * embedded default (embedded.ts) only adds providers, models and a demo key.
 */
import { z } from 'zod';
import { decimalTextOf, PRICE_DECIMALS } from '../cost/money.js';

const positiveInt = z.number().int().positive();
const nonNegativeInt = z.number().int().nonnegative();

export const PROVIDER_TYPES = ['openai', 'anthropic', 'openai-compatible', 'simulated'] as const;

/** A JavaScript regular expression written as text (refused at load when it does not compile). */
const regexText = z.string().max(500).refine((source) => {
  try {
    new RegExp(source, 'i');
    return true;
  } catch {
    return false;
  }
}, 'expected a valid regular expression');

export const faultSchema = z.strictObject({
  /** `status`: answer with an HTTP error; `connect_timeout`: never answer; `stream_cut`: end a stream early; `garbage`: an unparseable body. */
  kind: z.enum(['status', 'connect_timeout', 'stream_cut', 'garbage']),
  status: z.number().int().min(400).max(599).optional(),
  retryAfterSeconds: z.number().nonnegative().optional(),
  /** For stream_cut: chunks sent before the cut. */
  afterChunks: nonNegativeInt.optional(),
  /** How many requests this fault applies to before the next one in the list; absent means forever. */
  times: positiveInt.optional(),
});

const httpProviderBase = {
  apiKey: z.string().optional(),
  baseUrl: z.url().optional(),
  /** Extra headers sent upstream (e.g. an Azure deployment's api-version is part of baseUrl). */
  headers: z.record(z.string(), z.string()).default({}),
  /** Keep-alive connections per upstream origin. */
  connections: positiveInt.default(128),
};

export const providerSchema = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('openai'), ...httpProviderBase }),
  z.strictObject({
    type: z.literal('anthropic'),
    ...httpProviderBase,
    /** Anthropic requires max_tokens; used when the client did not send one. */
    defaultMaxTokens: positiveInt.default(4096),
  }),
  z.strictObject({
    type: z.literal('openai-compatible'),
    ...httpProviderBase,
    baseUrl: z.url(),
    authStyle: z.enum(['bearer', 'api-key']).default('bearer'),
    maxTokensField: z.enum(['max_tokens', 'max_completion_tokens']).default('max_tokens'),
    /** `gen_ai.provider.name` on spans, e.g. `azure.ai.openai`, `vllm`. */
    system: z.string().default('openai'),
  }),
  z.strictObject({
    type: z.literal('simulated'),
    /** Delay before the first byte. */
    latencyMs: nonNegativeInt.default(0),
    /** Output pace when streaming; 0 streams as fast as possible. */
    tokensPerSecond: nonNegativeInt.default(0),
    /** Output length when the request sets no max tokens. */
    outputTokens: positiveInt.default(24),
    faults: z.array(faultSchema).default([]),
    /**
     * Scripted answers (evals, demos): the first rule whose `system` and `user`
     * patterns (JavaScript regular expressions, case-insensitive) match the
     * request's system text and last user message answers, cycling through its
     * `answers` (so a rule with a bad third answer is a deliberately flaky model).
     */
    replies: z.array(z.strictObject({
      system: regexText.optional(),
      user: regexText.optional(),
      answers: z.array(z.string().min(1).max(10_000)).min(1).max(20),
    })).max(100).default([]),
  }),
]);

export const targetSchema = z.strictObject({
  provider: z.string().min(1),
  model: z.string().min(1),
  /** Relative share under the `weighted` strategy. */
  weight: z.number().positive().default(1),
});

export const modelSchema = z.strictObject({
  /** `failover`: targets in order; `weighted`: first target chosen by weight, the rest as fallbacks. */
  strategy: z.enum(['failover', 'weighted']).default('failover'),
  targets: z.array(targetSchema).min(1),
  /** Serves /v1/embeddings rather than chat. */
  kind: z.enum(['chat', 'embeddings']).default('chat'),
});

export const keySchema = z.strictObject({
  /** Non-secret id recorded on spans and audit records. */
  id: z.string().min(1),
  /** `sha256:<64 hex>` of the virtual key; the key itself is never stored. */
  hash: z.string().regex(/^sha256:[0-9a-f]{64}$/, 'expected sha256:<64 lowercase hex>'),
  tenant: z.string().min(1),
  team: z.string().optional(),
  user: z.string().optional(),
  agent: z.string().optional(),
  feature: z.string().optional(),
  /** Per-request overrides the caller may send as x-gatehouse-user / x-gatehouse-feature / x-gatehouse-agent. */
  allowHeaders: z.array(z.enum(['user', 'feature', 'agent'])).default([]),
  /**
   * What the key may do besides model calls: `agents:admin` suspends, resumes and
   * decommissions agents; `approver` approves or denies held tool calls of its
   * tenant, as its `user` (docs/approvals.md).
   */
  roles: z.array(z.enum(['agents:admin', 'approver'])).default([]),
  /** Model aliases this key may use; absent means all. */
  models: z.array(z.string()).optional(),
});

/** USD per 1M tokens, with at most six decimals: a whole number of pico-USD per token, so costs are exact. */
const usdPerMillion = z
  .number()
  .nonnegative()
  .max(1_000_000)
  .refine((n) => /^\d+(\.\d{1,6})?$/.test(decimalTextOf(n)), `expected at most ${PRICE_DECIMALS} decimals (USD per 1M tokens)`);

export const priceSchema = z.strictObject({
  /** USD per 1M input tokens. */
  input: usdPerMillion,
  output: usdPerMillion,
  cachedInput: usdPerMillion.optional(),
  cacheWrite: usdPerMillion.optional(),
});

export const configSchema = z.strictObject({
  server: z
    .strictObject({
      host: z.string().default('127.0.0.1'),
      port: nonNegativeInt.max(65535).default(8080),
      maxBodyBytes: positiveInt.default(4 * 1024 * 1024),
      /** Limit for receiving the request headers (slowloris). */
      headersTimeoutMs: positiveInt.default(30_000),
      /** Limit for receiving a whole request body. */
      bodyTimeoutMs: positiveInt.default(30_000),
      /** An idle keep-alive connection is closed after this. */
      keepAliveTimeoutMs: positiveInt.default(5_000),
      /** A connection with no traffic at all is closed after this (covers stalled streams). */
      idleTimeoutMs: positiveInt.default(300_000),
    })
    .prefault({}),
  dataDir: z.string().default('./data'),
  providers: z.record(z.string(), providerSchema).refine((p) => Object.keys(p).length > 0, 'at least one provider is required'),
  models: z.record(z.string(), modelSchema).refine((m) => Object.keys(m).length > 0, 'at least one model is required'),
  routing: z
    .strictObject({
      /** Upstream attempts per request, across all targets (the retry budget). */
      maxAttempts: positiveInt.default(3),
      /** Until response headers, and the longest silence between stream chunks. */
      attemptTimeoutMs: positiveInt.default(60_000),
      /** Longest Retry-After the gateway waits out itself before giving up. */
      maxRetryWaitMs: nonNegativeInt.default(2_000),
      breaker: z
        .strictObject({
          failureThreshold: positiveInt.default(5),
          cooldownMs: positiveInt.default(30_000),
        })
        .prefault({}),
    })
    .prefault({}),
  keys: z.array(keySchema).default([]),
  /**
   * Content classifiers the policy may ask for per tenant (docs/policies.md,
   * "Detector signals"); keys are the names policies use.
   */
  detectors: z
    .record(
      z.string().regex(/^[a-z][a-z0-9_-]{0,63}$/, 'expected a name of a-z, 0-9, _ and -'),
      z.strictObject({
        url: z.url(),
        /** `gatehouse`: {text} -> {score, labels}; `presidio`: a Presidio analyzer's /analyze. */
        format: z.enum(['gatehouse', 'presidio']).default('gatehouse'),
        /** The request waits at most this long for the detector; then its signal is `{ok: false, error: 'timeout'}`. */
        timeoutMs: positiveInt.max(10_000).default(300),
        /** Characters of text sent, at most. */
        maxChars: positiveInt.max(1_048_576).default(32_768),
        /** Presidio's `language`. */
        language: z.string().default('en'),
        /** Extra request headers, e.g. an API key from the environment ("${DETECTOR_KEY}"). */
        headers: z.record(z.string(), z.string()).default({}),
      }),
    )
    .default({}),
  prices: z.record(z.string(), priceSchema).default({}),
  mcp: z
    .strictObject({
      /**
       * Upstream MCP servers, by name (the namespace of their tools: `crm` serves
       * `crm.lookup_customer`). Either `url` (Streamable HTTP) or `command` (stdio).
       */
      servers: z
        .record(
          // Names are checked in load.ts, where the message can name the server (a record key's own message is lost).
          z.string(),
          z.union([
            z.strictObject({
              url: z.url(),
              /** Sent to the server on every request, e.g. its credential ("Bearer ${CRM_TOKEN}"); never seen by callers. */
              headers: z.record(z.string(), z.string()).default({}),
            }),
            z.strictObject({
              command: z.string().min(1),
              args: z.array(z.string()).default([]),
              /** The command's environment (in addition to PATH and HOME); e.g. its credentials. */
              env: z.record(z.string(), z.string()).default({}),
              cwd: z.string().optional(),
            }),
          ]),
        )
        .default({}),
      /** Authorization servers named in the protected-resource metadata (RFC 9728), e.g. the company's OAuth issuer. */
      authorizationServers: z.array(z.url()).default([]),
      /** The canonical URL of the MCP endpoint (the `resource` of RFC 9728); default: from the request's Host. */
      resource: z.url().optional(),
      /** Longest wait for an upstream tool call. */
      callTimeoutMs: positiveInt.max(600_000).default(60_000),
      /** Largest tool result passed back (bytes of its JSON); a larger one is an error. */
      maxResultBytes: positiveInt.max(64 * 1024 * 1024).default(1024 * 1024),
      /** Open MCP sessions at most; the least recently used is closed past it. */
      maxSessions: positiveInt.max(1_000_000).default(10_000),
      /** Open MCP sessions of one key at most; past it, that key's least recently used session is closed. */
      maxSessionsPerKey: positiveInt.max(1_000_000).default(100),
      /** A session unused this long is closed. */
      sessionIdleMs: positiveInt.default(30 * 60_000),
    })
    .prefault({}),
  prompts: z
    .strictObject({
      /**
       * The prompt registry folder (docs/prompts.md): <id>/<version>.yaml,
       * labels.yaml and versions.lock. Absent: no registry; requests that ask for a
       * prompt get 404 prompt_not_found.
       */
      dir: z.string().optional(),
      /** Reload on file change (SIGHUP always reloads). */
      watch: z.boolean().default(true),
    })
    .prefault({}),
  approvals: z
    .strictObject({
      /**
       * Where approvers reach this gateway (its public URL): approval links are
       * `<publicUrl>/v1/gatehouse/approvals/<id>`. Default: the address it listens on.
       */
      publicUrl: z.url().optional(),
      /** POSTed (Slack-compatible JSON) for every new pending approval. */
      webhook: z
        .strictObject({
          url: z.url(),
          headers: z.record(z.string(), z.string()).default({}),
          attempts: positiveInt.max(20).default(5),
          timeoutMs: positiveInt.max(60_000).default(5_000),
          /** Send the call's arguments too (a chat channel is rarely the place for them). */
          includeArguments: z.boolean().default(false),
        })
        .optional(),
      /** Pending or approved approvals per tenant, and per key, at most; past it a held call is 429 rate_limited. */
      maxLivePerTenant: positiveInt.max(1_000_000).default(1_000),
      maxLivePerKey: positiveInt.max(1_000_000).default(100),
      /** Arguments of a held call at most (bytes of their JSON); a larger call is refused (invalid_request). */
      maxArgumentBytes: positiveInt.max(4 * 1024 * 1024).default(64 * 1024),
      /** How often expired approvals are recorded. */
      sweepMs: positiveInt.max(3_600_000).default(5_000),
    })
    .prefault({}),
  agents: z
    .strictObject({
      /**
       * The agent registry folder (docs/agents.md): one agent per YAML file. When
       * set, a request that names an agent is refused unless the agent is
       * registered and active. Absent: no registry, and agent names are labels only.
       */
      dir: z.string().optional(),
      /** Reload on file change (SIGHUP always reloads). */
      watch: z.boolean().default(true),
    })
    .prefault({}),
  policy: z
    .strictObject({
      /** Off only for throwaway setups: then no Rego policy, limit or budget applies. */
      enabled: z.boolean().default(true),
      /** The policies folder: Rego sources, data/*.json and compiled/policy.wasm. */
      dir: z.string().default('./policies'),
      /** Reload on file change (SIGHUP always reloads). */
      watch: z.boolean().default(true),
    })
    .prefault({}),
  limits: z
    .strictObject({
      /** `memory`: one process, budgets kept across restarts in a snapshot; `redis`: shared by every replica. */
      store: z.enum(['memory', 'redis']).default('memory'),
      /** Default `<dataDir>/limits.json`. */
      snapshotFile: z.string().optional(),
      redisUrl: z.string().default('redis://127.0.0.1:6379'),
      keyPrefix: z.string().default('gatehouse:'),
      /** When Redis cannot be reached: `closed` refuses with 503 limits_unavailable, `open` serves unlimited. */
      failMode: z.enum(['closed', 'open']).default('closed'),
    })
    .prefault({}),
  audit: z
    .strictObject({
      /** Off only for throwaway setups: then no audit record is kept. */
      enabled: z.boolean().default(true),
      /** `required`: a request whose audit record cannot be spooled fails with 503; `best-effort`: it is served and the loss counted. */
      mode: z.enum(['required', 'best-effort']).default('required'),
      /** Default `<dataDir>/spool`. One directory per proxy process. */
      spoolDir: z.string().optional(),
      maxBytes: positiveInt.default(1024 * 1024 * 1024),
      /** fsync every group commit: survives power loss, not only a process crash. */
      fsync: z.boolean().default(false),
      /** The collector's OTLP/HTTP base URL, e.g. http://127.0.0.1:4318; the spool ships there. */
      collectorUrl: z.url().optional(),
      /**
       * This instance's ingest key, sent to the collector as `Authorization: Bearer`
       * (usually "${GATEHOUSE_INGEST_KEY}"). Default: the GATEHOUSE_INGEST_KEY variable.
       * The embedded default makes its own.
       */
      collectorToken: z.string().min(1).optional(),
    })
    .prefault({}),
  collector: z
    .strictObject({
      /** `gatehouse start` runs the collector in the same process (the embedded default); `gatehouse proxy` never does. */
      embedded: z.boolean().default(true),
      host: z.string().default('127.0.0.1'),
      /** OTLP/HTTP port; if it is taken, the embedded collector falls back to a free port. */
      port: nonNegativeInt.max(65535).default(4318),
      checkpointEvery: positiveInt.default(1000),
      checkpointIntervalMs: positiveInt.default(10_000),
      retentionDays: positiveInt.optional(),
      /** DuckDB memory_limit of the embedded collector (see docs/operations.md, "Collector memory"). */
      memoryLimit: z.string().regex(/^\d+(\.\d+)?\s*(KB|MB|GB|TB|KiB|MiB|GiB|TiB)$/i, 'expected a size such as 512MB or 2GB').default('512MB'),
      /** Days a recorded span's de-duplication key is kept. */
      dedupeDays: positiveInt.default(7),
      /** Downstream OTLP/HTTP trace endpoints (Jaeger, Tempo, an OpenTelemetry Collector). */
      forward: z
        .array(z.strictObject({ url: z.url(), stripContent: z.boolean().default(true), headers: z.record(z.string(), z.string()).optional() }))
        .default([]),
    })
    .prefault({}),
  console: z
    .strictObject({
      /** The web console (docs/console.md), served next to the embedded collector by `gatehouse start`. */
      enabled: z.boolean().default(true),
      host: z.string().default('127.0.0.1'),
      /** If it is taken, the console falls back to a free port (the banner says which). */
      port: nonNegativeInt.max(65535).default(4319),
      /** Jaeger's UI, for "open the trace" links on record pages. Default: the JAEGER_UI_URL variable. */
      jaegerUiUrl: z.url().optional(),
      /** Mark the session cookie Secure: set it when people reach the console through HTTPS. */
      secureCookies: z.boolean().default(false),
      /** Verify the whole audit chain in the background at start (the integrity page's first status), up to 100,000 records. */
      verifyOnStart: z.boolean().default(true),
    })
    .prefault({}),
  telemetry: z
    .strictObject({
      serviceName: z.string().default('gatehouse'),
      /** Record prompts and answers on spans (gen_ai.input.messages / output.messages). */
      captureContent: z.boolean().default(false),
    })
    .prefault({}),
});

export type Config = z.infer<typeof configSchema>;
export type ConfigInput = z.input<typeof configSchema>;
export type ProviderConfig = z.infer<typeof providerSchema>;
export type SimulatedProviderConfig = Extract<ProviderConfig, { type: 'simulated' }>;
export type Fault = z.infer<typeof faultSchema>;
export type ModelConfig = z.infer<typeof modelSchema>;
export type TargetConfig = z.infer<typeof targetSchema>;
export type KeyConfig = z.infer<typeof keySchema>;
export type Price = z.infer<typeof priceSchema>;
