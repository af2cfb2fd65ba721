import { affineInverse, invert3 } from '../camera/matrix.js';
import { mat3ToQuatXyzw, quatXyzwToMat3 } from '../camera/quaternion.js';
import { Da3Error } from '../errors.js';
import type { Gaussians } from '../prediction/prediction.js';
import { applyShRotation, projectToSo3, shCoefficientCount, shRotationMatrices } from './sh.js';

/**
 * The DA3 Gaussian adapter (`model/gs_adapter.py` `GaussianAdapter.forward`, as configured for
 * GIANT/NESTED: `pred_offset_xy = pred_offset_depth = True`, `pred_color = False`): turns the GS
 * head's raw map plus depth and cameras into world-frame 3D Gaussians.
 *
 * Conventions: OpenCV camera axes (x right, y down, z forward); extrinsics are world→camera
 * (w2c) `[R|t]`; intrinsics are in pixels of the H×W network resolution; all matrices row-major.
 * The output is in the frame of the given cameras (for DA3: the predicted, pre-metric any-view
 * frame — the reference uses the *predicted* cameras even when poses are given, see
 * {@link GaussianAdapterInputs.poseScale}).
 */

/**
 * Receives the adapter's intermediate values when {@link GaussianAdapterInputs.taps} is set (for
 * parity bisection), named like the fixtures' `gs_adapter.*` tensors, float64, row-major:
 * `sh_mask` [K]; per view `cam2worlds` / `cam2worlds_used` [N, 4, 4] (before / after the pose
 * scale), `intr_normed` [N, 3, 3], `scale_multiplier` [N], `rotate_sh.rotations` and
 * `rotate_sh.R_so3_yzx` [N, 3, 3], `rotate_sh.wigner_D_l<l>` [N, 2l+1, 2l+1]; `xy_grid` [H, W, 2];
 * per Gaussian `xy_ray` [N, H, W, 2], `ray_directions` [N, H, W, 3] (unit, world frame) and
 * `cam_quat_xyzw` [G, 4] (the normalised raw quaternion); and `pose_scale` [1] (clamped).
 */
export type GaussianAdapterTaps = (name: string, data: Float64Array, shape: readonly number[]) => void;

/** Number of raw GS channels for an SH degree: `2 + 3 + 4 + 3·(degree+1)² + 1 + 1` (38 for degree 2). */
export function gsRawChannels(shDegree: number): number {
  return 11 + 3 * shCoefficientCount(shDegree);
}

/** Inputs of {@link gaussiansFromRawMap}. N views of H×W. */
export interface GaussianAdapterInputs {
  /**
   * The graph output `gs_raw` without the batch axis: `[N, H, W, C]` logits, channels-last,
   * `C = gsRawChannels(shDegree)` with layout
   * `[off_x, off_y, s0, s1, s2, q0, q1, q2, q3, SH (3 colours × K, colour-major), d_off, conf]`
   * (offsets in pixels, `d_off` in depth units, K = (shDegree+1)²).
   */
  readonly raw: Float32Array | Float64Array;
  /** Depth `[N, H, W]` (the DA3 depth map), used as distance along the **unit** pixel ray. */
  readonly depth: Float32Array | Float64Array;
  /** World→camera extrinsics `[N, 3, 4]` or `[N, 4, 4]` (OpenCV). */
  readonly extrinsics: ArrayLike<number>;
  /** Pinhole intrinsics `[N, 3, 3]` in pixels (fx, fy, cx, cy at resolution H×W). */
  readonly intrinsics: ArrayLike<number>;
  /** Number of views N. */
  readonly views: number;
  readonly height: number;
  readonly width: number;
  /** SH degree of the raw map, 0–2 (DA3: 2). */
  readonly shDegree?: number;
  /** Minimum activated scale factor (reference `gaussian_scale_min`, default 1e-5). */
  readonly scaleMin?: number;
  /** Maximum activated scale factor (reference `gaussian_scale_max`, default 30). */
  readonly scaleMax?: number;
  /**
   * Pose-scale correction (default 1 = none). The reference, when GT extrinsics differ from the
   * predicted ones, computes a Umeyama scale between them (`batch_align_poses_umeyama`), clamps it
   * to [1/3, 3], and multiplies the camera centres and the (offset) depths by it. Pass that raw
   * scale here; it is clamped to [1/3, 3] as in the reference.
   */
  readonly poseScale?: number;
  /** Quaternion normalisation epsilon (reference `eps`, default 1e-8). */
  readonly eps?: number;
  /** Debug: receives the intermediate values (see {@link GaussianAdapterTaps}); costs memory. */
  readonly taps?: GaussianAdapterTaps;
}

