#!/usr/bin/env node
// Writes apps/edge/openapi.json from src/openapi.ts (the zod schemas the routes validate with).
// A test in test/openapi.test.ts keeps the committed file identical. Usage: node scripts/openapi.mjs
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const here = dirname(fileURLToPath(import.meta.url));
const out = await build({ entryPoints: [join(here, '..', 'src', 'openapi.ts')], bundle: true, platform: 'node', format: 'esm', write: false, logLevel: 'silent' });
const url = `data:text/javascript;base64,${Buffer.from(out.outputFiles[0].text).toString('base64')}`;
const { openApiDocument } = await import(url);
writeFileSync(join(here, '..', 'openapi.json'), `${JSON.stringify(openApiDocument('http://127.0.0.1:8787'), null, 2)}\n`);
console.log('wrote apps/edge/openapi.json');
