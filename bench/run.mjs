#!/usr/bin/env node
// `npm run bench`: DA3-SMALL (official shapes, seeded random weights) converted and run with
// onnxruntime-node on the CPU, 504×336, N = 1, 8 and 16; 1,000,000-point PLY and GLB writes.
// Each step runs in its own process (peak RSS is per step).
// Results: bench/results/<date>-<host>.json and bench/results/latest.json.
// Compare with ../shared/reference/perf-baseline.md (PyTorch reference, same machine kind).
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, hostname, tmpdir, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const work = mkdtempSync(join(tmpdir(), 'da3js-bench-'));
const quick = process.argv.includes('--quick');

function task(name, args) {
  const out = execFileSync(process.execPath, [join(here, 'tasks', `${name}.mjs`), ...args.map(String)], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    maxBuffer: 1 << 24,
  });
  const result = JSON.parse(out.trim().split('\n').pop());
  console.log(JSON.stringify(result));
  return result;
}

const results = [];
try {
  const ckpt = join(work, 'da3-small.safetensors');
  results.push(task('make-checkpoint', ['DA3-SMALL', ckpt, 0]));
  // fused = com.microsoft.MultiHeadAttention (the default graph); plain = MatMul–Softmax–MatMul.
  const graphs = [
    ['fp32', 'fused', quick ? [[1, 336, 504, 5]] : [[1, 336, 504, 7], [8, 336, 504, 5], [16, 336, 504, 2]]],
    ['fp32', 'plain', quick ? [] : [[1, 336, 504, 5], [8, 336, 504, 3]]],
    ['fp16', 'fused', [[1, 336, 504, 5]]],
  ];
  for (const [precision, attention, scenarios] of graphs) {
    if (scenarios.length === 0) continue;
    const onnx = join(work, `da3-small-${precision}-${attention}.onnx`);
    results.push(task('convert', ['DA3-SMALL', ckpt, onnx, precision, attention]));
    for (const [n, h, w, runs] of scenarios) results.push({ precision, attention, ...task('infer', [onnx, n, h, w, runs, 2]) });
  }
  for (const format of ['ply', 'glb']) results.push(task('write-export', [format, 1_000_000, quick ? 2 : 5]));
} finally {
  rmSync(work, { recursive: true, force: true });
}

const doc = {
  date: new Date().toISOString(),
  machine: { host: hostname(), cpus: cpus().length, cpuModel: cpus()[0]?.model, memGiB: Math.round(totalmem() / 2 ** 30), node: process.version },
  baseline: 'PyTorch reference DA3-SMALL 1×504×336: 893 ms (perf-baseline.md, best env); target ≤ 0.65× = 580 ms fp32',
  results,
};
mkdirSync(join(here, 'results'), { recursive: true });
const file = join(here, 'results', `${doc.date.slice(0, 10)}-${hostname()}.json`);
writeFileSync(file, `${JSON.stringify(doc, null, 2)}\n`);
writeFileSync(join(here, 'results', 'latest.json'), `${JSON.stringify(doc, null, 2)}\n`);
console.log(`bench: wrote ${file}`);