/**
 * World-frame Gaussians from the GS head's raw map (reference `GaussianAdapter.forward`).
 *
 * Per pixel (x, y) of view v, with `c2w = affine_inverse(w2c)` and `K_n` = K with row 0 divided by
 * W and row 1 by H:
 * - `gsDepth = (depth + d_off)·s` (s = clamped {@link GaussianAdapterInputs.poseScale});
 * - `uv = ((x + 0.5 + off_x)/W, (y + 0.5 + off_y)/H)`, `dir = R_c2w·normalise(K_n⁻¹[u, v, 1])`,
 *   `mean = s·t_c2w + dir·gsDepth`;
 * - `scale = (scaleMin + (scaleMax − scaleMin)·sigmoid(s_i))·gsDepth·m` with
 *   `m = 0.1·Σ(K_n[:2,:2]⁻¹·(1/W, 1/H))` (= 0.1·(1/fx + 1/fy) in pixels without skew);
 * - rotation: `q = q_raw/(|q_raw| + eps)`, read as the scalar-last quaternion `[q3, q0, q1, q2]`
 *   (the reference's literal reorder), `R_world = R_c2w·R(q)`, back to a scalar-last quaternion
 *   `[a, b, c, d]` with `d ≥ 0` (`mat_to_quat`) — the reference's four numbers. gsplat, which
 *   rendered them in training, and the 3DGS PLY read those four numbers scalar **first**
 *   (w = a), so the rotation the reference renders is `(w, x, y, z) = (a, b, c, d)`; returned
 *   here in the `Gaussians` order xyzw, i.e. `[b, c, d, a]` (unit; its z ≥ 0 rather than w). A
 *   PLY written from it holds the reference's `[a, b, c, d]` in `rot_0..3`;
 * - SH: `sh·mask` (mask `1` for degree 0, `0.1·0.25^l` for degree l), rotated to world by
 *   `R_c2w` (3DGS basis, {@link shRotationMatrices});
 * - opacity: `sigmoid(conf)`.
 *
 * A negative `depth + d_off` gives negative scales and Gaussians behind the camera, as in the
 * reference (which then writes `log` of a negative scale, NaN, into its PLY).
 *
 * Gaussians are ordered view-major then row-major (`v, y, x`), G = N·H·W. Computed in float64,
 * returned as Float32Arrays.
 *
 * @throws Da3Error `BAD_VALUE` for bad sizes / SH degree / options, `BAD_SHAPE` for array lengths
 *   that do not match, `NON_FINITE` for NaN/±Infinity in any input, `DEGENERATE` for a singular
 *   intrinsic matrix or an extrinsic rotation that is not a proper rotation.
 */
