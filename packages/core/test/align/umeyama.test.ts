import {
  type Prng,
  alignPosesUmeyama,
  applySim3ToExtrinsics,
  cameraCentres,
  createPrng,
  transformPointsSim3,
  umeyamaSim3,
} from '@da3js/core';
import { describe, expect, it } from 'vitest';
import { asFloat64, loadTensors } from '../helpers/fixtures.js';
import { F64, expectParity } from './parity.js';
import { errorCode } from '../../../../test-utils/tools.js';

const DIR = 'geometry/umeyama_sim3';

describe('alignPosesUmeyama vs geometry/umeyama_sim3 (float64, 1e-9)', async () => {
  const inp = await loadTensors(`${DIR}/inputs.safetensors`);
  const out = await loadTensors(`${DIR}/outputs.safetensors`);

  it('plain Umeyama: R, t, scale and the aligned w2c extrinsics (5 views, ref 4×4, est 3×4)', () => {
    const res = alignPosesUmeyama(asFloat64(inp.ext_ref), asFloat64(inp.ext_est), 5);
    expectParity(res.R, asFloat64(out.R), F64, 'umeyama_sim3.R');
    expectParity(res.t, asFloat64(out.t), F64, 'umeyama_sim3.t');
    expectParity([res.scale], asFloat64(out.scale), F64, 'umeyama_sim3.scale');
    expectParity(res.alignedExtrinsics, asFloat64(out.aligned_extrinsics), F64, 'umeyama_sim3.aligned_extrinsics');
    expect(res.inliers).toBeNull();
  });

  it('RANSAC replaying the recorded draws (12 views, sub_n 6, 10 iterations)', () => {
    expect(out.ransac_draws.shape).toEqual([10, 6]);
    const res = alignPosesUmeyama(asFloat64(inp.ransac_ext_ref), asFloat64(inp.ransac_ext_est), 12, {
      ransac: { draws: out.ransac_draws.data as BigInt64Array },
    });
    expectParity(res.R, asFloat64(out.ransac_R), F64, 'umeyama_sim3.ransac_R');
    expectParity(res.t, asFloat64(out.ransac_t), F64, 'umeyama_sim3.ransac_t');
    expectParity([res.scale], asFloat64(out.ransac_scale), F64, 'umeyama_sim3.ransac_scale');
    expectParity(res.alignedExtrinsics, asFloat64(out.ransac_aligned_extrinsics), F64, 'umeyama_sim3.ransac_aligned_extrinsics');
    // The reference's best iterations keep 10 of 12 views (views 3 and 8 are the outliers).
    expect(Array.from(res.inliers ?? [])).toEqual([1, 1, 1, 0, 1, 1, 1, 1, 0, 1, 1, 1]);
  });

  it('RANSAC with numpySeed 42 draws exactly the recorded rows and gives the same result', () => {
    const replay = alignPosesUmeyama(asFloat64(inp.ransac_ext_ref), asFloat64(inp.ransac_ext_est), 12, {
      ransac: { draws: out.ransac_draws.data as BigInt64Array },
    });
    const seeded = alignPosesUmeyama(asFloat64(inp.ransac_ext_ref), asFloat64(inp.ransac_ext_est), 12, { ransac: { numpySeed: 42 } });
    expect(Array.from(seeded.R)).toEqual(Array.from(replay.R));
    expect(Array.from(seeded.t)).toEqual(Array.from(replay.t));
    expect(seeded.scale).toBe(replay.scale);
    expect(Array.from(seeded.alignedExtrinsics)).toEqual(Array.from(replay.alignedExtrinsics));
  });
});

// ─────────────────────────────────────── properties ───────────────────────────────────────

function gauss(p: Prng): number {
  const u = Math.max(p.next(), 1e-300);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * p.next());
}

/** A uniformly random rotation (normalised Gaussian quaternion), row-major. */
function randomRotation(p: Prng): Float64Array {
  let w = gauss(p), x = gauss(p), y = gauss(p), z = gauss(p);
  const n = Math.hypot(w, x, y, z);
  w /= n; x /= n; y /= n; z /= n;
  return Float64Array.of(
    1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w),
    2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w),
    2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y),
  );
}

/** N random world→camera 3×4 extrinsics with centres spread over a few units. */
function randomExtrinsics(p: Prng, n: number): Float64Array {
  const out = new Float64Array(12 * n);
  for (let i = 0; i < n; i++) {
    const R = randomRotation(p);
    const c = [2 * gauss(p), 2 * gauss(p), 2 * gauss(p)];
    for (let r = 0; r < 3; r++) {
      for (let k = 0; k < 3; k++) out[12 * i + 4 * r + k] = R[3 * r + k];
      out[12 * i + 4 * r + 3] = -(R[3 * r] * c[0] + R[3 * r + 1] * c[1] + R[3 * r + 2] * c[2]);
    }
  }
  return out;
}

