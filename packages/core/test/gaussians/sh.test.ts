import { describe, expect, it } from 'vitest';
import { quatXyzwToMat3 } from '../../src/camera/quaternion.js';
import { Da3Error } from '../../src/errors.js';
import { projectToSo3, rotateShCoefficients, shRotationMatrices, wignerD1, wignerD2 } from '../../src/gaussians/index.js';

/** Small deterministic PRNG (mulberry32). */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const rand = rng(1234);
const gauss = (): number => Math.sqrt(-2 * Math.log(rand() + 1e-300)) * Math.cos(2 * Math.PI * rand());

function randomRotation(): Float64Array {
  return quatXyzwToMat3(new Float64Array(9), [gauss(), gauss(), gauss(), gauss()]) as Float64Array;
}
function randomDir(): [number, number, number] {
  const v: [number, number, number] = [gauss(), gauss(), gauss()];
  const n = Math.hypot(...v);
  return [v[0] / n, v[1] / n, v[2] / n];
}
function matMul(a: ArrayLike<number>, b: ArrayLike<number>, n: number): Float64Array {
  const out = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) {
    let s = 0;
    for (let k = 0; k < n; k++) s += a[n * i + k] * b[n * k + j];
    out[n * i + j] = s;
  }
  return out;
}
function transpose(a: ArrayLike<number>, n: number): Float64Array {
  const out = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) out[n * j + i] = a[n * i + j];
  return out;
}
function eye(n: number): Float64Array {
  const out = new Float64Array(n * n);
  for (let i = 0; i < n; i++) out[n * i + i] = 1;
  return out;
}
function apply3(r: ArrayLike<number>, p: readonly number[]): [number, number, number] {
  return [
    r[0] * p[0] + r[1] * p[1] + r[2] * p[2],
    r[3] * p[0] + r[4] * p[1] + r[5] * p[2],
    r[6] * p[0] + r[7] * p[1] + r[8] * p[2],
  ];
}
function expectClose(got: ArrayLike<number>, want: ArrayLike<number>, tol = 1e-12): void {
  expect(got.length).toBe(want.length);
  let err = 0;
  for (let i = 0; i < got.length; i++) err = Math.max(err, Math.abs(got[i] - want[i]));
  expect(err).toBeLessThan(tol);
}

/** e3nn's real SH (o3.spherical_harmonics, y axis special, unnormalised per degree). */
function e3nnY1([x, y, z]: readonly number[]): number[] {
  return [x, y, z];
}
function e3nnY2([x, y, z]: readonly number[]): number[] {
  const s3 = Math.sqrt(3);
  return [s3 * x * z, s3 * x * y, y * y - 0.5 * (x * x + z * z), s3 * y * z, (s3 / 2) * (z * z - x * x)];
}

/** The 3DGS / gsplat real SH basis (CUDA `computeColorFromSH` constants), degrees 0–2. */
const C0 = 0.28209479177387814;
const C1 = 0.4886025119029199;
const C2 = [1.0925484305920792, -1.0925484305920792, 0.31539156525252005, -1.0925484305920792, 0.5462742152960396];
function gsplatBasis([x, y, z]: readonly number[]): number[] {
  return [
    C0,
    -C1 * y, C1 * z, -C1 * x,
    C2[0] * x * y, C2[1] * y * z, C2[2] * (2 * z * z - x * x - y * y), C2[3] * x * z, C2[4] * (x * x - y * y),
  ];
}
function evalSh(coeffs: ArrayLike<number>, p: readonly number[]): number {
  const basis = gsplatBasis(p);
  let s = 0;
  for (let i = 0; i < coeffs.length; i++) s += coeffs[i] * basis[i];
  return s;
}

/** e3nn's rotation matrices and Euler decomposition `R = R_y(α) R_x(β) R_y(γ)` (o3 conventions). */
function matX(t: number): number[] {
  const c = Math.cos(t), s = Math.sin(t);
  return [1, 0, 0, 0, c, -s, 0, s, c];
}
function matY(t: number): number[] {
  const c = Math.cos(t), s = Math.sin(t);
  return [c, 0, s, 0, 1, 0, -s, 0, c];
}
function anglesToMatrix(a: number, b: number, g: number): Float64Array {
  return matMul(matMul(matY(a), matX(b), 3), matY(g), 3);
}
function matrixToAngles(r: ArrayLike<number>): [number, number, number] {
  const beta = Math.acos(Math.max(-1, Math.min(1, r[4])));
  const alpha = Math.atan2(r[1], r[7]);
  const m = matMul(transpose(matMul(matY(alpha), matX(beta), 3), 3), r, 3);
  const gamma = Math.atan2(m[2], m[0]);
  return [alpha, beta, gamma];
}

