/**
 * PII detection, redaction and reversible pseudonymization: the public surface the
 * pipeline uses. See chatMasking.ts for requests and responses, streamEvents.ts for
 * streamed answers.
 */
export { findPii, redact, addCounts, type PiiCounts, type Redaction } from './redact.js';
export { Pseudonymizer, type TextMode } from './pseudonymizer.js';
export type { StreamUnmasker } from './streamUnmasker.js';
export { StreamEventUnmasker } from './streamEvents.js';
export {
  redactChatRequest,
  pseudonymizeChatRequest,
  unmaskChatResponse,
  classesFound,
  type MaskedRequest,
} from './chatMasking.js';
export { PII_CLASSES, redactionMarker } from './placeholders.js';
