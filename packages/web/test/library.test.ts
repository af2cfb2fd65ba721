import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type ImageU8, SafetensorsFile, convertCheckpoint, loadConfig, writeSafetensors } from '@da3js/core';
import {
  DepthAnything3,
  type WebProgressEvent,
  blobByteSource,
  blobSink,
  configureWasm,
  decodeImage,
  graphCacheKey,
  jpegExifOrientation,
  memoryModelCache,
  pipeline,
  resolvePrecision,
  videoSampleTimes,
  withoutExifOrientation,
} from '@da3js/web';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FIXTURES, loadCaseOutputs, loadTensors } from '../../../test-utils/fixtures.js';
import { type FakeHub, startFakeHub } from '../../node/test/helpers/fake-hub.js';

/**
 * The web library's caching, exports, local-file and pre-converted loading, EXIF handling and
 * input validation, in Node on onnxruntime-web's WASM backend (the browser-only paths — Cache
 * API, createImageBitmap, <video> — are covered in Chromium by browser.test.ts).
 */
const REPO = 'depth-anything/DA3-TINY';
let hub: FakeHub;
let inputs: Record<string, { data: unknown; shape: number[] }>;
let goldenDepth: Float32Array;
beforeAll(async () => {
  hub = await startFakeHub({ repos: { [REPO]: { dir: join(FIXTURES, 'tiny'), files: ['config.json', 'model.safetensors'] } } });
  inputs = (await loadTensors('tiny/multi/inputs.safetensors')) as never;
  const out = await loadCaseOutputs('tiny', 'multi');
  goldenDepth = out['pred.depth'].data as Float32Array;
});
afterAll(() => hub?.close());

function views(): ImageU8[] {
  const u8 = inputs.image_u8;
  const [S, H, W] = u8.shape;
  return Array.from({ length: S }, (_, s) => ({ data: (u8.data as Uint8Array).subarray(s * H * W * 3, (s + 1) * H * W * 3), width: W, height: H, channels: 3 as const }));
}

function expectDepth(got: Float32Array) {
  expect(got.length).toBe(goldenDepth.length);
  let worst = 0;
  for (let i = 0; i < got.length; i++) worst = Math.max(worst, Math.abs(got[i] - goldenDepth[i]) - 1e-4 * (1 + Math.abs(goldenDepth[i])));
  expect(worst).toBeLessThanOrEqual(0);
}

