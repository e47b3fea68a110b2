import type { PolicyPrompt } from '../policy/input.js';
/**
 * The facts of one request. Stages record facts here; telemetry reads them once,
 * at the end, to build the span, the metrics and the audit record.
 */
import type { Span } from '@opentelemetry/api';
import type { IncomingHttpHeaders } from 'node:http';
import type { ChatRequest, EmbeddingRequest, FinishReason, ToolCall, Usage } from '../canonical.js';
import type { Cost } from '../cost/priceTable.js';
import type { Reservation } from '../limits/types.js';
import type { GatehouseError } from '../errors.js';
import type { AttemptRecord } from '../routing/failover.js';
import type { Route, Target } from '../routing/routes.js';
import type { Outcome } from '../telemetry/attributes.js';
import type { ClientWire } from '../wire/types.js';
import type { Delegation } from '../agents/delegation.js';
import type { Enforcement } from './enforce.js';

export interface Principal {
  keyId: string;
  tenant: string;
  team?: string;
  user?: string;
  agent?: string;
  feature?: string;
}

/** `gen_ai.operation.name`: model calls, `execute_tool` for an MCP tools/call, `mcp` for other MCP requests. */
export type Operation = 'chat' | 'embeddings' | 'models' | 'execute_tool' | 'mcp';

export interface RequestContext {
  readonly id: string;
  /** Epoch ms. */
  readonly startTime: number;
  /** performance.now() at start, for durations. */
  readonly startMark: number;
  readonly wire: ClientWire;
  readonly operation: Operation;
  readonly route: string;
  /** The span's name when it is not `<operation> <model>` (MCP: `tools/call crm.lookup_customer`). */
  spanName?: string;
  readonly headers: IncomingHttpHeaders;
  readonly clientAddress: string | undefined;
  /** Aborted when the client goes away before the response ended. */
  readonly signal: AbortSignal;
  readonly span: Span;
  /** The client's W3C baggage, if it sent any. */
  readonly baggage: Record<string, string> | undefined;
  /** Headers added to whatever response this request gets. */
  readonly responseHeaders: Record<string, string>;
  principal?: Principal;
  /** The agents that led to this call (agents/delegation.ts). */
  delegation?: Delegation;
  /** The run (tenant/trace id) whose budget this call counted against, when one applied. */
  runKey?: string;
  /** The user named by x-gatehouse-user, recorded whether or not the key may name one. */
  claimedUser?: string;
  /** The policy decision and PII state of this request (enforce.ts). */
  enforcement?: Enforcement;
  /** Limits reserved before the upstream call, settled once at the end. */
  reservation?: Reservation;
  /**
   * The prompt: as the client pinned it (x-gatehouse-prompt-id/-version, recorded
   * as sent), or as the registry resolved it (`registry` set).
   */
  prompt?: { id?: string; version?: string; sha256?: string; label?: string; registry?: PolicyPrompt };
  chat?: ChatRequest;
  embeddings?: EmbeddingRequest;
  /** The `model` the client asked for. */
  requestedModel?: string;
  routeTable?: Route;
  attempts: AttemptRecord[];
  target?: Target;
  responseId?: string;
  responseModel?: string;
  finishReason?: FinishReason;
  toolCalls?: ToolCall[];
  /** The answer's text, kept only when content capture is on. */
  outputText?: string;
  usage?: Usage;
  /** True when usage was counted by the gateway (an aborted or cut stream), not reported by the provider. */
  usageEstimated?: boolean;
  cost?: Cost;
  /** ms from start to the first token sent to the client. */
  firstTokenMs?: number;
  status: number;
  error?: GatehouseError;
  outcome: Outcome;
  /** Annotations and decisions recorded by policy stages. */
  annotations: Record<string, string | number | boolean | string[]>;
}
