import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type NetConfig, type RefViewStrategy, buildNetGraph, encodeOnnxModel, loadConfig } from '@da3js/core';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { FIXTURES, type FixtureTensor } from '../helpers/fixtures.js';
import { compareOutputs, fixtureCase, fixtureWeights } from './parity-helpers.js';

/**
 * The whole network graph (contract outputs, no taps) against the reference's forward pass for
 * every tiny case: depth, confidence, ray map, ray confidence, the camera decoder's pose
 * encoding, sky, and the exported features.
 */
interface Case {
  model: 'tiny' | 'tiny-mono';
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
];

/** graph output → fixture tensor holding the reference's value of it. */
function expectations(model: string, outputs: Record<string, FixtureTensor>, graphOutputs: string[]): Record<string, string> {
  const map: Record<string, string> = {};
  const pick = (out: string, ...names: string[]) => {
    const hit = names.find((n) => outputs[n]);
    if (graphOutputs.includes(out) && hit) map[out] = hit;
  };
  pick('depth', model === 'tiny' ? 'out.depth' : 'head_out.depth');
  pick('depth_conf', 'out.depth_conf', 'head_out.depth_conf');
  pick('ray', 'head_out.ray');
  pick('ray_conf', 'head_out.ray_conf');
  pick('pose_enc', 'cam_dec.pose_enc');
  pick('sky', 'out.sky', 'head_out.sky');
  for (const out of graphOutputs.filter((o) => o.startsWith('feat_'))) pick(out, `out.aux.feat_layer_${out.slice(5)}`);
  return map;
}

describe.each(CASES)('full graph $model/$name', ({ model, name, strategy, posed }) => {
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
    const map = expectations(model, outputs, session.outputNames);
    expect(Object.keys(map).length).toBeGreaterThanOrEqual(model === 'tiny' ? 5 : 2);
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