export function gaussiansFromRawMap(inputs: GaussianAdapterInputs): Gaussians {
  const fn = 'gaussiansFromRawMap';
  const { raw, depth, extrinsics, intrinsics, views: n, height: h, width: w } = inputs;
  const shDegree = inputs.shDegree ?? 2;
  const scaleMin = inputs.scaleMin ?? 1e-5;
  const scaleMax = inputs.scaleMax ?? 30;
  const eps = inputs.eps ?? 1e-8;
  for (const [name, v] of [['views', n], ['height', h], ['width', w]] as const) {
    if (!Number.isInteger(v) || v <= 0) throw new Da3Error('BAD_VALUE', `${fn}: ${name} must be a positive integer, got ${v}`);
  }
  if (!Number.isInteger(shDegree) || shDegree < 0 || shDegree > 2) {
    throw new Da3Error('BAD_VALUE', `${fn}: shDegree must be 0, 1 or 2, got ${shDegree}`);
  }
  for (const [name, v] of [['scaleMin', scaleMin], ['scaleMax', scaleMax], ['eps', eps]] as const) {
    if (!Number.isFinite(v)) throw new Da3Error('NON_FINITE', `${fn}: ${name} must be finite, got ${v}`);
  }
  const rawScale = inputs.poseScale ?? 1;
  if (!Number.isFinite(rawScale)) throw new Da3Error('NON_FINITE', `${fn}: poseScale must be finite, got ${rawScale}`);
  const poseScale = Math.min(3, Math.max(1 / 3, rawScale));

  const k = shCoefficientCount(shDegree);
  const c = gsRawChannels(shDegree);
  const pix = h * w;
  const g = n * pix;
  checkLength(fn, 'raw', raw, g * c, `[${n}, ${h}, ${w}, ${c}]`);
  checkLength(fn, 'depth', depth, g, `[${n}, ${h}, ${w}]`);
  checkLength(fn, 'intrinsics', intrinsics, 9 * n, `[${n}, 3, 3]`);
  let extStride: number;
  if (extrinsics?.length === 12 * n) extStride = 12;
  else if (extrinsics?.length === 16 * n) extStride = 16;
  else throw new Da3Error('BAD_SHAPE', `${fn}: extrinsics must be [${n}, 3, 4] or [${n}, 4, 4], got ${extrinsics ? `length ${extrinsics.length}` : extrinsics}`);
  assertFinite(fn, 'raw', raw);
  assertFinite(fn, 'depth', depth);
  assertFinite(fn, 'extrinsics', extrinsics);
  assertFinite(fn, 'intrinsics', intrinsics);

  const means = new Float32Array(3 * g);
  const scales = new Float32Array(3 * g);
  const rotations = new Float32Array(4 * g);
  const harmonics = new Float32Array(3 * k * g);
  const opacities = new Float32Array(g);

  const mask = new Float64Array(k);
  for (let l = 0; l <= shDegree; l++) for (let i = l * l; i < (l + 1) * (l + 1); i++) mask[i] = l === 0 ? 1 : 0.1 * 0.25 ** l;

  const w2c = new Float64Array(12);
  const c2w = new Float64Array(12);
  const rc2w = new Float64Array(9);
  const kn = new Float64Array(9);
  const knInv = new Float64Array(9);
  const qCam = new Float64Array(4);
  const rCam = new Float64Array(9);
  const rWorld = new Float64Array(9);
  const qWorld = new Float64Array(4);
  const shIn = new Float64Array(3 * k);
  const shOut = new Float64Array(3 * k);

  const taps = inputs.taps;
  const tap = taps
    ? {
        c2w: new Float64Array(16 * n),
        c2wUsed: new Float64Array(16 * n),
        intr: new Float64Array(9 * n),
        mult: new Float64Array(n),
        rot: new Float64Array(9 * n),
        yzx: new Float64Array(9 * n),
        wigner: Array.from({ length: shDegree + 1 }, (_, l) => new Float64Array((2 * l + 1) ** 2 * n)),
        xyRay: new Float64Array(2 * g),
        dirs: new Float64Array(3 * g),
        camQuat: new Float64Array(4 * g),
      }
    : null;

  for (let v = 0; v < n; v++) {
    for (let i = 0; i < 12; i++) w2c[i] = extrinsics[v * extStride + i];
    affineInverse(c2w, w2c);
    for (let r = 0; r < 3; r++) for (let col = 0; col < 3; col++) rc2w[3 * r + col] = c2w[4 * r + col];
    const ox = c2w[3] * poseScale, oy = c2w[7] * poseScale, oz = c2w[11] * poseScale;
    for (let i = 0; i < 9; i++) kn[i] = intrinsics[9 * v + i] / (i < 3 ? w : i < 6 ? h : 1);
    if (invert3(knInv, kn) === null) throw new Da3Error('DEGENERATE', `${fn}: intrinsics of view ${v} are singular`);
    // scale multiplier: 0.1 · Σ_i (K_n[:2,:2]⁻¹ · (1/W, 1/H))_i
    const a = kn[0], b = kn[1], cc = kn[3], d = kn[4];
    const det2 = a * d - b * cc;
    if (det2 === 0) throw new Da3Error('DEGENERATE', `${fn}: intrinsics of view ${v} have a singular focal block`);
    const multiplier = 0.1 * ((d / w - b / h) + (-cc / w + a / h)) / det2;
    const shMats = shDegree > 0 ? shRotationMatrices(rc2w, shDegree) : null;
    if (tap) recordViewTaps(tap, v, c2w, poseScale, kn, multiplier, rc2w, shMats);

    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        const gi = v * pix + y * w + x;
        const o = gi * c;
        const gsDepth = (depth[gi] + raw[o + c - 2]) * poseScale;
        // means
        const u = (x + 0.5) / w + raw[o] / w;
        const vv = (y + 0.5) / h + raw[o + 1] / h;
        let dx = knInv[0] * u + knInv[1] * vv + knInv[2];
        let dy = knInv[3] * u + knInv[4] * vv + knInv[5];
        let dz = knInv[6] * u + knInv[7] * vv + knInv[8];
        const norm = Math.hypot(dx, dy, dz);
        dx /= norm; dy /= norm; dz /= norm;
        if (tap) {
          tap.xyRay[2 * gi] = u;
          tap.xyRay[2 * gi + 1] = vv;
          tap.dirs[3 * gi] = rc2w[0] * dx + rc2w[1] * dy + rc2w[2] * dz;
          tap.dirs[3 * gi + 1] = rc2w[3] * dx + rc2w[4] * dy + rc2w[5] * dz;
          tap.dirs[3 * gi + 2] = rc2w[6] * dx + rc2w[7] * dy + rc2w[8] * dz;
        }
        means[3 * gi] = ox + (rc2w[0] * dx + rc2w[1] * dy + rc2w[2] * dz) * gsDepth;
        means[3 * gi + 1] = oy + (rc2w[3] * dx + rc2w[4] * dy + rc2w[5] * dz) * gsDepth;
        means[3 * gi + 2] = oz + (rc2w[6] * dx + rc2w[7] * dy + rc2w[8] * dz) * gsDepth;
        // scales
        for (let i = 0; i < 3; i++) {
          scales[3 * gi + i] = (scaleMin + (scaleMax - scaleMin) * sigmoid(raw[o + 2 + i])) * gsDepth * multiplier;
        }
        // rotation: normalise, reorder [q3, q0, q1, q2], read scalar-last
        const q0 = raw[o + 5], q1 = raw[o + 6], q2 = raw[o + 7], q3 = raw[o + 8];
        const qn = Math.hypot(q0, q1, q2, q3) + eps;
        qCam[0] = q3 / qn; qCam[1] = q0 / qn; qCam[2] = q1 / qn; qCam[3] = q2 / qn;
        if (tap) {
          tap.camQuat[4 * gi] = q0 / qn;
          tap.camQuat[4 * gi + 1] = q1 / qn;
          tap.camQuat[4 * gi + 2] = q2 / qn;
          tap.camQuat[4 * gi + 3] = q3 / qn;
        }
        quatXyzwToMat3(rCam, qCam);
        for (let r = 0; r < 3; r++) {
          for (let col = 0; col < 3; col++) {
            rWorld[3 * r + col] = rc2w[3 * r] * rCam[col] + rc2w[3 * r + 1] * rCam[3 + col] + rc2w[3 * r + 2] * rCam[6 + col];
          }
        }
        // The reference's [a, b, c, d] (scalar-last, d ≥ 0) is what gsplat renders as w = a:
        // store that rotation in xyzw order.
        mat3ToQuatXyzw(qWorld, rWorld);
        rotations[4 * gi] = qWorld[1];
        rotations[4 * gi + 1] = qWorld[2];
        rotations[4 * gi + 2] = qWorld[3];
        rotations[4 * gi + 3] = qWorld[0];
        // harmonics: mask then rotate each colour
        for (let ch = 0; ch < 3; ch++) for (let i = 0; i < k; i++) shIn[ch * k + i] = raw[o + 9 + ch * k + i] * mask[i];
        if (shMats) {
          applyShRotation(shOut, shIn, shMats, 3, k);
          harmonics.set(shOut, gi * 3 * k);
        } else {
          harmonics.set(shIn, gi * 3 * k);
        }
        opacities[gi] = sigmoid(raw[o + c - 1]);
      }
    }
  }
  if (taps && tap) {
    taps('sh_mask', Float64Array.from(mask), [k]);
    taps('pose_scale', Float64Array.of(poseScale), [1]);
    taps('cam2worlds', tap.c2w, [n, 4, 4]);
    taps('cam2worlds_used', tap.c2wUsed, [n, 4, 4]);
    taps('intr_normed', tap.intr, [n, 3, 3]);
    taps('scale_multiplier', tap.mult, [n]);
    const grid = new Float64Array(2 * pix);
    for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) grid.set([(x + 0.5) / w, (y + 0.5) / h], 2 * (y * w + x));
    taps('xy_grid', grid, [h, w, 2]);
    taps('xy_ray', tap.xyRay, [n, h, w, 2]);
    taps('ray_directions', tap.dirs, [n, h, w, 3]);
    taps('cam_quat_xyzw', tap.camQuat, [g, 4]);
    taps('rotate_sh.rotations', tap.rot, [n, 3, 3]);
    taps('rotate_sh.R_so3_yzx', tap.yzx, [n, 3, 3]);
    for (let l = 0; l < tap.wigner.length; l++) taps(`rotate_sh.wigner_D_l${l}`, tap.wigner[l], [n, 2 * l + 1, 2 * l + 1]);
  }
  return { count: g, means, scales, rotations, harmonics, shCoefficients: k, opacities };
}

