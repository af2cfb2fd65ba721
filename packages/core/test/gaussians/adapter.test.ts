import { describe, expect, it } from 'vitest';
import { quatXyzwToMat3 } from '../../src/camera/quaternion.js';
import { Da3Error } from '../../src/errors.js';
import { gaussiansFromRawMap, gsRawChannels, rotateShCoefficients, type GaussianAdapterInputs } from '../../src/gaussians/index.js';

const H = 3, W = 4, C = 38;
const FX = 5, FY = 6, CX = 2.1, CY = 1.4;
const K = [FX, 0, CX, 0, FY, CY, 0, 0, 1];
const ID34 = [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0];
const sigmoid = (x: number): number => 1 / (1 + Math.exp(-x));

let seed = 99;
const rand = (): number => {
  seed = (seed * 1103515245 + 12345) % 2147483648;
  return seed / 2147483648;
};
const sym = (): number => 2 * rand() - 1;

function inputs(over: Partial<GaussianAdapterInputs> = {}): GaussianAdapterInputs {
  const raw = new Float32Array(H * W * C);
  for (let p = 0; p < H * W; p++) raw[p * C + 7] = 1; // q2 = 1 → w after the reorder: identity
  const depth = new Float32Array(H * W).map((_, i) => 1 + 0.25 * i);
  return { raw, depth, extrinsics: ID34, intrinsics: K, views: 1, height: H, width: W, ...over };
}

function randomRaw(n = 1): Float32Array {
  return new Float32Array(n * H * W * C).map(() => 2 * sym());
}

function closeArr(got: ArrayLike<number>, want: ArrayLike<number>, tol: number): void {
  expect(got.length).toBe(want.length);
  let err = 0;
  for (let i = 0; i < got.length; i++) err = Math.max(err, Math.abs(got[i] - want[i]));
  expect(err).toBeLessThan(tol);
}

/** The reference's scalar-last quaternion of R_world (`mat_to_quat`) from our xyzw [b, c, d, a]. */
function referenceQuat(q: Float32Array, i: number): number[] {
  return [q[4 * i + 3], q[4 * i], q[4 * i + 1], q[4 * i + 2]];
}

/** A rigid w2c [R|t] from a c2w rotation Rc and camera centre Cc. */
function w2cFrom(rc: ArrayLike<number>, cc: readonly number[]): number[] {
  const out: number[] = [];
  for (let i = 0; i < 3; i++) {
    const row = [rc[i], rc[3 + i], rc[6 + i]]; // row i of Rcᵀ
    out.push(...row, -(row[0] * cc[0] + row[1] * cc[1] + row[2] * cc[2]));
  }
  return out;
}

