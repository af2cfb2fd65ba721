#!/usr/bin/env node
// npm run screenshots -w @da3js/blender-bridge [-- --model <id|folder>] [--res <pixels>]
// Writes the README's pictures into docs/: starts `da3 backend` (default: the bundled tiny test
// model, offline — random weights, so the geometry is not meaningful; pass a real model for real
// pictures), runs Blender headless with the built add-on (scripts/blender/screenshots.py) to
// reconstruct examples/scene through the Reconstruct operator, and renders the result. Needs the
// repository built (npm run build) and Debian's blender. Not part of npm test: commit the
// pictures deliberately.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

const pkg = new URL('..', import.meta.url).pathname;
const root = join(pkg, '..', '..');
const { values } = parseArgs({ options: { model: { type: 'string', default: join(root, 'fixtures', 'tiny') }, res: { type: 'string', default: '252' } } });
const { version } = JSON.parse(readFileSync(join(pkg, 'package.json'), 'utf8'));
const zip = join(pkg, 'dist', `da3_blender-${version}.zip`);
const work = mkdtempSync(join(tmpdir(), 'da3js-screenshots-'));
const token = `screenshots-${Date.now()}-token`;
const backend = spawn(process.execPath, [join(root, 'packages', 'node', 'dist', 'cli', 'bin.js'), 'backend', '--model-dir', values.model, '--port', '0', '--state-dir', join(work, 'state'), '--cache-dir', join(work, 'cache'), '--token', token], { stdio: ['ignore', 'ignore', 'pipe'] });
try {
  let log = '';
  const url = await new Promise((ok, fail) => {
    backend.stderr.on('data', (d) => {
      log += d;
      const m = /listening on (http:\/\/\S+)/.exec(log);
      if (m) ok(m[1]);
    });
    backend.once('exit', (code) => fail(new Error(`da3 backend exited with ${code}: ${log}`)));
  });
  const images = [0, 1, 2, 3].map((i) => join(root, 'examples', 'scene', `view${i}.png`));
  const out = join(pkg, 'docs');
  const r = spawnSync('blender', ['-b', '--factory-startup', '-noaudio', '--python', join(pkg, 'scripts', 'blender', 'screenshots.py'), '--', zip, url, token, out, values.res, ...images], {
    env: { ...process.env, BLENDER_USER_SCRIPTS: join(work, 'scripts'), BLENDER_USER_CONFIG: join(work, 'config'), BLENDER_USER_DATAFILES: join(work, 'datafiles') },
    encoding: 'utf8',
    maxBuffer: 1 << 26,
  });
  if (!r.stdout.includes('DA3JS_SCREENSHOTS done')) throw new Error(`blender failed (${r.status}):\n${r.stdout.slice(-4000)}\n${r.stderr.slice(-2000)}`);
  rmSync(join(out, '.results'), { recursive: true, force: true });
  console.log(`screenshots: wrote ${join(out, 'overview.png')} and ${join(out, 'camera0.png')} (model ${values.model})`);
} finally {
  backend.kill('SIGTERM');
  rmSync(work, { recursive: true, force: true });
}
