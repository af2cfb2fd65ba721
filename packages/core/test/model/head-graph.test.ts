import { type CheckpointWeights, type DptHeadConfig, type DualDptHeadConfig, type FloatPrecision, type HeadConfig, type NetConfig, createPrng, encodeOnnxModel, float32ToFloat16Bits, float16ToFloat32, isDa3Error, loadConfig } from '@da3js/core';
import { GraphBuilder, buildDptHead, buildDualDptHead, buildHead, shapeOf, slice } from '@da3js/core/graph';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { FIXTURES } from '../helpers/fixtures.js';
import { fixtureWeights } from './parity-helpers.js';

/** Ops the CPU, CUDA and WebGPU execution providers all implement (opset 17). */
const PORTABLE_OPS = new Set([
  'Add', 'Cast', 'Concat', 'ConstantOfShape', 'Conv', 'ConvTranspose', 'Cos', 'Div', 'Exp', 'Identity', 'LayerNormalization',
  'Mul', 'Range', 'Relu', 'Reshape', 'Resize', 'Shape', 'Sin', 'Slice', 'Sqrt', 'Squeeze', 'Sub', 'Transpose', 'Unsqueeze',
]);

const loadCfg = (model: string) => loadConfig(readFileSync(join(FIXTURES, model, 'config.json'), 'utf8')) as NetConfig;

/** Head graph on features [B, S, h·w, C] and an `images` input that only gives H and W. */
function build(cfg: HeadConfig, w: CheckpointWeights, precision: FloatPrecision = 'float32') {
  const g = new GraphBuilder({ name: 'head', precision });
  const images = g.input('images', 'float32', ['B', 'S', 3, 'H', 'W']);
  const features = [0, 1, 2, 3].map((k) => g.input(`feat${k}`, g.floatType, ['B', 'S', 'P', cfg.dimIn]));
  const shape = shapeOf(g, images);
  const patch = g.int64([cfg.patchSize], [1]);
  const grid = { gridH: g.op('Div', [slice(g, shape, [3], [4], [0]), patch]), gridW: g.op('Div', [slice(g, shape, [4], [5], [0]), patch]) };
  const o = buildHead(g, features, grid, w, cfg);
  for (const [name, v] of Object.entries(o)) if (v) g.output(v, name, 'float32', null);
  return g.build();
}

function randomFeatures(seed: number, b: number, s: number, p: number, c: number): Float32Array[] {
  const prng = createPrng(seed);
  return [0, 1, 2, 3].map(() => Float32Array.from({ length: b * s * p * c }, () => prng.next() * 4 - 2));
}

async function run(bytes: Uint8Array, feats: Float32Array[], dims: { b: number; s: number; h: number; w: number; c: number }, fp16 = false) {
  const session = await ort.InferenceSession.create(bytes);
  try {
    const { b, s, h, w, c } = dims;
    const feeds: Record<string, ort.Tensor> = { images: new ort.Tensor('float32', new Float32Array(b * s * 3 * 14 * h * 14 * w), [b, s, 3, 14 * h, 14 * w]) };
    feats.forEach((f, k) => {
      feeds[`feat${k}`] = fp16 ? new ort.Tensor('float16', float32ToFloat16Bits(f), [b, s, h * w, c]) : new ort.Tensor('float32', f, [b, s, h * w, c]);
    });
    return await session.run(feeds);
  } finally {
    await session.release();
  }
}

const data = (t: ort.Tensor) => t.data as Float32Array;

