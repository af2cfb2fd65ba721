import {
  createPrng,
  makeIntrinsics,
  quatXyzwToMat3,
  rayMapFromCamera,
  unprojectDepthToWorld,
  worldPointsFromDepthGlb,
  worldPointsFromRays,
} from '@da3js/core';
import { describe, expect, it } from 'vitest';
import { asFloat64, loadTensors } from '../helpers/fixtures.js';
import { F32, F64, expectParity, f32 } from '../camera/parity-log.js';

const DIR = 'geometry/depth_to_points';

describe('points from depth vs geometry/depth_to_points', async () => {
  const inp = await loadTensors(`${DIR}/inputs.safetensors`);
  const out = await loadTensors(`${DIR}/outputs.safetensors`);
  const [n, h, w] = inp.depth.shape;
  const dims = { views: n, height: h, width: w };
  const depth = asFloat64(inp.depth);
  const K = asFloat64(inp.K);
  const w2c = asFloat64(inp.extrinsics_w2c);

  it('unproject_depth: float64 run to 1e-9, float32 run to 1e-5', () => {
    const got = unprojectDepthToWorld(depth, K, w2c, dims);
    expect(got.length).toBe(n * h * w * 3);
    expectParity(got, asFloat64(out.unproject_depth_f64), F64, 'depth_to_points.unproject_depth_f64');
    // the float32 run starts from float32 inputs
    const got32 = unprojectDepthToWorld(f32(depth), f32(K), f32(w2c), dims);
    expectParity(got32, asFloat64(out.unproject_depth_f32), F32, 'depth_to_points.unproject_depth_f32');
  });

  it('GLB exporter points (float32 inputs, float64 maths, float32 out)', () => {
    const got = worldPointsFromDepthGlb(f32(depth), f32(K), f32(w2c), dims);
    expect(got).toBeInstanceOf(Float32Array);
    expectParity(got, asFloat64(out.glb_world_points), F32, 'depth_to_points.glb_world_points');
  });
});

describe('points from rays', () => {
  it('origin + depth·dir equals the unprojection at pixel centres (random cameras, non-square)', () => {
    const prng = createPrng(9);
    const rng = () => prng.next();
    const views = 3;
    const [H, W] = [280, 504];
    const [h, w] = [20, 36];
    const w2c = new Float64Array(12 * views);
    const K = new Float64Array(9 * views);
    for (let b = 0; b < views; b++) {
      const R = quatXyzwToMat3(new Float64Array(9), [rng() - 0.5, rng() - 0.5, rng() - 0.5, rng() - 0.5]);
      for (let i = 0; i < 3; i++) {
        for (let j = 0; j < 3; j++) w2c[12 * b + 4 * i + j] = R[3 * i + j];
        w2c[12 * b + 4 * i + 3] = 4 * (rng() - 0.5);
      }
      makeIntrinsics(300 + 400 * rng(), 300 + 400 * rng(), W / 2 + 10 * (rng() - 0.5), H / 2 + 10 * (rng() - 0.5), K.subarray(9 * b, 9 * b + 9));
    }
    const depth = new Float64Array(views * h * w).map(() => 0.5 + 10 * rng());
    const rays = rayMapFromCamera(w2c, K, [H, W], [h, w]);
    const got = worldPointsFromRays(rays, depth, { views, height: h, width: w });
    // K rescaled to the ray map resolution
    const Kmap = Float64Array.from(K);
    for (let b = 0; b < views; b++) {
      for (let j = 0; j < 3; j++) {
        Kmap[9 * b + j] *= w / W;
        Kmap[9 * b + 3 + j] *= h / H;
      }
    }
    const want = unprojectDepthToWorld(depth, Kmap, w2c, { views, height: h, width: w }, { pixelOffset: 0.5 });
    expectParity(got, want, { atol: 1e-12, rtol: 1e-12 }, 'worldPointsFromRays vs pixel-centre unprojection');
  });

  it('BAD_SHAPE when depth and rays disagree', () => {
    expect(() => worldPointsFromRays(new Float64Array(6 * 4), new Float64Array(3), { views: 1, height: 2, width: 2 })).toThrow(
      expect.objectContaining({ code: 'BAD_SHAPE' }),
    );
  });
  it('NON_FINITE for NaN depth', () => {
    expect(() => worldPointsFromRays(new Float64Array(6), [Number.NaN], { views: 1, height: 1, width: 1 })).toThrow(
      expect.objectContaining({ code: 'NON_FINITE' }),
    );
  });
  it('BAD_VALUE for bad dims', () => {
    expect(() => worldPointsFromRays(new Float64Array(6), [1], { views: 1, height: 0, width: 1 })).toThrow(
      expect.objectContaining({ code: 'BAD_VALUE' }),
    );
  });
  it('DEGENERATE for singular intrinsics in unprojectDepthToWorld', () => {
    expect(() =>
      unprojectDepthToWorld([1], new Float64Array(9), [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0], { views: 1, height: 1, width: 1 }),
    ).toThrow(expect.objectContaining({ code: 'DEGENERATE' }));
  });
  it('GLB points let non-finite depth through (the exporter filters it)', () => {
    const p = worldPointsFromDepthGlb([Number.NaN, 1], makeIntrinsics(1, 1, 0, 0), [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0], {
      views: 1,
      height: 1,
      width: 2,
    });
    expect(Number.isNaN(p[2])).toBe(true);
    expect(Array.from(p.subarray(3))).toEqual([1, 0, 1]);
  });
});
