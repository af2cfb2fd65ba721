#!/usr/bin/env node
// `npm run bench`: DA3-SMALL (official shapes, seeded random weights) converted and run with
// onnxruntime-node on the CPU, 504×336, N = 1, 8 and 16; 1,000,000-point PLY and GLB writes;
// Gaussian rendering (gs_video) of a 169k-Gaussian scene at 504×336 on the CPU (2 worker threads),
// and with the WebGPU rasterizer on the software adapter (Chromium, and Node on Dawn).
// Each step runs in its own process (peak RSS is per step).
// DA3-Streaming (streamToDirectory) over 100 and 600 synthetic frames, chunk 24 / overlap 12 at
// 504×336: times and peak RSS, which must not grow with the number of frames (within 10 %).
// Then the same checkpoint and the tiny fixture model through @da3js/web in headless Chromium
// (onnxruntime-web WASM, 1 and 2 threads; conversion in the page): entries with
// runtime 'chromium-wasm' (skipped, saying why, when there is no Chromium). The q8 (int8) graph
// against fp32: N = 1, 8 and 504×504, sizes, accuracy. --quick: fewer scenarios and runs (browser:
// 2 threads only; streaming: 36 vs 72 frames). --kernels: the int8/4-bit kernel micro-benchmark
// (CPU and WASM). --only <step> (infer, q8, stream, browser, export, gaussians): just that step
// (results in bench/results/<date>-<host>-<step>.json, latest.json untouched).
// Results: bench/results/<date>-<host>.json and bench/results/latest.json.
// Compare with ../shared/reference/perf-baseline.md (PyTorch reference, same machine kind).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, hostname, tmpdir, totalmem } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { VARIANTS } from '@da3js/core';

const here = dirname(fileURLToPath(import.meta.url));
const work = mkdtempSync(join(tmpdir(), 'da3js-bench-'));
const quick = process.argv.includes('--quick');
const only = process.argv.includes('--only') ? process.argv[process.argv.indexOf('--only') + 1] : undefined;
const want = (step) => !only || only === step;
// --stream-model tiny: the streaming step with the tiny fixture model (same frames, chunking and
// outputs; minutes instead of an hour on a 2-core machine) instead of DA3-SMALL.
const streamModel = process.argv.includes('--stream-model') ? process.argv[process.argv.indexOf('--stream-model') + 1] : 'small';

function task(name, args, timeout = 0) {
  const out = execFileSync(process.execPath, [join(here, 'tasks', `${name}.mjs`), ...args.map(String)], {
    encoding: 'utf8',
    timeout,
    stdio: ['ignore', 'pipe', 'inherit'],
    maxBuffer: 1 << 24,
  });
  const result = JSON.parse(out.trim().split('\n').pop());
  console.log(JSON.stringify(result));
  return result;
}

