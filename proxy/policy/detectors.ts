/**
 * Detector signals: external classifiers (a prompt-guard or Llama Guard server,
 * a Presidio analyzer, a vendor API) called over HTTP, only for callers whose
 * policy asks for them (the caller decision's `detectors`), before the request
 * verdict. Their scores go into `input.signals.<name>`, so the policy decides,
 * including whether a detector that failed fails closed or open (detectors.rego).
 *
 * Contract of a detector (format `gatehouse`): POST the config's `url` with
 * `{"text": "..."}` (the caller-controlled turns, joined, at most `maxChars`)
 * and answer `{"score": 0..1, "labels": {"injection": 0.97, ...}}`; `score` may
 * be left out when `labels` are given (the highest label counts). Format
 * `presidio`: POST `{"text", "language"}` to a Presidio analyzer's /analyze and
 * read its findings (`[{entity_type, score}]`; labels per entity type).
 *
 * Never throws: a timeout, a connection error, a non-2xx or a malformed answer
 * becomes `{ok: false, error}`. Each call's latency is in the signal (and on
 * the span). Every request waits for at most the slowest detector's timeout.
 */
import { Agent, request } from 'undici';
import type { Config } from '../config/schema.js';
import type { DetectorSignal } from './input.js';

export type DetectorConfig = Config['detectors'][string];

/** Answers larger than this are not read (a score is a few bytes). */
const MAX_ANSWER_BYTES = 1 << 20;

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isScore(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0 && value <= 1;
}

/** Scores from a detector's answer, or undefined when it is not one. */
export function scoresOf(format: DetectorConfig['format'], body: unknown): { score: number; labels: Record<string, number> } | undefined {
  const labels: Record<string, number> = {};
  if (format === 'presidio') {
    if (!Array.isArray(body)) return undefined;
    for (const finding of body) {
      if (!isObject(finding) || typeof finding.entity_type !== 'string' || !isScore(finding.score)) return undefined;
      labels[finding.entity_type] = Math.max(labels[finding.entity_type] ?? 0, finding.score);
    }
    return { score: Math.max(0, ...Object.values(labels)), labels };
  }
  if (!isObject(body)) return undefined;
  if (body.labels !== undefined) {
    if (!isObject(body.labels)) return undefined;
    for (const [label, score] of Object.entries(body.labels)) {
      if (!isScore(score)) return undefined;
      labels[label] = score;
    }
  }
  const score = body.score === undefined ? Math.max(0, ...Object.values(labels)) : body.score;
  if (!isScore(score)) return undefined;
  return { score, labels };
}

export class Detectors {
  private readonly agent = new Agent({ connections: 64, keepAliveTimeout: 30_000 });

  constructor(private readonly configs: Readonly<Record<string, DetectorConfig>>) {}

  /** The signals of `names` for `text`, called in parallel. Unknown names give `{ok: false, error: 'unavailable'}`. */
  async score(names: readonly string[], text: string): Promise<Record<string, DetectorSignal>> {
    const results = await Promise.all(names.map(async (name): Promise<[string, DetectorSignal]> => {
      const config = this.configs[name];
      if (config === undefined) return [name, { ok: false, error: 'unavailable', latency_ms: 0 }];
      return [name, await this.call(config, text)];
    }));
    return Object.fromEntries(results);
  }

  private async call(config: DetectorConfig, text: string): Promise<DetectorSignal> {
    const started = performance.now();
    const elapsed = (): number => Math.round((performance.now() - started) * 100) / 100;
    const sent = text.length > config.maxChars ? text.slice(0, config.maxChars) : text;
    const payload = config.format === 'presidio' ? { text: sent, language: config.language } : { text: sent };
    try {
      const response = await request(config.url, {
        method: 'POST',
        dispatcher: this.agent,
        headers: { ...config.headers, 'content-type': 'application/json' },
        body: JSON.stringify(payload),
        signal: AbortSignal.timeout(config.timeoutMs),
      });
      const declared = Number(response.headers['content-length'] ?? 0);
      if (response.statusCode < 200 || response.statusCode >= 300 || declared > MAX_ANSWER_BYTES) {
        await response.body.dump();
        return { ok: false, error: 'unavailable', latency_ms: elapsed() };
      }
      let size = 0;
      const chunks: Buffer[] = [];
      for await (const chunk of response.body) {
        size += (chunk as Buffer).length;
        if (size > MAX_ANSWER_BYTES) return { ok: false, error: 'bad_response', latency_ms: elapsed() };
        chunks.push(chunk as Buffer);
      }
      let body: unknown;
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      } catch {
        return { ok: false, error: 'bad_response', latency_ms: elapsed() };
      }
      const scores = scoresOf(config.format, body);
      if (scores === undefined) return { ok: false, error: 'bad_response', latency_ms: elapsed() };
      return { ok: true, score: scores.score, labels: scores.labels, latency_ms: elapsed() };
    } catch (error) {
      const timedOut = error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError');
      return { ok: false, error: timedOut ? 'timeout' : 'unavailable', latency_ms: elapsed() };
    }
  }

  /** Closes idle connections; safe to call twice. */
  async close(): Promise<void> {
    await this.agent.close().catch(() => undefined);
  }
}
