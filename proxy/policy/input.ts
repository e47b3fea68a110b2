/**
 * The input documents the policies receive (documented for policy authors in
 * docs/policies.md). Field names are snake_case, as Rego authors expect; the
 * decisions the policies return use the camelCase of decision.ts.
 */
import { textOf, type ChatRequest, type ChatResponse } from '../canonical.js';
import type { ScopeKind } from './decision.js';
import { normalizeText } from './normalize.js';

/** Who is calling. Empty or absent fields mean the scope does not apply. */
export interface PolicyPrincipal {
  tenant: string;
  team?: string;
  user?: string;
  agent?: string;
  key_id?: string;
  feature?: string;
}

export interface PolicyMessage {
  role: 'system' | 'user' | 'assistant' | 'tool';
  /**
   * Who wrote the message: `caller` (the client sent it: every turn of its
   * request, system and assistant turns included, since a client can write a
   * fake assistant turn or its own system prompt) or `registry` (a system prompt
   * the gateway's prompt registry rendered).
   */
  source: 'caller' | 'registry';
  /** The message's text parts joined; images are left out. */
  text: string;
  /** `text` normalized for matching (normalize.ts): what rules should match. */
  normalized: string;
}

/** The caller's counters in one scope, as the limit store last saw them. */
export interface ScopeUsage {
  key: string;
  requestsThisMinute?: number;
  tokensThisMinute?: number;
  usdToday?: number;
  usdThisMonth?: number;
  tokensToday?: number;
  tokensThisMonth?: number;
}

export interface PolicyContext {
  trace_id?: string;
  /** The agents that led to this call, the first caller first (the caller's own agent is `principal.agent`). */
  agent_chain: string[];
  /** How many agents stand before this call: 0 for a call made directly by an application. */
  agent_depth: number;
  /** The last agent of the chain: the one that delegated to this caller. */
  parent_agent?: string;
}

/** A registry prompt as the policy sees it: `version` is a number, `label` what it was resolved from (null when pinned). */
export interface PolicyPrompt {
  id: string;
  version: number;
  sha256: string;
  label: string | null;
}

export interface RequestPolicyInput {
  principal: PolicyPrincipal;
  request: {
    model: string;
    messages: PolicyMessage[];
    /** Names of the tools offered to the model. */
    tools: string[];
    max_tokens?: number;
    stream: boolean;
    /** The prompt the gateway rendered from its registry (docs/prompts.md), or null. */
    prompt: PolicyPrompt | null;
  };
  usage: Partial<Record<ScopeKind, ScopeUsage>>;
  time: { now_ns: number };
  context: PolicyContext;
  /** Scores of the detectors the caller decision asked for (detectors.ts), by detector name. */
  signals: Record<string, DetectorSignal>;
}

/** One detector's answer for this request, as the policy sees it. */
export interface DetectorSignal {
  /** False when the detector failed or timed out (`error` says which); the policy chooses to fail open or closed. */
  ok: boolean;
  /** The highest score, 0..1. */
  score?: number;
  /** Scores by label (e.g. `injection`, `jailbreak`, or Presidio's entity types). */
  labels?: Record<string, number>;
  error?: 'timeout' | 'unavailable' | 'bad_response';
  latency_ms: number;
}

export interface PolicyToolCall {
  name: string;
  /** JSON text exactly as the model produced it (possibly partial while streaming). */
  arguments: string;
}

export interface ResponsePolicyInput {
  principal: PolicyPrincipal;
  request: { model: string };
  /** `normalized`: `text` normalized for matching (normalize.ts). */
  response: { text: string; normalized: string; tool_calls: PolicyToolCall[] };
  /** False while evaluating a window of a stream that has not ended. */
  final: boolean;
}

/** A tool as the tool policy sees it. */
export interface PolicyTool {
  /** `<server>.<tool>`, what callers see. */
  name: string;
  server: string;
  /** The tool's own name at its server. */
  tool: string;
  /** The server's annotations (readOnlyHint, destructiveHint, idempotentHint, openWorldHint, title). */
  annotations: Record<string, unknown>;
  /** For agents as tools: the agent id behind the server. */
  agent?: string;
}

/** `gatehouse/tools/visible`: which of `tools` the caller may see. */
export interface ToolsListInput {
  principal: PolicyPrincipal;
  context: PolicyContext;
  tools: PolicyTool[];
}

/** `gatehouse/tools/decision`: one call of `tool` with `arguments`. */
export interface ToolCallInput {
  principal: PolicyPrincipal;
  context: PolicyContext;
  tool: PolicyTool;
  arguments: Record<string, unknown>;
}

export interface RequestInputParts {
  principal: PolicyPrincipal;
  request: ChatRequest;
  usage?: Partial<Record<ScopeKind, ScopeUsage>>;
  context?: PolicyContext;
  signals?: Record<string, DetectorSignal>;
  /** Defaults to the current time. */
  nowMs?: number;
  prompt?: PolicyPrompt;
}

/** Builds the request policy input from the canonical request. */
export function requestPolicyInput(parts: RequestInputParts): RequestPolicyInput {
  const { request } = parts;
  const messages: PolicyMessage[] = new Array(request.messages.length);
  for (let i = 0; i < request.messages.length; i++) {
    const message = request.messages[i]!;
    const text = textOf(message.content);
    messages[i] = {
      role: message.role,
      source: message.role === 'system' && message.source === 'registry' ? 'registry' : 'caller',
      text,
      normalized: normalizeText(text),
    };
  }
  const tools = request.tools === undefined ? [] : request.tools.map((tool) => tool.name);
  return {
    principal: parts.principal,
    request: { model: request.model, messages, tools, max_tokens: request.maxTokens, stream: request.stream, prompt: parts.prompt ?? null },
    usage: parts.usage ?? {},
    time: { now_ns: (parts.nowMs ?? Date.now()) * 1e6 },
    context: parts.context ?? { agent_chain: [], agent_depth: 0 },
    signals: parts.signals ?? {},
  };
}

/** Builds the response policy input for a complete (non-streamed) answer. */
export function responsePolicyInput(principal: PolicyPrincipal, model: string, response: ChatResponse): ResponsePolicyInput {
  return {
    principal,
    request: { model },
    response: {
      text: textOf(response.content),
      normalized: normalizeText(textOf(response.content)),
      tool_calls: response.toolCalls.map((call) => ({ name: call.name, arguments: call.arguments })),
    },
    final: true,
  };
}
