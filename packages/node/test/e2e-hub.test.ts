import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SafetensorsFile, type SafetensorsEntry, memoryByteSource, writeSafetensors } from '@da3js/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectClose } from '../../../test-utils/compare.js';
import { FIXTURES, loadCaseOutputs, loadTensors } from '../../../test-utils/fixtures.js';
import { DepthAnything3, type Da3ProgressEvent } from '../src/index.js';
import { type FakeHub, startFakeHub } from './helpers/fake-hub.js';

/**
 * End to end: the tiny fixture models served by a local fake hub in the Hugging Face layout →
 * fromPretrained (download, cache, convert) → inference on the fixture images (encoded as PNG
 * bytes) → the reference's Prediction.
 */
const work = mkdtempSync(join(tmpdir(), 'da3js-e2e-'));
let hub: FakeHub;
const NET = { atol: 1e-4, rtol: 1e-4 };

async function rekey(dir: string, prefix: string): Promise<[Record<string, SafetensorsEntry>, Record<string, string>]> {
  const st = await SafetensorsFile.open(memoryByteSource(new Uint8Array(readFileSync(join(FIXTURES, dir, 'model.safetensors')))));
  const out: Record<string, SafetensorsEntry> = {};
  for (const n of st.names()) out[n.replace(/^model\./, prefix)] = { dtype: st.info(n).dtype, shape: st.info(n).shape, data: await st.read(n) };
  const meta: Record<string, string> = {};
  for (const [k, v] of Object.entries(st.metadata)) meta[k.replace(/^model\./, prefix)] = v.replace(/^model\./, prefix);
  return [out, meta];
}

beforeAll(async () => {
  const nested = join(work, 'nested-repo');
  mkdirSync(nested);
  const [a, ma] = await rekey('tiny', 'model.da3.');
  const [m, mm] = await rekey('tiny-mono', 'model.da3_metric.');
  writeFileSync(join(nested, 'model.safetensors'), writeSafetensors({ ...a, ...m }, { ...ma, ...mm }));
  writeFileSync(join(nested, 'config.json'), readFileSync(join(FIXTURES, 'tiny-nested', 'config.json')));
  const files = ['config.json', 'model.safetensors'];
  hub = await startFakeHub({
    repos: {
      'depth-anything/DA3-TINY': { dir: join(FIXTURES, 'tiny'), files },
      'depth-anything/DA3MONO-TINY': { dir: join(FIXTURES, 'tiny-mono'), files },
      'depth-anything/DA3NESTED-TINY': { dir: nested, files },
    },
  });
});
afterAll(async () => {
  await hub?.close();
  rmSync(work, { recursive: true, force: true });
});

async function pngViews(dir: string, name: string): Promise<Uint8Array[]> {
  const { default: sharp } = await import('sharp');
  const inputs = await loadTensors(`${dir}/${name}/inputs.safetensors`);
  const [S, H, W] = inputs.image_u8.shape;
  return Promise.all(
    Array.from({ length: S }, async (_, s) =>
      new Uint8Array(await sharp(Buffer.from((inputs.image_u8.data as Uint8Array).subarray(s * H * W * 3, (s + 1) * H * W * 3)), { raw: { width: W, height: H, channels: 3 } }).png().toBuffer()),
    ),
  );
}

describe.each([
  ['depth-anything/DA3-TINY', 'tiny', 'multi', true],
  ['depth-anything/DA3MONO-TINY', 'tiny-mono', 'multi', false],
  ['depth-anything/DA3NESTED-TINY', 'tiny-nested', 'multi', true],
] as const)('fromPretrained(%s) → inference', (repo, dir, name, cameras) => {
  it('downloads, converts, caches, and equals the reference Prediction', async () => {
    const events: Da3ProgressEvent[] = [];
    const cacheDir = join(work, 'cache');
    const model = await DepthAnything3.fromPretrained(repo, { endpoint: hub.endpoint, cacheDir, progress: (e) => events.push(e) });
    const outputs = await loadCaseOutputs(dir, name);
    const pred = await model.inference(await pngViews(dir, name), { processRes: 84 });
    expectClose(pred.depth, outputs['pred.depth'].data as Float32Array, NET, 'pred.depth');
    // Which keys each model has is explicit: a renamed fixture key fails instead of being skipped.
    if (cameras) {
      expectClose(pred.conf!, outputs['pred.conf'].data as Float32Array, NET, 'pred.conf');
      expectClose(pred.extrinsics!, outputs['pred.extrinsics'].data as Float32Array, { atol: 1e-5, rtol: 1e-5 }, 'extrinsics');
      expectClose(pred.intrinsics!, outputs['pred.intrinsics'].data as Float32Array, { atol: 1e-5, rtol: 1e-5 }, 'intrinsics');
    } else {
      expect([pred.conf, pred.extrinsics, pred.intrinsics]).toEqual([null, null, null]);
      expect(Array.from(pred.sky!)).toEqual(Array.from(outputs['pred.sky'].data as Uint8Array));
    }
    expect(Array.from(pred.processedImages)).toEqual(Array.from(outputs['pred.processed_images'].data as Uint8Array));
    expect(pred.isMetric).toBe(dir === 'tiny-nested');
    expect(events.map((e) => e.status)).toEqual(expect.arrayContaining(['initiate', 'done', 'convert', 'ready', 'infer']));
    await model.dispose();
    // Second load: served from the cache (no hub request), graphs reused (no convert event).
    const before = hub.log.length;
    const again: Da3ProgressEvent[] = [];
    const model2 = await DepthAnything3.fromPretrained(repo, { endpoint: hub.endpoint, cacheDir, progress: (e) => again.push(e) });
    await model2.inference(await pngViews(dir, name), { processRes: 84 });
    await model2.dispose();
    expect(hub.log.length).toBe(before);
    expect(again.some((e) => e.status === 'convert')).toBe(false);
  });
});

describe('fromPretrained errors', () => {
  it('unknown repo → a typed error naming it; offline without cache → a clear error', async () => {
    await expect(DepthAnything3.fromPretrained('depth-anything/NOPE', { endpoint: hub.endpoint, cacheDir: join(work, 'c2') })).rejects.toThrow(/NOPE/);
    await expect(DepthAnything3.fromPretrained('depth-anything/DA3-TINY', { endpoint: hub.endpoint, cacheDir: join(work, 'c3'), localFilesOnly: true })).rejects.toMatchObject({ code: 'IO' });
  });
});
