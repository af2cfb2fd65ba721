#!/usr/bin/env node
// `npm run demo`: reconstructs the bundled example scene (examples/scene, four rendered views)
// with `da3 auto`. Uses depth-anything/DA3-SMALL when the Hugging Face hub is reachable; otherwise
// says so in one line and runs the bundled tiny test model (seeded random weights) so the whole
// pipeline — decode, preprocess, convert, ONNX inference, post-process, export — still runs offline.
import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, readdirSync, renameSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig, makeRandomCheckpoint } from '@da3js/core';
import { exportFormats } from '@da3js/exporters';

const root = new URL('..', import.meta.url).pathname;
const scene = join(root, 'examples', 'scene');
const outDir = process.env.DA3_DEMO_OUT ?? join(root, 'demo-output');
const endpoint = (process.env.HF_ENDPOINT ?? 'https://huggingface.co').replace(/\/$/, '');

async function hubReachable() {
  try {
    const res = await fetch(`${endpoint}/depth-anything/DA3-SMALL/resolve/main/config.json`, { method: 'HEAD', signal: AbortSignal.timeout(5000) });
    return res.ok;
  } catch {
    return false;
  }
}

async function tinyModel() {
  const bundled = join(root, 'examples', 'tiny-model');
  // DA3_DEMO_TINY: where to keep the generated weights (tests point it at a temp folder).
  const dir = process.env.DA3_DEMO_TINY ?? bundled;
  const weights = join(dir, 'model.safetensors');
  if (!existsSync(weights)) {
    const configText = readFileSync(join(bundled, 'config.json'), 'utf8');
    const config = loadConfig(configText);
    mkdirSync(dir, { recursive: true });
    const tmp = `${weights}.partial`;
    const fd = openSync(tmp, 'w');
    await makeRandomCheckpoint(config, { seed: 0, sink: { write: (c) => void writeSync(fd, c), close: () => closeSync(fd) } });
    renameSync(tmp, weights);
    if (dir !== bundled) writeFileSync(join(dir, 'config.json'), configText);
  }
  return dir;
}

const online = await hubReachable();
let model = 'depth-anything/DA3-SMALL';
if (!online) {
  console.log(`demo: the Hugging Face hub (${endpoint}) is not reachable; running the bundled tiny test model (random weights) instead.`);
  model = await tinyModel();
}
const formats = ['glb', 'mini_npz', 'depth_vis'].filter((f) => exportFormats().includes(f)).join('-');
const cli = join(root, 'packages', 'node', 'dist', 'cli', 'bin.js');
const r = spawnSync(process.execPath, [cli, 'auto', scene, '--model-dir', model, '--export-dir', outDir, '--export-format', formats, '--json'], {
  stdio: ['ignore', 'pipe', 'inherit'],
  encoding: 'utf8',
});
if (r.status !== 0) process.exit(r.status ?? 1);
const summary = JSON.parse(r.stdout.trim().split('\n').pop());
console.log(`demo: ${summary.views} views at ${summary.width}×${summary.height} on ${summary.device} → ${summary.files.length} files in ${outDir}`);
for (const f of summary.files) console.log(`  ${f.slice(outDir.length + 1)}`);
console.log(`demo: files in ${outDir}: ${readdirSync(outDir).join(', ')}`);
