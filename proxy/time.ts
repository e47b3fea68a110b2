import { UpstreamFailure } from './providers/types.js';

/** Waits `ms`, or rejects with a `cancelled` UpstreamFailure as soon as `signal` aborts. */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(new UpstreamFailure('cancelled', 'request cancelled'));
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(new UpstreamFailure('cancelled', 'request cancelled'));
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
