import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ImageU8, Prediction } from '@da3js/core';
import { DepthAnything3 as NodeDepthAnything3 } from '@da3js/node';
import { DepthAnything3 as WebDepthAnything3 } from '@da3js/web';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FIXTURES, loadTensors } from '../../../test-utils/fixtures.js';
import { type FakeHub, startFakeHub } from '../../node/test/helpers/fake-hub.js';

/**
 * The web package and the node package give the same Prediction for the same checkpoint and
 * images: one shared pipeline (core's runInference), two onnxruntime builds (WASM, native CPU)
 * whose kernels round differently by about 1e-6.
 */
let hub: FakeHub;
const cacheDir = mkdtempSync(join(tmpdir(), 'da3js-cross-'));
beforeAll(async () => {
  const files = ['config.json', 'model.safetensors'];
  hub = await startFakeHub({ repos: { 'depth-anything/DA3-TINY': { dir: join(FIXTURES, 'tiny'), files }, 'depth-anything/DA3MONO-TINY': { dir: join(FIXTURES, 'tiny-mono'), files } } });
});
afterAll(async () => {
  await hub?.close();
  rmSync(cacheDir, { recursive: true, force: true });
});

function closeTo(label: string, a: ArrayLike<number> | null, b: ArrayLike<number> | null, tol: number) {
  expect(a === null, `${label} present in both`).toBe(b === null);
  if (!a || !b) return;
  expect(a.length, label).toBe(b.length);
  let worst = 0;
  for (let i = 0; i < b.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]) - tol * (1 + Math.abs(b[i])));
  expect(worst, label).toBeLessThanOrEqual(0);
}

describe.each([
  ['depth-anything/DA3-TINY', 'tiny'],
  ['depth-anything/DA3MONO-TINY', 'tiny-mono'],
])('%s: web (WASM) and node (CPU) predictions agree', (repo, dir) => {
  it('depth, confidence, cameras, sky and processed images', async () => {
    const u8 = (await loadTensors(`${dir}/multi/inputs.safetensors`)).image_u8;
    const [S, H, W] = u8.shape;
    const images: ImageU8[] = Array.from({ length: S }, (_, s) => ({ data: (u8.data as Uint8Array).subarray(s * H * W * 3, (s + 1) * H * W * 3), width: W, height: H, channels: 3 }));
    const web = await WebDepthAnything3.fromPretrained(repo, { endpoint: hub.endpoint, device: 'wasm', threads: 1, cache: false });
    const node = await NodeDepthAnything3.fromPretrained(repo, { endpoint: hub.endpoint, cacheDir, device: 'cpu' });
    const a: Prediction = await web.inference(images, { processRes: 84 });
    const b: Prediction = await node.inference(images, { processRes: 84 });
    await web.dispose();
    await node.dispose();
    expect([a.views, a.height, a.width, a.isMetric]).toEqual([b.views, b.height, b.width, b.isMetric]);
    expect(Array.from(a.processedImages)).toEqual(Array.from(b.processedImages));
    closeTo('depth', a.depth, b.depth, 1e-5);
    closeTo('conf', a.conf, b.conf, 1e-5);
    closeTo('extrinsics', a.extrinsics, b.extrinsics, 1e-5);
    closeTo('intrinsics', a.intrinsics, b.intrinsics, 1e-5);
    expect(a.sky === null ? null : Array.from(a.sky)).toEqual(b.sky === null ? null : Array.from(b.sky));
  });
});
