/**
 * Holds the current PolicyEngine and replaces it on reload, atomically: a new
 * engine is built completely (compile if the Rego changed, read the data, load,
 * probe) before it replaces the old one, and a failure at any step leaves the old
 * one answering. Reloads run on file changes under policies/ (debounced) and on
 * `reload()`, which the caller wires to SIGHUP.
 *
 * start() loads policies/compiled/policy.wasm, so no OPA CLI is needed to start;
 * when the Rego sources no longer match it and the CLI is present, they are
 * compiled instead. shutdown() is safe to call twice, and without start().
 */
import { watch, type FSWatcher } from 'node:fs';
import { dirname, resolve, sep } from 'node:path';
import { readCompiled } from './compiled.js';
import { PolicyEngine, type EngineOptions } from './engine.js';
import { compilePolicies, findOpa, OUTPUT_DIRS, PolicyCompileError, sourcesHash, type SourceLocation } from './opaCli.js';
import { readPolicyData } from './policyData.js';

export interface PolicyStoreOptions extends EngineOptions {
  policiesDir: string;
  /** OPA binary; undefined finds it (see findOpa), null never compiles. */
  opa?: string | null;
  /** Watch policies/ for changes. Default true. */
  watch?: boolean;
  debounceMs?: number;
  /** Called after every reload attempt, e.g. to log and count it. */
  onReload?: (result: ReloadResult) => void;
  /** Documents added at the data root beside policies/data (e.g. `agents`: the agent registry), read at every load. */
  extraData?: () => Record<string, unknown>;
}

export interface ReloadResult {
  ok: boolean;
  /** What the attempt changed: the Rego (recompiled), only the data, or nothing. */
  changed: 'sources' | 'data' | 'none';
  /** The revision answering after the attempt. */
  revision: string;
  /** Why the attempt failed, with OPA's own message for a compile error. */
  error?: string;
  /** file:line of each compile error. */
  locations?: SourceLocation[];
}

interface Loaded {
  engine: PolicyEngine;
  wasm: Uint8Array;
  sourcesHash: string;
}

export class PolicyStore {
  private readonly policiesDir: string;
  private loaded: Loaded | undefined;
  private opa: string | null | undefined;
  private watcher: FSWatcher | undefined;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<ReloadResult> | undefined;
  private again = false;
  /** Successful reloads that changed the revision. */
  reloads = 0;
  /** Reload attempts that failed and kept the previous policy. */
  failedReloads = 0;
  /** The last failed attempt; cleared by the next successful one. */
  lastError: ReloadResult | undefined;

  constructor(private readonly options: PolicyStoreOptions) {
    this.policiesDir = resolve(options.policiesDir);
    this.opa = options.opa;
  }

  /** The engine answering now. Take it once per request and use it for the whole request. */
  get current(): PolicyEngine {
    if (this.loaded === undefined) throw new Error('PolicyStore.start() has not completed');
    return this.loaded.engine;
  }

  async start(): Promise<void> {
    const hash = await sourcesHash(this.policiesDir);
    let compiled: { wasm: Uint8Array; sourcesHash: string } | undefined;
    try {
      compiled = await readCompiled(this.policiesDir);
    } catch {
      compiled = undefined;
    }
    if (compiled === undefined || compiled.sourcesHash !== hash) {
      const result = await this.reload();
      if (!result.ok && compiled === undefined) throw new Error(`no policy could be loaded: ${result.error}`);
      if (!result.ok && compiled !== undefined) {
        this.loaded = await this.build(compiled.wasm, compiled.sourcesHash);
        this.lastError = { ...result, revision: this.loaded.engine.revision, error: `serving policies/compiled, which is older than the Rego sources: ${result.error}` };
      }
    } else {
      this.loaded = await this.build(compiled.wasm, compiled.sourcesHash);
    }
    if (this.options.watch !== false) this.watchSources();
  }

  /**
   * Rebuilds from the files and swaps the engine when everything succeeded.
   * Concurrent calls share one attempt, plus one more if a call arrived during it.
   */
  reload(): Promise<ReloadResult> {
    if (this.running !== undefined) {
      this.again = true;
      return this.running;
    }
    const attempt = this.attempt().finally(() => {
      this.running = undefined;
      if (this.again) {
        this.again = false;
        void this.reload();
      }
    });
    this.running = attempt;
    return attempt;
  }

  async shutdown(): Promise<void> {
    this.watcher?.close();
    this.watcher = undefined;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.again = false;
    await this.running?.catch(() => undefined);
  }

  private async attempt(): Promise<ReloadResult> {
    const before = this.loaded;
    let result: ReloadResult;
    try {
      const hash = await sourcesHash(this.policiesDir);
      const wasm = before?.sourcesHash === hash ? before.wasm : await this.wasmFor(hash);
      const next = await this.build(wasm, hash);
      const changed = before === undefined || before.sourcesHash !== hash ? 'sources' : next.engine.revision !== before.engine.revision ? 'data' : 'none';
      if (changed !== 'none') {
        this.loaded = next;
        if (before !== undefined) this.reloads++;
      }
      this.lastError = undefined;
      result = { ok: true, changed, revision: next.engine.revision };
    } catch (error) {
      this.failedReloads++;
      result = {
        ok: false,
        changed: 'none',
        revision: before?.engine.revision ?? '',
        error: error instanceof Error ? error.message : String(error),
      };
      if (error instanceof PolicyCompileError) result.locations = error.locations;
      this.lastError = result;
    }
    this.options.onReload?.(result);
    return result;
  }

  /** The wasm for the current sources: the committed build when it matches, else a fresh compile. */
  private async wasmFor(hash: string): Promise<Uint8Array> {
    try {
      const compiled = await readCompiled(this.policiesDir);
      if (compiled.sourcesHash === hash) return compiled.wasm;
    } catch {
      // no committed build: compile below
    }
    if (this.opa === undefined) this.opa = (await findOpa(dirname(this.policiesDir))) ?? null;
    if (this.opa === null) {
      throw new Error('the Rego sources changed but the OPA CLI is not installed (scripts/install-opa.sh); keeping the current policy');
    }
    return compilePolicies(this.opa, this.policiesDir);
  }

  private async build(wasm: Uint8Array, hash: string): Promise<Loaded> {
    const data = await readPolicyData(this.policiesDir);
    if (this.options.extraData) Object.assign(data, this.options.extraData());
    const engine = await PolicyEngine.load(wasm, data, this.options);
    return { engine, wasm, sourcesHash: hash };
  }

  private watchSources(): void {
    try {
      this.watcher = watch(this.policiesDir, { recursive: true }, (_event, file) => {
        if (file === null || !relevant(String(file))) return;
        if (this.timer !== undefined) clearTimeout(this.timer);
        this.timer = setTimeout(() => {
          this.timer = undefined;
          void this.reload();
        }, this.options.debounceMs ?? 200);
        this.timer.unref();
      });
      this.watcher.unref();
    } catch (error) {
      this.lastError = { ok: false, changed: 'none', revision: this.loaded?.engine.revision ?? '', error: `cannot watch ${this.policiesDir}: ${(error as Error).message}` };
    }
  }
}

/** Rego and data files outside the output folders. */
function relevant(file: string): boolean {
  if (OUTPUT_DIRS.some((dir) => file === dir || file.startsWith(dir + sep))) return false;
  return file.endsWith('.rego') || file.endsWith('.json');
}