describe('graph cache', () => {
  it('converts once; a second model with the same cache loads the graph without reading a tensor', async () => {
    const cache = memoryModelCache();
    const first: WebProgressEvent[] = [];
    const a = await DepthAnything3.fromPretrained(REPO, { endpoint: hub.endpoint, device: 'wasm', threads: 1, cache, progress: (e) => first.push(e) });
    expectDepth((await a.inference(views(), { processRes: 84 })).depth);
    await a.dispose();
    expect(first.find((e) => e.status === 'cache')).toMatchObject({ hit: false });
    expect(first.some((e) => e.status === 'convert')).toBe(true);
    // download progress: bytes of model.safetensors, increasing; the discarded aux-head weights
    // (output_conv*_aux levels 0–2, about 18% of this tiny file) are never read
    const loaded = first.flatMap((e) => (e.status === 'progress' ? [e] : []));
    expect(loaded.length).toBeGreaterThan(10);
    expect(loaded.every((e, i) => i === 0 || e.loaded > loaded[i - 1].loaded)).toBe(true);
    expect(loaded.at(-1)!.loaded / loaded.at(-1)!.total).toBeGreaterThan(0.75);
    expect(cache.keys()).toHaveLength(1);
    expect(cache.keys()[0]).toMatch(/^da3js-graph\/v3\/.+model\.safetensors@.+\/[0-9a-f]{16}\/net-unposed-fp32-saddle_balanced-norays\.onnx$/);

    const second: WebProgressEvent[] = [];
    const b = await DepthAnything3.fromPretrained(REPO, { endpoint: hub.endpoint, device: 'wasm', threads: 1, cache, progress: (e) => second.push(e) });
    const before = hub.requestsFor('model.safetensors').length;
    expectDepth((await b.inference(views(), { processRes: 84 })).depth);
    await b.dispose();
    expect(second.find((e) => e.status === 'cache')).toMatchObject({ hit: true });
    expect(second.some((e) => e.status === 'convert')).toBe(false);
    expect(hub.requestsFor('model.safetensors').length).toBe(before);
  });

  it('the key covers the config: the same weights with an edited config.json are another entry', () => {
    const text = readFileSync(join(FIXTURES, 'tiny/config.json'), 'utf8');
    const config = loadConfig(text);
    if (config.kind !== 'DepthAnything3Net') throw new Error('tiny is one net');
    const edited = { ...config, backbone: { ...config.backbone, outLayers: [1, 2, 4, 5] } };
    const build = { role: 'net', posed: false, precision: 'float32', refViewStrategy: 'first', exportFeatLayers: [] } as const;
    const a = graphCacheKey('https://hub/model.safetensors@etag', config, build);
    expect(a).toMatch(/^da3js-graph\/v3\/https:\/\/hub\/model\.safetensors@etag\/[0-9a-f]{16}\/net-unposed-fp32-first\.onnx$/);
    expect(graphCacheKey('https://hub/model.safetensors@etag', edited, build)).not.toBe(a);
    expect(graphCacheKey('https://hub/model.safetensors@etag', loadConfig(text), build)).toBe(a);
  });

  it('a different build choice is a different entry; cache: false keeps nothing', async () => {
    const cache = memoryModelCache();
    const m = await DepthAnything3.fromPretrained(REPO, { endpoint: hub.endpoint, device: 'wasm', threads: 1, cache });
    await m.inference(views(), { processRes: 84, refViewStrategy: 'first' });
    await m.inference(views(), { processRes: 84, refViewStrategy: 'middle' });
    await m.dispose();
    expect(cache.keys().map((k) => k.split('/').pop())).toEqual(['net-unposed-fp32-first-norays.onnx', 'net-unposed-fp32-middle-norays.onnx']);
  });
});

describe('prediction.export', () => {
  it('returns Files in the reference layout; the GLB passes gltf-validator and the npz is a zip', async () => {
    const m = await DepthAnything3.fromPretrained(REPO, { endpoint: hub.endpoint, device: 'wasm', threads: 1, cache: false });
    const p = await m.inference(views(), { processRes: 84 });
    await m.dispose();
    const files = await p.export('glb-npz-depth_vis');
    const names = files.map((f) => f.name);
    expect(names).toContain('scene.glb');
    expect(names.filter((n) => n.startsWith('depth_vis/'))).toHaveLength(3);
    const glb = files.find((f) => f.name === 'scene.glb')!;
    expect(glb.type).toBe('model/gltf-binary');
    const { default: validator } = await import('gltf-validator');
    const report = await validator.validateBytes(new Uint8Array(await glb.arrayBuffer()));
    expect(report.issues.numErrors).toBe(0);
    const npz = new Uint8Array(await files.find((f) => f.name.endsWith('.npz'))!.arrayBuffer());
    expect([npz[0], npz[1]]).toEqual([0x50, 0x4b]);
    await expect(p.export('nope')).rejects.toMatchObject({ code: 'UNKNOWN_FORMAT' });
  });
});

