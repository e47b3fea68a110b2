#!/usr/bin/env node
/**
 * Compiles the gateway and the collector (every .ts under proxy/ and collector/,
 * tests excluded) to plain ESM under dist/, one .js per .ts in the same layout
 * (dist/proxy/cli/main.js), with esbuild and no bundling. Type checking stays
 * with `tsc --noEmit`; this only strips types, so it takes a fraction of a second.
 *
 *   node scripts/build.mjs              build
 *   node scripts/build.mjs --if-stale   build only when dist/ does not match the sources
 *
 * Layout. Each build is written into a directory of its own, .dist/<id>/, and
 * its STAMP last. Only then does `dist` — a symlink — point at it, replaced with
 * rename(2), which is atomic. So whoever reads dist/ sees one complete build,
 * never a half-written one, however many processes build or start at once. A
 * build directory never changes once written, and Node resolves the symlink to
 * the real path, so a running process keeps the build it started from even when
 * a newer one replaces dist: its lazy `import('./start.js')` stays inside that
 * directory. Builds that stopped being current more than PRUNE_AFTER_MS ago are
 * deleted (a process does its lazy imports in its first seconds).
 *
 * Freshness. STAMP records a fingerprint of the sources: the path, size and
 * mtime of every file built, plus this script and tsconfig.json. The build is
 * fresh when the fingerprint of the files on disk equals it, so an edit, a new,
 * deleted or renamed file, or a checkout that restores an older mtime all make
 * it stale. Computing it is a walk and a stat per file, a few ms.
 *
 * Imports only Node built-ins at the top: bin/gatehouse.mjs loads this module on
 * every start to check freshness; esbuild is loaded only to build.
 */
import { lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, realpathSync, renameSync, rmSync, statSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(import.meta.dirname, '..');
/** The folders compiled; everything else (bench, scripts, test) runs through tsx. */
const SOURCE_DIRS = ['proxy', 'collector'];
/** Besides the sources, what changes the output. */
const BUILD_INPUTS = ['scripts/build.mjs', 'tsconfig.json'];
const STAMP = 'build-stamp.json';
const BUILDS_DIR = '.dist';
const PRUNE_AFTER_MS = 10 * 60_000;

function isSource(name) {
  return name.endsWith('.ts') && !name.endsWith('.d.ts') && !name.endsWith('.test.ts');
}

/** Every source file under `dir`, as absolute paths, in a stable order. */
function sourcesUnder(dir) {
  const files = [];
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch (error) {
    if (error.code === 'ENOENT') return files;
    throw error;
  }
  for (const entry of entries.sort((a, b) => (a.name < b.name ? -1 : 1))) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) files.push(...sourcesUnder(path));
    else if (entry.isFile() && isSource(entry.name)) files.push(path);
  }
  return files;
}

/**
 * The files a build compiles, and the fingerprint that says whether a build
 * matches them: one `path size mtime` line per input. Kept whole rather than
 * hashed — it is a few KB, and loading node:crypto would double the check's time.
 */
export function sourceFingerprint(root = ROOT) {
  const files = SOURCE_DIRS.flatMap((dir) => sourcesUnder(join(root, dir)));
  const fingerprint = [...files, ...BUILD_INPUTS.map((input) => join(root, input))].map((file) => {
    const stat = statSync(file);
    return `${relative(root, file)} ${stat.size} ${stat.mtimeMs}`;
  });
  return { files, fingerprint };
}

/** The real directory of the current build, or undefined when there is none or it does not match the sources. */
export function freshBuild(root = ROOT) {
  let dir;
  let stamp;
  let fingerprint;
  try {
    // Resolved once: the stamp read and the files imported afterwards are the same build's.
    dir = realpathSync(join(root, 'dist'));
    stamp = JSON.parse(readFileSync(join(dir, STAMP), 'utf8'));
    // Throws when a source is deleted mid-walk: then the sources are changing, so not fresh.
    ({ fingerprint } = sourceFingerprint(root));
  } catch {
    return undefined;
  }
  const same = Array.isArray(stamp.fingerprint) && stamp.fingerprint.length === fingerprint.length && fingerprint.every((line, index) => line === stamp.fingerprint[index]);
  return same ? dir : undefined;
}

/** Compiles the sources into a new build directory and makes it dist/. Returns that directory. */
export async function build(root = ROOT) {
  const started = performance.now();
  // Taken before esbuild reads a file: an edit made during the build leaves the stamp stale, never the reverse.
  const { files, fingerprint } = sourceFingerprint(root);
  const id = `${Date.now().toString(36)}-${process.pid}`;
  const buildsDir = join(root, BUILDS_DIR);
  const dir = join(buildsDir, id);
  mkdirSync(dir, { recursive: true });
  const esbuild = await import('esbuild');
  await esbuild.build({
    entryPoints: files,
    outbase: root,
    outdir: dir,
    bundle: false,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    tsconfig: join(root, 'tsconfig.json'),
    // Linked maps cost nothing unless node runs with --enable-source-maps (then stacks name the .ts lines).
    sourcemap: 'linked',
    sourcesContent: false,
    logLevel: 'warning',
  });
  writeFileSync(join(dir, STAMP), `${JSON.stringify({ builtAt: new Date().toISOString(), esbuild: esbuild.version, files: files.length, fingerprint }, null, 1)}\n`);
  publish(root, id);
  prune(buildsDir, id);
  return { dir, files: files.length, ms: performance.now() - started };
}

/** Points dist at .dist/<id> in one rename(2). */
function publish(root, id) {
  const link = join(root, 'dist');
  const previous = currentTarget(link);
  // The build being replaced counts as in use from now on, for PRUNE_AFTER_MS (see prune).
  if (previous) touch(previous);
  const staged = join(root, BUILDS_DIR, `${id}.link`);
  // Relative, so the checkout can move; 'junction' matters only on Windows (no privilege needed there).
  symlinkSync(join(BUILDS_DIR, id), staged, 'junction');
  try {
    renameSync(staged, link);
  } catch (error) {
    // dist is a real directory (made by hand, or an older layout): replace it.
    if (!['EISDIR', 'ENOTEMPTY', 'EEXIST', 'EPERM'].includes(error.code)) throw error;
    rmSync(link, { recursive: true, force: true });
    renameSync(staged, link);
  }
}

function currentTarget(link) {
  try {
    return resolve(join(link, '..'), readlinkSync(link));
  } catch {
    return undefined;
  }
}

function touch(path) {
  const now = new Date();
  try {
    utimesSync(path, now, now);
  } catch {
    // Already pruned by a concurrent build.
  }
}

/** Deletes builds (and staged links of crashed builds) untouched for PRUNE_AFTER_MS, never the current one. */
function prune(buildsDir, keep) {
  const current = currentTarget(join(buildsDir, '..', 'dist'));
  const cutoff = Date.now() - PRUNE_AFTER_MS;
  for (const name of readdirSync(buildsDir)) {
    const path = join(buildsDir, name);
    if (name === keep || path === current) continue;
    try {
      if (lstatSync(path).mtimeMs < cutoff) rmSync(path, { recursive: true, force: true });
    } catch {
      // Removed meanwhile by a concurrent build.
    }
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  if (process.argv.includes('--if-stale') && freshBuild()) process.exit(0);
  try {
    const result = await build();
    console.error(`build: ${result.files} files → ${relative(ROOT, result.dir)} (dist) in ${Math.round(result.ms)} ms`);
  } catch (error) {
    // esbuild has already printed the errors with their file:line.
    console.error(`build: failed${error.errors ? '' : `: ${error.stack ?? error}`}`);
    process.exit(1);
  }
}
