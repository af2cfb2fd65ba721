import {
  type RayPoseResult,
  cameraFromRayMap,
  createPrng,
  makeIntrinsics,
  qlDecomposition3,
  quatXyzwToMat3,
  rayMapFromCamera,
} from '@da3js/core';
import { describe, expect, it } from 'vitest';

type Rng = () => number;

function randomRotation(rng: Rng): Float64Array {
  const u1 = rng(), u2 = rng(), u3 = rng();
  const a = Math.sqrt(1 - u1), b = Math.sqrt(u1);
  const q = [a * Math.sin(2 * Math.PI * u2), a * Math.cos(2 * Math.PI * u2), b * Math.sin(2 * Math.PI * u3), b * Math.cos(2 * Math.PI * u3)];
  return quatXyzwToMat3(new Float64Array(9), q);
}

interface Scene {
  w2c: Float64Array;
  K: Float64Array;
  hw: [number, number];
  map: [number, number];
}

/** Random cameras (uniform rotations, centred principal point, fov 30°–110°) for an image and ray-map size. */
function scene(rng: Rng, views: number, hw: [number, number], map: [number, number]): Scene {
  const w2c = new Float64Array(12 * views);
  const K = new Float64Array(9 * views);
  for (let b = 0; b < views; b++) {
    const R = randomRotation(rng);
    for (let i = 0; i < 3; i++) {
      for (let j = 0; j < 3; j++) w2c[12 * b + 4 * i + j] = R[3 * i + j];
      w2c[12 * b + 4 * i + 3] = 6 * (rng() - 0.5);
    }
    const fovW = ((30 + 80 * rng()) * Math.PI) / 180;
    const fx = hw[1] / 2 / Math.tan(fovW / 2);
    const fy = fx * (0.9 + 0.2 * rng()); // non-square pixels too
    makeIntrinsics(fx, fy, hw[1] / 2, hw[0] / 2, K.subarray(9 * b, 9 * b + 9));
  }
  return { w2c, K, hw, map };
}

/** Angle of R_a·R_bᵀ in radians (rows 0..2 of two 3×4 w2c). */
function rotationError(a: ArrayLike<number>, b: ArrayLike<number>, oa: number, ob: number): number {
  let tr = 0;
  for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) tr += a[oa + 4 * i + j] * b[ob + 4 * i + j];
  return Math.acos(Math.min(1, Math.max(-1, (tr - 1) / 2)));
}

function checkRecovered(res: RayPoseResult, s: Scene, views: number, rotTol: number, focalTol: number, centreTol: number): void {
  for (let b = 0; b < views; b++) {
    expect(rotationError(res.w2c, s.w2c, 12 * b, 12 * b)).toBeLessThan(rotTol);
    expect(Math.abs(res.intrinsics[9 * b] / s.K[9 * b] - 1)).toBeLessThan(focalTol);
    expect(Math.abs(res.intrinsics[9 * b + 4] / s.K[9 * b + 4] - 1)).toBeLessThan(focalTol);
    expect(Math.abs(res.intrinsics[9 * b + 2] - s.K[9 * b + 2])).toBeLessThan(focalTol * s.hw[1]);
    expect(Math.abs(res.intrinsics[9 * b + 5] - s.K[9 * b + 5])).toBeLessThan(focalTol * s.hw[0]);
    // camera centre −Rᵀt
    for (let i = 0; i < 3; i++) {
      let got = 0;
      let want = 0;
      for (let k = 0; k < 3; k++) {
        got -= res.w2c[12 * b + 4 * k + i] * res.w2c[12 * b + 4 * k + 3];
        want -= s.w2c[12 * b + 4 * k + i] * s.w2c[12 * b + 4 * k + 3];
      }
      expect(Math.abs(got - want)).toBeLessThan(centreTol);
    }
  }
}

