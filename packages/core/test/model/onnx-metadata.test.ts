import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type NetConfig, encodeOnnxModel, loadConfig, memoryByteSource, parseResolvedConfig, readOnnxMetadata } from '@da3js/core';
import { buildNetGraph } from '@da3js/core/graph';
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

  it('a metadata entry that ends inside a varint is refused at once (it used to loop forever)', async () => {
    // field 14 (metadata_props), 3 bytes: key tag 0x0a, then a length varint with its continuation bit set and nothing after.
    const entry = Uint8Array.of(0x72, 0x02, 0x0a, 0x80);
    const t0 = performance.now();
    await expect(readOnnxMetadata(memoryByteSource(entry))).rejects.toMatchObject({ code: 'UNKNOWN_FORMAT', message: expect.stringMatching(/ends inside a varint/) });
    // A string longer than its entry, a group wire type, a fixed field past the end, an entry over 16 MiB.
    await expect(readOnnxMetadata(memoryByteSource(Uint8Array.of(0x72, 0x03, 0x0a, 0x09, 0x41)))).rejects.toMatchObject({ message: expect.stringMatching(/runs past its entry/) });
    await expect(readOnnxMetadata(memoryByteSource(Uint8Array.of(0x0b, 0x0c)))).rejects.toMatchObject({ message: expect.stringMatching(/group wire type/) });
    await expect(readOnnxMetadata(memoryByteSource(Uint8Array.of(0x09, 1, 2, 3)))).rejects.toMatchObject({ message: expect.stringMatching(/truncated/) });
    const big = { size: 2 ** 26, read: async () => Uint8Array.of(0x72, 0x80, 0x80, 0x80, 0x10) };
    await expect(readOnnxMetadata(big)).rejects.toMatchObject({ message: expect.stringMatching(/metadata entry of 33554432 bytes/) });
    expect(performance.now() - t0).toBeLessThan(500);
  });

  it('every truncation of a real graph ends in a result or UNKNOWN_FORMAT, never a hang', async () => {
    const cfg = loadConfig(readFileSync(join(FIXTURES, 'tiny', 'config.json'), 'utf8')) as NetConfig;
    const bytes = await encodeOnnxModel(buildNetGraph(cfg, await fixtureWeights('tiny'), { refViewStrategy: 'first' }));
    // The metadata sits after the graph: cut inside it, byte by byte, and at sampled points before.
    const metaStart = bytes.length - 20_000;
    const cuts = [...Array.from({ length: 200 }, (_, i) => Math.floor((i / 200) * metaStart)), ...Array.from({ length: bytes.length - metaStart }, (_, i) => metaStart + i)];
    const t0 = performance.now();
    for (const n of cuts) {
      try {
        await readOnnxMetadata(memoryByteSource(bytes.subarray(0, n)));
      } catch (e) {
        expect((e as { code?: string }).code, `cut at ${n}`).toBe('UNKNOWN_FORMAT');
      }
    }
    expect(performance.now() - t0).toBeLessThan(20_000);
  });
});