describe('local files and pre-converted graphs', () => {
  const configJson = () => readFileSync(join(FIXTURES, 'tiny/config.json'));
  const weights = () => new Blob([readFileSync(join(FIXTURES, 'tiny/model.safetensors'))]);

  it('fromBlobs reads config.json + model.safetensors Blobs and equals the reference', async () => {
    const m = await DepthAnything3.fromBlobs({ config: new Blob([configJson()]), weights: weights() }, { device: 'wasm', threads: 1, cache: false });
    expect(m.kind).toBe('anyview');
    expectDepth((await m.inference(views(), { processRes: 84 })).depth);
    await m.dispose();
    await expect(DepthAnything3.fromBlobs({ config: new Blob(['{nope']), weights: weights() })).rejects.toMatchObject({ code: 'BAD_CONFIG' });
    await expect(DepthAnything3.fromBlobs({ config: new Blob([configJson()]), weights: new Blob([new Uint8Array(16)]) })).rejects.toMatchObject({ code: 'BAD_SAFETENSORS' });
  });

  it('fromBlobs reports tensors the model does not use as a warning event, and refuses them with strict', async () => {
    const tiny = await SafetensorsFile.open(blobByteSource(weights()));
    const entries: Record<string, { dtype: 'F32'; shape: number[]; data: Float32Array }> = {};
    for (const t of tiny.header.tensors) entries[t.name] = { dtype: 'F32', shape: [...t.shape], data: await tiny.readFloat32(t.name) };
    entries['model.extra.weight'] = { dtype: 'F32', shape: [2], data: new Float32Array(2) };
    const extra = new Blob([writeSafetensors(entries, { ...tiny.metadata })]);
    const events: WebProgressEvent[] = [];
    const m = await DepthAnything3.fromBlobs({ config: new Blob([configJson()]), weights: extra }, { device: 'wasm', cache: false, progress: (e) => events.push(e) });
    expect(events.filter((e) => e.status === 'warning')).toEqual([{ status: 'warning', message: expect.stringMatching(/not used by this model, ignored: model\.extra\.weight/) }]);
    await m.dispose();
    await expect(DepthAnything3.fromBlobs({ config: new Blob([configJson()]), weights: extra }, { device: 'wasm', cache: false, strict: true })).rejects.toMatchObject({ code: 'UNEXPECTED_TENSOR' });
  });

  it('refuses, before converting anything, weights too large for WebAssembly memory', async () => {
    // A virtual 4 GB checkpoint (the tiny model's tensors plus one unused 4 GB tensor): only its header is ever read.
    const tiny = await SafetensorsFile.open(blobByteSource(weights()));
    const entries: Record<string, unknown> = { __metadata__: tiny.metadata };
    let end = 0;
    for (const t of tiny.header.tensors) {
      entries[t.name] = { dtype: t.dtype, shape: t.shape, data_offsets: [t.byteOffset - tiny.header.dataOffset, t.byteOffset - tiny.header.dataOffset + t.byteLength] };
      end = Math.max(end, t.byteOffset - tiny.header.dataOffset + t.byteLength);
    }
    entries.big = { dtype: 'F32', shape: [1_000_000_000], data_offsets: [end, end + 4_000_000_000] };
    const header = new TextEncoder().encode(JSON.stringify(entries));
    const head = new Uint8Array(8 + header.length);
    new DataView(head.buffer).setBigUint64(0, BigInt(header.length), true);
    head.set(header, 8);
    const reads: number[] = [];
    const huge = {
      size: head.length + end + 4_000_000_000,
      slice: (a: number, b: number) => {
        reads.push(a);
        return { arrayBuffer: async () => head.slice(a, b).buffer };
      },
    } as unknown as Blob;
    const m = await DepthAnything3.fromBlobs({ config: JSON.parse(configJson().toString()), weights: huge }, { device: 'wasm', cache: false, progress: () => undefined });
    await expect(m.inference(views(), { processRes: 84 })).rejects.toThrow(/needs about 3\.7 GiB .* run it on WebGPU/);
    expect(Math.max(...reads)).toBeLessThan(head.length);
  });

  it('fromOnnx runs a graph with external data (the > 2 GB layout) from two Blobs', async () => {
    const file = await SafetensorsFile.open(blobByteSource(weights()));
    const sink = blobSink();
    const data = blobSink();
    await convertCheckpoint(file, loadConfig(JSON.parse(configJson().toString())), {
      externalData: 'always',
      output: async () => ({ sink, externalDataSink: data, externalDataLocation: 'tiny.onnx.data' }),
    });
    expect(data.blob().size).toBeGreaterThan(sink.blob().size); // the weights live in the data file
    const dataFile = new File([data.blob()], 'tiny.onnx.data');
    const m = await DepthAnything3.fromOnnx(sink.blob(), { device: 'wasm', threads: 1, externalData: dataFile });
    expectDepth((await m.inference(views(), { processRes: 84 })).depth);
    await m.dispose();
  });

  it('fromOnnx runs a da3js graph from a Blob and refuses build choices it was not made with', async () => {
    const file = await SafetensorsFile.open(blobByteSource(weights()));
    const sink = blobSink();
    await convertCheckpoint(file, loadConfig(JSON.parse(configJson().toString())), { output: async () => ({ sink }) });
    const m = await DepthAnything3.fromOnnx(sink.blob(), { device: 'wasm', threads: 1 });
    expectDepth((await m.inference(views(), { processRes: 84 })).depth);
    await expect(m.inference(views(), { processRes: 84, refViewStrategy: 'first' })).rejects.toThrow(/built unposed with refViewStrategy saddle_balanced/);
    await m.dispose();
    await expect(DepthAnything3.fromOnnx(new Blob([new Uint8Array([8, 8, 18, 0])]))).rejects.toMatchObject({ code: 'BAD_CONFIG' });
  });
});

