/**
 * Reads a Prometheus text exposition (what GET /metrics returns): which sample
 * names exist, which labels each carries, and which metric family each belongs
 * to (a histogram family `x` exposes `x_bucket`, `x_sum` and `x_count`).
 */

export interface Scrape {
  /** Sample name → label names seen on it (`le` included for `_bucket`). */
  samples: Map<string, Set<string>>;
  /** Family name (histogram suffixes stripped) → its `# TYPE`. */
  families: Map<string, string>;
}

const HISTOGRAM_SUFFIXES = ['_bucket', '_sum', '_count'] as const;
const SAMPLE = /^([A-Za-z_:][A-Za-z0-9_:]*)(\{(.*)\})?\s/;
const LABEL = /([A-Za-z_][A-Za-z0-9_]*)="(?:[^"\\]|\\.)*"/g;

export function parseScrape(text: string): Scrape {
  const samples = new Map<string, Set<string>>();
  const families = new Map<string, string>();
  for (const line of text.split('\n')) {
    if (line.startsWith('# TYPE ')) {
      const [, , name, type] = line.split(' ');
      if (name && type) families.set(name, type);
      continue;
    }
    if (line === '' || line.startsWith('#')) continue;
    const match = SAMPLE.exec(line);
    if (!match?.[1]) continue;
    const labels = samples.get(match[1]) ?? new Set<string>();
    for (const label of (match[3] ?? '').matchAll(LABEL)) if (label[1]) labels.add(label[1]);
    samples.set(match[1], labels);
  }
  return { samples, families };
}

/** The family a sample name belongs to: `x_bucket` → `x` when `x` is a histogram. */
export function familyOf(sample: string, scrape: Scrape): string {
  for (const suffix of HISTOGRAM_SUFFIXES) {
    if (!sample.endsWith(suffix)) continue;
    const family = sample.slice(0, -suffix.length);
    if (scrape.families.get(family) === 'histogram') return family;
  }
  return sample;
}

/** Merges scrapes of several gateways (each shows the series it has seen). */
export function mergeScrapes(scrapes: Scrape[]): Scrape {
  const merged: Scrape = { samples: new Map(), families: new Map() };
  for (const scrape of scrapes) {
    for (const [name, type] of scrape.families) merged.families.set(name, type);
    for (const [name, labels] of scrape.samples) {
      const into = merged.samples.get(name) ?? new Set<string>();
      for (const label of labels) into.add(label);
      merged.samples.set(name, into);
    }
  }
  return merged;
}
