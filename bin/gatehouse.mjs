#!/usr/bin/env node
// Runs the gatehouse CLI: the compiled build in dist/ (scripts/build.mjs) when it
// matches the TypeScript sources, else the sources themselves through tsx's
// loader. The compiled build saves an idle gateway ~60 MB of RSS and a third of
// its time to ready (no tsx/esbuild in the process); the fallback means an edited
// file is never run stale. The freshness check costs ~7 ms (scripts/build.mjs).
//
// Why fall back instead of building when stale (a build takes ~0.2 s): this file
// runs on every start, often several at once — `--workers N` forks N copies of
// it (node:cluster re-runs process.argv[1]), and the tests start dozens. Building
// here would make every start a writer racing the others, and a start would fail
// where the checkout is read-only (an installed package, a container) or the disk
// is full. Falling back only reads, so it cannot fail that way, and it always runs
// the current sources. The builds happen at the points that own them: `npm start`
// (prestart), vitest's globalSetup, the bench, and `npm run build`.
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { applyRuntimeFlags } from './runtimeFlags.mjs';

// Before anything else is loaded or opened: the long-running commands re-execute with their heap flags.
applyRuntimeFlags();
const { freshBuild } = await import('../scripts/build.mjs');

const build = freshBuild(join(import.meta.dirname, '..'));
if (build) {
  await import(pathToFileURL(join(build, 'proxy', 'cli', 'main.js')).href);
} else {
  // Only a person at a terminal is told; piped stderr carries the gateway's JSON log lines.
  if (process.stderr.isTTY) process.stderr.write('gatehouse: dist/ is missing or older than the sources; running them through tsx (npm run build compiles them)\n');
  const { register } = await import('tsx/esm/api');
  register();
  await import('../proxy/cli/main.ts');
}
