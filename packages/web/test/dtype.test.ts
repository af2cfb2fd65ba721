import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type ImageU8, SafetensorsFile, convertCheckpoint, loadConfig } from '@da3js/core';
import {
  DepthAnything3,
  type WebFromPretrainedOptions,
  type WebProgressEvent,
  blobByteSource,
  blobSink,
  executionProviders,
  memoryModelCache,
  resolveDtype,
  resolvePrecision,
} from '@da3js/web';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FIXTURES, loadTensors } from '../../../test-utils/fixtures.js';
import { type FakeHub, startFakeHub } from '../../node/test/helpers/fake-hub.js';

/** `dtype` in @da3js/web (Node, onnxruntime-web WASM): q8 graphs, and option values it refuses. */
const REPO = 'depth-anything/DA3-TINY';
let hub: FakeHub;
let images: ImageU8[];
beforeAll(async () => {
  hub = await startFakeHub({ repos: { [REPO]: { dir: join(FIXTURES, 'tiny'), files: ['config.json', 'model.safetensors'] } } });
  const u8 = (await loadTensors('tiny/multi/inputs.safetensors')).image_u8;
  const [S, H, W] = u8.shape;
  images = Array.from({ length: S }, (_, s) => ({ data: (u8.data as Uint8Array).subarray(s * H * W * 3, (s + 1) * H * W * 3), width: W, height: H, channels: 3 as const }));
});
afterAll(() => hub?.close());

describe('option values @da3js/web does not support are refused, typed, before anything is fetched', () => {
  const cases: [string, WebFromPretrainedOptions, string][] = [
    ['q4 (not built)', { dtype: 'q4' as never }, 'UNSUPPORTED'],
    ['bnb4', { dtype: 'bnb4' as never }, 'UNSUPPORTED'],
    ['an unknown dtype', { dtype: 'half' as never }, 'BAD_VALUE'],
    ['q8 on WebGPU', { dtype: 'q8', device: 'webgpu' }, 'UNSUPPORTED'],
    ["node's device", { device: 'cuda' as never }, 'UNSUPPORTED'],
    ['an unknown device', { device: 'npu' as never }, 'BAD_VALUE'],
    ['threads 0', { threads: 0 }, 'BAD_VALUE'],
    ['an unknown kind', { kind: 'stereo' as never }, 'BAD_VALUE'],
  ];
  it.each(cases)('%s', async (_name, options, code) => {
    const before = hub.log.length;
    await expect(DepthAnything3.fromPretrained(REPO, { endpoint: hub.endpoint, ...options })).rejects.toMatchObject({ code });
    expect(hub.log.length).toBe(before);
    await expect(DepthAnything3.fromBlobs({ config: {}, weights: new Blob([]) }, options)).rejects.toMatchObject({ code });
  });

  it('resolveDtype / executionProviders: q8 is WASM-only (auto picks WASM), fp32 compute', async () => {
    expect(await resolveDtype('q8', ['wasm'])).toBe('q8');
    expect(await resolvePrecision('q8', ['wasm'])).toBe('float32');
    await expect(resolveDtype('q8', ['webgpu', 'wasm'])).rejects.toMatchObject({ code: 'UNSUPPORTED' });
    await expect(resolveDtype('q4' as never, ['wasm'])).rejects.toMatchObject({ code: 'UNSUPPORTED' });
    expect(await executionProviders('auto', 'q8')).toEqual(['wasm']);
    await expect(executionProviders('webgpu', 'q8')).rejects.toMatchObject({ code: 'UNSUPPORTED' });
    await expect(executionProviders('cuda' as never)).rejects.toMatchObject({ code: 'UNSUPPORTED' });
    await expect(executionProviders('tpu' as never)).rejects.toMatchObject({ code: 'BAD_VALUE' });
  });
});

describe("dtype 'q8' on WASM", () => {
  it('converts an int8 graph in the page under its own cache key; depth within 2% of fp32', async () => {
    const cache = memoryModelCache();
    const events: WebProgressEvent[] = [];
    // Local files (no HTTP: a busy machine's idle keep-alive sockets are not this test's subject).
    const files = {
      config: new File([readFileSync(join(FIXTURES, 'tiny', 'config.json'))], 'config.json', { lastModified: 1 }),
      weights: new File([readFileSync(join(FIXTURES, 'tiny', 'model.safetensors'))], 'model.safetensors', { lastModified: 1 }),
    };
    const fp32 = await DepthAnything3.fromBlobs(files, { device: 'wasm', threads: 1, cache });
    const q8 = await DepthAnything3.fromBlobs(files, { dtype: 'q8', threads: 1, cache, progress: (e) => events.push(e) });
    const a = await fp32.inference(images, { processRes: 84, refViewStrategy: 'first' });
    const b = await q8.inference(images, { processRes: 84, refViewStrategy: 'first' });
    await fp32.dispose();
    await q8.dispose();
    expect(events.find((e) => e.status === 'ready')).toMatchObject({ providers: ['wasm'], precision: 'float32', dtype: 'q8' });
    expect(cache.keys().map((k) => k.split('/').pop()).sort()).toEqual(['net-unposed-fp32-first-norays.onnx', 'net-unposed-q8-first-norays.onnx']);
    const rel = Float64Array.from(b.depth, (v, i) => Math.abs(v - a.depth[i]) / Math.abs(a.depth[i])).sort();
    expect(rel[rel.length >> 1]).toBeGreaterThan(0);
    expect(rel[rel.length >> 1]).toBeLessThan(0.02);
  });

  it('fromOnnx takes the dtype from the graph and refuses another', async () => {
    const file = await SafetensorsFile.open(blobByteSource(new Blob([readFileSync(join(FIXTURES, 'tiny', 'model.safetensors'))])));
    const sink = blobSink();
    await convertCheckpoint(file, loadConfig(readFileSync(join(FIXTURES, 'tiny', 'config.json'), 'utf8')), { quantization: 'q8', output: async () => ({ sink }) });
    const events: WebProgressEvent[] = [];
    const m = await DepthAnything3.fromOnnx(sink.blob(), { threads: 1, progress: (e) => events.push(e) });
    await m.inference(images, { processRes: 84 });
    await m.dispose();
    expect(events.find((e) => e.status === 'ready')).toMatchObject({ providers: ['wasm'], dtype: 'q8' });
    await expect(DepthAnything3.fromOnnx(sink.blob(), { dtype: 'fp16' })).rejects.toMatchObject({ code: 'BAD_CONFIG' });
    await expect(DepthAnything3.fromOnnx(sink.blob(), { device: 'webgpu' })).rejects.toMatchObject({ code: 'UNSUPPORTED' });
  });
});
