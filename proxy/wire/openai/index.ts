/**
 * The OpenAI client wire: Chat Completions, Embeddings and Models as the official
 * OpenAI SDKs speak them. Decoders throw `invalid_request` naming the field;
 * errors render as `{error:{message, type, param, code}}` with `code` the
 * Gatehouse error code.
 */
import type { ClientWire, EmbeddingsWire } from '../types.js';
import { decodeEmbeddings, encodeEmbeddings } from './embeddings.js';
import { renderError } from './errors.js';
import { decodeChat } from './request.js';
import { encodeChat, renderModels } from './response.js';
import { streamEncoder } from './stream.js';

export const openaiWire: ClientWire & EmbeddingsWire = {
  name: 'openai',
  decodeChat,
  encodeChat,
  streamEncoder,
  renderError,
  renderModels,
  decodeEmbeddings,
  encodeEmbeddings,
};