describe('gaussiansFromRawMap', () => {
  it('has 38 channels for degree 2', () => {
    expect(gsRawChannels(2)).toBe(38);
    expect(gsRawChannels(0)).toBe(14);
  });

  it('puts means on the pixel-centre ray at distance depth (identity camera, zero offsets)', () => {
    const inp = inputs();
    const g = gaussiansFromRawMap(inp);
    expect(g.count).toBe(H * W);
    for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) {
      const i = y * W + x;
      const d = [(x + 0.5 - CX) / FX, (y + 0.5 - CY) / FY, 1];
      const n = Math.hypot(...d);
      const want = d.map((v) => (v / n) * inp.depth[i]);
      closeArr(g.means.subarray(3 * i, 3 * i + 3), want, 1e-6);
    }
  });

  it('applies xy pixel offsets and the depth offset', () => {
    const inp = inputs();
    const raw = inp.raw as Float32Array;
    const i = 1 * W + 2; // pixel (2, 1)
    raw[i * C] = 0.5; raw[i * C + 1] = -0.25; raw[i * C + 36] = 0.75;
    const g = gaussiansFromRawMap(inp);
    const d = [(2 + 0.5 + 0.5 - CX) / FX, (1 + 0.5 - 0.25 - CY) / FY, 1];
    const n = Math.hypot(...d);
    const dist = inp.depth[i] + 0.75;
    closeArr(g.means.subarray(3 * i, 3 * i + 3), d.map((v) => (v / n) * dist), 1e-6);
  });

  it('computes scales and opacities from the formulas (hand-computed)', () => {
    const inp = inputs();
    const raw = inp.raw as Float32Array;
    const i = 5;
    raw[i * C + 2] = 0; raw[i * C + 3] = 1; raw[i * C + 4] = -2; raw[i * C + 36] = 0.5; raw[i * C + 37] = 1.5;
    const g = gaussiansFromRawMap(inp);
    const gsDepth = inp.depth[i] + 0.5; // 2.25 + 0.5
    const mult = 0.1 * (1 / FX + 1 / FY);
    const act = [0, 1, -2].map((s) => 1e-5 + (30 - 1e-5) * sigmoid(s));
    closeArr(g.scales.subarray(3 * i, 3 * i + 3), act.map((a) => a * gsDepth * mult), 1e-5);
    // s = 0: (1e-5 + 29.99999·0.5)·2.75·0.1·(1/5 + 1/6)
    expect(g.scales[3 * i]).toBeCloseTo(15.000005 * 2.75 * 0.1 * (11 / 30), 5);
    expect(g.opacities[i]).toBeCloseTo(1 / (1 + Math.exp(-1.5)), 7);
    expect(g.opacities[0]).toBeCloseTo(0.5, 7);
  });

  it('reorders the quaternion literally ([q3, q0, q1, q2] read scalar-last), and returns what gsplat renders of the result, in xyzw', () => {
    const inp = inputs();
    const raw = inp.raw as Float32Array;
    raw.fill(0);
    raw[0 * C + 7] = 2; // q2 → w: identity
    raw[1 * C + 8] = 1; // q3 → x: 180° about x
    raw[2 * C + 5] = 1; raw[2 * C + 7] = 1; // q0 → y, q2 → w: 90° about y
    const g = gaussiansFromRawMap(inp);
    // The reference returns mat_to_quat's scalar-last [a, b, c, d] (identity: [0, 0, 0, 1]); gsplat
    // reads those four numbers as w, x, y, z — so the rotation is (w, x, y, z) = (a, b, c, d),
    // here in xyzw: [b, c, d, a].
    closeArr(g.rotations.subarray(0, 4), [0, 0, 1, 0], 1e-7);
    closeArr(g.rotations.subarray(4, 8), [0, 0, 0, 1], 1e-7);
    closeArr(g.rotations.subarray(8, 12), [Math.SQRT1_2, 0, Math.SQRT1_2, 0], 1e-7);
    const g2 = gaussiansFromRawMap({ ...inp, raw: randomRaw() });
    for (let j = 0; j < g2.count; j++) {
      const q = g2.rotations.subarray(4 * j, 4 * j + 4);
      expect(Math.hypot(...q)).toBeCloseTo(1, 6);
      expect(q[2]).toBeGreaterThanOrEqual(0); // the reference's standardised d ≥ 0
    }
  });

  it('masks SH by [1, 0.025×3, 0.00625×5] (identity camera) and keeps colour-major layout', () => {
    const raw = randomRaw();
    const g = gaussiansFromRawMap(inputs({ raw }));
    expect(g.shCoefficients).toBe(9);
    expect(g.harmonics.length).toBe(H * W * 27);
    const mask = [1, 0.025, 0.025, 0.025, 0.00625, 0.00625, 0.00625, 0.00625, 0.00625];
    for (let j = 0; j < g.count; j++) for (let c = 0; c < 27; c++) {
      expect(g.harmonics[27 * j + c]).toBeCloseTo(raw[C * j + 9 + c] * mask[c % 9], 6);
    }
  });

  it('gives world-frame outputs consistent with a rotated, translated camera', () => {
    const raw = randomRaw(2);
    const depth = new Float32Array(2 * H * W).map(() => 0.5 + 3 * rand());
    const rc = quatXyzwToMat3(new Float64Array(9), [0.3, -0.5, 0.2, 0.8]);
    const centre = [1.5, -2, 0.7];
    const ext = [...ID34, ...w2cFrom(rc, centre)];
    const world = gaussiansFromRawMap({ raw, depth, extrinsics: ext, intrinsics: [...K, ...K], views: 2, height: H, width: W });
    // the same view with an identity camera = camera-frame Gaussians
    const camView = (v: number) => gaussiansFromRawMap({
      raw: raw.subarray(v * H * W * C, (v + 1) * H * W * C), depth: depth.subarray(v * H * W, (v + 1) * H * W),
      extrinsics: ID34, intrinsics: K, views: 1, height: H, width: W,
    });
    const cam0 = camView(0), cam1 = camView(1);
    const G = H * W;
    // view 0 has the identity camera: identical
    closeArr(world.means.subarray(0, 3 * G), cam0.means, 1e-12);
    for (let j = 0; j < G; j++) {
      const p = cam1.means.subarray(3 * j, 3 * j + 3);
      const want = [0, 1, 2].map((r) => centre[r] + rc[3 * r] * p[0] + rc[3 * r + 1] * p[1] + rc[3 * r + 2] * p[2]);
      closeArr(world.means.subarray(3 * (G + j), 3 * (G + j) + 3), want, 1e-5);
      // rotation: R_world = R_c2w · R_cam
      const rw = quatXyzwToMat3(new Float64Array(9), referenceQuat(world.rotations, G + j));
      const rcam = quatXyzwToMat3(new Float64Array(9), referenceQuat(cam1.rotations, j));
      const prod = new Float64Array(9);
      for (let r = 0; r < 3; r++) for (let c = 0; c < 3; c++) prod[3 * r + c] = rc[3 * r] * rcam[c] + rc[3 * r + 1] * rcam[3 + c] + rc[3 * r + 2] * rcam[6 + c];
      closeArr(rw, prod, 1e-5);
      // SH: rotated to world by R_c2w; scales/opacities unchanged
      closeArr(world.harmonics.subarray(27 * (G + j), 27 * (G + j + 1)), rotateShCoefficients(cam1.harmonics.subarray(27 * j, 27 * (j + 1)), rc, 2), 1e-6);
      closeArr(world.scales.subarray(3 * (G + j), 3 * (G + j) + 3), cam1.scales.subarray(3 * j, 3 * j + 3), 1e-5);
      expect(world.opacities[G + j]).toBe(cam1.opacities[j]);
    }
    // moving the camera moves the centres by the same amount
    const moved = gaussiansFromRawMap({ raw, depth, extrinsics: [...ID34, ...w2cFrom(rc, centre.map((v, i) => v + [1, 2, 3][i]))], intrinsics: [...K, ...K], views: 2, height: H, width: W });
    for (let j = 0; j < G; j++) for (let a = 0; a < 3; a++) {
      expect(moved.means[3 * (G + j) + a] - world.means[3 * (G + j) + a]).toBeCloseTo([1, 2, 3][a], 4);
    }
  });

  it('applies the pose scale (clamped to [1/3, 3]) to centres and depths', () => {
    const raw = randomRaw();
    const base = inputs({ raw, extrinsics: w2cFrom([1, 0, 0, 0, 1, 0, 0, 0, 1], [1, 2, 3]) });
    const g1 = gaussiansFromRawMap(base);
    const g2 = gaussiansFromRawMap({ ...base, poseScale: 2 });
    const g10 = gaussiansFromRawMap({ ...base, poseScale: 10 });
    closeArr(g2.means, Array.from(g1.means, (v) => 2 * v), 1e-5);
    closeArr(g2.scales, Array.from(g1.scales, (v) => 2 * v), 1e-5);
    closeArr(g10.means, Array.from(g1.means, (v) => 3 * v), 1e-5);
  });

  it('supports degree 0 and 4×4 extrinsics', () => {
    const raw = new Float32Array(H * W * 14).map(() => sym());
    const g = gaussiansFromRawMap({ ...inputs(), raw, shDegree: 0, extrinsics: [...ID34, 0, 0, 0, 1] });
    expect(g.shCoefficients).toBe(1);
    expect(Array.from(g.harmonics.subarray(0, 3))).toEqual([raw[9], raw[10], raw[11]]);
    expect(g.opacities[0]).toBeCloseTo(sigmoid(raw[13]), 6);
  });

  it('rejects bad input', () => {
    const code = (over: Partial<GaussianAdapterInputs>): string | undefined => {
      try { gaussiansFromRawMap(inputs(over)); } catch (e) { return e instanceof Da3Error ? e.code : 'other'; }
      return undefined;
    };
    expect(code({ raw: new Float32Array(H * W * C - 1) })).toBe('BAD_SHAPE');
    expect(code({ depth: new Float32Array(H * W + 1) })).toBe('BAD_SHAPE');
    expect(code({ extrinsics: [1, 0, 0] })).toBe('BAD_SHAPE');
    expect(code({ intrinsics: [1, 0, 0] })).toBe('BAD_SHAPE');
    expect(code({ views: 2 })).toBe('BAD_SHAPE');
    expect(code({ shDegree: 3 })).toBe('BAD_VALUE');
    expect(code({ height: 0 })).toBe('BAD_VALUE');
    const nanRaw = new Float32Array(H * W * C); nanRaw[17] = NaN;
    expect(code({ raw: nanRaw })).toBe('NON_FINITE');
    const nanDepth = new Float32Array(H * W).fill(1); nanDepth[3] = NaN;
    expect(code({ depth: nanDepth })).toBe('NON_FINITE');
    expect(code({ intrinsics: [FX, 0, CX, 0, FY, CY, 0, 0, Infinity] })).toBe('NON_FINITE');
    expect(code({ intrinsics: [0, 0, 0, 0, 0, 0, 0, 0, 1] })).toBe('DEGENERATE');
    expect(code({ poseScale: NaN })).toBe('NON_FINITE');
  });
});
