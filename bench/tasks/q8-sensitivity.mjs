// node q8-sensitivity.mjs — where the int8 graph's error on the tiny fixture model comes from: the
// `multi` and `mono` cases of fixtures/tiny run through the fp32 graph and through int8 graphs that
// quantize a chosen part of the backbone's linear layers (DynamicQuantizeMatMul, 7-bit weights, as
// `dtype: 'q8'`; or weight-only / other schemes), each reported as depth (median over pixels of
// |Δ|/|fp32|) and pose_enc (max |Δ|) against fp32, plus the fp16 graph as a yardstick of how far
// any ~1e-3 rounding moves this model. Seconds on one core.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CheckpointWeights, SafetensorsFile, encodeOnnxModel, loadConfig, memoryByteSource } from '@da3js/core';
import { buildNetGraph, quantizeGraph } from '@da3js/core/graph';
import * as ort from 'onnxruntime-node';
import { report } from './common.mjs';

const TINY = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'fixtures', 'tiny');
const open = async (path) => SafetensorsFile.open(memoryByteSource(new Uint8Array(readFileSync(path))));
const cfg = loadConfig(readFileSync(join(TINY, 'config.json'), 'utf8'));
const weights = new CheckpointWeights(await open(join(TINY, 'model.safetensors')), 'model.');
const fp32 = buildNetGraph(cfg, weights, { refViewStrategy: 'first' });
const inputs = {};
for (const kase of ['multi', 'mono']) {
  const file = await open(join(TINY, kase, 'inputs.safetensors'));
  inputs[kase] = new ort.Tensor('float32', await file.readFloat32('x'), file.info('x').shape);
}
async function run(model) {
  const session = await ort.InferenceSession.create(await encodeOnnxModel(model), { graphOptimizationLevel: 'all', logSeverityLevel: 3 });
  const out = {};
  for (const k in inputs) out[k] = await session.run({ images: inputs[k] });
  await session.release();
  return out;
}
const ref = await run(fp32);
const rows = [];
async function measure(label, model) {
  const out = await run(model);
  const row = { label };
  for (const k in inputs) {
    const a = out[k];
    const b = ref[k];
    const rel = Float64Array.from(a.depth.data, (v, i) => Math.abs(v - b.depth.data[i]) / Math.abs(b.depth.data[i])).sort();
    let pose = 0;
    for (let i = 0; i < a.pose_enc.data.length; i++) pose = Math.max(pose, Math.abs(a.pose_enc.data[i] - b.pose_enc.data[i]));
    row[k] = { depthMedianRel: Number(rel[rel.length >> 1].toExponential(2)), poseEncMaxAbs: Number(pose.toExponential(2)) };
  }
  process.stderr.write(`q8-sensitivity: ${label.padEnd(34)} ${Object.keys(inputs).map((k) => `${k} depth ${row[k].depthMedianRel} pose ${row[k].poseEncMaxAbs}`).join(' | ')}\n`);
  rows.push(row);
}

const inBackbone = (n) => n.name?.startsWith('backbone/') === true;
// Block index and the place of each quantizable MatMul in its block (q, k, v, proj, fc1, fc2).
const PARTS = ['q', 'k', 'v', 'proj', 'fc1', 'fc2'];
const place = new Map();
const seen = new Map();
for (const n of fp32.graph.nodes) {
  const block = /^backbone\/blocks\.(\d+)\//.exec(n.name ?? '')?.[1];
  if (n.opType !== 'MatMul' || block === undefined || !fp32.graph.initializers.some((i) => i.name === n.inputs[1])) continue;
  const k = seen.get(block) ?? 0;
  seen.set(block, k + 1);
  place.set(n.name, { block: Number(block), part: PARTS[k] });
}
const q8 = (which, matmul = { kind: 'dynamic', qmax: 63 }) => quantizeGraph(fp32, { matmul, include: (n) => inBackbone(n) && place.has(n.name) && which(place.get(n.name)) }).model;

await measure('q8 (every backbone linear)', q8(() => true));
await measure('q8 + attention q·kᵀ int8', quantizeGraph(fp32, { matmul: { kind: 'dynamic', qmax: 63 }, include: (n) => inBackbone(n) && place.has(n.name), attentionScores: true }).model);
await measure('fp16 graph', buildNetGraph(cfg, weights, { refViewStrategy: 'first', precision: 'float16' }));
await measure('weight-only int8 per column (QDQ)', q8(() => true, { kind: 'qdq' }));
await measure('weight-only 8-bit blocks of 16', q8(() => true, { kind: 'nbits', bits: 8, blockSize: 16, accuracyLevel: 0 }));
await measure('uint8 weights (U8U8, full 8 bits)', q8(() => true, { kind: 'dynamic', unsigned: true }));
for (const part of PARTS) await measure(`only ${part} (every block)`, q8((p) => p.part === part));
for (const part of PARTS) await measure(`all but ${part}`, q8((p) => p.part !== part));
for (let b = 0; b < seen.size; b++) await measure(`only block ${b}`, q8((p) => p.block === b));
for (let k = 1; k <= 3; k++) await measure(`float last ${k} block(s)`, q8((p) => p.block < seen.size - k));
report({ task: 'q8-sensitivity', model: 'tiny', rows });
