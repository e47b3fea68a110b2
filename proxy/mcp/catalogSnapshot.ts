/**
 * The tools the gateway last offered (name, server, annotations), written to
 * `<dataDir>/mcp-tools.json` (0600) whenever the catalog changes, so that the
 * agent inventory can say which tools each agent really reaches without asking
 * a running gateway (`gatehouse agents export`, docs/agents.md).
 */
import { readFile, rename, writeFile } from 'node:fs/promises';
import type { PolicyTool } from '../policy/input.js';

export const CATALOG_SNAPSHOT_FILE = 'mcp-tools.json';

export class CatalogSnapshot {
  private pending: PolicyTool[] | undefined;
  private writing: Promise<void> = Promise.resolve();
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly file: string) {}

  /** Writes the tools soon (changes within 200 ms are written once). */
  changed(tools: PolicyTool[]): void {
    this.pending = tools;
    if (this.timer !== undefined) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.flush();
    }, 200);
    this.timer.unref();
  }

  flush(): Promise<void> {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    const tools = this.pending;
    this.pending = undefined;
    if (tools === undefined) return this.writing;
    const text = `${JSON.stringify({ written_at: new Date().toISOString(), tools }, null, 2)}\n`;
    this.writing = this.writing.then(async () => {
      const temp = `${this.file}.${process.pid}.tmp`;
      await writeFile(temp, text, { mode: 0o600 });
      await rename(temp, this.file);
    }).catch(() => undefined);
    return this.writing;
  }
}

/** The snapshot's tools, or undefined when there is none. */
export async function readCatalogSnapshot(file: string): Promise<PolicyTool[] | undefined> {
  try {
    const parsed = JSON.parse(await readFile(file, 'utf8')) as { tools?: PolicyTool[] };
    return Array.isArray(parsed.tools) ? parsed.tools : undefined;
  } catch {
    return undefined;
  }
}
