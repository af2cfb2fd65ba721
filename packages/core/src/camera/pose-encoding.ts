import { Da3Error } from '../errors.js';
import { affineInverse } from './matrix.js';
import { focalFromFov, fovFromFocal } from './intrinsics.js';
import { mat3ToQuatXyzw, quatXyzwToMat3 } from './quaternion.js';
import type { ReadonlyNumArray } from './types.js';
import { assertFinite, batchCount, checkImageHw, rigidStride } from './validate.js';

/**
 * The DA3 camera pose encoding, a 9-vector per view (`model/utils/transform.py`):
 *
 * `[tx, ty, tz, qx, qy, qz, qw, fovH, fovW]`
 * - `t` — translation of the **camera→world** pose (the camera centre in world units);
 * - `q` — quaternion of the camera→world rotation, **xyzw scalar last** (see {@link mat3ToQuatXyzw});
 * - `fovH`, `fovW` — full fields of view in **radians**, across H (from fy) and across W (from fx).
 *
 * Cameras use OpenCV axes (x right, y down, z forward); intrinsics are pixels of the processed
 * image `[H, W]`, principal point at the centre when decoded.
 */

/** Numbers per view in a pose encoding. */
export const POSE_ENCODING_SIZE = 9;

/**
 * Encodes cameras, the reference's `extri_intri_to_pose_encoding(c2w, K, (H, W))`:
 * `t = c2w[:3, 3]`, `q = mat_to_quat(c2w[:3, :3])`, `fovH = 2·atan((H/2)/fy)`,
 * `fovW = 2·atan((W/2)/fx)`.
 *
 * Computed in float64. The reference casts the result to float32 (`.float()`);
 * `Float32Array.from(result)` reproduces that.
 *
 * @param c2w camera→world poses, `[N, 3, 4]` or `[N, 4, 4]` row-major (only the top 3×4 is read).
 * @param intrinsics `[N, 3, 3]` pixels (only fx = K[0,0] and fy = K[1,1] are read).
 * @param imageHw `[H, W]` of the processed image, pixels.
 * @returns `[N, 9]` Float64Array.
 * @throws Da3Error `EMPTY_INPUT`, `BAD_SHAPE`, `BAD_VALUE` (image size), `NON_FINITE`.
 */
export function poseEncodingFromCamera(
  c2w: ReadonlyNumArray,
  intrinsics: ReadonlyNumArray,
  imageHw: readonly [number, number],
): Float64Array {
  const fn = 'poseEncodingFromCamera';
  const n = batchCount(fn, 'intrinsics', intrinsics, 9, '[N, 3, 3]');
  const stride = rigidStride(fn, 'c2w', c2w, n);
  const [h, w] = checkImageHw(fn, imageHw);
  assertFinite(fn, 'c2w', c2w);
  assertFinite(fn, 'intrinsics', intrinsics);
  const out = new Float64Array(POSE_ENCODING_SIZE * n);
  const r = new Float64Array(9);
  const q = new Float64Array(4);
  for (let b = 0; b < n; b++) {
    const m = b * stride;
    const o = b * POSE_ENCODING_SIZE;
    for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) r[3 * i + j] = c2w[m + 4 * i + j];
    mat3ToQuatXyzw(q, r);
    out[o] = c2w[m + 3];
    out[o + 1] = c2w[m + 7];
    out[o + 2] = c2w[m + 11];
    out[o + 3] = q[0];
    out[o + 4] = q[1];
    out[o + 5] = q[2];
    out[o + 6] = q[3];
    out[o + 7] = fovFromFocal(intrinsics[9 * b + 4], h);
    out[o + 8] = fovFromFocal(intrinsics[9 * b], w);
  }
  return out;
}

/**
 * Encodes cameras given **world→camera** extrinsics, as the camera encoder does before its MLP
 * (`cam_enc.py`: `c2w = affine_inverse(w2c)`, then {@link poseEncodingFromCamera}).
 *
 * @param w2c world→camera extrinsics `[N, 3, 4]` or `[N, 4, 4]` (rigid; inverted as `[Rᵀ | −Rᵀt]`).
 * @param intrinsics `[N, 3, 3]` pixels.
 * @param imageHw `[H, W]` pixels.
 * @returns `[N, 9]` Float64Array.
 */
