import { Da3Error } from '../errors.js';
import type { Mat3, Mat34, Mat4, NumArray, ReadonlyNumArray } from './types.js';

/**
 * Small dense-matrix helpers on row-major flat arrays (gl-matrix style: the output comes first,
 * is filled and returned, and may alias an input unless stated otherwise).
 */

/** A new 4×4 identity (Float64Array). */
export function identity4(out: Mat4 = new Float64Array(16)): Mat4 {
  out.fill(0);
  out[0] = out[5] = out[10] = out[15] = 1;
  return out;
}

/** A new 3×3 identity (Float64Array). */
export function identity3(out: Mat3 = new Float64Array(9)): Mat3 {
  out.fill(0);
  out[0] = out[4] = out[8] = 1;
  return out;
}

/**
 * `out = a · b` for row-major matrices a (m×k) and b (k×n). `out` must not alias `a` or `b`.
 */
export function matMul(out: NumArray, a: ReadonlyNumArray, b: ReadonlyNumArray, m: number, k: number, n: number): NumArray {
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let p = 0; p < k; p++) s += a[i * k + p] * b[p * n + j];
      out[i * n + j] = s;
    }
  }
  return out;
}

/** 4×4 product `out = a · b` (out may alias a or b). */
export function mul4(out: Mat4, a: ReadonlyNumArray, b: ReadonlyNumArray): Mat4 {
  const tmp = new Float64Array(16);
  matMul(tmp, a, b, 4, 4, 4);
  for (let i = 0; i < 16; i++) out[i] = tmp[i];
  return out;
}

/** 3×3 product `out = a · b` (out may alias a or b). */
export function mul3(out: Mat3, a: ReadonlyNumArray, b: ReadonlyNumArray): Mat3 {
  const tmp = new Float64Array(9);
  matMul(tmp, a, b, 3, 3, 3);
  for (let i = 0; i < 9; i++) out[i] = tmp[i];
  return out;
}

/** 3×3 transpose (out may alias a). */
export function transpose3(out: Mat3, a: ReadonlyNumArray): Mat3 {
  const t = [a[0], a[3], a[6], a[1], a[4], a[7], a[2], a[5], a[8]];
  for (let i = 0; i < 9; i++) out[i] = t[i];
  return out;
}

/** 3×4 `[R|t]` → 4×4 with last row `[0,0,0,1]` (the reference's `as_homogeneous`). */
export function toHomogeneous(out: Mat4, a34: ReadonlyNumArray): Mat4 {
  if (a34.length >= 16) {
    for (let i = 0; i < 16; i++) out[i] = a34[i];
    return out;
  }
  for (let i = 0; i < 12; i++) out[i] = a34[i];
  out[12] = 0;
  out[13] = 0;
  out[14] = 0;
  out[15] = 1;
  return out;
}

/** The top 3×4 rows of a 4×4 (or a copy of a 3×4). */
export function toMat34(out: Mat34, a: ReadonlyNumArray): Mat34 {
  for (let i = 0; i < 12; i++) out[i] = a[i];
  return out;
}

/**
 * Rigid inverse of `[R|t]`: `[Rᵀ | −Rᵀt]` — the reference's `affine_inverse`. Works on a 3×4
 * (12 numbers → 12) or a 4×4 (16 → 16, last row copied from the input as the reference does).
 * Assumes R is a rotation (it is transposed, not inverted). `out` may alias `a`.
 */
export function affineInverse(out: NumArray, a: ReadonlyNumArray): NumArray {
  const n = a.length;
  if (n !== 12 && n !== 16) throw new Da3Error('BAD_SHAPE', `affineInverse: expected 12 (3×4) or 16 (4×4) numbers, got ${n}`);
  const r00 = a[0], r01 = a[1], r02 = a[2], t0 = a[3];
  const r10 = a[4], r11 = a[5], r12 = a[6], t1 = a[7];
  const r20 = a[8], r21 = a[9], r22 = a[10], t2 = a[11];
  out[0] = r00; out[1] = r10; out[2] = r20; out[3] = -(r00 * t0 + r10 * t1 + r20 * t2);
  out[4] = r01; out[5] = r11; out[6] = r21; out[7] = -(r01 * t0 + r11 * t1 + r21 * t2);
  out[8] = r02; out[9] = r12; out[10] = r22; out[11] = -(r02 * t0 + r12 * t1 + r22 * t2);
  if (n === 16) {
    out[12] = a[12]; out[13] = a[13]; out[14] = a[14]; out[15] = a[15];
  }
  return out;
}

/**
 * General 4×4 inverse (Gauss–Jordan with partial pivoting, float64).
 * @returns `out`, or `null` when the matrix is singular.
 */
export function invert4(out: Mat4, a: ReadonlyNumArray): Mat4 | null {
  return invertN(out, a, 4);
}

/** General 3×3 inverse; `null` when singular. */
export function invert3(out: Mat3, a: ReadonlyNumArray): Mat3 | null {
  return invertN(out, a, 3);
}

function invertN(out: NumArray, a: ReadonlyNumArray, n: number): NumArray | null {
  const m = new Float64Array(n * 2 * n);
  for (let r = 0; r < n; r++) {
    for (let c = 0; c < n; c++) m[r * 2 * n + c] = a[r * n + c];
    m[r * 2 * n + n + r] = 1;
  }
  const w = 2 * n;
  for (let col = 0; col < n; col++) {
    let piv = col;
    for (let r = col + 1; r < n; r++) if (Math.abs(m[r * w + col]) > Math.abs(m[piv * w + col])) piv = r;
    const pv = m[piv * w + col];
    if (pv === 0 || !Number.isFinite(pv)) return null;
    if (piv !== col) for (let c = 0; c < w; c++) [m[col * w + c], m[piv * w + c]] = [m[piv * w + c], m[col * w + c]];
    for (let c = 0; c < w; c++) m[col * w + c] /= pv;
    for (let r = 0; r < n; r++) {
      if (r === col) continue;
      const f = m[r * w + col];
      if (f !== 0) for (let c = 0; c < w; c++) m[r * w + c] -= f * m[col * w + c];
    }
  }
  for (let r = 0; r < n; r++) for (let c = 0; c < n; c++) out[r * n + c] = m[r * w + n + c];
  return out;
}

/** `out = M · v` for a 3×3 M and a 3-vector. */
export function transformVec3(out: NumArray, m: ReadonlyNumArray, v: ReadonlyNumArray): NumArray {
  const x = v[0], y = v[1], z = v[2];
  out[0] = m[0] * x + m[1] * y + m[2] * z;
  out[1] = m[3] * x + m[4] * y + m[5] * z;
  out[2] = m[6] * x + m[7] * y + m[8] * z;
  return out;
}

/** `out = [R|t] · [p; 1]` for a 3×4 (or 4×4) rigid/affine matrix and a 3-point. */
export function transformPoint34(out: NumArray, m: ReadonlyNumArray, p: ReadonlyNumArray): NumArray {
  const x = p[0], y = p[1], z = p[2];
  out[0] = m[0] * x + m[1] * y + m[2] * z + m[3];
  out[1] = m[4] * x + m[5] * y + m[6] * z + m[7];
  out[2] = m[8] * x + m[9] * y + m[10] * z + m[11];
  return out;
}

/** Copy of matrix `index` (of `size` numbers) out of a flat batch; a zero-copy view for typed arrays. */
export function batchView<T extends Float32Array | Float64Array>(batch: T, index: number, size: number): T {
  return batch.subarray(index * size, (index + 1) * size) as T;
}