/** Applies the inverse of p ↦ sRp + t to world→camera extrinsics (so aligning them back recovers s, R, t). */
function inverseSim3Extrinsics(ext: Float64Array, n: number, R: Float64Array, t: number[], s: number): Float64Array {
  const Rt = Float64Array.of(R[0], R[3], R[6], R[1], R[4], R[7], R[2], R[5], R[8]);
  const inv = { R: Rt, t: Float64Array.from([0, 1, 2], (r) => -(Rt[3 * r] * t[0] + Rt[3 * r + 1] * t[1] + Rt[3 * r + 2] * t[2]) / s), scale: 1 / s };
  return applySim3ToExtrinsics(inv, ext, n);
}

describe('Umeyama properties', () => {
  it('umeyamaSim3 recovers a known Sim(3) from exact correspondences to 1e-9 (20 seeds)', () => {
    for (let seed = 1; seed <= 20; seed++) {
      const p = createPrng(seed);
      const R = randomRotation(p);
      const t = Float64Array.of(5 * gauss(p), 5 * gauss(p), 5 * gauss(p));
      const scale = Math.exp(gauss(p));
      const n = 3 + (seed % 10);
      const src = Float64Array.from({ length: 3 * n }, () => 3 * gauss(p));
      const dst = transformPointsSim3({ R, t, scale }, src);
      const got = umeyamaSim3(src, dst);
      expectParity(got.R, R, F64, `prop.R seed ${seed}`);
      expectParity(got.t, t, F64, `prop.t seed ${seed}`);
      expectParity([got.scale], [scale], F64, `prop.scale seed ${seed}`);
      const det =
        got.R[0] * (got.R[4] * got.R[8] - got.R[5] * got.R[7]) -
        got.R[1] * (got.R[3] * got.R[8] - got.R[5] * got.R[6]) +
        got.R[2] * (got.R[3] * got.R[7] - got.R[4] * got.R[6]);
      expect(det).toBeCloseTo(1, 12);
    }
  });

  it('withScale false fixes the scale at 1 (evo without correct_scale)', () => {
    const p = createPrng(3);
    const R = randomRotation(p);
    const t = Float64Array.of(1, -2, 0.5);
    const src = Float64Array.from({ length: 24 }, () => gauss(p));
    const got = umeyamaSim3(src, transformPointsSim3({ R, t, scale: 1 }, src), { withScale: false });
    expect(got.scale).toBe(1);
    expectParity(got.R, R, F64, 'prop.noscale.R');
    expectParity(got.t, t, F64, 'prop.noscale.t');
  });

  it('alignPosesUmeyama maps the estimated cameras onto the reference ones (aligned w2c = reference)', () => {
    const p = createPrng(11);
    const n = 7;
    const ref = randomExtrinsics(p, n);
    const R = randomRotation(p);
    const t = [0.3, -1.2, 2.5];
    const s = 0.37;
    const est = inverseSim3Extrinsics(ref, n, R, t, s);
    const res = alignPosesUmeyama(ref, est, n);
    expectParity(res.R, R, F64, 'prop.poses.R');
    expectParity(res.t, t, F64, 'prop.poses.t');
    expectParity([res.scale], [s], F64, 'prop.poses.scale');
    const ref44 = applySim3ToExtrinsics({ R: Float64Array.of(1, 0, 0, 0, 1, 0, 0, 0, 1), t: new Float64Array(3), scale: 1 }, ref, n);
    expectParity(res.alignedExtrinsics, ref44, F64, 'prop.poses.aligned');
  });

  it('RANSAC in seeded mode recovers the Sim(3) despite outlier cameras, and flags them', () => {
    const n = 16;
    const outliers = [2, 9, 13];
    const R0 = randomRotation(createPrng(99));
    const t = [1, 2, -3];
    const s = 2.5;
    for (const ransac of [{ seed: 7, subN: 4 }, { numpySeed: 42, subN: 4 }, { seed: 123 }]) {
      const p = createPrng(5);
      const ref = randomExtrinsics(p, n);
      const est = inverseSim3Extrinsics(ref, n, R0, t, s);
      // Move the outliers' camera centres far away (w2c translation shift).
      for (const o of outliers) for (let r = 0; r < 3; r++) est[16 * o + 4 * r + 3] += 4 + 3 * r;
      const res = alignPosesUmeyama(ref, est, n, { ransac });
      expectParity(res.R, R0, F64, `prop.ransac.R ${JSON.stringify(ransac)}`);
      expectParity(res.t, t, F64, `prop.ransac.t ${JSON.stringify(ransac)}`);
      expectParity([res.scale], [s], F64, `prop.ransac.scale ${JSON.stringify(ransac)}`);
      const want = Array.from({ length: n }, (_, i) => (outliers.includes(i) ? 0 : 1));
      expect(Array.from(res.inliers ?? [])).toEqual(want);
      // Plain Umeyama is pulled off by the outliers.
      expect(Math.abs(alignPosesUmeyama(ref, est, n).scale - s)).toBeGreaterThan(1e-3);
    }
  });

  it('cameraCentres returns −Rᵀt for 3×4 and 4×4 batches', () => {
    const ext = randomExtrinsics(createPrng(4), 3);
    const c = cameraCentres(ext, 3);
    const back = applySim3ToExtrinsics({ R: Float64Array.of(1, 0, 0, 0, 1, 0, 0, 0, 1), t: new Float64Array(3), scale: 1 }, ext, 3);
    expectParity(cameraCentres(back, 3), c, F64, 'centres 4×4 vs 3×4');
    for (let i = 0; i < 3; i++) {
      const R = ext.subarray(12 * i, 12 * i + 12);
      for (let r = 0; r < 3; r++) {
        // R·c + t = 0 for the camera centre.
        const v = R[4 * r] * c[3 * i] + R[4 * r + 1] * c[3 * i + 1] + R[4 * r + 2] * c[3 * i + 2] + R[4 * r + 3];
        expect(Math.abs(v)).toBeLessThan(1e-12);
      }
    }
  });
});