export function poseEncodingFromW2c(
  w2c: ReadonlyNumArray,
  intrinsics: ReadonlyNumArray,
  imageHw: readonly [number, number],
): Float64Array {
  const fn = 'poseEncodingFromW2c';
  const n = batchCount(fn, 'intrinsics', intrinsics, 9, '[N, 3, 3]');
  const stride = rigidStride(fn, 'w2c', w2c, n);
  const c2w = new Float64Array(12 * n);
  for (let b = 0; b < n; b++) {
    const src = new Float64Array(12);
    for (let i = 0; i < 12; i++) src[i] = w2c[b * stride + i];
    affineInverse(c2w.subarray(12 * b, 12 * b + 12), src);
  }
  return poseEncodingFromCamera(c2w, intrinsics, imageHw);
}

/** Cameras decoded from a pose encoding (see {@link cameraFromPoseEncoding}). */
export interface DecodedCameras {
  /** Camera→world `[R | t]`, `[N, 3, 4]` row-major (R from the quaternion, t as encoded). */
  c2w: Float64Array;
  /** World→camera `[Rᵀ | −Rᵀt]`, `[N, 3, 4]`: what the network returns as `extrinsics`. */
  w2c: Float64Array;
  /** `[N, 3, 3]` pixels: `fx, fy` from the FoVs, `cx = W/2`, `cy = H/2`. */
  intrinsics: Float64Array;
}

/**
 * Decodes a pose encoding, the reference's `pose_encoding_to_extri_intri(enc, (H, W))` followed
 * by the network's `affine_inverse` (`da3.py` `_process_camera_estimation`):
 * `R = quat_to_mat(q)` (any-norm quaternion, `2/|q|²`), `c2w = [R | t]`, `w2c = affine_inverse(c2w)`,
 * `fy = (H/2)/max(tan(fovH/2), 1e-6)`, `fx = (W/2)/max(tan(fovW/2), 1e-6)`, `cx = W/2`, `cy = H/2`.
 *
 * Computed in float64. The reference builds K in a float32 tensor; `Float32Array.from` reproduces it.
 *
 * @param encoding `[N, 9]` `[t xyz, q xyzw, fovH, fovW]` (radians).
 * @param imageHw `[H, W]` of the processed image, pixels.
 * @throws Da3Error `EMPTY_INPUT`, `BAD_SHAPE`, `BAD_VALUE`, `NON_FINITE`, `DEGENERATE` (zero quaternion).
 */
export function cameraFromPoseEncoding(encoding: ReadonlyNumArray, imageHw: readonly [number, number]): DecodedCameras {
  const fn = 'cameraFromPoseEncoding';
  const n = batchCount(fn, 'encoding', encoding, POSE_ENCODING_SIZE, '[N, 9]');
  const [h, w] = checkImageHw(fn, imageHw);
  assertFinite(fn, 'encoding', encoding);
  const c2w = new Float64Array(12 * n);
  const w2c = new Float64Array(12 * n);
  const intrinsics = new Float64Array(9 * n);
  const r = new Float64Array(9);
  for (let b = 0; b < n; b++) {
    const o = b * POSE_ENCODING_SIZE;
    const qx = encoding[o + 3], qy = encoding[o + 4], qz = encoding[o + 5], qw = encoding[o + 6];
    if (qx * qx + qy * qy + qz * qz + qw * qw === 0) throw new Da3Error('DEGENERATE', `${fn}: view ${b} has a zero quaternion`);
    quatXyzwToMat3(r, encoding, o + 3);
    const m = c2w.subarray(12 * b, 12 * b + 12);
    for (let i = 0; i < 3; i++) {
      for (let j = 0; j < 3; j++) m[4 * i + j] = r[3 * i + j];
      m[4 * i + 3] = encoding[o + i];
    }
    affineInverse(w2c.subarray(12 * b, 12 * b + 12), m);
    const k = intrinsics.subarray(9 * b, 9 * b + 9);
    k[0] = focalFromFov(encoding[o + 8], w);
    k[2] = w / 2;
    k[4] = focalFromFov(encoding[o + 7], h);
    k[5] = h / 2;
    k[8] = 1;
  }
  return { c2w, w2c, intrinsics };
}
