import { type BackboneConfig, type NetConfig, type WeightProvider, encodeOnnxModel, loadConfig } from '@da3js/core';
import { GraphBuilder, buildBackbone, positionEmbedding } from '@da3js/core/graph';
import * as ort from 'onnxruntime-node';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { expectClose } from '../helpers/compare.js';
import { FIXTURES, loadTensors } from '../helpers/fixtures.js';
import { compareOutputs, fixtureCase, fixtureWeights, runModel } from './parity-helpers.js';

async function backboneGraph(model: string, strategy: 'first' | 'saddle_balanced') {
  const cfg = loadConfig(readFileSync(join(FIXTURES, model, 'config.json'), 'utf8')) as NetConfig;
  const w = await fixtureWeights(model);
  const g = new GraphBuilder({ name: 'backbone', taps: true });
  const images = g.input('images', 'float32', ['B', 'N', 3, 'H', 'W']);
  buildBackbone(g, images, w, cfg.backbone, { refViewStrategy: strategy, cameraEncoderTokens: null, exportFeatLayers: [] });
  return encodeOnnxModel(g.build());
}

describe.each([
  ['tiny', 'mono', 'saddle_balanced'],
  ['tiny', 'multi_first', 'first'],
  ['tiny', 'multi', 'saddle_balanced'],
  ['tiny-mono', 'mono', 'saddle_balanced'],
  ['tiny-mono', 'multi', 'saddle_balanced'],
] as const)('backbone parity %s/%s', (model, name, strategy) => {
  it('matches every backbone intermediate', async () => {
    const { inputs, outputs } = await fixtureCase(model, name);
    const got = await runModel(await backboneGraph(model, strategy), { images: inputs.x });
    const names = Object.keys(outputs).filter((k) => k.startsWith('backbone.') && !k.startsWith('backbone.rope_pos') && got[k]);
    expect(names.length).toBeGreaterThan(5);
    const report = compareOutputs(got, outputs, names);
    console.log(`${model}/${name}`, JSON.stringify(report));
  });
});

describe('position embedding in the graph (geometry/vit_pos_embed_interp)', () => {
  it('resizes the 37×37 grid as PyTorch bicubic with the +0.1 scale-factor rule for every stored image size (518×518 passes through)', async () => {
    const inp = await loadTensors('geometry/vit_pos_embed_interp/inputs.safetensors');
    const out = await loadTensors('geometry/vit_pos_embed_interp/outputs.safetensors');
    const pe = inp.pos_embed;
    const D = pe.shape[2];
    const g = new GraphBuilder({ name: 'pos_embed' });
    const [gridH, gridW, imageH, imageW] = ['gridH', 'gridW', 'imageH', 'imageW'].map((n) => g.input(n, 'int64', [1]));
    const w: WeightProvider = {
      has: (k) => k === 'backbone.pretrained.pos_embed',
      get: () => ({ name: 'pos_embed', dims: pe.shape, load: async () => pe.data as Float32Array }),
    };
    const cfg = { posEmbedGrid: [37, 37], embedDim: D, interpolateOffset: 0.1 } as unknown as BackboneConfig;
    g.output(positionEmbedding(g, w, cfg, gridH, gridW, imageH, imageW), 'pe', 'float32', null);
    const session = await ort.InferenceSession.create(await encodeOnnxModel(g.build()));
    const keys = Object.keys(out);
    expect(keys).toContain('interp_518x518');
    for (const key of keys) {
      const [H, W] = key.replace('interp_', '').split('x').map(Number);
      const i64 = (v: number) => new ort.Tensor('int64', BigInt64Array.of(BigInt(v)), [1]);
      const got = (await session.run({ gridH: i64(H / 14), gridW: i64(W / 14), imageH: i64(H), imageW: i64(W) })).pe;
      expect(got.dims).toEqual([1, 1 + (H / 14) * (W / 14), D]);
      expectClose(got.data as Float32Array, out[key].data as Float32Array, { atol: 1e-5, rtol: 1e-5 }, key);
      if (H === 518 && W === 518) expect(got.data).toEqual(pe.data);
    }
    await session.release();
  });
});