/** A minimal JPEG head: SOI, APP1 Exif with IFD0 holding the orientation, then SOS. */
function jpegWithOrientation(orientation: number, bigEndian = false): Uint8Array {
  const tiff = new DataView(new ArrayBuffer(8 + 2 + 2 * 12 + 4));
  const le = !bigEndian;
  tiff.setUint16(0, bigEndian ? 0x4d4d : 0x4949);
  tiff.setUint16(2, 42, le);
  tiff.setUint32(4, 8, le);
  tiff.setUint16(8, 2, le);
  // entry 0: ImageWidth (0x0100, LONG) — not the orientation
  tiff.setUint16(10, 0x0100, le);
  tiff.setUint16(12, 4, le);
  tiff.setUint32(14, 1, le);
  tiff.setUint32(18, 640, le);
  // entry 1: Orientation (0x0112, SHORT, 1)
  tiff.setUint16(22, 0x0112, le);
  tiff.setUint16(24, 3, le);
  tiff.setUint32(26, 1, le);
  tiff.setUint16(30, orientation, le);
  const exif = new Uint8Array([0x45, 0x78, 0x69, 0x66, 0, 0, ...new Uint8Array(tiff.buffer)]);
  const len = exif.length + 2;
  return new Uint8Array([0xff, 0xd8, 0xff, 0xe0, 0, 4, 0, 0, 0xff, 0xe1, len >> 8, len & 255, ...exif, 0xff, 0xda, 0, 2, 1, 2, 3]);
}

describe('EXIF orientation', () => {
  it('finds the tag in little- and big-endian EXIF, and rewrites only it to 1', () => {
    for (const be of [false, true]) {
      const jpeg = jpegWithOrientation(6, be);
      expect(jpegExifOrientation(jpeg)).toBe(6);
      const fixed = withoutExifOrientation(jpeg);
      expect(jpegExifOrientation(fixed)).toBe(1);
      expect(jpegExifOrientation(jpeg)).toBe(6); // the input is not modified
      expect(fixed.filter((b, i) => b !== jpeg[i]).length).toBe(1);
    }
  });

  it('leaves other files alone and never throws on truncated or malformed bytes', () => {
    const png = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 13, 10, 26, 10]);
    expect(withoutExifOrientation(png)).toBe(png);
    const upright = jpegWithOrientation(1);
    expect(withoutExifOrientation(upright)).toBe(upright);
    const jpeg = jpegWithOrientation(8);
    for (let n = 0; n < jpeg.length; n++) expect(() => withoutExifOrientation(jpeg.subarray(0, n))).not.toThrow();
    expect(jpegExifOrientation(jpeg.subarray(0, 20))).toBeUndefined();
  });
});

