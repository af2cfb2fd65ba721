import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type NetConfig, buildNetGraph, encodeOnnxModel, loadConfig, memoryByteSource, parseResolvedConfig, readOnnxMetadata } from '@da3js/core';
import { describe, expect, it } from 'vitest';
import { FIXTURES } from '../helpers/fixtures.js';
import { fixtureWeights } from './parity-helpers.js';

describe('readOnnxMetadata', () => {
  it('recovers the config and build choices of a da3js graph without decoding the graph', async () => {
    const cfg = loadConfig(readFileSync(join(FIXTURES, 'tiny', 'config.json'), 'utf8')) as NetConfig;
    const bytes = await encodeOnnxModel(buildNetGraph(cfg, await fixtureWeights('tiny'), { refViewStrategy: 'first', exportFeatLayers: [1] }));
    const meta = await readOnnxMetadata(memoryByteSource(bytes));
    expect(meta['da3js.contract']).toBe('1');
    expect(meta['da3js.ref_view_strategy']).toBe('first');
    expect(meta['da3js.outputs']).toBe('depth,depth_conf,ray,ray_conf,pose_enc,feat_1');
    expect(parseResolvedConfig(JSON.parse(meta['da3js.config']))).toEqual(cfg);
  });

  it('rejects bytes that are not a model', async () => {
    await expect(readOnnxMetadata(memoryByteSource(new TextEncoder().encode('hello world, not protobuf')))).rejects.toMatchObject({ code: 'UNKNOWN_FORMAT' });
    await expect(readOnnxMetadata(memoryByteSource(Uint8Array.of(0x3a, 0xff, 0xff, 0x7f)))).rejects.toMatchObject({ code: 'UNKNOWN_FORMAT' });
  });
});
