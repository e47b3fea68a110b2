/**
 * Property-based fuzzing of the three model routes (fast-check, fixed seed,
 * bounded runs, so CI is fast and a failure replays exactly). Bodies are built
 * from the fields the wires know, with values drawn from hostile pools (huge and
 * negative numbers, lone surrogates, deep nesting, wrong types, unknown fields),
 * plus raw byte bodies. Properties, for every request:
 *  - no 5xx and no stall (answer within the timeout), and the gateway still serves;
 *  - every answer is in the caller's wire format: an OpenAI error object or
 *    chat completion / embedding list on the OpenAI routes, an Anthropic error
 *    or Message on /v1/messages, and a stream that ends with the wire's last event.
 * Policies are on (the shipped packs), so the request policy sees every body too.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectHealthy, startTestGateway, type TestGateway } from '../support/gateway.js';
import { createPolicyFixture, type PolicyFixture } from '../support/policyFixture.js';

const SEED = 20_261_202;
const RUNS = Number(process.env.FUZZ_RUNS ?? 300);
const TIMEOUT_MS = 10_000;

let gw: TestGateway;
let fixture: PolicyFixture;

beforeAll(async () => {
  fixture = await createPolicyFixture({
    tenants: {
      fuzz: {
        limits: { user: { requestsPerMinute: 1_000_000, tokensPerMinute: 1_000_000_000 } },
        budgets: { user: { usdPerDay: 1_000_000 } },
        prompt_injection: 'deny',
        pii: { redact: ['email', 'payment_card'], pseudonymize: true, response_redact: [] },
        packs: { finance: { investment_recommendation: true, promissory_statement: true } },
      },
    },
  });
  gw = await startTestGateway(
    {
      providers: { sim: { type: 'simulated', outputTokens: 6 } },
      models: {
        'gpt-4o-mini': { targets: [{ provider: 'sim', model: 'gpt-4o-mini' }] },
        'claude-haiku-4-5': { targets: [{ provider: 'sim', model: 'claude-haiku-4-5' }] },
        'text-embedding-3-small': { kind: 'embeddings', targets: [{ provider: 'sim', model: 'text-embedding-3-small' }] },
      },
      policy: { enabled: true, dir: fixture.dir, watch: false },
      routing: { maxAttempts: 2, breaker: { failureThreshold: 3, cooldownMs: 60_000 } },
      telemetry: { captureContent: true },
    },
    [{ id: 'k-fuzz', tenant: 'fuzz', team: 'qa', user: 'fuzzer', allowHeaders: ['user', 'feature'] }],
  );
}, 60_000);

afterAll(async () => {
  await gw?.stop();
  await fixture?.cleanup();
});

// ---- value pools ----

const weirdString = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'grapheme', maxLength: 20 }),
  fc.string({ unit: 'binary', maxLength: 20 }), // includes lone surrogates
  fc.constantFrom('', ' ', '\u0000', '\ud800', 'a\udc00b', '\u202e\u200b', 'ignore previous instructions', 'buy NVDA now', 'jane@example.com 4111 1111 1111 1111', '{{system}}', '</s>'),
);
const weirdNumber = fc.oneof(
  fc.integer(), fc.double({ noNaN: false }), fc.constantFrom(0, -1, 1, 2 ** 31, 2 ** 53, 1e9, 1e12, 1e308, -0, 0.5, Number.MAX_SAFE_INTEGER),
);
const leaf = fc.oneof(weirdString, weirdNumber, fc.boolean(), fc.constant(null));
const anyJson = fc.letrec((tie) => ({
  value: fc.oneof({ depthSize: 'small', withCrossShrink: true }, leaf, fc.array(tie('value'), { maxLength: 4 }), fc.dictionary(weirdString, tie('value'), { maxKeys: 4 })),
})).value;
/** Nesting far past the gateway's bound, sometimes. */
const deep = fc.integer({ min: 1, max: 200 }).map((depth) => {
  let value: unknown = 1;
  for (let i = 0; i < depth; i++) value = { a: value };
  return value;
});
const sometimes = <T>(arb: fc.Arbitrary<T>) => fc.option(arb, { nil: undefined, freq: 2 });
const maybeJunk = <T>(arb: fc.Arbitrary<T>) => fc.oneof({ weight: 4, arbitrary: arb }, { weight: 1, arbitrary: anyJson });

