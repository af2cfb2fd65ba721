#!/usr/bin/env node
// Lints every built package the way npm consumers will see it: publint (package.json, exports
// map, files) and @arethetypeswrong/cli (types resolve for ESM and CJS under every resolution).
// Run after `npm run build`. Exits non-zero on the first failing package, after checking all.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const dirs = readdirSync(join(root, 'packages'))
  .map((d) => join(root, 'packages', d))
  .filter((d) => existsSync(join(d, 'package.json')));

let failed = 0;
for (const dir of dirs) {
  const name = dir.slice(root.length);
  if (!existsSync(join(dir, 'dist'))) {
    console.error(`${name}: no dist/ — run npm run build first`);
    failed++;
    continue;
  }
  for (const [tool, args] of [
    ['publint', ['publint', '--strict', dir]],
    ['attw', ['attw', '--pack', dir, '--format', 'table-flipped']],
  ]) {
    const r = spawnSync('npx', ['--no-install', ...args], { cwd: root, encoding: 'utf8' });
    const out = `${r.stdout}${r.stderr}`.trim();
    if (r.status !== 0) {
      failed++;
      console.error(`✗ ${name} ${tool}\n${out}`);
    } else {
      console.log(`✓ ${name} ${tool}`);
    }
  }
}
if (failed) {
  console.error(`check:packages: ${failed} check(s) failed`);
  process.exit(1);
}
console.log(`check:packages: ${dirs.length} packages clean`);
