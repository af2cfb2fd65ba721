import { cameraFromRayMap } from '@da3js/core';
import { describe, expect, it } from 'vitest';
import { asFloat64, loadTensors } from '../helpers/fixtures.js';
import { expectParity, f32 } from '../camera/parity-log.js';

const DIR = 'geometry/ray_to_pose';
/** fixtures README §5: `geometry/ray_to_pose` exact, 1e-4 relative. */
const EXACT = { atol: 1e-4, rtol: 1e-4 };

describe('cameraFromRayMap vs geometry/ray_to_pose', async () => {
  const inp = await loadTensors(`${DIR}/inputs.safetensors`);
  const out = await loadTensors(`${DIR}/outputs.safetensors`);
  const hw = Array.from(asFloat64(inp.image_hw)) as [number, number];
  const dims = { views: 2, height: 32, width: 48 };
  const conf = asFloat64(inp.ray_conf);

  for (const which of ['exact', 'noisy'] as const) {
    it(`${which}: replayed draws reproduce the reference outputs`, () => {
      const rays = asFloat64(inp[`ray_${which}`]);
      const draws = out[`${which}.rand_sample_iters_idx`].data as BigInt64Array;
      const res = cameraFromRayMap(rays, conf, dims, hw, { draws });
      expect(res.nSample).toBe(460);
      expectParity(res.c2w, asFloat64(out[`${which}.c2w_from_rays`]), EXACT, `ray_to_pose.${which}.c2w_from_rays`);
      expectParity(res.focalNormalized, asFloat64(out[`${which}.focal_normalized`]), EXACT, `ray_to_pose.${which}.focal_normalized`);
      expectParity(
        res.principalPointNormalized,
        asFloat64(out[`${which}.principal_point_normalized`]),
        EXACT,
        `ray_to_pose.${which}.principal_point_normalized`,
      );
      expectParity(res.w2c, asFloat64(out[`${which}.extrinsics_w2c`]), EXACT, `ray_to_pose.${which}.extrinsics_w2c`);
      expectParity(res.intrinsics, asFloat64(out[`${which}.intrinsics`]), EXACT, `ray_to_pose.${which}.intrinsics`);
      if (which === 'exact') {
        expect(Array.from(res.inlierCounts)).toEqual([1536, 1536]);
        expectParity(res.w2c, asFloat64(inp.gt_extrinsics_w2c), EXACT, 'ray_to_pose.exact vs gt_extrinsics_w2c');
        expectParity(res.intrinsics, asFloat64(inp.gt_intrinsics), EXACT, 'ray_to_pose.exact vs gt_intrinsics');
      }
    });
  }

  it('exact rays do not depend on the draws: seeded mode also recovers gt', () => {
    const res = cameraFromRayMap(asFloat64(inp.ray_exact), conf, dims, hw, { seed: 123 });
    expectParity(res.w2c, asFloat64(inp.gt_extrinsics_w2c), EXACT, 'ray_to_pose.exact seeded vs gt_extrinsics_w2c');
    expectParity(res.intrinsics, asFloat64(inp.gt_intrinsics), EXACT, 'ray_to_pose.exact seeded vs gt_intrinsics');
  });

  it('float32 rays give the same answer as their float64 copy', () => {
    const a = cameraFromRayMap(inp.ray_noisy.data as Float32Array, inp.ray_conf.data as Float32Array, dims, hw, {
      draws: out['noisy.rand_sample_iters_idx'].data as BigInt64Array,
    });
    const b = cameraFromRayMap(asFloat64(inp.ray_noisy), conf, dims, hw, { draws: asFloat64(out['noisy.rand_sample_iters_idx']) });
    expect(Array.from(a.w2c)).toEqual(Array.from(b.w2c));
    expect(f32(a.intrinsics)).toEqual(f32(b.intrinsics));
  });
});