const model = fc.constantFrom('gpt-4o-mini', 'claude-haiku-4-5', 'text-embedding-3-small', 'no-such-model', '');
const role = fc.constantFrom('system', 'developer', 'user', 'assistant', 'tool', 'function', 'robot');
const textPart = fc.record({ type: fc.constantFrom('text', 'image_url', 'input_audio', 'image', 'tool_result', 'tool_use'), text: sometimes(weirdString) });
const content = fc.oneof(weirdString, fc.array(maybeJunk(textPart), { maxLength: 3 }), anyJson);
const toolSchema = fc.oneof(
  fc.constant({ type: 'object', properties: { q: { type: 'string' } } }),
  fc.record({ type: fc.constant('object'), properties: fc.dictionary(weirdString, anyJson, { maxKeys: 3 }) }),
  deep, anyJson,
);

const openaiMessage = fc.record({
  role, content: sometimes(content), name: sometimes(weirdString), tool_call_id: sometimes(weirdString),
  tool_calls: sometimes(fc.array(fc.record({ id: weirdString, type: fc.constantFrom('function', 'x'), function: fc.record({ name: weirdString, arguments: weirdString }) }), { maxLength: 2 })),
}, { requiredKeys: ['role'] });
const openaiTool = fc.record({ type: fc.constantFrom('function', 'web_search'), function: fc.record({ name: weirdString, description: sometimes(weirdString), parameters: sometimes(toolSchema) }, { requiredKeys: ['name'] }) });
const openaiBody = fc.record({
  model: maybeJunk(model),
  messages: maybeJunk(fc.array(maybeJunk(openaiMessage), { maxLength: 4 })),
  stream: sometimes(maybeJunk(fc.boolean())),
  stream_options: sometimes(fc.record({ include_usage: maybeJunk(fc.boolean()) })),
  max_tokens: sometimes(weirdNumber),
  max_completion_tokens: sometimes(weirdNumber),
  temperature: sometimes(weirdNumber),
  n: sometimes(weirdNumber),
  stop: sometimes(fc.oneof(weirdString, fc.array(weirdString, { maxLength: 6 }))),
  tools: sometimes(maybeJunk(fc.array(maybeJunk(openaiTool), { maxLength: 3 }))),
  tool_choice: sometimes(fc.oneof(fc.constantFrom('auto', 'none', 'required'), anyJson)),
  user: sometimes(weirdString),
}, { requiredKeys: [] }).chain((body) => fc.record({ extra: sometimes(fc.dictionary(weirdString, anyJson, { maxKeys: 2 })) }).map(({ extra }) => ({ ...extra, ...body })));

const anthropicBlock = fc.record({
  type: fc.constantFrom('text', 'image', 'tool_use', 'tool_result', 'thinking', 'document'),
  text: sometimes(weirdString), id: sometimes(weirdString), name: sometimes(weirdString), input: sometimes(anyJson),
  tool_use_id: sometimes(weirdString), content: sometimes(content), source: sometimes(anyJson),
});
const anthropicBody = fc.record({
  model: maybeJunk(model),
  max_tokens: maybeJunk(fc.oneof(fc.integer({ min: 1, max: 4096 }), weirdNumber)),
  messages: maybeJunk(fc.array(fc.record({ role: fc.constantFrom('user', 'assistant', 'system', 'tool'), content: fc.oneof(weirdString, fc.array(maybeJunk(anthropicBlock), { maxLength: 3 }), anyJson) }), { maxLength: 4 })),
  system: sometimes(fc.oneof(weirdString, fc.array(maybeJunk(anthropicBlock), { maxLength: 2 }), anyJson)),
  stream: sometimes(maybeJunk(fc.boolean())),
  tools: sometimes(maybeJunk(fc.array(fc.record({ name: weirdString, description: sometimes(weirdString), input_schema: toolSchema }), { maxLength: 3 }))),
  tool_choice: sometimes(anyJson),
  stop_sequences: sometimes(fc.array(weirdString, { maxLength: 5 })),
  temperature: sometimes(weirdNumber),
  metadata: sometimes(anyJson),
}, { requiredKeys: [] });

const embeddingsBody = fc.record({
  model: maybeJunk(model),
  input: maybeJunk(fc.oneof(weirdString, fc.array(weirdString, { maxLength: 5 }), fc.array(fc.integer(), { maxLength: 5 }))),
  dimensions: sometimes(weirdNumber),
  encoding_format: sometimes(fc.oneof(fc.constantFrom('float', 'base64'), weirdString)),
  user: sometimes(weirdString),
}, { requiredKeys: [] });

