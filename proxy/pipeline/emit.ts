/**
 * The last stage: reads the request's facts once and turns them into the server
 * span (which is also the audit record), one child span per upstream attempt, and
 * metrics. Keys never reach here; content only when capture is configured.
 */
import { context as otelContext, SpanKind, SpanStatusCode, trace, type Attributes, type Tracer } from '@opentelemetry/api';
import { textOf, type Message } from '../canonical.js';
import { A } from '../telemetry/attributes.js';
import type { GatewayMetrics } from '../telemetry/metrics.js';
import type { RequestContext } from './context.js';

export interface EmitOptions {
  tracer: Tracer;
  metrics: GatewayMetrics;
  captureContent: boolean;
}

export function emitTelemetry(ctx: RequestContext, options: EmitOptions): void {
  const endTime = Date.now();
  const durationMs = performance.now() - ctx.startMark;
  const attributes = requestAttributes(ctx, durationMs, options.captureContent);
  const span = ctx.span;
  span.updateName(ctx.spanName ?? (ctx.requestedModel ? `${ctx.operation} ${ctx.requestedModel}` : ctx.operation));
  span.setAttributes(attributes);
  emitAttempts(ctx, options.tracer);
  if (ctx.outcome === 'error' || ctx.status >= 500) span.setStatus({ code: SpanStatusCode.ERROR, message: ctx.error?.code ?? 'error' });
  span.end(endTime);
  recordMetrics(ctx, durationMs, options.metrics);
}

function requestAttributes(ctx: RequestContext, durationMs: number, captureContent: boolean): Attributes {
  const a: Attributes = {
    [A.auditRecord]: true,
    [A.requestId]: ctx.id,
    [A.operation]: ctx.operation,
    [A.clientWire]: ctx.wire.name,
    [A.httpMethod]: 'POST',
    [A.httpRoute]: ctx.route,
    [A.httpStatus]: ctx.status,
    [A.outcome]: ctx.outcome,
    [A.durationMs]: Math.round(durationMs * 1000) / 1000,
    [A.routeAttempts]: ctx.attempts.filter((attempt) => attempt.outcome !== 'skipped').length,
  };
  if (ctx.clientAddress) a[A.clientIp] = ctx.clientAddress;
  const userAgent = ctx.headers['user-agent'];
  if (userAgent) a[A.clientUserAgent] = userAgent.slice(0, 256);
  const p = ctx.principal;
  if (p) {
    a[A.keyId] = p.keyId;
    a[A.tenant] = p.tenant;
    if (p.team !== undefined) a[A.team] = p.team;
    if (p.user !== undefined) a[A.user] = p.user;
    if (p.agent !== undefined) a[A.agent] = p.agent;
    if (p.feature !== undefined) a[A.feature] = p.feature;
  }
  if (ctx.claimedUser !== undefined) a[A.userClaimed] = ctx.claimedUser;
  if (ctx.prompt?.id) a[A.promptId] = ctx.prompt.id;
  if (ctx.prompt?.version) a[A.promptVersion] = ctx.prompt.version;
  if (ctx.prompt?.sha256) a[A.promptSha256] = ctx.prompt.sha256;
  if (ctx.prompt?.label) a[A.promptLabel] = ctx.prompt.label;
  if (ctx.requestedModel) {
    a[A.requestModel] = ctx.requestedModel;
  }
  if (ctx.routeTable) a[A.routeAlias] = ctx.routeTable.alias;
  const chat = ctx.chat;
  if (chat) {
    a[A.requestStream] = chat.stream;
    if (chat.maxTokens !== undefined) a[A.requestMaxTokens] = chat.maxTokens;
    if (chat.temperature !== undefined) a[A.requestTemperature] = chat.temperature;
    if (chat.endUser) a[A.endUser] = chat.endUser;
  } else if (ctx.embeddings?.endUser) {
    a[A.endUser] = ctx.embeddings.endUser;
  }
  if (ctx.target) {
    a[A.routeTarget] = ctx.target.id;
    a[A.providerName] = ctx.target.provider.system;
  }
  const failovers = new Set<string>();
  for (const attempt of ctx.attempts) if (attempt.outcome !== 'ok' && attempt.reason) failovers.add(attempt.reason);
  if (failovers.size > 0) a[A.failoverReason] = [...failovers].join(',');
  if (ctx.responseId) a[A.responseId] = ctx.responseId;
  if (ctx.responseModel) a[A.responseModel] = ctx.responseModel;
  if (ctx.finishReason) a[A.finishReasons] = [ctx.finishReason];
  if (ctx.usage) {
    a[A.inputTokens] = ctx.usage.inputTokens;
    a[A.outputTokens] = ctx.usage.outputTokens;
    a[A.cacheReadTokens] = ctx.usage.cachedInputTokens;
    a[A.cacheWriteTokens] = ctx.usage.cacheWriteTokens;
    a[A.usageEstimated] = ctx.usageEstimated === true;
  }
  if (ctx.cost) {
    a[A.costUsd] = ctx.cost.decimal;
    a[A.priceKnown] = ctx.cost.priceKnown;
  }
  if (ctx.firstTokenMs !== undefined) {
    a[A.ttftMs] = Math.round(ctx.firstTokenMs * 1000) / 1000;
    a[A.timeToFirstChunk] = ctx.firstTokenMs / 1000;
  }
  const calls = ctx.toolCalls;
  if (calls && calls.length > 0) {
    a[A.toolCallCount] = calls.length;
    a[A.toolCalls] = JSON.stringify(calls.map((c) => (captureContent ? { id: c.id, name: c.name, arguments: c.arguments } : { id: c.id, name: c.name })));
  }
  if (ctx.error) {
    a[A.errorCode] = ctx.error.code;
    a[A.errorType] = ctx.error.code;
  }
  for (const [key, value] of Object.entries(ctx.annotations)) a[key] = value;
  if (captureContent) addContent(a, ctx);
  return a;
}

