import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ImageU8, Prediction } from '@da3js/core';
import { gaussianPruneIndices } from '@da3js/exporters';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectParity } from '../../../test-utils/compare.js';
import { FIXTURES, type FixtureTensor, loadCaseOutputs, loadJson, loadTensors } from '../../../test-utils/fixtures.js';
import { DepthAnything3 } from '../src/index.js';

/**
 * 3D Gaussians through the public API against the reference (fixtures/tiny-giant, README §8):
 * `DepthAnything3.inference(images, { inferGs })` — unposed (`multi`) and with known cameras
 * (`posed`: the Gaussians take the Umeyama pose scale, the API's own alignment leaves them alone)
 * — gives the reference's `Prediction.gaussians` and depth/cameras, and `export('gs_ply')` writes
 * its file: same header, same pruned Gaussians in the same order, every value within the README
 * §5 tolerance.
 */
const TOL = { atol: 1e-4, rtol: 1e-4 };
const work = mkdtempSync(join(tmpdir(), 'da3js-gsp-'));
let model: DepthAnything3;
beforeAll(() => {
  const raw = async (input: unknown) => input as ImageU8;
  model = DepthAnything3.fromFiles({ configPath: join(FIXTURES, 'tiny-giant', 'config.json'), weightsPath: join(FIXTURES, 'tiny-giant', 'model.safetensors') }, { cacheDir: join(work, 'cache') }, raw);
});
afterAll(async () => {
  await model?.dispose();
  rmSync(work, { recursive: true, force: true });
});

function images(u8: FixtureTensor): ImageU8[] {
  const [S, H, W] = u8.shape;
  return Array.from({ length: S }, (_, s) => ({ data: (u8.data as Uint8Array).slice(s * H * W * 3, (s + 1) * H * W * 3), width: W, height: H, channels: 3 as const }));
}

const f32 = (t: FixtureTensor) => t.data as Float32Array;

function expectGaussians(pred: Prediction, out: Record<string, FixtureTensor>, label: string): void {
  const g = pred.gaussians!;
  expect(g.count).toBe(pred.views * pred.height * pred.width);
  expectParity(g.means, f32(out['pred.gaussians.means']), TOL, `${label} means`);
  expectParity(g.scales, f32(out['pred.gaussians.scales']), TOL, `${label} scales`);
  expectParity(g.harmonics, f32(out['pred.gaussians.harmonics']), TOL, `${label} harmonics`);
  expectParity(g.opacities, f32(out['pred.gaussians.opacities']), TOL, `${label} opacities`);
  // The reference's quaternions are [w, x, y, z] (what gsplat renders); ours xyzw.
  const q = g.rotations;
  const wxyz = new Float32Array(q.length);
  for (let i = 0; i < q.length; i += 4) wxyz.set([q[i + 3], q[i], q[i + 1], q[i + 2]], i);
  expectParity(wxyz, f32(out['pred.gaussians.rotations']), TOL, `${label} rotations`);
}

