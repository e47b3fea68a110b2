/**
 * The delegation chain: which agents, in order, led to this call. It travels
 * in W3C baggage as `gatehouse.agent.chain` (agent ids joined by commas, the
 * first caller first); the current agent is not in it. `gatehouse.agent.depth`
 * from an older sender is honoured when it is larger. Bounded: at most
 * MAX_CHAIN ids, each an agent id.
 */
import { GatehouseError } from '../errors.js';
import { AGENT_ID } from './agentSchema.js';

export const CHAIN_BAGGAGE = 'gatehouse.agent.chain';
export const AGENT_BAGGAGE = 'gatehouse.agent.id';
const LEGACY_DEPTH_BAGGAGE = 'gatehouse.agent.depth';
/** A chain longer than this is refused as malformed (no registry allows a depth past 32). */
export const MAX_CHAIN = 64;

export interface Delegation {
  /** The agents before this call, the first caller first. */
  chain: string[];
  /** How many agents stand before this call: chain.length, or a larger depth the sender stated. */
  depth: number;
}

const NONE: Delegation = Object.freeze({ chain: [], depth: 0 }) as Delegation;

/**
 * The delegation a request's baggage states; 400 `invalid_request` (param
 * `baggage`) for a malformed chain. `raw` is the `baggage` header as sent: a
 * header that states the chain twice, or has members without `=` (an unencoded
 * comma inside the chain), is refused rather than read in part.
 */
export function delegationOf(baggage: Record<string, string> | undefined, header?: string | string[]): Delegation {
  if (header !== undefined) checkRawBaggage(Array.isArray(header) ? header.join(',') : header);
  if (baggage === undefined) return NONE;
  const raw = baggage[CHAIN_BAGGAGE];
  const legacy = Number(baggage[LEGACY_DEPTH_BAGGAGE] ?? 0);
  const stated = Number.isInteger(legacy) && legacy > 0 ? Math.min(legacy, MAX_CHAIN) : 0;
  if (raw === undefined || raw.trim() === '') return stated === 0 ? NONE : { chain: [], depth: stated };
  const chain = raw.split(',').map((id) => id.trim());
  if (chain.length > MAX_CHAIN) throw new GatehouseError('invalid_request', `baggage ${CHAIN_BAGGAGE}: more than ${MAX_CHAIN} agents`, { param: 'baggage' });
  for (const id of chain) {
    if (!AGENT_ID.test(id)) throw new GatehouseError('invalid_request', `baggage ${CHAIN_BAGGAGE}: '${id.slice(0, 64)}' is not an agent id`, { param: 'baggage' });
  }
  return { chain, depth: Math.max(chain.length, stated) };
}

function checkRawBaggage(header: string): void {
  if (!header.includes('gatehouse.agent.')) return;
  let chains = 0;
  for (const member of header.split(',')) {
    const trimmed = member.trim();
    if (trimmed === '') continue;
    const eq = trimmed.indexOf('=');
    if (eq < 0) {
      throw new GatehouseError('invalid_request', `baggage: member '${trimmed.slice(0, 64)}' has no '='; percent-encode the commas of ${CHAIN_BAGGAGE} (%2C)`, { param: 'baggage' });
    }
    if (trimmed.slice(0, eq).trim() === CHAIN_BAGGAGE && ++chains > 1) {
      throw new GatehouseError('invalid_request', `baggage: ${CHAIN_BAGGAGE} appears more than once`, { param: 'baggage' });
    }
  }
}

/** The baggage value that carries `chain` plus `agent` on to the next call. */
export function chainValue(chain: readonly string[], agent: string | undefined): string {
  return agent === undefined ? chain.join(',') : [...chain, agent].join(',');
}
