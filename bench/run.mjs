#!/usr/bin/env node
// `npm run bench`: DA3-SMALL (official shapes, seeded random weights) converted and run with
// onnxruntime-node on the CPU through @da3js/node's runner, then in headless Chromium through
// @da3js/web; 1,000,000-point PLY and GLB writes. One run prints (and a summary table at the end):
// - the fp32 GEMM ceiling of this machine as onnxruntime sees it (a 2048³ MatMul, same threads);
// - per graph: median, min and max for 1×504×336, 8×504×336 and 1×504×504, each run interleaved
//   with the ceiling MatMul so `ratio` = time / (network GFLOP / ceiling) is taken in one period
//   (bench/tasks/infer.mjs), peak RSS, session start (with and without the saved optimised
//   graph, bench/tasks/session.mjs), and the model files' sizes;
// - in Chromium: the WASM backend (2 threads) and the WebGPU provider on the software adapter
//   (SwiftShader; DA3-SMALL at 252×168 there, a run at 504×336 takes minutes) for the same model:
//   network medians, and WASM / native.
// The default graph is the one `inference` runs (fp32, fused attention, no ray branch: no
// `useRayPose`/`keepRays`); the full graph with the ray branch is measured too. Each step runs in
// its own process (peak RSS is per step). --quick: fewer scenarios and runs; --full: also plain
// attention, fp16, N = 16 and 1-thread WASM.
// Also: the q8 (int8) graph against fp32 (N = 1, 8 and 504×504, sizes, accuracy; --kernels adds
// the int8/4-bit kernel micro-benchmark, CPU and WASM, ConvInteger for the head's convolutions, the
// q8 graph's variants and the tiny model's per-layer error); Gaussian rendering (gs_video) of a
// 169k-Gaussian scene at 504×336 on the CPU (2 worker threads) and with the WebGPU rasterizer on the
// software adapter (Chromium, and Node on Dawn); DA3-Streaming (streamToDirectory) over 100 and 600
// synthetic frames, chunk 24 / overlap 12 at 504×336 (times and peak RSS, which must not grow with
// the number of frames: within 10 %; --quick: 36 vs 72 frames; --stream-model tiny: the fixture
// model). --only <step> (infer, q8, stream, browser, export, gaussians): just that step (results in
// bench/results/<date>-<host>-<step>.json, latest.json untouched).
// Results: bench/results/<date>-<host>.json and bench/results/latest.json.
// Compare with ../shared/reference/perf-baseline.md (PyTorch reference, same machine kind).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, hostname, loadavg, tmpdir, totalmem } from 'node:os';
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
const full = process.argv.includes('--full');
const THREADS = 2;
/** PyTorch reference, DA3-SMALL 1×504×336 on this machine kind (perf-baseline.md, 2026-12-05). */
const REFERENCE = { ms: 985, peakRssMiB: 641 };

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
const started = { loadavg: loadavg().map((x) => Math.round(x * 100) / 100) };
try {
  // The checkpoint sits in a hub-layout folder (config.json + model.safetensors) for the browser step.
  const repo = join(work, 'da3-small');
  mkdirSync(repo);
  writeFileSync(join(repo, 'config.json'), JSON.stringify({ model_name: VARIANTS['DA3-SMALL'].modelName }));
  const ckpt = join(repo, 'model.safetensors');
  results.push(task('make-checkpoint', ['DA3-SMALL', ckpt, 0]));
  if (want('infer')) results.push(task('ceiling', [THREADS, quick ? 5 : 10]));
  // [precision, attention (fused = com.microsoft.MultiHeadAttention, plain = MatMul–Softmax–MatMul),
  //  rays (norays = the graph `inference` runs by default), scenarios [views, height, width, runs]].
  const graphs = [
    ['fp32', 'fused', 'norays', quick ? [[1, 336, 504, 5]] : [[1, 336, 504, 9], [8, 336, 504, 3], [1, 504, 504, 5]]],
    ['fp32', 'fused', 'rays', [[1, 336, 504, quick ? 3 : 7]]],
    ...(full
      ? [
          ['fp32', 'fused', 'norays', [[16, 336, 504, 2]]],
          ['fp32', 'plain', 'norays', [[1, 336, 504, 5], [8, 336, 504, 3]]],
          ['fp16', 'fused', 'norays', [[1, 336, 504, 5]]],
        ]
      : []),
  ];
  const converted = new Map();
  for (const [precision, attention, rays, scenarios] of want('infer') ? graphs : []) {
    const onnx = join(work, `da3-small-${precision}-${attention}-${rays}.onnx`);
    if (!converted.has(onnx)) {
      converted.set(onnx, results[results.push(task('convert', ['DA3-SMALL', ckpt, onnx, precision, attention, rays])) - 1]);
      if (converted.size === 1) results.push(task('session', [onnx, THREADS, quick ? 2 : 3]));
    }
    for (const [n, h, w, runs] of scenarios) results.push({ runtime: 'node-cpu', precision, attention, rays: rays === 'rays', ...task('infer', [onnx, n, h, w, runs, THREADS]) });
  }
  // int8 graphs (dtype q8) against fp32, runs in turns in one process: medians, min/max, sizes,
  // accuracy (bench/tasks/q8.mjs); --kernels adds the per-kernel micro-benchmark behind the choice.
  if (want('q8')) results.push(task('q8', ['DA3-SMALL', ckpt, work, quick ? 3 : 7, 2, quick ? 'quick' : 'full'], 30 * 60_000));
  if (want('q8') && process.argv.includes('--kernels')) {
    for (const rt of ['node', 'wasm']) results.push(task('quant-kernels', [rt, 15, 2]));
    // The head's convolutions as ConvInteger, attention's q·kᵀ on the integer GEMM, the int8 graph's variants (shared activation
    // quantization, fused q/k/v, uint8 weights, float blocks) and where the tiny model's error comes from.
    results.push(task('quant-convs', [7]));
    for (const rt of ['node', 'wasm']) results.push(task('quant-attention', [rt, 865, rt === 'wasm' ? 9 : 15]));
    for (const rt of ['node', 'wasm']) results.push(task('q8-variants', [ckpt, rt, rt === 'wasm' ? 2 : 6], 30 * 60_000));
    results.push(task('q8-sensitivity', []));
  }
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
  // In-browser: [name, hub-layout folder, width, height, process_res, runs, device, threads].
  const tiny = join(process.env.DA3_FIXTURES ? resolve(process.env.DA3_FIXTURES) : join(here, '..', 'fixtures'), 'tiny');
  const pages = [
    ['DA3-TINY (fixture)', tiny, 84, 56, 84, quick ? 5 : 10, 'wasm', THREADS],
    ['DA3-SMALL', repo, 504, 336, 504, quick ? 3 : 5, 'wasm', THREADS],
    ...(full ? [['DA3-SMALL', repo, 504, 336, 504, 3, 'wasm', 1]] : []),
    // SwiftShader (software WebGPU) takes minutes per DA3-SMALL run at 504×336: a quarter of the pixels.
    ['DA3-TINY (fixture)', tiny, 84, 56, 84, quick ? 3 : 5, 'webgpu', THREADS],
    ['DA3-SMALL', repo, 252, 168, 252, quick ? 1 : 2, 'webgpu', THREADS],
  ];
  browser: for (const [name, dir, w, h, res, runs, device, threads] of want('browser') ? pages : []) {
    if (!existsSync(join(dir, 'model.safetensors'))) {
      results.push({ task: 'infer', runtime: `chromium-${device}`, model: name, skipped: `no model at ${dir}` });
      continue;
    }
    try {
      const r = task('browser', [name, dir, w, h, res, threads, runs, device], 15 * 60_000);
      results.push(r);
      if (r.skipped?.startsWith('no Chromium')) break browser;
    } catch (e) {
      failed = true;
      console.error(`bench: browser ${device} ${name} ${threads} thread(s) failed: ${e.message.split('\n')[0]}`);
      results.push({ task: 'infer', runtime: `chromium-${device}`, model: name, threads, error: e.message.split('\n')[0] });
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
    // The app viewer's splat renderer: our WebGPU rasterizer vs Spark (WebGL2), frame time and
    // PSNR against the CPU rasterizer (bench/tasks/splat-viewer.mjs; skipped without the scratch
    // install of Spark it describes).
    try {
      results.push(task('splat-viewer', [quick ? 3 : 5], 30 * 60_000));
    } catch (e) {
      console.error(`bench: splat-viewer failed: ${e.message.split('\n')[0]}`);
      results.push({ task: 'splat-viewer', error: e.message.split('\n')[0] });
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
  machine: { host: hostname(), cpus: cpus().length, cpuModel: cpus()[0]?.model, memGiB: Math.round(totalmem() / 2 ** 30), node: process.version, loadavgAtStart: started.loadavg, loadavgAtEnd: loadavg().map((x) => Math.round(x * 100) / 100) },
  baseline: `PyTorch reference DA3-SMALL 1×504×336 on this machine kind: ${REFERENCE.ms} ms, peak RSS ${REFERENCE.peakRssMiB} MiB (perf-baseline.md, 2026-12-05). Targets: fp32 N=1 ≤ 1.15× the GEMM-ceiling time of the whole network (ratio), peak RSS ≤ 0.5× the reference's, WASM ≤ 2× native`,
  results,
};
mkdirSync(join(here, 'results'), { recursive: true });
const suffix = `${only ? `-${only}` : ''}${streamModel === 'tiny' && want('stream') ? '-tiny' : ''}`;
const file = join(here, 'results', `${doc.date.slice(0, 10)}-${hostname()}${suffix}.json`);
writeFileSync(file, `${JSON.stringify(doc, null, 2)}\n`);
if (!only) writeFileSync(join(here, 'results', 'latest.json'), `${JSON.stringify(doc, null, 2)}\n`);
console.log(`bench: wrote ${file}`);
console.log(summary(doc));
if (failed) process.exitCode = 1;

/** The one-screen reading of a results document. */
function summary(d) {
  const lines = [];
  const mib = (b) => `${(b / 2 ** 20).toFixed(1)} MiB`;
  const ceiling = d.results.find((r) => r.task === 'ceiling');
  lines.push(`\n== da3js bench: DA3-SMALL, ${THREADS} threads, ${d.machine.cpuModel} (${d.machine.cpus} CPUs), load ${d.machine.loadavgAtStart.join(' ')} → ${d.machine.loadavgAtEnd.join(' ')}`);
  if (ceiling) lines.push(`GEMM ceiling (${ceiling.op}, ${ceiling.threads} threads): median ${ceiling.medianGflops} GFLOP/s, best ${ceiling.maxGflops}`);
  const node = d.results.filter((r) => r.runtime === 'node-cpu' && r.task === 'infer');
  if (node.length) lines.push('node CPU (onnxruntime-node)  median (min–max) ms   × ceiling time (min–max)   GFLOP (graph/full)  ceiling GFLOP/s  peak RSS');
  for (const r of node) {
    const label = `${r.precision} ${r.attention}${r.rays ? ' +rays' : ''} ${r.views}×${r.width}×${r.height}`.padEnd(28);
    const rss = r.views === 1 && r.width === 504 && r.height === 336 ? ` (${(r.peakRssMiB / REFERENCE.peakRssMiB).toFixed(2)}× the reference's ${REFERENCE.peakRssMiB})` : '';
    lines.push(`${label} ${`${r.medianMs} (${r.minMs}–${r.maxMs})`.padEnd(20)} ${`${r.ratio} (${r.ratioMin}–${r.ratioMax})`.padEnd(26)} ${`${r.graphGflop}/${r.fullGflop}`.padEnd(19)} ${String(r.ceilingGflops).padEnd(16)} ${r.peakRssMiB} MiB${rss}`);
  }
  const nativeN1 = node.find((r) => r.precision === 'fp32' && r.attention === 'fused' && !r.rays && r.views === 1 && r.width === 504 && r.height === 336);
  for (const r of d.results.filter((x) => x.runtime?.startsWith('chromium-'))) {
    const label = `${r.runtime} ${r.model} ${r.width}×${r.height} ${r.threads} thr`.padEnd(44);
    if (r.skipped || r.error) {
      lines.push(`${label} ${r.skipped ?? r.error}`);
      continue;
    }
    const vsNative = r.model === 'DA3-SMALL' && r.width === 504 && r.height === 336 && nativeN1 ? `, ${(r.medianNetworkMs / nativeN1.medianMs).toFixed(2)}× native` : '';
    const adapter = r.adapter ? ` [${r.adapter.fallback ? 'software adapter' : 'adapter'}: ${[r.adapter.vendor, r.adapter.architecture, r.adapter.description].filter(Boolean).join(' ')}]` : '';
    lines.push(`${label} network median ${r.medianNetworkMs} (${r.minNetworkMs}–${r.maxNetworkMs}) ms${vsNative}; inference ${r.medianMs} ms; session ${r.sessionCreateMs} ms${adapter}`);
  }
  for (const r of d.results.filter((x) => x.task === 'session')) lines.push(`session start (${r.model}): ${r.plainMs} ms (CPU ${r.plainCpuMs}) optimising at load; ${r.cachedMs} ms (CPU ${r.cachedCpuMs}) from the saved optimised graph (first start, saving it: ${r.firstWithSaveMs} ms)`);
  for (const r of d.results.filter((x) => x.task === 'convert')) lines.push(`model file ${r.precision} ${r.attention} ${r.rays ? 'with' : 'without'} ray branch: ${mib(r.fileBytes)} (weights ${mib(r.weightBytes)})`);
  for (const q of d.results.filter((x) => x.task === 'q8')) {
    lines.push(`q8 (int8) graph: ${mib(q.bytes.q8)} vs fp32 ${mib(q.bytes.fp32)}, fp16 ${mib(q.bytes.fp16)}`);
    for (const r of q.results) {
      if (r.skipped) lines.push(`  ${r.runtime}: ${r.skipped}`);
      else lines.push(`  ${r.runtime} ${r.views}×${r.width}×${r.height}: fp32 ${r.fp32.medianMs} ms, q8 ${r.q8.medianMs} ms (q8/fp32 ${r.ratio}, CPU time ${r.cpuRatio}); depth |Δ|/|d| median ${r.accuracy.depthMedianRel}, pose_enc max |Δ| ${r.accuracy.poseEncMaxAbs}`);
    }
  }
  for (const r of d.results.filter((x) => x.task === 'rasterize')) {
    if (r.skipped || r.error) lines.push(`rasterize ${r.runtime}: ${r.skipped ?? r.error}`);
    else if (r.fps !== undefined) lines.push(`rasterize ${r.runtime}, ${r.gaussians} Gaussians ${r.width}×${r.height}: median ${r.medianMs} ms (${r.fps} fps; CPU-bound ${r.fpsCpuBound} fps), load ${r.loadAvg1m.join(' → ')}`);
  }
  for (const r of d.results.filter((x) => x.task === 'splat-viewer')) {
    if (r.skipped || r.error) lines.push(`splat-viewer: ${r.skipped ?? r.error}`);
    else for (const s of r.scenes) lines.push(`splat-viewer ${s.scene} (${s.gaussians}): ${Object.entries(s).filter(([, v]) => v && typeof v === 'object' && 'medianMs' in v).map(([k, v]) => `${k === 'ours' ? 'ours (WebGPU)' : k} ${v.medianMs} ms ${v.psnrDb} dB`).join(', ')}`);
  }
  for (const r of d.results.filter((x) => x.task === 'gs-video')) lines.push(`gs_video ${r.trajectory} ${r.frames} frames ${r.width}×${r.height}: render ${r.renderMsPerFrame} ms/frame, encode ${r.encodeMs} ms, total ${r.totalMs} ms`);
  for (const r of d.results.filter((x) => x.task === 'stream' && !x.warmup)) lines.push(`stream ${r.model} ${r.frames} frames (chunk ${r.chunkSize}/${r.overlap}): ${r.ms} ms (${r.msPerFrame} ms/frame), peak RSS ${r.peakRssMiB} MiB`);
  for (const r of d.results.filter((x) => x.task === 'stream-memory')) lines.push(`stream memory ${r.frames.join(' vs ')} frames: ${r.peakRssMiB.join(' vs ')} MiB (ratio ${r.ratio}${r.withinTenPercent ? ', within 10 %' : ', NOT within 10 %'})`);
  lines.push(`reference (PyTorch, perf-baseline.md): ${REFERENCE.ms} ms, ${REFERENCE.peakRssMiB} MiB at 1×504×336`);
  return lines.join('\n');
}
