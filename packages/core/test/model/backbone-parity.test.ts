import { type NetConfig, encodeOnnxModel, loadConfig } from '@da3js/core';
import { GraphBuilder, buildBackbone } from '@da3js/core/graph';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FIXTURES } from '../helpers/fixtures.js';
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