describe('DualDPT head graph', () => {
  it('uses only portable ops and every head weight except the discarded aux levels', async () => {
    const cfg = loadCfg('tiny');
    const w = await fixtureWeights('tiny');
    const model = build(cfg.head, w);
    const ops = new Set(model.graph.nodes.map((n) => n.opType));
    expect([...ops].filter((op) => !PORTABLE_OPS.has(op))).toEqual([]);
    const unused = w.unused().filter((k) => k.startsWith('model.head.'));
    expect(unused.length).toBeGreaterThan(0);
    expect(unused.filter((k) => !/^model\.head\.scratch\.output_conv[12]_aux\.[012]\./.test(k))).toEqual([]);
  });

  it('follows dynamic grids: depth at 14h×14w, rays at 8h×8w, views independent', async () => {
    const cfg = loadCfg('tiny');
    const bytes = await encodeOnnxModel(build(cfg.head, await fixtureWeights('tiny')));
    for (const [h, wd] of [
      [5, 7],
      [3, 1],
      [1, 1],
    ]) {
      const dims = { b: 1, s: 2, h, w: wd, c: cfg.head.dimIn };
      const feats = randomFeatures(h * 100 + wd, 1, 2, h * wd, dims.c);
      const out = await run(bytes, feats, dims);
      expect(out.depth.dims).toEqual([1, 2, 14 * h, 14 * wd]);
      expect(out.depthConf.dims).toEqual([1, 2, 14 * h, 14 * wd]);
      expect(out.ray.dims).toEqual([1, 2, 8 * h, 8 * wd, 6]);
      expect(out.rayConf.dims).toEqual([1, 2, 8 * h, 8 * wd]);
      for (const k of ['depth', 'depthConf', 'ray', 'rayConf']) expect(data(out[k]).every(Number.isFinite), k).toBe(true);
      expect(data(out.depth).every((v) => v > 0)).toBe(true);
      expect(data(out.depthConf).every((v) => v >= 1)).toBe(true);
      expect(data(out.rayConf).every((v) => v >= 1)).toBe(true);

      // Swapping the two views swaps the outputs: the head mixes nothing across views.
      const n = h * wd * dims.c;
      const swapped = feats.map((f) => Float32Array.from([...f.subarray(n), ...f.subarray(0, n)]));
      const out2 = await run(bytes, swapped, dims);
      for (const k of ['depth', 'depthConf', 'ray', 'rayConf']) {
        const a = data(out[k]);
        const b = data(out2[k]);
        const m = a.length / 2;
        expect(Array.from(b.subarray(0, m)), k).toEqual(Array.from(a.subarray(m)));
        expect(Array.from(b.subarray(m)), k).toEqual(Array.from(a.subarray(0, m)));
      }
    }
  });

  it('rejects configs it cannot build', async () => {
    const cfg = loadCfg('tiny').head as DualDptHeadConfig;
    const w = await fixtureWeights('tiny');
    const g = new GraphBuilder({ name: 'x' });
    const f = [0, 1, 2, 3].map((k) => g.input(`f${k}`, 'float32', [1, 1, 4, cfg.dimIn]));
    const grid = { gridH: g.int64([2]), gridW: g.int64([2]) };
    const code = (fn: () => unknown) => {
      try {
        fn();
      } catch (e) {
        return isDa3Error(e) ? e.code : String(e);
      }
      return 'no error';
    };
    expect(code(() => buildDualDptHead(g, f, grid, w, { ...cfg, outputDim: 3 }))).toBe('BAD_CONFIG');
    expect(code(() => buildDualDptHead(g, f, grid, w, { ...cfg, auxOutputDim: 4 }))).toBe('BAD_CONFIG');
    expect(code(() => buildDualDptHead(g, f, grid, w, { ...cfg, downRatio: 1.5 }))).toBe('BAD_CONFIG');
    expect(code(() => buildDualDptHead(g, f, grid, w, { ...cfg, outChannels: [8, 16, 32, 30] }))).toBe('BAD_CONFIG');
    expect(code(() => buildDualDptHead(g, f.slice(0, 3), grid, w, cfg))).toBe('BAD_VALUE');
    expect(code(() => buildDualDptHead(g, f, grid, w, { ...cfg, activation: 'swish' }))).toBe('BAD_CONFIG');
  });
});

describe('DPT head graph', () => {
  it('uses only portable ops and every head weight', async () => {
    const cfg = loadCfg('tiny-mono');
    const w = await fixtureWeights('tiny-mono');
    const model = build(cfg.head, w);
    expect([...new Set(model.graph.nodes.map((n) => n.opType))].filter((op) => !PORTABLE_OPS.has(op))).toEqual([]);
    expect(w.unused().filter((k) => k.startsWith('model.head.'))).toEqual([]);
    expect(model.graph.outputs.map((o) => o.name).sort()).toEqual(['depth', 'sky']);
  });

  it('follows dynamic grids and drops the sky head when the config has none', async () => {
    const cfg = loadCfg('tiny-mono').head as DptHeadConfig;
    const dims = { b: 2, s: 1, h: 3, w: 4, c: cfg.dimIn };
    const feats = randomFeatures(7, 2, 1, 12, cfg.dimIn);
    const out = await run(await encodeOnnxModel(build(cfg, await fixtureWeights('tiny-mono'))), feats, dims);
    expect(out.depth.dims).toEqual([2, 1, 42, 56]);
    expect(out.sky.dims).toEqual([2, 1, 42, 56]);
    expect(data(out.depth).every((v) => v > 0 && Number.isFinite(v))).toBe(true);
    expect(data(out.sky).every((v) => v >= 0)).toBe(true);

    const g = new GraphBuilder({ name: 'nosky' });
    const f = [0, 1, 2, 3].map((k) => g.input(`f${k}`, 'float32', ['B', 'S', 'P', cfg.dimIn]));
    const o = buildDptHead(g, f, { gridH: g.int64([3]), gridW: g.int64([4]) }, await fixtureWeights('tiny-mono'), { ...cfg, useSkyHead: false });
    expect(o.sky).toBeNull();
    expect(o.depthConf).toBeNull();
  });
});

describe('float16 head graphs', () => {
  it.each(['tiny', 'tiny-mono'])('%s: runs with float16 weights and activations, float32 outputs close to the float32 graph', async (model) => {
    const cfg = loadCfg(model).head;
    const dims = { b: 1, s: 1, h: 4, w: 6, c: cfg.dimIn };
    const feats = randomFeatures(3, 1, 1, 24, cfg.dimIn).map((f) => float16ToFloat32(float32ToFloat16Bits(f)));
    const ref = await run(await encodeOnnxModel(build(cfg, await fixtureWeights(model))), feats, dims);
    const half = build(cfg, await fixtureWeights(model), 'float16');
    const out = await run(await encodeOnnxModel(half), feats, dims, true);
    for (const [k, t] of Object.entries(out)) {
      expect(t.type, k).toBe('float32');
      const a = data(t);
      const b = data(ref[k]);
      let worst = 0;
      for (let i = 0; i < b.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]) / (1 + Math.abs(b[i])));
      console.log(`${model} float16 ${k}: max |d|/(1+|b|) = ${worst.toExponential(2)}`);
      expect(worst, k).toBeLessThan(1e-2); // the float16 bound: 1e-2 relative
    }
  });
});
