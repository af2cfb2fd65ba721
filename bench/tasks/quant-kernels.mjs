// node quant-kernels.mjs node|wasm RUNS THREADS — which onnxruntime kernel runs an int8/4-bit linear
// layer fastest: one DA3-SMALL-sized layer (M = 865 tokens: one 504×336 view; K×N = 384×1536 and
// 1536×384, the MLP) as fp32 MatMul + Add, com.microsoft.DynamicQuantizeMatMul (int8 weights,
// full range / 7-bit / uint8), DequantizeLinear → MatMul (QDQ weights), and com.microsoft.MatMulNBits
// (8 and 4 bits, blocks of 32/128, accuracy levels 0 and 4). Each variant is built with
// quantizeGraph, as da3js builds graphs; runs are interleaved; the error is the RMS of the difference
// to a float64 product over the RMS of that product. Wall time and process CPU time are both kept
// (with 1 thread, CPU time is steady on a busy machine). `wasm` runs onnxruntime-web's WASM backend in Node.
import { createRequire } from 'node:module';
import { encodeOnnxModel } from '@da3js/core';
import { quantizeGraph } from '@da3js/core/graph';
import { median, report } from './common.mjs';

const [runtime = 'node', runsArg = '15', threadsArg = '2'] = process.argv.slice(2);
const runs = Number(runsArg);
const threads = Number(threadsArg);
const require = createRequire(import.meta.url);
const ort = runtime === 'wasm' ? require('onnxruntime-web') : require('onnxruntime-node');
if (runtime === 'wasm') ort.env.wasm.numThreads = threads;
const options = runtime === 'wasm' ? { executionProviders: ['wasm'], graphOptimizationLevel: 'all' } : { executionProviders: ['cpu'], intraOpNumThreads: threads, interOpNumThreads: 1, graphOptimizationLevel: 'all', logSeverityLevel: 3 };

let seed = 7;
const uniform = () => {
  seed = (seed * 1664525 + 1013904223) >>> 0;
  return seed / 2 ** 32;
};
const gauss = () => Math.sqrt(-2 * Math.log(uniform() + 1e-12)) * Math.cos(2 * Math.PI * uniform());
const bytesOf = (a) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);

const VARIANTS = {
  fp32: null,
  'dynamic-int8': { kind: 'dynamic', qmax: 127 },
  'dynamic-int8-7bit': { kind: 'dynamic', qmax: 63 },
  'dynamic-uint8': { kind: 'dynamic', unsigned: true },
  'qdq-int8': { kind: 'qdq' },
  'nbits8-b32-acc4': { kind: 'nbits', bits: 8, blockSize: 32, accuracyLevel: 4 },
  'nbits8-b128-acc0': { kind: 'nbits', bits: 8, blockSize: 128, accuracyLevel: 0 },
  'nbits4-b32-acc4': { kind: 'nbits', bits: 4, blockSize: 32, accuracyLevel: 4 },
  'nbits4-b32-acc0': { kind: 'nbits', bits: 4, blockSize: 32, accuracyLevel: 0 },
  'nbits4-b128-acc4': { kind: 'nbits', bits: 4, blockSize: 128, accuracyLevel: 4 },
};

async function layer(M, K, N) {
  const w = Float32Array.from({ length: K * N }, () => gauss() / Math.sqrt(K));
  const bias = Float32Array.from({ length: N }, () => 0.05 * gauss());
  const a = Float32Array.from({ length: M * K }, () => gauss());
  const model = {
    opsets: { '': 17 },
    irVersion: 8,
    graph: {
      name: 'linear',
      inputs: [{ name: 'x', dataType: 'float32', shape: [M, K] }],
      outputs: [{ name: 'y', dataType: 'float32', shape: [M, N] }],
      nodes: [
        { opType: 'MatMul', inputs: ['x', 'w'], outputs: ['t'], name: 'mm' },
        { opType: 'Add', inputs: ['t', 'b'], outputs: ['y'], name: 'add' },
      ],
      initializers: [
        { name: 'w', dataType: 'float32', dims: [K, N], load: () => bytesOf(w) },
        { name: 'b', dataType: 'float32', dims: [N], load: () => bytesOf(bias) },
      ],
    },
  };
  const exact = new Float64Array(M * N);
  for (let m = 0; m < M; m++) for (let k = 0; k < K; k++) for (let n = 0; n < N; n++) exact[m * N + n] += a[m * K + k] * w[k * N + n];
  let rms = 0;
  for (let i = 0; i < exact.length; i++) {
    exact[i] += bias[i % N];
    rms += exact[i] ** 2;
  }
  rms = Math.sqrt(rms / exact.length);
  const sessions = {};
  for (const [name, matmul] of Object.entries(VARIANTS)) {
    const bytes = await encodeOnnxModel(matmul ? quantizeGraph(model, { matmul }).model : model);
    sessions[name] = await ort.InferenceSession.create(bytes, options);
  }
  const feeds = { x: new ort.Tensor('float32', a, [M, K]) };
  const errors = {};
  for (const [name, s] of Object.entries(sessions)) {
    const y = (await s.run(feeds)).y.data;
    let e = 0;
    for (let i = 0; i < y.length; i++) e += (y[i] - exact[i]) ** 2;
    errors[name] = Math.sqrt(e / y.length) / rms;
  }
  const times = Object.fromEntries(Object.keys(sessions).map((k) => [k, []]));
  const cpu = Object.fromEntries(Object.keys(sessions).map((k) => [k, []]));
  for (let r = 0; r < runs; r++) {
    for (const [name, s] of Object.entries(sessions)) {
      const c = process.cpuUsage();
      const t = performance.now();
      await s.run(feeds);
      times[name].push(performance.now() - t);
      const used = process.cpuUsage(c);
      cpu[name].push((used.user + used.system) / 1000);
    }
  }
  for (const s of Object.values(sessions)) await s.release();
  const base = median(times.fp32);
  const cpuBase = median(cpu.fp32);
  return Object.entries(sessions).map(([name]) => {
    const med = median(times[name]);
    const cpuMed = median(cpu[name]);
    process.stderr.write(
      `quant-kernels: ${runtime} ${M}×${K}×${N} ${name.padEnd(18)} median ${med.toFixed(1).padStart(7)} ms  min ${Math.min(...times[name]).toFixed(1).padStart(7)} ms  ×fp32 ${(med / base).toFixed(2)}  CPU ×fp32 ${(cpuMed / cpuBase).toFixed(2)}  rel. RMS error ${errors[name].toExponential(2)}\n`,
    );
    return { variant: name, M, K, N, medianMs: Number(med.toFixed(2)), minMs: Number(Math.min(...times[name]).toFixed(2)), ratio: Number((med / base).toFixed(3)), cpuMs: Number(cpuMed.toFixed(2)), cpuRatio: Number((cpuMed / cpuBase).toFixed(3)), relRmsError: Number(errors[name].toExponential(3)) };
  });
}

const rows = [...(await layer(865, 384, 1536)), ...(await layer(865, 1536, 384))];
report({ task: 'quant-kernels', runtime: runtime === 'wasm' ? 'node-wasm' : 'node-cpu', threads, runs, rows });
process.exit(0);
