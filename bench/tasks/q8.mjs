// node q8.mjs VARIANT IN.safetensors WORK_DIR RUNS THREADS [quick|full] — the int8 (`dtype: 'q8'`)
// graph against the fp32 one, same checkpoint, same process: sizes of the fp32 / fp16 / q8 graphs
// (and of a 4-bit MatMulNBits graph da3js does not offer, for comparison), then for N = 1 and 8 at
// 504×336 and N = 1 at 504×504 both sessions run in turns (fp32, q8, fp32, …) so a busy machine
// slows both alike: median / min / max of each, the q8/fp32 ratio of medians (and of the process's
// CPU time, steadier on a busy machine), and how far q8's
// outputs are from fp32's (depth: median and p90 of |Δ|/|fp32| over pixels; pose_enc: max |Δ|).
// `full` adds N = 1 on onnxruntime-web's WASM backend (in Node, 1 thread).
import { createRequire } from 'node:module';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { SafetensorsFile, VARIANTS, buildGraphFor, convertCheckpoint, initializerBytes } from '@da3js/core';
import { quantizeGraph } from '@da3js/core/graph';
import * as ort from 'onnxruntime-node';
import { fileByteSource, fileSink, median, peakRssMiB, report } from './common.mjs';

const [variant, input, work, runsArg = '5', threadsArg = '2', mode = 'full'] = process.argv.slice(2);
const runs = Number(runsArg);
const threads = Number(threadsArg);
const config = VARIANTS[variant].config;
const log = (line) => process.stderr.write(`q8: ${line}\n`);

async function convert(dtype) {
  const out = join(work, `${variant.toLowerCase()}-${dtype}.onnx`);
  const source = fileByteSource(input);
  const t0 = performance.now();
  try {
    await convertCheckpoint(await SafetensorsFile.open(source), config, {
      precision: dtype === 'fp16' ? 'float16' : 'float32',
      quantization: dtype === 'q8' ? 'q8' : undefined,
      refViewStrategy: 'saddle_balanced',
      // The graph `inference` runs by default (no ray branch unless useRayPose/keepRays).
      rays: false,
      output: () => ({ sink: fileSink(out), externalDataSink: fileSink(`${out}.data`), externalDataLocation: `${out.split('/').pop()}.data` }),
    });
  } finally {
    source.close();
  }
  return { path: out, ms: Math.round(performance.now() - t0), bytes: statSync(out).size + statSync(`${out}.data`).size };
}

const fp32 = await convert('fp32');
const q8 = await convert('q8');
const fp16 = await convert('fp16');
// A 4-bit graph (MatMulNBits, blocks of 32) of the same backbone linears, only to report its size.
const q4Bytes = await (async () => {
  const source = fileByteSource(input);
  try {
    const built = buildGraphFor(await SafetensorsFile.open(source), config, { role: 'net', posed: false, precision: 'float32', refViewStrategy: 'saddle_balanced', exportFeatLayers: [] });
    const { model } = quantizeGraph(built, { matmul: { kind: 'nbits', bits: 4, blockSize: 32, accuracyLevel: 4 }, include: (n) => n.name?.startsWith('backbone/') === true });
    return initializerBytes(model);
  } catch (error) {
    log(`q4 size skipped: ${error.message}`);
    return null;
  } finally {
    source.close();
  }
})();
const sizes = { fp32: fp32.bytes, fp16: fp16.bytes, q8: q8.bytes, q4WeightBytes: q4Bytes };
log(`graph bytes fp32 ${fp32.bytes}, fp16 ${fp16.bytes}, q8 ${q8.bytes} (${(q8.bytes / fp32.bytes).toFixed(2)}×), q4 weights ≈ ${q4Bytes} (not offered)`);

/** A deterministic image-like input (smooth pattern, an edge, a little noise; ImageNet-normalised range). */
function images(n, h, w) {
  const data = new Float32Array(n * 3 * h * w);
  let s = 1;
  for (let v = 0; v < n; v++)
    for (let c = 0; c < 3; c++)
      for (let y = 0; y < h; y++)
        for (let x = 0; x < w; x++) {
          s = (s * 1664525 + 1013904223) >>> 0;
          data[((v * 3 + c) * h + y) * w + x] = 1.5 * Math.sin((x + 7 * v) / (9 + 3 * c)) * Math.cos(y / (13 + v)) + 0.3 * (s / 2 ** 32 - 0.5) + (x > w / 2 ? 0.5 : -0.5);
        }
  return data;
}

