#!/usr/bin/env node
// The golden fixtures are made from the PyTorch reference and published in ../shared/fixtures (the
// source of truth, read-only). The repository carries an identical copy in fixtures/ so that a
// clone with nothing beside it can run `npm test`.
//   node scripts/sync-fixtures.mjs           copy ../shared/fixtures → fixtures/ (mirror: extra files removed)
//   node scripts/sync-fixtures.mjs --check   exit 1 listing every difference (CI runs this when ../shared exists)
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const source = process.env.DA3_SHARED_FIXTURES ?? join(root, '..', 'shared', 'fixtures');
const target = join(root, 'fixtures');

function files(dir) {
  if (!existsSync(dir)) return new Map();
  const out = new Map();
  const walk = (d) => {
    for (const name of readdirSync(d).sort()) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else out.set(relative(dir, p), p);
    }
  };
  walk(dir);
  return out;
}

const sha = (p) => createHash('sha256').update(readFileSync(p)).digest('hex');

if (!existsSync(join(source, 'README.md'))) {
  console.error(`sync-fixtures: no fixtures at ${source} (set DA3_SHARED_FIXTURES)`);
  process.exit(2);
}
const want = files(source);
const have = files(target);
const differences = [];
for (const [rel, p] of want) {
  if (!have.has(rel)) differences.push(`missing   fixtures/${rel}`);
  else if (statSync(p).size !== statSync(have.get(rel)).size || sha(p) !== sha(have.get(rel))) differences.push(`different fixtures/${rel}`);
}
for (const rel of have.keys()) if (!want.has(rel)) differences.push(`extra     fixtures/${rel}`);

if (process.argv.includes('--check')) {
  if (differences.length) {
    console.error(`sync-fixtures: fixtures/ differs from ${source} in ${differences.length} file(s):\n  ${differences.join('\n  ')}\nRun: node scripts/sync-fixtures.mjs`);
    process.exit(1);
  }
  console.log(`sync-fixtures: fixtures/ is identical to ${source} (${want.size} files)`);
} else {
  for (const [rel, p] of want) {
    mkdirSync(dirname(join(target, rel)), { recursive: true });
    copyFileSync(p, join(target, rel));
  }
  for (const rel of have.keys()) if (!want.has(rel)) rmSync(join(target, rel));
  console.log(`sync-fixtures: ${want.size} files in fixtures/ (${differences.length} changed)`);
}
