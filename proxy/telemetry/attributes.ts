/**
 * Every span attribute Gatehouse writes, in one list. GenAI semantic-convention
 * names come from `@opentelemetry/semantic-conventions/incubating`; the gateway's
 * own live under `gatehouse.*`. The collector derives the audit table's columns
 * from AUDIT_ATTRIBUTES, so adding an attribute here adds it to the audit trail.
 */
import {
  ATTR_ERROR_TYPE,
  ATTR_HTTP_REQUEST_METHOD,
  ATTR_HTTP_RESPONSE_STATUS_CODE,
  ATTR_HTTP_ROUTE,
  ATTR_SERVER_ADDRESS,
  ATTR_SERVER_PORT,
} from '@opentelemetry/semantic-conventions';
import {
  ATTR_JSONRPC_REQUEST_ID,
  ATTR_MCP_METHOD_NAME,
  ATTR_MCP_PROTOCOL_VERSION,
  ATTR_MCP_SESSION_ID,
  ATTR_GEN_AI_TOOL_CALL_ARGUMENTS,
  ATTR_GEN_AI_TOOL_CALL_ID,
  ATTR_GEN_AI_TOOL_CALL_RESULT,
  ATTR_GEN_AI_TOOL_NAME,
  ATTR_GEN_AI_AGENT_ID,
  ATTR_GEN_AI_AGENT_NAME,
  ATTR_GEN_AI_CONVERSATION_ID,
  ATTR_GEN_AI_INPUT_MESSAGES,
  ATTR_GEN_AI_OPERATION_NAME,
  ATTR_GEN_AI_OUTPUT_MESSAGES,
  ATTR_GEN_AI_PROVIDER_NAME,
  ATTR_GEN_AI_REQUEST_MAX_TOKENS,
  ATTR_GEN_AI_REQUEST_MODEL,
  ATTR_GEN_AI_REQUEST_STREAM,
  ATTR_GEN_AI_REQUEST_TEMPERATURE,
  ATTR_GEN_AI_RESPONSE_FINISH_REASONS,
  ATTR_GEN_AI_RESPONSE_ID,
  ATTR_GEN_AI_RESPONSE_MODEL,
  ATTR_GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK,
  ATTR_GEN_AI_SYSTEM_INSTRUCTIONS,
  ATTR_GEN_AI_TOOL_DEFINITIONS,
  ATTR_GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS,
  ATTR_GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS,
  ATTR_GEN_AI_USAGE_INPUT_TOKENS,
  ATTR_GEN_AI_USAGE_OUTPUT_TOKENS,
} from '@opentelemetry/semantic-conventions/incubating';