describe('tiny-giant/multi through DepthAnything3.inference({ inferGs })', () => {
  let pred: Prediction;
  let out: Record<string, FixtureTensor>;
  beforeAll(async () => {
    const inputs = await loadTensors('tiny-giant/multi/inputs.safetensors');
    out = await loadCaseOutputs('tiny-giant', 'multi');
    pred = await model.inference(images(inputs.image_u8), { processRes: 56, inferGs: true, exportFeatLayers: [2, 5] });
  });

  it('equals the reference’s Prediction: depth, confidence, cameras, features and Gaussians', () => {
    expect([pred.views, pred.height, pred.width]).toEqual([3, 56, 42]);
    expect(Array.from(pred.processedImages)).toEqual(Array.from(out['pred.processed_images'].data as Uint8Array));
    expectParity(pred.depth, f32(out['pred.depth']), TOL, 'multi depth');
    expectParity(pred.conf!, f32(out['pred.conf']), TOL, 'multi conf');
    expectParity(pred.extrinsics!, f32(out['pred.extrinsics']), { atol: 1e-5 }, 'multi extrinsics');
    expectParity(pred.intrinsics!, f32(out['pred.intrinsics']), { atol: 1e-5, rtol: 1e-5 }, 'multi intrinsics');
    for (const l of [2, 5]) expectParity(pred.aux[`feat_layer_${l}`].data, f32(out[`pred.aux.feat_layer_${l}`]), TOL, `multi feat_layer_${l}`);
    expectGaussians(pred, out, 'multi');
  });

  it('export gs_ply writes the reference’s file (5845 Gaussians): header, pruning and order exact, values within tolerance', async () => {
    const meta = loadJson<{ gs_ply: { gs_ply: { header: string; file_bytes: number } } }>('tiny-giant/multi/case.json').gs_ply.gs_ply;
    const files = await pred.export({ dir: join(work, 'multi'), formats: 'gs_ply' });
    expect(files.map((f) => f.slice(join(work, 'multi').length + 1))).toEqual(['gs_ply/0000.ply']);
    const ours = new Uint8Array(readFileSync(files[0]));
    const ref = out['gs_ply.bytes'].data as Uint8Array;
    expect(ours.length).toBe(ref.length);
    expect(new TextDecoder().decode(ours.subarray(0, meta.header.length))).toBe(meta.header);
    expect(Array.from(gaussianPruneIndices(pred))).toEqual(Array.from(out['gs_ply.kept_index'].data as BigInt64Array, Number));
    const body = (b: Uint8Array) => new Float32Array(b.slice(meta.header.length).buffer);
    expectParity(body(ours), body(ref), TOL, 'multi gs_ply records');
  });

  it('gsViewsInterval 2 keeps the reference’s Gaussians of views 0 and 2', async () => {
    const meta = loadJson<{ gs_ply: { gs_ply_interval2: { header: string; file_bytes: number } } }>('tiny-giant/multi/case.json').gs_ply.gs_ply_interval2;
    const [file] = await pred.export({ dir: join(work, 'multi2'), formats: 'gs_ply', gsViewsInterval: 2 });
    const ours = new Uint8Array(readFileSync(file));
    expect(ours.length).toBe(meta.file_bytes);
    expect(new TextDecoder().decode(ours.subarray(0, meta.header.length))).toBe(meta.header);
    expect(Array.from(gaussianPruneIndices(pred, { viewsInterval: 2 }))).toEqual(Array.from(out['gs_ply_interval2.kept_index'].data as BigInt64Array, Number));
  });
});

describe('tiny-giant/posed through DepthAnything3.inference({ extrinsics, intrinsics, inferGs })', () => {
  let pred: Prediction;
  let out: Record<string, FixtureTensor>;
  beforeAll(async () => {
    const inputs = await loadTensors('tiny-giant/posed/inputs.safetensors');
    out = await loadCaseOutputs('tiny-giant', 'posed');
    pred = await model.inference(images(inputs.image_u8), {
      processRes: 42,
      inferGs: true,
      extrinsics: f32(inputs.extrinsics_input),
      intrinsics: f32(inputs.intrinsics_input),
    });
  });

  it('equals the reference’s Prediction: aligned depth, the user’s cameras, and Gaussians rescaled by the Umeyama pose scale', () => {
    expect([pred.views, pred.height, pred.width]).toEqual([4, 28, 42]);
    expect(Array.from(pred.processedImages)).toEqual(Array.from(out['pred.processed_images'].data as Uint8Array));
    expectParity(pred.depth, f32(out['pred.depth']), TOL, 'posed depth');
    expectParity(pred.conf!, f32(out['pred.conf']), TOL, 'posed conf');
    expectParity(pred.extrinsics!, f32(out['pred.extrinsics']), { atol: 1e-6 }, 'posed extrinsics');
    expectParity(pred.intrinsics!, f32(out['pred.intrinsics']), { atol: 1e-6 }, 'posed intrinsics');
    expectGaussians(pred, out, 'posed');
  });

  it('the same run without inferGs gives the same depth and cameras (the Gaussians do not feed back)', async () => {
    const inputs = await loadTensors('tiny-giant/posed/inputs.safetensors');
    const plain = await model.inference(images(inputs.image_u8), { processRes: 42, extrinsics: f32(inputs.extrinsics_input), intrinsics: f32(inputs.intrinsics_input) });
    expect(plain.gaussians).toBeNull();
    expect(Array.from(plain.depth)).toEqual(Array.from(pred.depth));
  });

  it('export gs_ply at H = 28: keeps every view’s Gaussians up to its 0.9 depth quantile (the reference’s 0-pixel border slice would drop all)', async () => {
    // int(8/256·28) = 0: the reference's mask[:, 0:-0] is empty and its file has no vertex; da3js
    // trims nothing on that axis instead (prune.ts). The depth rule is the reference's.
    const [file] = await pred.export({ dir: join(work, 'posed'), formats: 'gs_ply' });
    const text = new TextDecoder().decode(readFileSync(file).subarray(0, 80));
    const keep = gaussianPruneIndices(pred);
    expect(text).toMatch(new RegExp(`^ply\\nformat binary_little_endian 1\\.0\\nelement vertex ${keep.length}\\n`));
    expect(keep.length).toBeGreaterThan(0.85 * 4 * 28 * 42);
  });
});