const results = [];
let failed = false;
try {
  // The checkpoint sits in a hub-layout folder (config.json + model.safetensors) for the browser step.
  const repo = join(work, 'da3-small');
  mkdirSync(repo);
  writeFileSync(join(repo, 'config.json'), JSON.stringify({ model_name: VARIANTS['DA3-SMALL'].modelName }));
  const ckpt = join(repo, 'model.safetensors');
  results.push(task('make-checkpoint', ['DA3-SMALL', ckpt, 0]));
  // fused = com.microsoft.MultiHeadAttention (the default graph); plain = MatMul–Softmax–MatMul.
  const graphs = [
    ['fp32', 'fused', quick ? [[1, 336, 504, 5]] : [[1, 336, 504, 7], [8, 336, 504, 5], [16, 336, 504, 2]]],
    ['fp32', 'plain', quick ? [] : [[1, 336, 504, 5], [8, 336, 504, 3]]],
    ['fp16', 'fused', [[1, 336, 504, 5]]],
  ];
  for (const [precision, attention, scenarios] of graphs) {
    if (scenarios.length === 0 || !want('infer')) continue;
    const onnx = join(work, `da3-small-${precision}-${attention}.onnx`);
    results.push(task('convert', ['DA3-SMALL', ckpt, onnx, precision, attention]));
    for (const [n, h, w, runs] of scenarios) results.push({ runtime: 'node-cpu', precision, attention, ...task('infer', [onnx, n, h, w, runs, 2]) });
  }
  // int8 graphs (dtype q8) against fp32, runs in turns in one process: medians, min/max, sizes,
  // accuracy (bench/tasks/q8.mjs); --kernels adds the per-kernel micro-benchmark behind the choice.
  if (want('q8')) results.push(task('q8', ['DA3-SMALL', ckpt, work, quick ? 3 : 7, 2, quick ? 'quick' : 'full'], 30 * 60_000));
  if (want('q8') && process.argv.includes('--kernels')) for (const rt of ['node', 'wasm']) results.push(task('quant-kernels', [rt, 15, 2]));
  if (want('stream')) {
    // The first call converts the graph into the shared cache (and warms it); the measured runs reuse it.
    const cache = join(work, 'stream-cache');
    const [chunk, overlap] = [24, 12];
    const dir = streamModel === 'tiny' ? join(process.env.DA3_FIXTURES ? resolve(process.env.DA3_FIXTURES) : join(here, '..', 'fixtures'), 'tiny') : repo;
    const model = streamModel === 'tiny' ? 'DA3-TINY (fixture)' : 'DA3-SMALL';
    const warm = task('stream', [dir, cache, chunk, chunk, overlap, 504, 336, 2], 60 * 60_000);
    results.push({ ...warm, model, warmup: true });
    const runs = (quick ? [36, 72] : [100, 600]).map((n) => ({ ...task('stream', [dir, cache, n, chunk, overlap, 504, 336, 2], 4 * 60 * 60_000), model }));
    results.push(...runs);
    const [small, large] = runs;
    results.push({
      task: 'stream-memory',
      model,
      frames: [small.frames, large.frames],
      peakRssMiB: [small.peakRssMiB, large.peakRssMiB],
      ratio: Number((large.peakRssMiB / small.peakRssMiB).toFixed(3)),
      withinTenPercent: Math.abs(large.peakRssMiB / small.peakRssMiB - 1) <= 0.1,
    });
    if (!results.at(-1).withinTenPercent) failed = true;
  }
  // In-browser: [name, hub-layout folder, width, height, process_res, runs].
  const tiny = join(process.env.DA3_FIXTURES ? resolve(process.env.DA3_FIXTURES) : join(here, '..', 'fixtures'), 'tiny');
  const pages = [
    ['DA3-TINY (fixture)', tiny, 84, 56, 84, quick ? 5 : 10],
    ['DA3-SMALL', repo, 504, 336, 504, quick ? 3 : 5],
  ];
  browser: for (const [name, dir, w, h, res, runs] of want('browser') ? pages : []) {
    if (!existsSync(join(dir, 'model.safetensors'))) {
      results.push({ task: 'infer', runtime: 'chromium-wasm', model: name, skipped: `no model at ${dir}` });
      continue;
    }
    for (const threads of quick ? [2] : [1, 2]) {
      try {
        const r = task('browser', [name, dir, w, h, res, threads, runs], 10 * 60_000);
        results.push(r);
        if (r.skipped?.startsWith('no Chromium')) break browser;
      } catch (e) {
        failed = true;
        console.error(`bench: browser ${name} ${threads} thread(s) failed: ${e.message.split('\n')[0]}`);
        results.push({ task: 'infer', runtime: 'chromium-wasm', model: name, threads, error: e.message.split('\n')[0] });
      }
    }
  }
  if (want('export')) for (const format of ['ply', 'glb']) results.push(task('write-export', [format, 1_000_000, quick ? 2 : 5]));
  if (want('gaussians')) {
    // Gaussian rasterizer (gs_video): 169,344 Gaussians (one DA3 view at 504×336), 504×336 RGB+ED,
    // worker-thread CPU rasterizer on 2 threads, and core's single-threaded one. Target ≥ 5 fps.
    for (const threads of quick ? [2] : [2, 0]) results.push(task('rasterize', [threads, quick ? 8 : 20]));
    if (!quick) results.push(task('rasterize', [2, 10, 'heavy']));
    // WebGPU rasterizer on the software adapter (SwiftShader: no GPU here), in Chromium and in Node
    // on Dawn: the tiny-giant fixture (7056 Gaussians) at 42×56 and 252×336, and the same 169k scene.
    for (const runtime of ['chromium', 'dawn']) {
      try {
        results.push(task('rasterize-webgpu', [runtime, quick ? 3 : 8], 20 * 60_000));
      } catch (e) {
        failed = true;
        console.error(`bench: WebGPU rasterizer on ${runtime} failed: ${e.message.split('\n')[0]}`);
        results.push({ task: 'rasterize', runtime: `${runtime}-webgpu`, error: e.message.split('\n')[0] });
      }
    }
    // gs_video: one whole export (extend, 122 frames of 1016×336) with node's defaults
    // (worker-thread CPU rasterizer + ffmpeg libx264 crf 18).
    if (!quick) results.push(task('gs-video', ['extend', 'high']));
  }
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
const suffix = `${only ? `-${only}` : ''}${streamModel === 'tiny' && want('stream') ? '-tiny' : ''}`;
const file = join(here, 'results', `${doc.date.slice(0, 10)}-${hostname()}${suffix}.json`);
writeFileSync(file, `${JSON.stringify(doc, null, 2)}\n`);
if (!only) writeFileSync(join(here, 'results', 'latest.json'), `${JSON.stringify(doc, null, 2)}\n`);
console.log(`bench: wrote ${file}`);
if (failed) process.exitCode = 1;