export const A = {
  // OpenTelemetry GenAI semantic conventions
  operation: ATTR_GEN_AI_OPERATION_NAME,
  providerName: ATTR_GEN_AI_PROVIDER_NAME,
  requestModel: ATTR_GEN_AI_REQUEST_MODEL,
  requestMaxTokens: ATTR_GEN_AI_REQUEST_MAX_TOKENS,
  requestTemperature: ATTR_GEN_AI_REQUEST_TEMPERATURE,
  requestStream: ATTR_GEN_AI_REQUEST_STREAM,
  responseModel: ATTR_GEN_AI_RESPONSE_MODEL,
  responseId: ATTR_GEN_AI_RESPONSE_ID,
  finishReasons: ATTR_GEN_AI_RESPONSE_FINISH_REASONS,
  timeToFirstChunk: ATTR_GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK,
  inputTokens: ATTR_GEN_AI_USAGE_INPUT_TOKENS,
  outputTokens: ATTR_GEN_AI_USAGE_OUTPUT_TOKENS,
  cacheReadTokens: ATTR_GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS,
  cacheWriteTokens: ATTR_GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS,
  conversationId: ATTR_GEN_AI_CONVERSATION_ID,
  inputMessages: ATTR_GEN_AI_INPUT_MESSAGES,
  outputMessages: ATTR_GEN_AI_OUTPUT_MESSAGES,
  systemInstructions: ATTR_GEN_AI_SYSTEM_INSTRUCTIONS,
  toolDefinitions: ATTR_GEN_AI_TOOL_DEFINITIONS,
  // General semantic conventions
  errorType: ATTR_ERROR_TYPE,
  httpMethod: ATTR_HTTP_REQUEST_METHOD,
  httpStatus: ATTR_HTTP_RESPONSE_STATUS_CODE,
  httpRoute: ATTR_HTTP_ROUTE,
  serverAddress: ATTR_SERVER_ADDRESS,
  serverPort: ATTR_SERVER_PORT,
  // Gatehouse: who
  requestId: 'gatehouse.request.id',
  tenant: 'gatehouse.tenant.id',
  team: 'gatehouse.team.id',
  user: 'gatehouse.user.id',
  userClaimed: 'gatehouse.user.claimed',
  agent: 'gatehouse.agent.id',
  genAiAgentId: ATTR_GEN_AI_AGENT_ID,
  agentName: ATTR_GEN_AI_AGENT_NAME,
  /** The agents that led to this call, the first caller first, this call's agent last. */
  agentChain: 'gatehouse.agent.chain',
  /** How many agents stand before this call's agent (0: called by an application). */
  agentDepth: 'gatehouse.agent.depth',
  /** On an agent_status record: the new status, and why. */
  agentStatus: 'gatehouse.agent.status',
  agentStatusReason: 'gatehouse.agent.status_reason',
  /** Calls of this run (trace id) counted so far, this one included, when a run budget applies. */
  runCalls: 'gatehouse.run.calls',
  /** The audit record's `record_type` when it is not a model request (e.g. `agent_status`). */
  recordType: 'gatehouse.record.type',
  // MCP (the OpenTelemetry MCP and GenAI conventions)
  mcpMethod: ATTR_MCP_METHOD_NAME,
  mcpProtocolVersion: ATTR_MCP_PROTOCOL_VERSION,
  mcpSessionId: ATTR_MCP_SESSION_ID,
  jsonrpcRequestId: ATTR_JSONRPC_REQUEST_ID,
  toolName: ATTR_GEN_AI_TOOL_NAME,
  toolCallId: ATTR_GEN_AI_TOOL_CALL_ID,
  toolCallArguments: ATTR_GEN_AI_TOOL_CALL_ARGUMENTS,
  toolCallResult: ATTR_GEN_AI_TOOL_CALL_RESULT,
  /** The upstream MCP server a tool belongs to (the prefix of its name). */
  mcpServer: 'gatehouse.mcp.server',
  /** SHA-256 (hex) of the RFC 8785 canonical JSON of a tool call's arguments: recorded always, the arguments only with content capture. */
  toolArgumentsSha256: 'gatehouse.tool.arguments_sha256',
  /** Bytes of the tool result's JSON as the upstream returned it. */
  toolResultBytes: 'gatehouse.tool.result_bytes',
  // Approvals (docs/approvals.md)
  /** The approval a tool call asked for or used, and that an approval record is about. */
  approvalId: 'gatehouse.approval.id',
  /** On an approval record: requested, approved, denied, expired or used. */
  approvalEvent: 'gatehouse.approval.event',
  /** On an approval record: who acted (the approver's user id; the requester's key for requested and used). */
  approvalActor: 'gatehouse.approval.actor',
  approvalReason: 'gatehouse.approval.reason',
  /** Approvals from distinct people the call needs. */
  approvalRequired: 'gatehouse.approval.required',
  /** The people who approved (on the used event and on the tool call that ran). */
  approvalApprovers: 'gatehouse.approval.approvers',
  /** RFC 3339. */
  approvalExpiresAt: 'gatehouse.approval.expires_at',
  keyId: 'gatehouse.key.id',
  feature: 'gatehouse.feature',
  clientWire: 'gatehouse.client.wire',
  clientIp: 'gatehouse.client.address',
  clientUserAgent: 'gatehouse.client.user_agent',
  endUser: 'gatehouse.end_user',
  // Gatehouse: what
  promptId: 'gatehouse.prompt.id',
  promptVersion: 'gatehouse.prompt.version',
  /** A registry prompt's content hash (`sha256:<hex>`), and the label it was resolved from. */
  promptSha256: 'gatehouse.prompt.sha256',
  promptLabel: 'gatehouse.prompt.label',
  /** On a prompt_deploy record: the label's version before and after the move. */
  promptFromVersion: 'gatehouse.prompt.from_version',
  promptCommit: 'gatehouse.prompt.commit',
  toolCalls: 'gatehouse.tool_calls',
  toolCallCount: 'gatehouse.tool_calls.count',
  // Gatehouse: cost
  costUsd: 'gatehouse.cost.usd',
  priceKnown: 'gatehouse.cost.price_known',
  usageEstimated: 'gatehouse.usage.estimated',
  // Gatehouse: routing
  routeAlias: 'gatehouse.route.alias',
  routeAttempts: 'gatehouse.route.attempts',
  routeTarget: 'gatehouse.route.target',
  failoverReason: 'gatehouse.failover.reason',
  attemptNumber: 'gatehouse.attempt.number',
  attemptOutcome: 'gatehouse.attempt.outcome',
  attemptProvider: 'gatehouse.attempt.provider',
  breakerState: 'gatehouse.breaker.state',
  // Gatehouse: policy
  policyDecision: 'gatehouse.policy.decision',
  policyReasons: 'gatehouse.policy.reasons',
  policyRevision: 'gatehouse.policy.revision',
  policyCode: 'gatehouse.policy.code',
  responsePolicyDecision: 'gatehouse.policy.response_decision',
  redactedClasses: 'gatehouse.redaction.classes',
  limitScope: 'gatehouse.limit.scope',
  /** JSON array of the detectors asked for this request: [{name, ok, score, error, ms}]. */
  detectors: 'gatehouse.detectors',
  // Gatehouse: outcome
  outcome: 'gatehouse.outcome',
  errorCode: 'gatehouse.error.code',
  durationMs: 'gatehouse.duration_ms',
  ttftMs: 'gatehouse.ttft_ms',
  auditRecord: 'gatehouse.audit',
} as const;

