// node infer.mjs MODEL.onnx VIEWS HEIGHT WIDTH RUNS THREADS — onnxruntime-node CPU timing of the DA3 graph.
import * as ort from 'onnxruntime-node';
import { median, peakRssMiB, report } from './common.mjs';

const [model, views, height, width, runs = '5', threads = '2'] = process.argv.slice(2);
const [N, H, W] = [Number(views), Number(height), Number(width)];
const t0 = performance.now();
const session = await ort.InferenceSession.create(model, {
  executionProviders: ['cpu'],
  intraOpNumThreads: Number(threads),
  interOpNumThreads: 1,
  graphOptimizationLevel: 'all',
});
const createMs = performance.now() - t0;
// Deterministic pseudo-image input (normalised values in about [-2, 2]).
const data = new Float32Array(N * 3 * H * W);
let s = 1;
for (let i = 0; i < data.length; i++) {
  s = (s * 1664525 + 1013904223) >>> 0;
  data[i] = (s / 2 ** 32) * 4 - 2;
}
const feeds = { images: new ort.Tensor('float32', data, [1, N, 3, H, W]) };
const tw = performance.now();
const first = await session.run(feeds);
const firstMs = performance.now() - tw;
let finite = true;
for (const t of Object.values(first)) for (const v of t.data) if (!Number.isFinite(v)) finite = false;
const times = [];
for (let r = 0; r < Number(runs); r++) {
  const t = performance.now();
  await session.run(feeds);
  times.push(performance.now() - t);
}
await session.release();
report({
  task: 'infer',
  model: model.split('/').pop(),
  views: N,
  width: W,
  height: H,
  threads: Number(threads),
  sessionCreateMs: Math.round(createMs),
  firstRunMs: Math.round(firstMs),
  medianMs: Math.round(median(times)),
  minMs: Math.round(Math.min(...times)),
  runs: times.map(Math.round),
  outputsFinite: finite,
  peakRssMiB: peakRssMiB(),
});