interface TapBuffers {
  readonly c2w: Float64Array;
  readonly c2wUsed: Float64Array;
  readonly intr: Float64Array;
  readonly mult: Float64Array;
  readonly rot: Float64Array;
  readonly yzx: Float64Array;
  readonly wigner: Float64Array[];
}

/** P of sh_helpers.py (`yzx → xyz`), row-major. */
const P_YZX = [0, 0, 1, 1, 0, 0, 0, 1, 0];

function recordViewTaps(tap: TapBuffers, v: number, c2w: Float64Array, poseScale: number, kn: Float64Array, multiplier: number, rc2w: Float64Array, shMats: Float64Array[] | null): void {
  for (let i = 0; i < 12; i++) {
    tap.c2w[16 * v + i] = c2w[i];
    tap.c2wUsed[16 * v + i] = i % 4 === 3 ? c2w[i] * poseScale : c2w[i];
  }
  tap.c2w[16 * v + 15] = 1;
  tap.c2wUsed[16 * v + 15] = 1;
  tap.intr.set(kn, 9 * v);
  tap.mult[v] = multiplier;
  tap.rot.set(rc2w, 9 * v);
  // R_so3_yzx = P⁻¹·proj(R)·P (P is a permutation: P⁻¹ = Pᵀ; conjugation commutes with the projection).
  const rp = projectToSo3(rc2w);
  for (let i = 0; i < 3; i++) {
    for (let j = 0; j < 3; j++) {
      let acc = 0;
      for (let a = 0; a < 3; a++) for (let b = 0; b < 3; b++) acc += P_YZX[3 * a + i] * rp[3 * a + b] * P_YZX[3 * b + j];
      tap.yzx[9 * v + 3 * i + j] = acc;
    }
  }
  tap.wigner[0][v] = 1;
  if (shMats) for (let l = 1; l < tap.wigner.length; l++) tap.wigner[l].set(shMats[l], (2 * l + 1) ** 2 * v);
}

function sigmoid(x: number): number {
  return 1 / (1 + Math.exp(-x));
}

function checkLength(fn: string, what: string, a: ArrayLike<number> | undefined, expected: number, shape: string): void {
  if (a?.length !== expected) {
    throw new Da3Error('BAD_SHAPE', `${fn}: ${what} must be ${shape} (${expected} numbers), got ${a ? `length ${a.length}` : a}`);
  }
}

function assertFinite(fn: string, what: string, a: ArrayLike<number>): void {
  for (let i = 0; i < a.length; i++) {
    if (!Number.isFinite(a[i])) throw new Da3Error('NON_FINITE', `${fn}: ${what} must be finite, got ${a[i]} at index ${i}`);
  }
}
