import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type NetConfig, type RefViewStrategy, encodeOnnxModel, loadConfig } from '@da3js/core';
import { buildNetGraph } from '@da3js/core/graph';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { FIXTURES } from '../helpers/fixtures.js';
import { compareOutputs, fixtureCase, fixtureWeights } from './parity-helpers.js';

/**
 * The whole network graph (contract outputs, no taps) against the reference's forward pass for
 * every tiny case: depth, confidence, ray map, ray confidence, the camera decoder's pose
 * encoding, sky, and the exported features.
 */
interface Case {
  model: 'tiny' | 'tiny-mono' | 'tiny-giant';
  name: string;
  strategy: RefViewStrategy;
  posed?: boolean;
}

const CASES: Case[] = [
  { model: 'tiny', name: 'mono', strategy: 'saddle_balanced' },
  { model: 'tiny', name: 'multi', strategy: 'saddle_balanced' },
  { model: 'tiny', name: 'multi_first', strategy: 'first' },
  { model: 'tiny', name: 'posed', strategy: 'saddle_balanced', posed: true },
  { model: 'tiny-mono', name: 'mono', strategy: 'saddle_balanced' },
  { model: 'tiny-mono', name: 'multi', strategy: 'saddle_balanced' },
  // Two views are below ref_view_selection_min_views (3): no strategy reorders them, so all four
  // give the reference's (bitwise identical) outputs — the boundary of reference-view selection.
  { model: 'tiny-giant', name: 'two_views', strategy: 'saddle_balanced' },
  { model: 'tiny-giant', name: 'two_views', strategy: 'saddle_sim_range' },
  { model: 'tiny-giant', name: 'two_views', strategy: 'middle' },
  { model: 'tiny-giant', name: 'two_views', strategy: 'first' },
];

/**
 * graph output → fixture tensor holding the reference's value of it, spelled out per model (a
 * renamed key fails the test instead of dropping a comparison).
 */
function expectations(model: Case['model'], featLayers: number[]): Record<string, string> {
  const feats = Object.fromEntries(featLayers.map((l) => [`feat_${l}`, `out.aux.feat_layer_${l}`]));
  if (model === 'tiny-mono') return { depth: 'head_out.depth', sky: 'out.sky', ...feats };
  return { depth: 'out.depth', depth_conf: 'out.depth_conf', ray: 'head_out.ray', ray_conf: 'head_out.ray_conf', pose_enc: 'cam_dec.pose_enc', ...feats };
}