describe('Wigner-D matrices (e3nn basis)', () => {
  it('D(I) = I', () => {
    expectClose(wignerD1(eye(3)), eye(3));
    expectClose(wignerD2(eye(3)), eye(5));
  });

  it('are orthogonal and form a representation: D(R1·R2) = D(R1)·D(R2)', () => {
    for (let t = 0; t < 20; t++) {
      const r1 = randomRotation();
      const r2 = randomRotation();
      for (const [d, n] of [[wignerD1, 3], [wignerD2, 5]] as const) {
        const a = d(r1), b = d(r2);
        expectClose(matMul(a, transpose(a, n), n), eye(n), 1e-12);
        expectClose(d(matMul(r1, r2, 3)), matMul(a, b, n), 1e-12);
        expectClose(d(transpose(r1, 3)), transpose(a, n), 1e-12);
      }
    }
  });

  it('are equivariant for e3nn\'s real harmonics: Y(R·p) = D(R)·Y(p)', () => {
    for (let t = 0; t < 20; t++) {
      const r = randomRotation();
      const p = randomDir();
      const rp = apply3(r, p);
      const d1 = wignerD1(r), d2 = wignerD2(r);
      const y1 = e3nnY1(p), y2 = e3nnY2(p);
      expectClose(e3nnY1(rp), Array.from({ length: 3 }, (_, i) => d1[3 * i] * y1[0] + d1[3 * i + 1] * y1[1] + d1[3 * i + 2] * y1[2]));
      expectClose(e3nnY2(rp), Array.from({ length: 5 }, (_, i) => y2.reduce((s, v, j) => s + d2[5 * i + j] * v, 0)));
    }
  });
});

describe('shRotationMatrices / rotateShCoefficients (DA3 rotate_sh)', () => {
  it('match the reference recipe: P⁻¹RP, Euler angles (α, β, γ), e3nn D(α, −β, γ)', () => {
    const P = [0, 0, 1, 1, 0, 0, 0, 1, 0];
    for (let t = 0; t < 20; t++) {
      const r = randomRotation();
      const rp = matMul(matMul(transpose(P, 3), r, 3), P, 3);
      const [a, b, g] = matrixToAngles(rp);
      expectClose(anglesToMatrix(a, b, g), rp, 1e-12);
      const rNeg = anglesToMatrix(a, -b, g);
      const mats = shRotationMatrices(r, 2);
      expect(mats.map((m) => m.length)).toEqual([1, 9, 25]);
      expectClose(mats[1], wignerD1(rNeg), 1e-10);
      expectClose(mats[2], wignerD2(rNeg), 1e-10);
    }
  });

  it('rotate the SH function in the 3DGS basis: f_rot(p) = f(Rᵀ·p) at random directions', () => {
    for (let t = 0; t < 20; t++) {
      const r = randomRotation();
      const coeffs = Array.from({ length: 9 }, gauss);
      const rotated = rotateShCoefficients(coeffs, r, 2);
      for (let s = 0; s < 10; s++) {
        const p = randomDir();
        expect(evalSh(rotated, p)).toBeCloseTo(evalSh(coeffs, apply3(transpose(r, 3), p)), 12);
      }
      // degree 1 alone, several rows
      const rows = Array.from({ length: 8 }, gauss);
      const rot1 = rotateShCoefficients(rows, r, 1);
      for (let row = 0; row < 2; row++) {
        const p = randomDir();
        const f = (c: ArrayLike<number>, q: readonly number[]) => evalSh([...Array.from(c), 0, 0, 0, 0, 0], q);
        expect(f(rot1.subarray(4 * row, 4 * row + 4), p)).toBeCloseTo(f(rows.slice(4 * row, 4 * row + 4), apply3(transpose(r, 3), p)), 12);
      }
    }
  });

  it('degree 0 and the identity leave coefficients unchanged', () => {
    const c = Array.from({ length: 9 }, gauss);
    expectClose(rotateShCoefficients(c, eye(3), 2), c);
    expectClose(rotateShCoefficients([1, 2, 3], randomRotation(), 0), [1, 2, 3]);
  });

  it('project a slightly non-orthonormal rotation onto SO(3)', () => {
    const r = randomRotation();
    const noisy = r.map((v) => v + 1e-6 * gauss());
    const q = projectToSo3(noisy);
    expectClose(matMul(q, transpose(q, 3), 3), eye(3), 1e-12);
    expectClose(q, r, 1e-5);
  });

  it('reject bad input', () => {
    const code = (f: () => unknown): string | undefined => {
      try { f(); } catch (e) { return e instanceof Da3Error ? e.code : 'other'; }
      return undefined;
    };
    expect(code(() => rotateShCoefficients([1, 2, 3, 4, 5], eye(3), 1))).toBe('BAD_SHAPE');
    expect(code(() => rotateShCoefficients([1, 2, 3, 4], eye(3), 3))).toBe('BAD_VALUE');
    expect(code(() => rotateShCoefficients([1, 2, 3, NaN], eye(3), 1))).toBe('NON_FINITE');
    expect(code(() => wignerD2([1, 0, 0]))).toBe('BAD_SHAPE');
    expect(code(() => wignerD1([1, 0, 0, 0, 1, 0, 0, 0, NaN]))).toBe('NON_FINITE');
    expect(code(() => projectToSo3([-1, 0, 0, 0, 1, 0, 0, 0, 1]))).toBe('DEGENERATE');
  });
});
