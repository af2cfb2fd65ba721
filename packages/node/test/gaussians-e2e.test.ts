import { closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ImageU8, createPrediction, loadConfig, makeRandomCheckpoint } from '@da3js/core';
import { gaussianPruneIndices, readGaussiansPly, selectGaussians } from '@da3js/exporters';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FIXTURES } from '../../../test-utils/fixtures.js';
import { DepthAnything3, exportToDirectory } from '../src/index.js';

/**
 * inferGs end to end on a tiny any-view model that has a GS head (the tiny fixture config plus a
 * GIANT-style GSDPT at tiny width, seeded random weights): graph with `gs_raw` → Gaussian adapter
 * → Prediction.gaussians → 3DGS PLY / KHR glTF / SPZ files.
 */
const work = mkdtempSync(join(tmpdir(), 'da3js-gs-'));
const raw = async (input: unknown) => input as ImageU8;
afterAll(() => rmSync(work, { recursive: true, force: true }));

beforeAll(async () => {
  const tiny = JSON.parse(readFileSync(join(FIXTURES, 'tiny', 'config.json'), 'utf8')).resolved;
  const resolved = {
    ...tiny,
    gs_head: { type: 'GSDPT', dim_in: 128, features: 16, out_channels: [8, 16, 32, 32], output_dim: 38 },
    gs_adapter: { sh_degree: 2, pred_color: false, pred_offset_depth: true, pred_offset_xy: true },
  };
  mkdirSync(join(work, 'model'));
  writeFileSync(join(work, 'model', 'config.json'), JSON.stringify({ model_name: 'da3-tiny-gs', resolved }));
  const fd = openSync(join(work, 'model', 'model.safetensors'), 'w');
  await makeRandomCheckpoint(loadConfig({ resolved }), { seed: 3, sink: { write: (c) => void writeSync(fd, c), close: () => closeSync(fd) } });
});

function image(w: number, h: number, seed: number): ImageU8 {
  const data = new Uint8Array(w * h * 3);
  for (let i = 0; i < data.length; i++) data[i] = (i * 37 + seed * 101) % 251;
  return { data, width: w, height: h, channels: 3 };
}

describe('inferGs', () => {
  it('predicts one Gaussian per pixel with unit rotations, and exports them', async () => {
    const model = DepthAnything3.fromFiles({ configPath: join(work, 'model', 'config.json'), weightsPath: join(work, 'model', 'model.safetensors') }, { cacheDir: join(work, 'cache') }, raw);
    const pred = await model.inference([image(84, 56, 1), image(84, 56, 2)], { processRes: 84, inferGs: true });
    const g = pred.gaussians!;
    expect(g.count).toBe(2 * 56 * 84);
    expect(g.shCoefficients).toBe(9);
    expect([g.means, g.scales, g.rotations, g.harmonics, g.opacities].every((a) => a.every(Number.isFinite))).toBe(true);
    for (let i = 0; i < g.count; i += 97) {
      const q = g.rotations.subarray(i * 4, i * 4 + 4);
      expect(Math.hypot(...q)).toBeCloseTo(1, 5);
      // The reference's scalar-last quaternion has its last number ≥ 0; it is what gsplat renders
      // as w, so in xyzw that is z ≥ 0.
      expect(q[2]).toBeGreaterThanOrEqual(0);
      expect(g.opacities[i]).toBeGreaterThan(0);
      expect(g.opacities[i]).toBeLessThan(1);
    }
    // Random weights can push depth + d_off below 0: the reference then writes log(negative) = NaN
    // into its gs_ply, and so does the PLY writer; the formats storing quantised log scales (SPZ)
    // refuse such scales, so export the valid subset there.
    const invalid = (i: number) => !(g.scales[i * 3] > 0 && g.scales[i * 3 + 1] > 0 && g.scales[i * 3 + 2] > 0);
    const [plyFile] = await pred.export({ dir: join(work, 'ref'), formats: 'gs_ply' });
    const ref = readGaussiansPly(new Uint8Array(readFileSync(plyFile)));
    const keep = gaussianPruneIndices(pred);
    expect(ref.gaussians.count).toBe(keep.length);
    const nanScales = Array.from(keep).filter(invalid).length;
    expect(nanScales).toBeGreaterThan(0);
    const s = ref.gaussians.scales; // exp(NaN) = NaN, exp(−inf) = 0
    let nanRead = 0;
    for (let j = 0; j < keep.length; j++) if (!(s[3 * j] > 0 && s[3 * j + 1] > 0 && s[3 * j + 2] > 0)) nanRead++;
    expect(nanRead).toBe(nanScales);
    await expect(pred.export({ dir: join(work, 'bad'), formats: 'spz' })).rejects.toMatchObject({ code: 'BAD_VALUE' });
    const valid: number[] = [];
    for (let i = 0; i < g.count; i++) if (!invalid(i)) valid.push(i);
    expect(valid.length).toBeGreaterThan(g.count / 4);
    const subset = createPrediction({ ...pred, gaussians: selectGaussians(g, Uint32Array.from(valid)) });
    const files = await exportToDirectory(subset, { dir: join(work, 'out'), formats: 'gs_ply_sh3-gs_gltf-spz' });
    expect(files.map((f) => f.slice(join(work, 'out').length + 1))).toEqual(['gs_ply/0000_sh3.ply', 'gs/scene_gaussians.glb', 'gs/0000.spz']);
    const back = readGaussiansPly(new Uint8Array(readFileSync(files[0])));
    expect(back.gaussians.count).toBe(valid.length);
    await model.dispose();
  });

  it('asks for a model with a GS head', async () => {
    const model = DepthAnything3.fromFiles({ configPath: join(FIXTURES, 'tiny', 'config.json'), weightsPath: join(FIXTURES, 'tiny', 'model.safetensors') }, { cacheDir: join(work, 'cache') }, raw);
    await expect(model.inference([image(84, 56, 1)], { processRes: 84, inferGs: true })).rejects.toThrow(/inferGs needs a model with a GS head/);
    await model.dispose();
  });
});
