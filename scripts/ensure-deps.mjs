#!/usr/bin/env node
// Makes a fresh clone runnable with one command: installs npm packages when
// node_modules is missing or older than package-lock.json, compiles proxy/ and
// collector/ into dist/ when that is missing or older than the sources (so
// bin/gatehouse.mjs runs the compiled build, not tsx), and, with --opa, the
// pinned OPA CLI into .tools/bin. Uses only Node built-ins before npm ci
// (build.mjs loads esbuild only when it builds).
import { spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, freshBuild } from './build.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const installed = join(root, 'node_modules', '.package-lock.json');
const lock = join(root, 'package-lock.json');

function run(command, args) {
  const result = spawnSync(command, args, { cwd: root, stdio: 'inherit' });
  if (result.status !== 0) {
    console.error(`ensure-deps: '${command} ${args.join(' ')}' failed`);
    process.exit(result.status ?? 1);
  }
}

if (!existsSync(installed) || statSync(installed).mtimeMs < statSync(lock).mtimeMs) {
  console.error('ensure-deps: installing npm packages (npm ci)');
  run('npm', ['ci', '--no-audit', '--no-fund']);
}

if (!freshBuild(root)) {
  try {
    const result = await build(root);
    console.error(`ensure-deps: compiled ${result.files} files into dist/ in ${Math.round(result.ms)} ms`);
  } catch (error) {
    console.error(`ensure-deps: building dist/ failed${error.errors ? '' : `: ${error.stack ?? error}`}`);
    // Tests (pretest passes --opa) must run what ships; a start may go on (a read-only
    // checkout, a full disk): bin/gatehouse.mjs runs the sources through tsx when dist/ is stale.
    if (process.argv.includes('--opa')) process.exit(1);
    console.error('ensure-deps: starting from the TypeScript sources instead (slower start, ~60 MB more memory)');
  }
}

if (process.argv.includes('--opa') && !existsSync(join(root, '.tools', 'bin', 'opa'))) {
  console.error('ensure-deps: installing the pinned OPA CLI into .tools/bin');
  run('bash', [join(root, 'scripts', 'install-opa.sh')]);
}
