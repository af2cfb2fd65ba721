import { Da3Error } from '../errors.js';
import type { Mat3, NumArray, ReadonlyNumArray } from './types.js';
import { assertFinite, batchCount } from './validate.js';

/**
 * Quaternions ↔ rotation matrices, exactly as the DA3 reference does it
 * (`model/utils/transform.py` `quat_to_mat` / `mat_to_quat`, identical copies in
 * `utils/geometry.py`).
 *
 * Quaternion layout: **xyzw, scalar last** (`[x, y, z, w]` = `[i, j, k, r]`), the order of the
 * network's pose encoding. Matrices are row-major 3×3 (9 numbers). The rotation acts on column
 * vectors (`p' = R·p`); with a camera→world rotation it maps OpenCV camera axes (x right, y down,
 * z forward) into the world frame.
 */

/**
 * Rotation matrix of a quaternion `q = [x, y, z, w]` (scalar last), the reference's `quat_to_mat`.
 *
 * The quaternion does **not** have to be unit length: the formula uses `s = 2/|q|²`, so
 * `q` and `k·q` (k ≠ 0) give the same rotation. A zero quaternion gives NaNs (as in the reference);
 * no error is thrown here.
 *
 * @param out receives 9 numbers (row-major 3×3); may not alias `q`.
 * @param q 4 numbers `[x, y, z, w]`.
 * @param offset index of `x` inside `q` (default 0), for reading straight out of a batch.
 * @returns `out`
 */
export function quatXyzwToMat3(out: Mat3, q: ReadonlyNumArray, offset = 0): Mat3 {
  const i = q[offset];
  const j = q[offset + 1];
  const k = q[offset + 2];
  const r = q[offset + 3];
  const twoS = 2.0 / (i * i + j * j + k * k + r * r);
  out[0] = 1 - twoS * (j * j + k * k);
  out[1] = twoS * (i * j - k * r);
  out[2] = twoS * (i * k + j * r);
  out[3] = twoS * (i * j + k * r);
  out[4] = 1 - twoS * (i * i + k * k);
  out[5] = twoS * (j * k - i * r);
  out[6] = twoS * (i * k - j * r);
  out[7] = twoS * (j * k + i * r);
  out[8] = 1 - twoS * (i * i + j * j);
  return out;
}

/** `sqrt(max(0, x))` with exactly the reference's `_sqrt_positive_part` behaviour (0 for x ≤ 0 and NaN). */
function sqrtPositivePart(x: number): number {
  return x > 0 ? Math.sqrt(x) : 0;
}

/**
 * Quaternion `[x, y, z, w]` (scalar last, `w ≥ 0`) of a rotation matrix, the reference's
 * `mat_to_quat`.
 *
 * Algorithm (PyTorch3D's): the four candidates `q·r, q·i, q·j, q·k` are formed from the matrix,
 * each is divided by `2·max(|component|, 0.1)`, and the best-conditioned one (largest
 * `|component|`, first on ties) is returned, then standardised so that `w ≥ 0` (`w < 0` flips the
 * sign of all four). The result is unit length when `m` is a rotation; for a non-orthonormal `m`
 * it is whatever that formula gives (no re-orthogonalisation).
 *
 * @param out receives 4 numbers `[x, y, z, w]`.
 * @param m row-major 3×3 rotation (9 numbers).
 * @param offset index of `m[0][0]` inside `m` (default 0).
 * @returns `out`
 */
export function mat3ToQuatXyzw(out: NumArray, m: ReadonlyNumArray, offset = 0): NumArray {
  const m00 = m[offset], m01 = m[offset + 1], m02 = m[offset + 2];
  const m10 = m[offset + 3], m11 = m[offset + 4], m12 = m[offset + 5];
  const m20 = m[offset + 6], m21 = m[offset + 7], m22 = m[offset + 8];
  const a0 = sqrtPositivePart(1.0 + m00 + m11 + m22);
  const a1 = sqrtPositivePart(1.0 + m00 - m11 - m22);
  const a2 = sqrtPositivePart(1.0 - m00 + m11 - m22);
  const a3 = sqrtPositivePart(1.0 - m00 - m11 + m22);
  // argmax, first index on ties (torch.argmax)
  let best = 0;
  let bestVal = a0;
  if (a1 > bestVal) { best = 1; bestVal = a1; }
  if (a2 > bestVal) { best = 2; bestVal = a2; }
  if (a3 > bestVal) { best = 3; bestVal = a3; }
  // candidate rows are in (r, i, j, k) order
  let r: number, i: number, j: number, k: number;
  switch (best) {
    case 0: r = a0 * a0; i = m21 - m12; j = m02 - m20; k = m10 - m01; break;
    case 1: r = m21 - m12; i = a1 * a1; j = m10 + m01; k = m02 + m20; break;
    case 2: r = m02 - m20; i = m10 + m01; j = a2 * a2; k = m12 + m21; break;
    default: r = m10 - m01; i = m20 + m02; j = m21 + m12; k = a3 * a3; break;
  }
  const den = 2.0 * Math.max(bestVal, 0.1);
  let x = i / den, y = j / den, z = k / den, w = r / den;
  if (w < 0) { x = -x; y = -y; z = -z; w = -w; }
  out[0] = x;
  out[1] = y;
  out[2] = z;
  out[3] = w;
  return out;
}

/**
 * Batched {@link quatXyzwToMat3}: `N` quaternions `[N, 4]` (xyzw, scalar last, any norm) →
 * `N` row-major rotation matrices `[N, 3, 3]` (Float64Array, 9N numbers).
 * @throws Da3Error `BAD_SHAPE` when the length is not a multiple of 4, `EMPTY_INPUT` when empty,
 *   `NON_FINITE` on NaN/Infinity, `DEGENERATE` for a zero quaternion.
 */
export function quatsXyzwToMat3s(quats: ReadonlyNumArray): Float64Array {
  const n = batchCount('quatsXyzwToMat3s', 'quats', quats, 4, '[N, 4]');
  assertFinite('quatsXyzwToMat3s', 'quats', quats);
  for (let b = 0; b < n; b++) {
    const x = quats[4 * b], y = quats[4 * b + 1], z = quats[4 * b + 2], w = quats[4 * b + 3];
    if (x * x + y * y + z * z + w * w === 0) throw new Da3Error('DEGENERATE', `quatsXyzwToMat3s: quaternion ${b} is zero`);
  }
  const out = new Float64Array(9 * n);
  for (let b = 0; b < n; b++) quatXyzwToMat3(out.subarray(9 * b, 9 * b + 9), quats, 4 * b);
  return out;
}

/**
 * Batched {@link mat3ToQuatXyzw}: `N` row-major rotations `[N, 3, 3]` → quaternions `[N, 4]`
 * (xyzw, scalar last, `w ≥ 0`; Float64Array, 4N numbers).
 * @throws Da3Error `BAD_SHAPE` when the length is not a multiple of 9, `EMPTY_INPUT` when empty,
 *   `NON_FINITE` on NaN/Infinity.
 */
export function mat3sToQuatsXyzw(mats: ReadonlyNumArray): Float64Array {
  const n = batchCount('mat3sToQuatsXyzw', 'mats', mats, 9, '[N, 3, 3]');
  assertFinite('mat3sToQuatsXyzw', 'mats', mats);
  const out = new Float64Array(4 * n);
  for (let b = 0; b < n; b++) mat3ToQuatXyzw(out.subarray(4 * b, 4 * b + 4), mats, 9 * b);
  return out;
}
