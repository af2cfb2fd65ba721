import { cameraFromRayMap } from '@da3js/core';
import { describe, expect, it } from 'vitest';
import { asFloat64, loadJson, loadTensors } from '../helpers/fixtures.js';
import { expectParity } from '../camera/parity-log.js';

/**
 * The tiny random network's ray-pose run (`use_ray_pose=True`, draws recorded). The ray map is not
 * a real camera, so this is badly conditioned (focal up to 46 half-widths): fixtures README §5
 * suggests about 1e-3 relative (the reference's own float32-vs-float64 difference is up to 2.5e-4).
 */
const TINY = { atol: 1e-3, rtol: 1e-3 };

interface CaseJson {
  image_hw: number[];
  meta: Record<string, unknown>;
}

describe.each(['mono', 'multi', 'posed'])('cameraFromRayMap replays tiny/%s', (name) => {
  it('reproduces raypose.* from head_out.ray / ray_conf and the recorded draws', async () => {
    const o = await loadTensors(`tiny/${name}/outputs.safetensors`);
    const cj = loadJson<CaseJson>(`tiny/${name}/case.json`);
    const [, views, h, w] = o['head_out.ray'].shape;
    const hw = cj.image_hw as [number, number];
    expect(hw).toEqual([56, 84]);
    const res = cameraFromRayMap(
      o['head_out.ray'].data as Float32Array,
      o['head_out.ray_conf'].data as Float32Array,
      { views, height: h, width: w },
      hw,
      { draws: o['raypose.rand_sample_iters_idx'].data as BigInt64Array },
    );
    expect(res.nSample).toBe(cj.meta['raypose.raypose.n_sample']);
    const tag = `tiny/${name}`;
    expectParity(res.c2w, asFloat64(o['raypose.c2w_from_rays']), TINY, `${tag} raypose.c2w_from_rays`);
    expectParity(res.focalNormalized, asFloat64(o['raypose.focal_normalized']), TINY, `${tag} raypose.focal_normalized`);
    expectParity(
      res.principalPointNormalized,
      asFloat64(o['raypose.principal_point_normalized']),
      TINY,
      `${tag} raypose.principal_point_normalized`,
    );
    expectParity(res.w2c, asFloat64(o['raypose.out.extrinsics']), TINY, `${tag} raypose.out.extrinsics`);
    expectParity(res.intrinsics, asFloat64(o['raypose.out.intrinsics']), TINY, `${tag} raypose.out.intrinsics`);
  });
});