function accuracy(a, b) {
  const rel = Float64Array.from(a.depth.data, (v, i) => Math.abs(v - b.depth.data[i]) / Math.abs(b.depth.data[i])).sort();
  let pose = 0;
  if (a.pose_enc) for (let i = 0; i < a.pose_enc.data.length; i++) pose = Math.max(pose, Math.abs(a.pose_enc.data[i] - b.pose_enc.data[i]));
  return { depthMedianRel: Number(rel[rel.length >> 1].toExponential(3)), depthP90Rel: Number(rel[Math.floor(rel.length * 0.9)].toExponential(3)), poseEncMaxAbs: a.pose_enc ? Number(pose.toExponential(3)) : null };
}

const stats = (times) => ({ medianMs: Math.round(median(times)), minMs: Math.round(Math.min(...times)), maxMs: Math.round(Math.max(...times)), runs: times.map(Math.round) });

async function compare(runtime, lib, options, n, h, w, count) {
  const sessions = { fp32: await lib.InferenceSession.create(fp32.path, options), q8: await lib.InferenceSession.create(q8.path, options) };
  const feeds = { images: new lib.Tensor('float32', images(n, h, w), [1, n, 3, h, w]) };
  const first = { fp32: await sessions.fp32.run(feeds), q8: await sessions.q8.run(feeds) };
  const times = { fp32: [], q8: [] };
  const cpu = { fp32: [], q8: [] };
  for (let r = 0; r < count; r++) {
    for (const k of r % 2 ? ['q8', 'fp32'] : ['fp32', 'q8']) {
      const c = process.cpuUsage();
      const t = performance.now();
      await sessions[k].run(feeds);
      times[k].push(performance.now() - t);
      const used = process.cpuUsage(c);
      cpu[k].push((used.user + used.system) / 1000);
    }
  }
  for (const s of Object.values(sessions)) await s.release();
  const result = { runtime, views: n, height: h, width: w, threads: runtime === 'node-wasm' ? 1 : threads, fp32: { ...stats(times.fp32), cpuMs: Math.round(median(cpu.fp32)) }, q8: { ...stats(times.q8), cpuMs: Math.round(median(cpu.q8)) }, ratio: Number((median(times.q8) / median(times.fp32)).toFixed(3)), cpuRatio: Number((median(cpu.q8) / median(cpu.fp32)).toFixed(3)), accuracy: accuracy(first.q8, first.fp32) };
  log(`${runtime} N=${n} ${w}×${h}: fp32 ${result.fp32.medianMs} ms [${result.fp32.minMs}–${result.fp32.maxMs}], q8 ${result.q8.medianMs} ms [${result.q8.minMs}–${result.q8.maxMs}], q8/fp32 ${result.ratio} (CPU time ${result.cpuRatio}); depth |Δ| median ${result.accuracy.depthMedianRel}, pose_enc max |Δ| ${result.accuracy.poseEncMaxAbs}`);
  return result;
}

const nodeOptions = { executionProviders: ['cpu'], intraOpNumThreads: threads, interOpNumThreads: 1, graphOptimizationLevel: 'all' };
const scenarios = mode === 'quick' ? [[1, 336, 504]] : [[1, 336, 504], [8, 336, 504], [1, 504, 504]];
const results = [];
for (const [n, h, w] of scenarios) results.push(await compare('node-cpu', ort, nodeOptions, n, h, w, n > 1 ? Math.max(2, Math.ceil(runs / 2)) : runs));
if (mode !== 'quick') {
  try {
    const web = createRequire(import.meta.url)('onnxruntime-web');
    web.env.wasm.numThreads = 1;
    results.push(await compare('node-wasm', web, { executionProviders: ['wasm'], graphOptimizationLevel: 'all' }, 1, 336, 504, 2));
  } catch (error) {
    results.push({ runtime: 'node-wasm', skipped: error.message.split('\n')[0] });
  }
}
report({ task: 'q8', variant, convertMs: { fp32: fp32.ms, q8: q8.ms, fp16: fp16.ms }, bytes: sizes, results, peakRssMiB: peakRssMiB() });
