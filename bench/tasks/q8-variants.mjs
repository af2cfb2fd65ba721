// node q8-variants.mjs IN.safetensors node|wasm RUNS [VARIANT…] — the int8 graph choices behind
// `dtype: 'q8'`, A/B on DA3-SMALL shapes (seeded random checkpoint) at 1×504×336, one thread, each
// against the fp32 graph in the same process, runs interleaved (the order reversed every other
// round): process CPU time relative to fp32 and the accuracy (depth: median and p90 of |Δ|/|fp32|
// over pixels; pose_enc: max |Δ|). Variants (default: all):
// - q8: what `dtype: 'q8'` builds (DynamicQuantizeMatMul, 7-bit weights, the backbone's linears);
// - q8-shared: one DynamicQuantizeLinear per activation read by q, k and v, MatMulIntegerToFloat each;
// - q8-fused-qkv: q, k and v merged back into one [384, 1152] product + Split, then quantized;
// - q8-int8-qk: attention's q·kᵀ on the integer GEMM too (`attentionScores`);
// - q8-u8u8: uint8 weights around 128 (no AVX2 saturation, full 8 bits);
// - q8-float-first4 / q8-float-last4: blocks 0–3 / 8–11 kept float32 (accuracy for time).
import { createRequire } from 'node:module';
import { SafetensorsFile, VARIANTS, buildGraphFor, encodeOnnxModel } from '@da3js/core';
import { quantizeGraph } from '@da3js/core/graph';
import { fileByteSource, median, report } from './common.mjs';

const [input, runtime = 'node', runsArg = '6', ...picked] = process.argv.slice(2);
const runs = Number(runsArg);
const require = createRequire(import.meta.url);
const ort = runtime === 'wasm' ? require('onnxruntime-web') : require('onnxruntime-node');
if (runtime === 'wasm') ort.env.wasm.numThreads = 1;
const options = runtime === 'wasm' ? { executionProviders: ['wasm'], graphOptimizationLevel: 'all' } : { executionProviders: ['cpu'], intraOpNumThreads: 1, interOpNumThreads: 1, graphOptimizationLevel: 'all', logSeverityLevel: 3 };