// ─────────────────────────────────────── bad inputs ───────────────────────────────────────


describe('Umeyama / pose alignment bad inputs → typed Da3Error', () => {
  const pts = Float64Array.of(0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1);
  const ext = randomExtrinsics(createPrng(2), 4);

  it('NaN point → NON_FINITE', () => {
    const bad = Float64Array.from(pts);
    bad[4] = Number.NaN;
    expect(errorCode(() => umeyamaSim3(bad, pts))).toBe('NON_FINITE');
  });
  it('NaN extrinsic → NON_FINITE', () => {
    const bad = Float64Array.from(ext);
    bad[7] = Number.POSITIVE_INFINITY;
    expect(errorCode(() => alignPosesUmeyama(ext, bad, 4))).toBe('NON_FINITE');
  });
  it('mismatched point sets → BAD_SHAPE', () => {
    expect(errorCode(() => umeyamaSim3(pts, pts.subarray(0, 9)))).toBe('BAD_SHAPE');
  });
  it('extrinsics not N×3×4 / N×4×4 → BAD_SHAPE', () => {
    expect(errorCode(() => alignPosesUmeyama(ext, ext.subarray(0, 40), 4))).toBe('BAD_SHAPE');
  });
  it('no points → EMPTY_INPUT', () => {
    expect(errorCode(() => umeyamaSim3([], []))).toBe('EMPTY_INPUT');
  });
  it('two views → DEGENERATE (the reference crashes, issue #241)', () => {
    expect(errorCode(() => alignPosesUmeyama(ext.subarray(0, 24), ext.subarray(0, 24), 2))).toBe('DEGENERATE');
  });
  it('collinear points → DEGENERATE (evo rank check)', () => {
    const line = Float64Array.of(0, 0, 0, 1, 1, 1, 2, 2, 2, 3, 3, 3);
    expect(errorCode(() => umeyamaSim3(line, line))).toBe('DEGENERATE');
  });
  it('views not a positive integer → BAD_VALUE', () => {
    expect(errorCode(() => alignPosesUmeyama(ext, ext, 0))).toBe('BAD_VALUE');
  });
  it('bad RANSAC draws → BAD_VALUE', () => {
    const ext12 = randomExtrinsics(createPrng(8), 12);
    expect(errorCode(() => alignPosesUmeyama(ext12, ext12, 12, { ransac: { draws: [[0, 1, 2, 3, 4, 12]] } }))).toBe('BAD_VALUE');
    expect(errorCode(() => alignPosesUmeyama(ext12, ext12, 12, { ransac: { draws: [[0, 1, 2, 3, 4, 4]] } }))).toBe('BAD_VALUE');
    expect(errorCode(() => alignPosesUmeyama(ext12, ext12, 12, { ransac: { seed: 1, numpySeed: 1 } }))).toBe('BAD_VALUE');
  });
});
