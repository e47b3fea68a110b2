/**
 * A refused reservation as the GatehouseError a wire renders: 429 `rate_limited`
 * or `budget_exceeded`, or 503 `limits_unavailable`, each with `Retry-After` and
 * the `x-ratelimit-*` headers. Messages name the scope kind and the limit, never
 * the scope's key or any content.
 */
import { GatehouseError } from '../errors.js';
import { rateLimitHeaders } from './headers.js';
import type { ReserveDenial } from './types.js';

export function limitError(denial: ReserveDenial): GatehouseError {
  const options = { retryAfterSeconds: denial.retryAfterSeconds, headers: rateLimitHeaders(denial) };
  switch (denial.code) {
    case 'rate_limited': {
      const what = denial.dimension === 'requests' ? 'requests per minute' : 'tokens per minute';
      const message = denial.neverFits
        ? `the request's estimated tokens exceed the ${denial.scope.scope} limit of ${denial.window.limit} ${what}`
        : `${denial.scope.scope} rate limit of ${denial.window.limit} ${what} reached; retry after ${denial.retryAfterSeconds} s`;
      return new GatehouseError('rate_limited', message, options);
    }
    case 'budget_exceeded':
      return new GatehouseError('budget_exceeded', `${denial.scope.scope} budget ${denial.budget} of ${denial.limit} reached`, options);
    case 'limits_unavailable':
      return new GatehouseError('limits_unavailable', 'rate limits cannot be checked right now', options);
  }
}
