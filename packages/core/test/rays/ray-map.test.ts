import { RAY_MAP_CHANNELS, affineInverse, makeIntrinsics, rayMapFromCamera } from '@da3js/core';
import { describe, expect, it } from 'vitest';
import { asFloat64, loadTensors } from '../helpers/fixtures.js';
import { F32, expectParity } from '../camera/parity-log.js';

const DIR = 'geometry/ray_to_pose';

describe('rayMapFromCamera vs geometry/ray_to_pose ray_exact', async () => {
  const inp = await loadTensors(`${DIR}/inputs.safetensors`);
  const hw = Array.from(asFloat64(inp.image_hw)) as [number, number];

  it('gt cameras give the exact ray map (dir = R_c2w·K′⁻¹[u+½, v+½, 1], origin = centre; K′ rescaled to 32×48)', () => {
    expect(hw).toEqual([56, 84]);
    expect(inp.ray_exact.shape).toEqual([1, 2, 32, 48, 6]);
    const got = rayMapFromCamera(asFloat64(inp.gt_extrinsics_w2c), asFloat64(inp.gt_intrinsics), hw, [32, 48]);
    expectParity(got, asFloat64(inp.ray_exact), F32, 'ray_to_pose.ray_exact (from gt cameras)');
  });
});

describe('rayMapFromCamera properties', () => {
  it('camera-frame z of every direction is 1 and the origin is the camera centre', () => {
    const w2c = [0, -1, 0, 0.5, 0, 0, -1, 0.2, 1, 0, 0, 3];
    const got = rayMapFromCamera(w2c, makeIntrinsics(300, 320, 150, 100), [200, 300], [20, 30]);
    const c2w = affineInverse(new Float64Array(12), w2c);
    for (let p = 0; p < 20 * 30; p++) {
      const d = got.subarray(p * RAY_MAP_CHANNELS, p * RAY_MAP_CHANNELS + 3);
      // z_cam = (Rᵀ d)_z = row 2 of R_w2c · d
      expect(w2c[8] * d[0] + w2c[9] * d[1] + w2c[10] * d[2]).toBeCloseTo(1, 12);
      expect(got[p * 6 + 3]).toBeCloseTo(c2w[3], 14);
      expect(got[p * 6 + 4]).toBeCloseTo(c2w[7], 14);
      expect(got[p * 6 + 5]).toBeCloseTo(c2w[11], 14);
    }
    // the centre ray of an even-sized map with a centred K passes between the four middle pixels
    const id = rayMapFromCamera([1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0], makeIntrinsics(100, 100, 50, 40), [80, 100], [8, 10]);
    const p = (3 * 10 + 4) * 6;
    expect(id[p]).toBeCloseTo(-0.05, 14); // (4.5 − c′x)/f′x with f′x = 100·10/100, c′x = 50·10/100
    expect(id[p + 1]).toBeCloseTo(-0.05, 14); // (3.5 − c′y)/f′y with f′y = 100·8/80, c′y = 40·8/80
  });
});

describe('rayMapFromCamera input errors', () => {
  const K = makeIntrinsics(100, 100, 50, 50);
  const e = [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0];
  it('BAD_SHAPE for mismatched extrinsics', () => {
    expect(() => rayMapFromCamera(e.slice(0, 8), K, [100, 100], [8, 8])).toThrow(expect.objectContaining({ code: 'BAD_SHAPE' }));
  });
  it('BAD_VALUE for a fractional map size', () => {
    expect(() => rayMapFromCamera(e, K, [100, 100], [8.5, 8])).toThrow(expect.objectContaining({ code: 'BAD_VALUE' }));
  });
  it('NON_FINITE for NaN intrinsics', () => {
    expect(() => rayMapFromCamera(e, makeIntrinsics(Number.NaN, 1, 0, 0), [100, 100], [8, 8])).toThrow(expect.objectContaining({ code: 'NON_FINITE' }));
  });
  it('DEGENERATE for singular intrinsics', () => {
    expect(() => rayMapFromCamera(e, makeIntrinsics(0, 100, 50, 50), [100, 100], [8, 8])).toThrow(expect.objectContaining({ code: 'DEGENERATE' }));
  });
});
