/** Failed console logins per client address: 10 in 5 minutes, then 429 until the window passes. Bounded to 10,000 addresses. */
const WINDOW_MS = 5 * 60_000;
const MAX_FAILURES = 10;
const MAX_ADDRESSES = 10_000;

export class LoginThrottle {
  private readonly failures = new Map<string, { count: number; since: number }>();

  constructor(private readonly now: () => number = Date.now) {}

  allowed(address: string): boolean {
    const entry = this.failures.get(address);
    if (entry === undefined) return true;
    if (this.now() - entry.since > WINDOW_MS) {
      this.failures.delete(address);
      return true;
    }
    return entry.count < MAX_FAILURES;
  }

  failed(address: string): void {
    const now = this.now();
    const entry = this.failures.get(address);
    if (entry === undefined || now - entry.since > WINDOW_MS) {
      if (this.failures.size >= MAX_ADDRESSES) this.failures.delete(this.failures.keys().next().value as string);
      this.failures.set(address, { count: 1, since: now });
    } else {
      entry.count += 1;
    }
  }
}
