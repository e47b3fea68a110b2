/**
 * Micro-benchmark timing shared by the `bench:*` scripts: p50 of many runs of a
 * stage, and several stages measured in interleaved rounds (A, B, A, B, ...), so
 * that a ratio compares runs from the same moment of the same process.
 */

/** p50 in µs of `iterations` runs after a warm-up; a synchronous stage is not awaited. */
export async function measure(run: () => unknown, iterations: number): Promise<number> {
  for (let i = 0; i < Math.min(2_000, iterations); i++) {
    const result = run();
    if (result instanceof Promise) await result;
  }
  const times: number[] = new Array(iterations);
  for (let i = 0; i < iterations; i++) {
    const start = process.hrtime.bigint();
    const result = run();
    if (result instanceof Promise) await result;
    times[i] = Number(process.hrtime.bigint() - start) / 1000;
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(0.5 * (times.length - 1))]!;
}

/** Median of each stage's per-round p50s, the stages interleaved round by round. */
export async function interleaved(runs: Array<() => unknown>, iterations: number, rounds: number): Promise<number[]> {
  const p50s = runs.map(() => [] as number[]);
  for (let r = 0; r < rounds; r++) for (const [i, run] of runs.entries()) p50s[i]!.push(await measure(run, Math.ceil(iterations / rounds)));
  return p50s.map((xs) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)]!);
}