describe('cameraFromRayMap recovers known cameras (seeded mode)', () => {
  const sizes: { hw: [number, number]; map: [number, number] }[] = [
    { hw: [280, 504], map: [160, 288] }, // landscape, a real DA3 ray-map size (> 8000 inliers: subsampled refit)
    { hw: [504, 280], map: [64, 32] }, // portrait
    { hw: [336, 336], map: [48, 48] }, // square
  ];
  for (const { hw, map } of sizes) {
    it(`exact rays, image ${hw[0]}×${hw[1]}, map ${map[0]}×${map[1]}: rotation < 1e-4 rad, focal < 1e-4 relative`, () => {
      const prng = createPrng(hw[0] * 7 + map[0]);
      const rng = () => prng.next();
      const views = 4;
      const s = scene(rng, views, hw, map);
      const rays = rayMapFromCamera(s.w2c, s.K, hw, map);
      const conf = new Float64Array(views * map[0] * map[1]).map(() => 1 + 3 * rng());
      const res = cameraFromRayMap(rays, conf, { views, height: map[0], width: map[1] }, hw, { seed: 1 });
      checkRecovered(res, s, views, 1e-4, 1e-4, 1e-9);
      // every ray with |dz| > 1e-4 (world frame) is an inlier; the others have weight 0
      const n = map[0] * map[1];
      for (let b = 0; b < views; b++) {
        let usable = 0;
        for (let p = 0; p < n; p++) if (Math.abs(rays[6 * (b * n + p) + 2]) > 1e-4) usable++;
        expect(res.inlierCounts[b]).toBeGreaterThanOrEqual(usable);
        expect(usable).toBeGreaterThan(0.99 * n);
      }
    });
  }

  it('noisy rays with 10% outliers: RANSAC rejects the outliers', () => {
    const prng = createPrng(77);
    const rng = () => prng.next();
    const views = 3;
    const hw: [number, number] = [280, 504];
    const map: [number, number] = [40, 72];
    const s = scene(rng, views, hw, map);
    const rays = rayMapFromCamera(s.w2c, s.K, hw, map);
    const n = map[0] * map[1];
    for (let p = 0; p < views * n; p++) {
      if (rng() < 0.1) {
        for (let c = 0; c < 3; c++) rays[6 * p + c] = 4 * (rng() - 0.5);
      } else {
        for (let c = 0; c < 3; c++) rays[6 * p + c] *= 1 + 1e-4 * (rng() - 0.5);
      }
    }
    const conf = new Float64Array(views * n).map(() => 1 + 3 * rng());
    const res = cameraFromRayMap(rays, conf, { views, height: map[0], width: map[1] }, hw, { seed: 5 });
    checkRecovered(res, s, views, 1e-3, 1e-3, 1e-9);
  });

  it('is deterministic per seed, and the returned draws replay the run', () => {
    const prng = createPrng(11);
    const rng = () => prng.next();
    const hw: [number, number] = [280, 504];
    const map: [number, number] = [20, 36];
    const s = scene(rng, 2, hw, map);
    const rays = rayMapFromCamera(s.w2c, s.K, hw, map);
    for (let p = 0; p < rays.length / 6; p += 7) rays[6 * p] += 0.5; // some outliers
    const dims = { views: 2, height: map[0], width: map[1] };
    const a = cameraFromRayMap(rays, null, dims, hw, { seed: 3 });
    const b = cameraFromRayMap(rays, null, dims, hw, { seed: 3 });
    const c = cameraFromRayMap(rays, null, dims, hw, { draws: a.draws });
    expect(Array.from(b.w2c)).toEqual(Array.from(a.w2c));
    expect(Array.from(c.w2c)).toEqual(Array.from(a.w2c));
    expect(a.draws.length).toBe(800);
    const d = cameraFromRayMap(rays, null, dims, hw, { seed: 4 });
    expect(Array.from(d.draws)).not.toEqual(Array.from(a.draws));
  });

  it('zero-weight rays (|dz| ≤ 1e-4) are left out of the origin mean, as the reference does', () => {
    const hw: [number, number] = [56, 84];
    const map: [number, number] = [8, 12];
    const w2c = new Float64Array([1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0]);
    const K = makeIntrinsics(70, 70, 42, 28);
    const rays = rayMapFromCamera(w2c, K, hw, map);
    // ray 0: a garbage origin and dz = 0 → must not move T
    rays.set([1, 1, 0, 100, 100, 100], 0);
    const res = cameraFromRayMap(rays, null, { views: 1, height: map[0], width: map[1] }, hw, { seed: 0 });
    expect(Math.abs(res.c2w[3]) + Math.abs(res.c2w[7]) + Math.abs(res.c2w[11])).toBeLessThan(1e-12);
  });
});

