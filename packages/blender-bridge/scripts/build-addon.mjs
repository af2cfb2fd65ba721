#!/usr/bin/env node
// Writes dist/da3_blender-<version>.zip (the installable add-on) from addon/da3_blender, the
// package.json version, the repository's LICENSE and the contract generated from
// @da3js/core/protocol. Run by `npm run build` after tsup.
import { readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { addonZipName, buildAddonZip } from '../dist/index.js';

const pkgDir = new URL('..', import.meta.url).pathname;
const source = join(pkgDir, 'addon', 'da3_blender');
const { version } = JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8'));

function walk(dir, out = new Map()) {
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    if (name === '__pycache__' || name.endsWith('.pyc')) continue;
    if (statSync(path).isDirectory()) walk(path, out);
    else out.set(relative(source, path).split(sep).join('/'), readFileSync(path));
  }
  return out;
}

const zip = buildAddonZip({ files: walk(source), version, license: readFileSync(join(pkgDir, '..', '..', 'LICENSE'), 'utf8') });
const out = join(pkgDir, 'dist', addonZipName(version));
writeFileSync(out, zip);
console.log(`blender-bridge: wrote ${relative(process.cwd(), out)} (${zip.length} bytes)`);
