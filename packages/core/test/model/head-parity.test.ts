import { type DptHeadConfig, type DualDptHeadConfig, type NetConfig, encodeOnnxModel, loadConfig } from '@da3js/core';
import { GraphBuilder, buildDptHead, buildDualDptHead, shapeOf, slice } from '@da3js/core/graph';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FIXTURES } from '../helpers/fixtures.js';
import { compareOutputs, fixtureCase, fixtureWeights, runModel } from './parity-helpers.js';

/**
 * The head alone: inputs are the fixture's backbone features `backbone.feat0..3` [B, S, h·w, C]
 * and the images [B, S, 3, H, W] (only their shape is used, for the patch grid).
 */
async function headGraph(model: string) {
  const cfg = loadConfig(readFileSync(join(FIXTURES, model, 'config.json'), 'utf8')) as NetConfig;
  const w = await fixtureWeights(model);
  const g = new GraphBuilder({ name: 'head', taps: true });
  const images = g.input('images', 'float32', ['B', 'S', 3, 'H', 'W']);
  const features = [0, 1, 2, 3].map((k) => g.input(`backbone.feat${k}`, 'float32', ['B', 'S', 'P', cfg.head.dimIn]));
  const shape = shapeOf(g, images);
  const patch = g.int64([cfg.head.patchSize], [1]);
  const grid = { gridH: g.op('Div', [slice(g, shape, [3], [4], [0]), patch]), gridW: g.op('Div', [slice(g, shape, [4], [5], [0]), patch]) };
  if (cfg.head.type === 'DualDPT') {
    const o = buildDualDptHead(g, features, grid, w, cfg.head as DualDptHeadConfig);
    g.output(o.depth, 'head_out.depth', 'float32', ['B', 'S', 'H', 'W']);
    g.output(o.depthConf, 'head_out.depth_conf', 'float32', ['B', 'S', 'H', 'W']);
    g.output(o.ray, 'head_out.ray', 'float32', ['B', 'S', 'h8', 'w8', 6]);
    g.output(o.rayConf, 'head_out.ray_conf', 'float32', ['B', 'S', 'h8', 'w8']);
  } else {
    const o = buildDptHead(g, features, grid, w, cfg.head as DptHeadConfig);
    expect(o.depthConf).toBeNull();
    expect(o.sky).not.toBeNull();
    g.output(o.depth, 'head_out.depth', 'float32', ['B', 'S', 'H', 'W']);
    g.output(o.sky as string, 'head_out.sky', 'float32', ['B', 'S', 'H', 'W']);
  }
  return encodeOnnxModel(g.build());
}

const dualNames = ['head.stage0', 'head.stage1', 'head.stage2', 'head.stage3', 'head.fused_main', 'head.fused_aux_last', 'head.main_logits', 'head.aux_logits'];
const dualOut = ['head_out.depth', 'head_out.depth_conf', 'head_out.ray', 'head_out.ray_conf', 'out.depth', 'out.depth_conf'];
const monoNames = ['head.stage0', 'head.stage1', 'head.stage2', 'head.stage3', 'head.fused', 'head.neck', 'head.main_logits', 'head.sky_logits'];
const monoOut = ['head_out.depth', 'head_out.sky', 'out.sky'];

describe.each([
  ['tiny', 'mono'],
  ['tiny', 'multi'],
  ['tiny', 'multi_first'],
  ['tiny', 'posed'],
  ['tiny-mono', 'mono'],
  ['tiny-mono', 'multi'],
] as const)('head parity %s/%s', (model, name) => {
  it('matches every head intermediate and output', async () => {
    const { inputs, outputs } = await fixtureCase(model, name);
    const feeds = { images: inputs.x, ...Object.fromEntries([0, 1, 2, 3].map((k) => [`backbone.feat${k}`, outputs[`backbone.feat${k}`]])) };
    const got = await runModel(await headGraph(model), feeds);
    const dual = model === 'tiny';
    // Graph name ← fixture name: the mono net's `out.sky` is `head_out.sky`; `out.depth` there includes the sky fill.
    const wanted = (dual ? [...dualNames, ...dualOut] : [...monoNames, ...monoOut]).filter((n) => outputs[n]);
    const graphName = (n: string) => (n === 'out.depth' ? 'head_out.depth' : n === 'out.depth_conf' ? 'head_out.depth_conf' : n === 'out.sky' ? 'head_out.sky' : n);
    const gotByFixture = Object.fromEntries(wanted.map((n) => [n, got[graphName(n)]]));
    expect(wanted.length).toBeGreaterThanOrEqual(name === 'multi_first' ? 6 : 11);
    const report = compareOutputs(gotByFixture, outputs, wanted);
    console.log(`${model}/${name}`, JSON.stringify(Object.fromEntries(Object.entries(report).map(([k, v]) => [k, Number(v.toExponential(2))]))));
  });
});
