/**
 * The prompt registry's files (docs/prompts.md):
 *
 *   prompts/<id>/<version>.yaml   one immutable version: messages (Mustache templates), parameters, variables (JSON Schema), tools
 *   prompts/labels.yaml           which version each label points at: { <id>: { production: 3, staging: 4 } }
 *   prompts/versions.lock         the released versions' content hashes: { <id>: { "3": "sha256:..." } }
 */
import { z } from 'zod';

export const PROMPT_ID = /^[a-z0-9][a-z0-9_-]{0,63}$/;
export const LABEL = /^[a-z0-9][a-z0-9_.-]{0,63}$/;
export const MAX_VERSION = 9_999_999;
/** Bytes of one rendered message at most, and messages per version. */
export const MAX_TEMPLATE_BYTES = 64 * 1024;
export const MAX_MESSAGES = 64;

export const promptVersionSchema = z.strictObject({
  description: z.string().max(2_000).optional(),
  /** Applied when the request does not set them. */
  parameters: z.strictObject({
    temperature: z.number().min(0).max(2).optional(),
    top_p: z.number().gt(0).max(1).optional(),
    max_tokens: z.number().int().positive().max(1_048_576).optional(),
  }).default({}),
  /** JSON Schema of the variables (an object schema); extra variables are refused unless it says otherwise. */
  variables: z.looseObject({ type: z.literal('object') }).default({ type: 'object', properties: {} }),
  messages: z.array(z.strictObject({
    role: z.enum(['system', 'user', 'assistant']),
    content: z.string().min(1).max(MAX_TEMPLATE_BYTES),
  })).min(1).max(MAX_MESSAGES),
  /** Function tools offered with this prompt, when the request sends none. */
  tools: z.array(z.strictObject({
    name: z.string().regex(/^[a-zA-Z0-9_-]{1,64}$/),
    description: z.string().max(4_000).optional(),
    parameters: z.looseObject({ type: z.literal('object') }),
  })).max(128).optional(),
});

export type PromptVersionFile = z.infer<typeof promptVersionSchema>;

export const labelsSchema = z.record(
  z.string().regex(PROMPT_ID, 'expected a prompt id of a-z, 0-9, _ and -'),
  z.record(z.string().regex(LABEL, 'expected a label of a-z, 0-9, _, . and -'), z.number().int().positive().max(MAX_VERSION)),
);

export const lockSchema = z.record(
  z.string().regex(PROMPT_ID),
  z.record(z.string().regex(/^[1-9][0-9]{0,6}$/), z.string().regex(/^sha256:[0-9a-f]{64}$/)),
);