describe('inputs and capabilities', () => {
  it('decodeImage accepts RGB(A) arrays and ImageData-like objects, and says what is wrong otherwise', async () => {
    const rgb: ImageU8 = { data: new Uint8Array(2 * 3 * 3), width: 3, height: 2, channels: 3 };
    expect(await decodeImage(rgb)).toBe(rgb);
    const rgba = await decodeImage({ data: new Uint8ClampedArray(2 * 3 * 4), width: 3, height: 2 } as never);
    expect(rgba).toMatchObject({ width: 3, height: 2, channels: 4 });
    await expect(decodeImage({ ...rgb, data: new Uint8Array(5) })).rejects.toMatchObject({ code: 'BAD_SHAPE' });
    await expect(decodeImage({ ...rgb, width: 0 })).rejects.toMatchObject({ code: 'BAD_SHAPE' });
    await expect(decodeImage(new Blob([new Uint8Array(4)]))).rejects.toMatchObject({ code: 'UNSUPPORTED' }); // no createImageBitmap in Node
    await expect(decodeImage(42 as never)).rejects.toMatchObject({ code: 'BAD_VALUE' });
  });

  it('video sampling times follow the reference interval when the frame rate is known', () => {
    // 30 fps video, 10 fps wanted → every 3rd frame, sampled in the middle of the frame.
    const t = videoSampleTimes(1, { fps: 10, videoFps: 30 });
    expect(t.map((x) => Math.round(x * 30 - 0.5))).toEqual([0, 3, 6, 9, 12, 15, 18, 21, 24, 27]);
    expect(videoSampleTimes(2.5, { fps: 1 })).toEqual([0, 1, 2]);
    expect(videoSampleTimes(10, { fps: 2, maxFrames: 3 })).toEqual([0, 0.5, 1]);
    expect(videoSampleTimes(1, { fps: 60, videoFps: 25 })).toHaveLength(25); // interval never below 1
    expect(() => videoSampleTimes(Number.POSITIVE_INFINITY)).toThrow(/finite/);
    expect(() => videoSampleTimes(1, { fps: 0 })).toThrow(/fps must be a positive number/);
    expect(() => videoSampleTimes(1, { maxFrames: 0 })).toThrow(/maxFrames/);
  });

  it('precision and thread settings are checked', async () => {
    expect(await resolvePrecision('fp16', ['wasm'])).toBe('float16');
    expect(await resolvePrecision('auto', ['wasm'])).toBe('float32');
    expect(await resolvePrecision(undefined, ['wasm'])).toBe('float32');
    await expect(resolvePrecision('int4' as never, ['wasm'])).rejects.toMatchObject({ code: 'BAD_VALUE' });
    await expect(configureWasm({ threads: 0 })).rejects.toMatchObject({ code: 'BAD_VALUE' });
  });
});

describe('pipeline (transformers.js style)', () => {
  it("pipeline('depth-estimation', id) returns what DepthAnything3.inference returns; unknown tasks are refused", async () => {
    const events: string[] = [];
    const depth = await pipeline('depth-estimation', REPO, { endpoint: hub.endpoint, device: 'wasm', threads: 1, cache: memoryModelCache(), progress_callback: (e) => events.push(e.status) });
    expect(depth.task).toBe('depth-estimation');
    expectDepth((await depth(views(), { processRes: 84 })).depth);
    expect(events).toContain('convert');
    await depth.dispose();
    await expect(pipeline('image-segmentation' as never, REPO, { endpoint: hub.endpoint })).rejects.toMatchObject({ code: 'BAD_VALUE' });
  });
});