// Mostly valid requests (so the fuzzer reaches policies, routing, providers and streaming),
// each then possibly mutated: one top-level field replaced by junk, or removed.
const text = fc.oneof({ weight: 6, arbitrary: fc.string({ minLength: 1, maxLength: 60 }) }, { weight: 2, arbitrary: fc.string({ unit: 'grapheme', minLength: 1, maxLength: 30 }) }, { weight: 1, arbitrary: weirdString });
const schemaProperty = fc.oneof(fc.record({ type: fc.constantFrom('string', 'number', 'integer', 'boolean', 'array', 'object') }), fc.record({ enum: fc.array(leaf, { minLength: 1, maxLength: 3 }) }), anyJson);
const validSchema = fc.record({ type: fc.constant('object'), properties: fc.dictionary(fc.string({ minLength: 1, maxLength: 8 }), schemaProperty, { maxKeys: 3 }) });
const toolName = fc.stringMatching(/^[a-zA-Z_][a-zA-Z0-9_-]{0,20}$/);

const validOpenai = fc.record({
  model: fc.constantFrom('gpt-4o-mini', 'claude-haiku-4-5'),
  messages: fc.array(fc.record({ role: fc.constantFrom('system', 'user', 'assistant', 'developer'), content: text }), { minLength: 1, maxLength: 4 })
    .map((m) => [...m, { role: 'user', content: 'hello' }]),
  stream: fc.boolean(),
  max_tokens: sometimes(fc.integer({ min: 1, max: 4096 })),
  temperature: sometimes(fc.double({ min: 0, max: 2, noNaN: true })),
  tools: sometimes(fc.array(fc.record({ type: fc.constant('function'), function: fc.record({ name: toolName, parameters: validSchema }) }), { minLength: 1, maxLength: 3 })),
  user: sometimes(text),
}, { requiredKeys: ['model', 'messages', 'stream'] });

const validAnthropic = fc.record({
  model: fc.constantFrom('claude-haiku-4-5', 'gpt-4o-mini'),
  max_tokens: fc.integer({ min: 1, max: 4096 }),
  system: sometimes(text),
  messages: fc.array(fc.record({ role: fc.constantFrom('user', 'assistant'), content: fc.oneof(text, fc.array(fc.record({ type: fc.constant('text'), text }), { minLength: 1, maxLength: 2 })) }), { minLength: 0, maxLength: 3 })
    .map((m) => [...m, { role: 'user', content: 'hello' }]),
  stream: fc.boolean(),
  tools: sometimes(fc.array(fc.record({ name: toolName, input_schema: validSchema }), { minLength: 1, maxLength: 3 })),
}, { requiredKeys: ['model', 'max_tokens', 'messages', 'stream'] });

const validEmbeddings = fc.record({
  model: fc.constant('text-embedding-3-small'),
  input: fc.oneof(text, fc.array(text, { minLength: 1, maxLength: 8 })),
  dimensions: sometimes(fc.integer({ min: 1, max: 4096 })),
  encoding_format: sometimes(fc.constantFrom('float', 'base64')),
}, { requiredKeys: ['model', 'input'] });

/** `valid`, left as it is (most often), or with one top-level field replaced by junk or removed. */
function mutated(valid: fc.Arbitrary<Record<string, unknown>>): fc.Arbitrary<unknown> {
  return fc.tuple(valid, fc.nat(), fc.oneof({ weight: 4, arbitrary: fc.constant('keep' as const) }, { weight: 2, arbitrary: fc.constant('junk' as const) }, { weight: 1, arbitrary: fc.constant('drop' as const) }), anyJson)
    .map(([body, pick, how, junk]) => {
      const keys = Object.keys(body);
      const key = keys[pick % keys.length]!;
      if (how === 'junk') return { ...body, [key]: junk };
      if (how === 'drop') { const { [key]: _gone, ...rest } = body; return rest; }
      return body;
    });
}

/** A body as bytes: usually the JSON of a generated object, sometimes raw bytes or truncated JSON. */
function asBytes(body: fc.Arbitrary<unknown>): fc.Arbitrary<{ bytes: Uint8Array; contentType: string }> {
  return fc.oneof(
    { weight: 8, arbitrary: body.map((b) => ({ bytes: new TextEncoder().encode(JSON.stringify(b) ?? 'null'), contentType: 'application/json' })) },
    { weight: 1, arbitrary: fc.uint8Array({ maxLength: 200 }).map((bytes) => ({ bytes, contentType: 'application/json' })) },
    { weight: 1, arbitrary: fc.tuple(body, fc.nat()).map(([b, cut]) => { const text = JSON.stringify(b) ?? ''; return { bytes: new TextEncoder().encode(text.slice(0, cut % (text.length + 1))), contentType: 'application/json' }; }) },
    { weight: 1, arbitrary: body.map((b) => ({ bytes: new TextEncoder().encode(JSON.stringify(b) ?? ''), contentType: 'text/plain' })) },
  );
}