const inBackbone = (n) => n.name?.startsWith('backbone/') === true;
const blockOf = (n) => Number(/blocks\.(\d+)\//.exec(n.name ?? '')?.[1] ?? -1);
const q8 = { matmul: { kind: 'dynamic', qmax: 63 }, include: inBackbone };
const CHOICES = {
  q8: [q8, null],
  'q8-shared': [{ ...q8, matmul: { ...q8.matmul, shareActivations: true } }, null],
  'q8-fused-qkv': [q8, (m) => fuseSiblings(m, inBackbone)],
  'q8-int8-qk': [{ ...q8, attentionScores: true }, null],
  'q8-u8u8': [{ ...q8, matmul: { kind: 'dynamic', unsigned: true } }, null],
  'q8-float-first4': [{ ...q8, include: (n) => inBackbone(n) && blockOf(n) >= 4 }, null],
  'q8-float-last4': [{ ...q8, include: (n) => inBackbone(n) && blockOf(n) < 8 }, null],
};

/**
 * The float32 graph with every group of MatMul + bias Add reading one activation (q, k, v) merged
 * into one MatMul of the column-concatenated weights, one Add and a Split on the last axis.
 */
function fuseSiblings(model, pick) {
  const { graph } = model;
  const inits = new Map(graph.initializers.map((i) => [i.name, i]));
  const addOf = new Map();
  graph.nodes.forEach((n, i) => {
    if (n.opType === 'Add') for (const x of n.inputs) addOf.set(x, i);
  });
  const readers = new Map();
  graph.nodes.forEach((n, i) => {
    if (n.opType === 'MatMul' && inits.get(n.inputs[1])?.dims.length === 2 && pick(n) && addOf.has(n.outputs[0])) readers.set(n.inputs[0], [...(readers.get(n.inputs[0]) ?? []), i]);
  });
  const f32 = async (init) => new Float32Array((await init.load()).slice().buffer);
  const replace = new Map();
  const drop = new Set();
  const added = [];
  for (const [input, at] of readers) {
    if (at.length < 2) continue;
    const mms = at.map((i) => graph.nodes[i]);
    const adds = mms.map((m) => addOf.get(m.outputs[0]));
    const ws = mms.map((m) => inits.get(m.inputs[1]));
    const bs = adds.map((a, j) => inits.get(graph.nodes[a].inputs.find((x) => x !== mms[j].outputs[0])));
    const K = ws[0].dims[0];
    const widths = ws.map((w) => w.dims[1]);
    const total = widths.reduce((a, b) => a + b);
    const name = `${ws[0].name}.fused`;
    added.push(
      {
        name,
        dataType: 'float32',
        dims: [K, total],
        load: async () => {
          const parts = await Promise.all(ws.map(f32));
          const out = new Float32Array(K * total);
          for (let k = 0; k < K; k++) for (let j = 0, o = 0; j < parts.length; o += widths[j++]) out.set(parts[j].subarray(k * widths[j], (k + 1) * widths[j]), k * total + o);
          return new Uint8Array(out.buffer);
        },
      },
      { name: `${name}.bias`, dataType: 'float32', dims: [total], load: async () => new Uint8Array(Float32Array.from((await Promise.all(bs.map(f32))).flatMap((b) => [...b])).buffer) },
      { name: `${name}.split`, dataType: 'int64', dims: [widths.length], load: () => new Uint8Array(BigInt64Array.from(widths.map(BigInt)).buffer) },
    );
    const last = Math.max(...adds);
    replace.set(last, [
      { opType: 'MatMul', inputs: [input, name], outputs: [`${name}.mm`], name: mms[0].name },
      { opType: 'Add', inputs: [`${name}.mm`, `${name}.bias`], outputs: [`${name}.sum`], name: `${mms[0].name}/bias` },
      { opType: 'Split', inputs: [`${name}.sum`, `${name}.split`], outputs: adds.map((a) => graph.nodes[a].outputs[0]), name: `${mms[0].name}/split`, attributes: { axis: { type: 'int', value: -1 } } },
    ]);
    for (const i of [...at, ...adds]) if (i !== last) drop.add(i);
  }
  const nodes = graph.nodes.flatMap((n, i) => replace.get(i) ?? (drop.has(i) ? [] : [n]));
  return { ...model, graph: { ...graph, nodes, initializers: [...graph.initializers, ...added] } };
}

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

const source = fileByteSource(input);
const built = buildGraphFor(await SafetensorsFile.open(source), VARIANTS['DA3-SMALL'].config, { role: 'net', posed: false, precision: 'float32', refViewStrategy: 'saddle_balanced', exportFeatLayers: [], rays: false });
const sessions = { fp32: await ort.InferenceSession.create(await encodeOnnxModel(built), options) };
for (const name of picked.length ? picked : Object.keys(CHOICES)) {
  const [choice, transform] = CHOICES[name];
  sessions[name] = await ort.InferenceSession.create(await encodeOnnxModel(quantizeGraph(transform ? transform(built) : built, choice).model), options);
}
source.close();
const feeds = { images: new ort.Tensor('float32', images(1, 336, 504), [1, 1, 3, 336, 504]) };
const first = {};
for (const k of Object.keys(sessions)) first[k] = await sessions[k].run(feeds);
const keys = Object.keys(sessions);
const cpu = Object.fromEntries(keys.map((k) => [k, []]));
for (let r = 0; r < runs; r++) {
  for (const k of r % 2 ? [...keys].reverse() : keys) {
    const c = process.cpuUsage();
    await sessions[k].run(feeds);
    const used = process.cpuUsage(c);
    cpu[k].push((used.user + used.system) / 1000);
  }
}
const rows = keys.map((k) => {
  const a = first[k];
  const b = first.fp32;
  const rel = Float64Array.from(a.depth.data, (v, i) => Math.abs(v - b.depth.data[i]) / Math.abs(b.depth.data[i])).sort();
  let pose = 0;
  for (let i = 0; i < a.pose_enc.data.length; i++) pose = Math.max(pose, Math.abs(a.pose_enc.data[i] - b.pose_enc.data[i]));
  const row = { variant: k, cpuMs: Math.round(median(cpu[k])), cpuRatio: Number((median(cpu[k]) / median(cpu.fp32)).toFixed(3)), depthMedianRel: Number(rel[rel.length >> 1].toExponential(3)), depthP90Rel: Number(rel[Math.floor(rel.length * 0.9)].toExponential(3)), poseEncMaxAbs: Number(pose.toExponential(3)) };
  process.stderr.write(`q8-variants: ${runtime} ${k.padEnd(16)} CPU ${row.cpuMs} ms (×fp32 ${row.cpuRatio}); depth ${row.depthMedianRel} (p90 ${row.depthP90Rel}), pose_enc ${row.poseEncMaxAbs}\n`);
  return row;
});
for (const s of Object.values(sessions)) await s.release();
report({ task: 'q8-variants', runtime: runtime === 'wasm' ? 'node-wasm' : 'node-cpu', threads: 1, runs, rows });