/** gen_ai.input.messages / output.messages in the GenAI conventions' JSON shape. */
function addContent(a: Attributes, ctx: RequestContext): void {
  const chat = ctx.chat;
  if (chat) {
    const system = chat.messages.filter((m) => m.role === 'system');
    if (system.length > 0) a[A.systemInstructions] = JSON.stringify(system.map((m) => ({ type: 'text', content: textOf(m.content) })));
    a[A.inputMessages] = JSON.stringify(chat.messages.filter((m) => m.role !== 'system').map(messageForSpan));
  }
  if (ctx.outputText !== undefined || ctx.toolCalls?.length) {
    const parts: unknown[] = [];
    if (ctx.outputText) parts.push({ type: 'text', content: ctx.outputText });
    for (const call of ctx.toolCalls ?? []) parts.push({ type: 'tool_call', id: call.id, name: call.name, arguments: call.arguments });
    a[A.outputMessages] = JSON.stringify([{ role: 'assistant', parts, finish_reason: ctx.finishReason ?? 'error' }]);
  }
}

function messageForSpan(message: Message): unknown {
  const parts: unknown[] = [];
  if (message.role === 'tool') {
    parts.push({ type: 'tool_call_response', id: message.toolCallId, response: textOf(message.content) });
  } else {
    for (const part of message.content) parts.push(part.type === 'text' ? { type: 'text', content: part.text } : { type: 'image' });
    if (message.role === 'assistant') for (const call of message.toolCalls ?? []) parts.push({ type: 'tool_call', id: call.id, name: call.name, arguments: call.arguments });
  }
  return { role: message.role, parts };
}

function emitAttempts(ctx: RequestContext, tracer: Tracer): void {
  const parent = trace.setSpan(otelContext.active(), ctx.span);
  for (const attempt of ctx.attempts) {
    if (attempt.outcome === 'skipped') {
      ctx.span.addEvent('gatehouse.target_skipped', { [A.routeTarget]: attempt.target.id, [A.failoverReason]: attempt.reason ?? 'circuit_open' }, attempt.startTime);
      continue;
    }
    const { target } = attempt;
    const attributes: Attributes = {
      [A.operation]: ctx.operation,
      [A.providerName]: target.provider.system,
      [A.requestModel]: target.model,
      [A.attemptNumber]: attempt.number,
      [A.attemptProvider]: target.provider.name,
      [A.attemptOutcome]: attempt.outcome,
      [A.routeTarget]: target.id,
    };
    if (target.provider.address) {
      attributes[A.serverAddress] = target.provider.address.host;
      attributes[A.serverPort] = target.provider.address.port;
    }
    if (attempt.upstreamStatus !== undefined) attributes[A.httpStatus] = attempt.upstreamStatus;
    if (attempt.reason) {
      attributes[A.failoverReason] = attempt.reason;
      attributes[A.errorType] = attempt.reason;
    }
    if (attempt.retryAfterMs !== undefined) attributes['gatehouse.attempt.retry_after_ms'] = attempt.retryAfterMs;
    const span = tracer.startSpan(`${ctx.operation} ${target.model}`, { kind: SpanKind.CLIENT, startTime: attempt.startTime, attributes }, parent);
    if (attempt.outcome === 'failed') span.setStatus({ code: SpanStatusCode.ERROR, message: attempt.reason ?? 'failed' });
    span.end(attempt.endTime || Date.now());
  }
}

function recordMetrics(ctx: RequestContext, durationMs: number, metrics: GatewayMetrics): void {
  const usage = ctx.usage;
  metrics.recordRequest(
    // A configured alias, never the client's free text: metric labels stay bounded.
    {
      tenant: ctx.principal?.tenant ?? 'unknown', model: ctx.routeTable?.alias ?? 'unknown', operation: ctx.operation, wire: ctx.wire.name,
      promptId: ctx.prompt?.registry?.id ?? 'none', promptVersion: ctx.prompt?.registry === undefined ? 'none' : String(ctx.prompt.registry.version),
    },
    {
      outcome: ctx.outcome,
      errorCode: ctx.error?.code ?? 'none',
      durationS: durationMs / 1000,
      ttftS: ctx.firstTokenMs === undefined ? undefined : ctx.firstTokenMs / 1000,
      usage: usage ? { input: usage.inputTokens, output: usage.outputTokens, costUsd: ctx.cost?.usd ?? 0, priceKnown: ctx.cost?.priceKnown ?? false } : undefined,
    },
  );
  for (const attempt of ctx.attempts) {
    if (attempt.outcome !== 'skipped') metrics.recordAttempt(attempt.target.id, attempt.outcome, attempt.reason ?? 'none');
  }
}