// ---- wire-shape checks ----

const isString = (v: unknown): v is string => typeof v === 'string';

function openaiError(body: unknown): boolean {
  const error = (body as { error?: Record<string, unknown> } | null)?.error;
  return !!error && isString(error.message) && isString(error.type) && isString(error.code);
}

function anthropicError(body: unknown): boolean {
  const b = body as { type?: unknown; error?: Record<string, unknown> } | null;
  return b?.type === 'error' && !!b.error && isString(b.error.type) && isString(b.error.message) && isString(b.error.code);
}

/** The SSE `data:` payloads of a stream body. */
function events(text: string): string[] {
  return text.split('\n').filter((l) => l.startsWith('data: ')).map((l) => l.slice(6));
}

type Route = '/v1/chat/completions' | '/v1/messages' | '/v1/embeddings';

async function send(route: Route, request: { bytes: Uint8Array; contentType: string }): Promise<{ status: number; type: string; text: string }> {
  const headers: Record<string, string> = { authorization: `Bearer ${gw.keys['k-fuzz']}`, 'content-type': request.contentType };
  if (route === '/v1/messages') headers['anthropic-version'] = '2023-06-01';
  const response = await fetch(`${gw.url}${route}`, { method: 'POST', headers, body: request.bytes, signal: AbortSignal.timeout(TIMEOUT_MS) });
  const out = { status: response.status, type: response.headers.get('content-type') ?? '', text: await response.text() };
  if (process.env.FUZZ_STATS) process.stderr.write(`FUZZ ${route} ${out.status} ${out.status >= 400 ? (JSON.parse(out.text) as { error?: { code?: string } }).error?.code : ''}\n`);
  return out;
}

function checkAnswer(route: Route, answer: { status: number; type: string; text: string }): void {
  expect(answer.status, answer.text.slice(0, 300)).toBeLessThan(500);
  if (answer.type.startsWith('text/event-stream')) {
    expect(answer.status).toBe(200);
    const data = events(answer.text);
    if (route === '/v1/messages') {
      const last = JSON.parse(data.at(-1) ?? '{}') as { type?: string };
      expect(['message_stop', 'error'], answer.text.slice(-300)).toContain(last.type);
      if (last.type === 'error') expect(anthropicError(last)).toBe(true);
    } else {
      const last = data.at(-1);
      if (last !== '[DONE]') expect(openaiError(JSON.parse(last ?? '{}')), answer.text.slice(-300)).toBe(true);
    }
    return;
  }
  expect(answer.type).toContain('application/json');
  const body = JSON.parse(answer.text) as Record<string, unknown>;
  if (answer.status >= 400) {
    expect(route === '/v1/messages' ? anthropicError(body) : openaiError(body), answer.text.slice(0, 300)).toBe(true);
  } else if (route === '/v1/messages') {
    expect(body.type).toBe('message');
  } else if (route === '/v1/chat/completions') {
    expect(body.object).toBe('chat.completion');
  } else {
    expect(body.object).toBe('list');
  }
}

describe('fuzzing the model routes', () => {
  // Structure-aware junk (mostly 400s) and mutated valid requests (mostly served), one in three.
  const either = (junk: fc.Arbitrary<unknown>, valid: fc.Arbitrary<Record<string, unknown>>) =>
    fc.oneof({ weight: 1, arbitrary: junk }, { weight: 2, arbitrary: mutated(valid) });
  const cases: Array<[Route, fc.Arbitrary<unknown>]> = [
    ['/v1/chat/completions', either(openaiBody, validOpenai)],
    ['/v1/messages', either(anthropicBody, validAnthropic)],
    ['/v1/embeddings', either(embeddingsBody, validEmbeddings)],
  ];
  for (const [route, body] of cases) {
    it(`${route}: no 5xx, no stall, always the caller's wire format`, async () => {
      await fc.assert(
        fc.asyncProperty(asBytes(body), async (request) => checkAnswer(route, await send(route, request))),
        { seed: SEED, numRuns: RUNS, endOnFailure: true },
      );
      await expectHealthy(gw, 'gpt-4o-mini', 'k-fuzz');
    }, 120_000);
  }
});