describe.each(CASES)('full graph $model/$name ($strategy)', ({ model, name, strategy, posed }) => {
  it('equals the reference outputs at 1e-4 + 1e-4·|b|', async () => {
    const cfg = loadConfig(readFileSync(join(FIXTURES, model, 'config.json'), 'utf8')) as NetConfig;
    const { inputs, outputs } = await fixtureCase(model, name);
    const exportFeatLayers = Object.keys(outputs)
      .filter((k) => k.startsWith('out.aux.feat_layer_'))
      .map((k) => Number(k.slice('out.aux.feat_layer_'.length)));
    const w = await fixtureWeights(model);
    const bytes = await encodeOnnxModel(buildNetGraph(cfg, w, { refViewStrategy: strategy, poseConditioned: posed, exportFeatLayers }));
    const session = await ort.InferenceSession.create(bytes);
    const feeds: Record<string, ort.Tensor> = { images: new ort.Tensor('float32', inputs.x.data as Float32Array, inputs.x.shape) };
    if (posed) {
      feeds.extrinsics = new ort.Tensor('float32', inputs.extrinsics_normalized.data as Float32Array, inputs.extrinsics_normalized.shape);
      feeds.intrinsics = new ort.Tensor('float32', inputs.intrinsics.data as Float32Array, inputs.intrinsics.shape);
    }
    const got = await session.run(feeds);
    await session.release();
    const map = expectations(model, exportFeatLayers);
    expect(exportFeatLayers.length).toBeGreaterThan(0);
    expect([...session.outputNames].sort()).toEqual(Object.keys(map).sort());
    const renamed: Record<string, ort.Tensor> = {};
    for (const [out, ref] of Object.entries(map)) renamed[ref] = got[out];
    const report = compareOutputs(renamed, outputs, Object.values(map));
    console.log(`${model}/${name}`, JSON.stringify(report));
  });

  it('exposes every intermediate the fixture stores (taps), each equal to the reference', async () => {
    const cfg = loadConfig(readFileSync(join(FIXTURES, model, 'config.json'), 'utf8')) as NetConfig;
    const { inputs, outputs } = await fixtureCase(model, name);
    const w = await fixtureWeights(model);
    const bytes = await encodeOnnxModel(buildNetGraph(cfg, w, { refViewStrategy: strategy, poseConditioned: posed, taps: true }));
    const session = await ort.InferenceSession.create(bytes);
    const feeds: Record<string, ort.Tensor> = { images: new ort.Tensor('float32', inputs.x.data as Float32Array, inputs.x.shape) };
    if (posed) {
      feeds.extrinsics = new ort.Tensor('float32', inputs.extrinsics_normalized.data as Float32Array, inputs.extrinsics_normalized.shape);
      feeds.intrinsics = new ort.Tensor('float32', inputs.intrinsics.data as Float32Array, inputs.intrinsics.shape);
    }
    const got = await session.run(feeds);
    await session.release();
    const taps = Object.keys(outputs).filter((k) => /^(backbone|head|cam_enc|cam_dec)\./.test(k) && !k.startsWith('backbone.rope_pos'));
    // Every stored intermediate must be exposed, except the reference-view index of strategies
    // that select nothing in-graph.
    const missing = taps.filter((k) => !got[k] && !(k === 'backbone.ref_view_idx' && strategy === 'first'));
    expect(missing).toEqual([]);
    const compared = taps.filter((k) => got[k]);
    expect(compared.length).toBeGreaterThan(15);
    compareOutputs(got, outputs, compared);
  });
});

describe('ref_view_selection_min_views from the config (tiny-giant/two_views)', () => {
  const run = async (minViews: number | undefined, strategy: RefViewStrategy) => {
    const base = loadConfig(readFileSync(join(FIXTURES, 'tiny-giant', 'config.json'), 'utf8')) as NetConfig;
    const cfg = minViews === undefined ? base : { ...base, backbone: { ...base.backbone, refViewSelectionMinViews: minViews } };
    const { inputs, outputs, meta } = await fixtureCase('tiny-giant', 'two_views');
    const bytes = await encodeOnnxModel(buildNetGraph(cfg, await fixtureWeights('tiny-giant'), { refViewStrategy: strategy, taps: true }));
    const session = await ort.InferenceSession.create(bytes);
    const got = await session.run({ images: new ort.Tensor('float32', inputs.x.data as Float32Array, inputs.x.shape) });
    await session.release();
    return { got, outputs, would: (meta.meta as { would_select_if_applied: Record<string, number> }).would_select_if_applied };
  };

  it('the default (3) selects nothing for 2 views; 2 makes the graph select exactly what the reference would', async () => {
    for (const strategy of ['saddle_balanced', 'saddle_sim_range', 'middle'] as const) {
      const dflt = await run(undefined, strategy);
      expect(Number((dflt.got['backbone.ref_view_idx'].data as BigInt64Array)[0]), `${strategy} default`).toBe(0);
      const two = await run(2, strategy);
      const idx = Number((two.got['backbone.ref_view_idx'].data as BigInt64Array)[0]);
      expect(idx, `${strategy} min 2`).toBe(two.would[strategy]);
      // A view other than 0 becomes the reference: the predicted cameras change.
      const pose = two.got.pose_enc.data as Float32Array;
      const ref = two.outputs['cam_dec.pose_enc'].data as Float32Array;
      let diff = 0;
      for (let i = 0; i < ref.length; i++) diff = Math.max(diff, Math.abs(pose[i] - ref[i]));
      if (idx !== 0) expect(diff, `${strategy}: reordered pose_enc`).toBeGreaterThan(1e-3);
      else expect(diff, `${strategy}: unchanged pose_enc`).toBeLessThan(1e-4);
    }
  });
});
