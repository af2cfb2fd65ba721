// node infer.mjs MODEL.onnx VIEWS HEIGHT WIDTH RUNS THREADS [VARIANT] — onnxruntime-node CPU timing
// of the DA3 graph through @da3js/node's runner (the session options `inference` uses), with the
// fp32 GEMM ceiling measured in the same loop.
//
// Each timed round runs the ceiling MatMul (gemm.mjs: best of 3) and then the model once, so the
// ratio model / ceiling of a round compares two numbers taken seconds apart on the same threads;
// on a shared machine absolute times drift, that ratio much less. Reported:
// - `ceilingGflops`: median of the rounds' MatMul rates;
// - `fullGflop`: the work of the whole network (bench/tasks/flops.mjs, the ray branch included:
//   82.39 GFLOP for DA3-SMALL 1×504×336), `graphGflop`: what this graph computes (less without
//   the ray branch);
// - `ratio` (median, min, max over rounds) = run time / (fullGflop / ceiling): the issue's
//   "× GEMM-ceiling time"; `graphRatio` the same against graphGflop (kernel efficiency);
// - `peakRssMiB`: the process's peak after the session, two runs and their outputs, taken before
//   the ceiling's session exists (VmHWM: what the model costs, Node included).
import { readFileSync } from 'node:fs';
import { VARIANTS } from '@da3js/core';
import { createRunner } from '@da3js/node';
import { networkGflop } from './flops.mjs';
import { gemmSession } from './gemm.mjs';
import { median, peakRssMiB, report } from './common.mjs';

const [model, views, height, width, runs = '5', threads = '2', variant = 'DA3-SMALL'] = process.argv.slice(2);
const [N, H, W] = [Number(views), Number(height), Number(width)];
const t0 = performance.now();
const runner = await createRunner(model, { device: 'cpu', threads: Number(threads) });
const createMs = performance.now() - t0;
// Deterministic pseudo-image input (normalised values in about [-2, 2]).
const data = new Float32Array(N * 3 * H * W);
let s = 1;
for (let i = 0; i < data.length; i++) {
  s = (s * 1664525 + 1013904223) >>> 0;
  data[i] = (s / 2 ** 32) * 4 - 2;
}
const feeds = { images: { data, shape: [1, N, 3, H, W] } };
const tw = performance.now();
const first = await runner.run(feeds);
const firstMs = performance.now() - tw;
let finite = true;
for (const t of Object.values(first)) for (const v of t.data) if (!Number.isFinite(v)) finite = false;
const outputs = Object.keys(first);
const rays = outputs.includes('ray');
const times = [];
{
  const t = performance.now();
  await runner.run(feeds);
  times.push(performance.now() - t);
}
const vmHwmMiB = () => Math.round(Number(/VmHWM:\s+(\d+)/.exec(readFileSync('/proc/self/status', 'utf8'))?.[1] ?? 0) / 1024) || peakRssMiB();
const peak = vmHwmMiB();

const net = VARIANTS[variant].config;
const fullGflop = networkGflop(net, N, H, W, { rays: true });
const graphGflop = networkGflop(net, N, H, W, { rays });
const gemm = await gemmSession(Number(threads));
const rates = [];
const ratios = [];
const graphRatios = [];
for (let r = 1; r < Number(runs); r++) {
  const rate = gemm.gflop / (await gemm.time(3)); // GFLOP per ms
  const t = performance.now();
  await runner.run(feeds);
  const ms = performance.now() - t;
  times.push(ms);
  rates.push(rate * 1000);
  ratios.push(ms / (fullGflop / rate));
  graphRatios.push(ms / (graphGflop / rate));
}
await gemm.release();
await runner.dispose();
const round3 = (x) => Math.round(x * 1000) / 1000;
const ceilingGflops = median(rates);
report({
  task: 'infer',
  model: model.split('/').pop(),
  variant,
  views: N,
  width: W,
  height: H,
  threads: Number(threads),
  outputs,
  sessionCreateMs: Math.round(createMs),
  firstRunMs: Math.round(firstMs),
  medianMs: Math.round(median(times)),
  minMs: Math.round(Math.min(...times)),
  maxMs: Math.round(Math.max(...times)),
  runs: times.map(Math.round),
  ceilingGflops: Math.round(ceilingGflops),
  ceilingGflopsMax: Math.round(Math.max(...rates)),
  fullGflop: round3(fullGflop),
  graphGflop: round3(graphGflop),
  ceilingMs: Math.round(fullGflop / (ceilingGflops / 1000)),
  ratio: round3(median(ratios)),
  ratioMin: round3(Math.min(...ratios)),
  ratioMax: round3(Math.max(...ratios)),
  graphRatio: round3(median(graphRatios)),
  outputsFinite: finite,
  peakRssMiB: peak,
});