describe('qlDecomposition3', () => {
  it('A = Q·L with Q orthonormal, L lower-triangular, diag(L) > 0', () => {
    const prng = createPrng(2);
    for (let t = 0; t < 20; t++) {
      const a = Array.from({ length: 9 }, () => prng.next() - 0.5);
      const { q, l } = qlDecomposition3(a);
      for (let i = 0; i < 3; i++) {
        expect(l[3 * i + i]).toBeGreaterThan(0);
        for (let j = i + 1; j < 3; j++) expect(l[3 * i + j] === 0).toBe(true);
        for (let j = 0; j < 3; j++) {
          let qq = 0;
          let ql = 0;
          for (let k = 0; k < 3; k++) {
            qq += q[3 * k + i] * q[3 * k + j];
            ql += q[3 * i + k] * l[3 * k + j];
          }
          expect(Math.abs(qq - (i === j ? 1 : 0))).toBeLessThan(1e-14);
          expect(Math.abs(ql - a[3 * i + j])).toBeLessThan(1e-14);
        }
      }
    }
  });
});

describe('cameraFromRayMap input errors', () => {
  const hw: [number, number] = [56, 84];
  const dims = { views: 1, height: 4, width: 6 };
  const rays = rayMapFromCamera([1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0], makeIntrinsics(70, 70, 42, 28), hw, [4, 6]);
  const ones = new Float64Array(24).fill(1);

  it('BAD_SHAPE when rays do not match dims', () => {
    expect(() => cameraFromRayMap(rays.subarray(1), ones, dims, hw)).toThrow(expect.objectContaining({ code: 'BAD_SHAPE' }));
  });
  it('BAD_SHAPE when conf does not match dims', () => {
    expect(() => cameraFromRayMap(rays, ones.subarray(1), dims, hw)).toThrow(expect.objectContaining({ code: 'BAD_SHAPE' }));
  });
  it('BAD_SHAPE when the map has fewer rays than one RANSAC sample', () => {
    const small = rayMapFromCamera([1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0], makeIntrinsics(70, 70, 42, 28), hw, [2, 3]);
    expect(() => cameraFromRayMap(small, null, { views: 1, height: 2, width: 3 }, hw)).toThrow(expect.objectContaining({ code: 'BAD_SHAPE' }));
  });
  it('NON_FINITE for a NaN ray', () => {
    const bad = Float64Array.from(rays);
    bad[7] = Number.NaN;
    expect(() => cameraFromRayMap(bad, ones, dims, hw)).toThrow(expect.objectContaining({ code: 'NON_FINITE' }));
  });
  it('NON_FINITE for an infinite confidence', () => {
    const c = Float64Array.from(ones);
    c[3] = Number.POSITIVE_INFINITY;
    expect(() => cameraFromRayMap(rays, c, dims, hw)).toThrow(expect.objectContaining({ code: 'NON_FINITE' }));
  });
  it('BAD_VALUE for a negative confidence', () => {
    const c = Float64Array.from(ones);
    c[3] = -1;
    expect(() => cameraFromRayMap(rays, c, dims, hw)).toThrow(expect.objectContaining({ code: 'BAD_VALUE' }));
  });
  it('DEGENERATE for all-zero confidence', () => {
    expect(() => cameraFromRayMap(rays, new Float64Array(24), dims, hw)).toThrow(expect.objectContaining({ code: 'DEGENERATE' }));
  });
  it('DEGENERATE when every ray has |dz| ≤ 1e-4', () => {
    const flat = Float64Array.from(rays);
    for (let p = 0; p < 24; p++) flat[6 * p + 2] = 0;
    expect(() => cameraFromRayMap(flat, ones, dims, hw)).toThrow(expect.objectContaining({ code: 'DEGENERATE' }));
  });
  it('BAD_SHAPE for a draws table of the wrong size', () => {
    expect(() => cameraFromRayMap(rays, ones, dims, hw, { draws: new Int32Array(799) })).toThrow(expect.objectContaining({ code: 'BAD_SHAPE' }));
  });
  it('OUT_OF_RANGE for a draw index outside the candidate list', () => {
    const d = new Int32Array(800);
    d[5] = 8; // nSample = max(8, floor(24·0.3)) = 8
    expect(() => cameraFromRayMap(rays, ones, dims, hw, { draws: d })).toThrow(expect.objectContaining({ code: 'OUT_OF_RANGE' }));
  });
  it('BAD_VALUE for an out-of-range option', () => {
    expect(() => cameraFromRayMap(rays, ones, dims, hw, { reprojectionThreshold: 0 })).toThrow(expect.objectContaining({ code: 'BAD_VALUE' }));
  });
  it('BAD_VALUE for a non-positive image size', () => {
    expect(() => cameraFromRayMap(rays, ones, dims, [0, 84])).toThrow(expect.objectContaining({ code: 'BAD_VALUE' }));
  });
});