export type AttributeName = (typeof A)[keyof typeof A];

/** `gatehouse.outcome` values. */
export type Outcome = 'ok' | 'error' | 'cancelled' | 'denied' | 'rate_limited' | 'blocked';

/** `decimal`: an exact amount sent as a decimal string (e.g. `0.00001575`), at most 12 digits after the point. */
export type AttributeType = 'string' | 'int' | 'double' | 'decimal' | 'boolean' | 'string[]';

/**
 * The attributes of a gateway request span that make up its audit record, with
 * their types. Order is the audit table's column order. `content` marks message
 * content, which exists only when capture is configured and which forwarding may strip.
 */
export const AUDIT_ATTRIBUTES: ReadonlyArray<{ name: AttributeName; type: AttributeType; content?: true }> = [
  { name: A.requestId, type: 'string' },
  { name: A.tenant, type: 'string' },
  { name: A.team, type: 'string' },
  { name: A.user, type: 'string' },
  { name: A.userClaimed, type: 'string' },
  { name: A.agent, type: 'string' },
  { name: A.agentName, type: 'string' },
  { name: A.agentChain, type: 'string[]' },
  { name: A.agentDepth, type: 'int' },
  { name: A.runCalls, type: 'int' },
  { name: A.agentStatus, type: 'string' },
  { name: A.agentStatusReason, type: 'string' },
  { name: A.keyId, type: 'string' },
  { name: A.feature, type: 'string' },
  { name: A.endUser, type: 'string' },
  { name: A.clientWire, type: 'string' },
  { name: A.clientIp, type: 'string' },
  { name: A.clientUserAgent, type: 'string' },
  { name: A.operation, type: 'string' },
  { name: A.requestModel, type: 'string' },
  { name: A.requestStream, type: 'boolean' },
  { name: A.requestMaxTokens, type: 'int' },
  { name: A.routeAlias, type: 'string' },
  { name: A.routeTarget, type: 'string' },
  { name: A.providerName, type: 'string' },
  { name: A.responseModel, type: 'string' },
  { name: A.responseId, type: 'string' },
  { name: A.finishReasons, type: 'string[]' },
  { name: A.inputTokens, type: 'int' },
  { name: A.outputTokens, type: 'int' },
  { name: A.cacheReadTokens, type: 'int' },
  { name: A.cacheWriteTokens, type: 'int' },
  { name: A.costUsd, type: 'decimal' },
  { name: A.priceKnown, type: 'boolean' },
  { name: A.usageEstimated, type: 'boolean' },
  { name: A.routeAttempts, type: 'int' },
  { name: A.failoverReason, type: 'string' },
  { name: A.promptId, type: 'string' },
  { name: A.promptVersion, type: 'string' },
  { name: A.promptSha256, type: 'string' },
  { name: A.promptLabel, type: 'string' },
  { name: A.promptFromVersion, type: 'string' },
  { name: A.promptCommit, type: 'string' },
  { name: A.toolCallCount, type: 'int' },
  { name: A.toolCalls, type: 'string' },
  { name: A.policyDecision, type: 'string' },
  { name: A.policyCode, type: 'string' },
  { name: A.policyReasons, type: 'string[]' },
  { name: A.policyRevision, type: 'string' },
  { name: A.responsePolicyDecision, type: 'string' },
  { name: A.redactedClasses, type: 'string[]' },
  { name: A.limitScope, type: 'string' },
  { name: A.detectors, type: 'string' },
  { name: A.outcome, type: 'string' },
  { name: A.errorCode, type: 'string' },
  { name: A.errorType, type: 'string' },
  { name: A.mcpMethod, type: 'string' },
  { name: A.mcpProtocolVersion, type: 'string' },
  { name: A.mcpSessionId, type: 'string' },
  { name: A.jsonrpcRequestId, type: 'string' },
  { name: A.mcpServer, type: 'string' },
  { name: A.toolName, type: 'string' },
  { name: A.toolCallId, type: 'string' },
  { name: A.toolArgumentsSha256, type: 'string' },
  { name: A.toolResultBytes, type: 'int' },
  { name: A.approvalId, type: 'string' },
  { name: A.approvalEvent, type: 'string' },
  { name: A.approvalActor, type: 'string' },
  { name: A.approvalReason, type: 'string' },
  { name: A.approvalRequired, type: 'int' },
  { name: A.approvalApprovers, type: 'string[]' },
  { name: A.approvalExpiresAt, type: 'string' },
  { name: A.httpStatus, type: 'int' },
  { name: A.durationMs, type: 'double' },
  { name: A.ttftMs, type: 'double' },
  { name: A.conversationId, type: 'string' },
  { name: A.inputMessages, type: 'string', content: true },
  { name: A.outputMessages, type: 'string', content: true },
  { name: A.systemInstructions, type: 'string', content: true },
  { name: A.toolCallArguments, type: 'string', content: true },
  { name: A.toolCallResult, type: 'string', content: true },
];

/** Name of the server span that carries an audit record; the collector selects spans with `gatehouse.audit = true`. */
export const AUDIT_MARKER = A.auditRecord;
