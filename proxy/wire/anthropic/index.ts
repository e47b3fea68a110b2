/**
 * The Anthropic Messages API as a client-facing wire: `POST /v1/messages`
 * (streaming and not), `GET /v1/models`, and Anthropic-shaped errors. Requests on
 * this wire never set `streamUsage`: an Anthropic stream always carries usage, so
 * the pipeline must always obtain usage from the upstream.
 */
import type { ClientWire } from '../types.js';
import { renderError } from './errors.js';
import { decodeChat } from './request.js';
import { encodeChat, renderModels } from './response.js';
import { streamEncoder } from './stream.js';

export const anthropicWire: ClientWire = {
  name: 'anthropic',
  decodeChat,
  encodeChat,
  streamEncoder,
  renderError,
  renderModels,
};
