/**
 * Pose-conditioned alignment of a prediction to the user's cameras — the reference's
 * `api.py::DepthAnything3._align_to_input_extrinsics_intrinsics`, run after the network when
 * extrinsics were given.
 */
import { Da3Error, isDa3Error } from '../errors.js';
import { SVD, Matrix } from 'ml-matrix';
import { type PoseAlignment, type RansacOptions, alignPosesUmeyama, applySim3ToExtrinsics, cameraCentres } from './poses.js';
import { type Sim3, det3 } from './umeyama.js';
import { type NumberList, assertFinite, assertPositiveInt, extrinsicsStride } from './validate.js';

/** Randomness of the RANSAC used for many views (one source). */
export type InputPoseRandomness = Pick<RansacOptions, 'numpySeed'> | Pick<RansacOptions, 'seed'> | Pick<RansacOptions, 'draws'>;

/** Options of {@link alignToInputPoses}. */
export interface InputPoseAlignmentOptions {
  /**
   * true (default, the reference's `align_to_input_ext_scale=True`): keep the user's extrinsics
   * and bring depth to their scale (`depth / scale`). false: keep depth as predicted and return the
   * user's cameras Sim(3)-mapped into the prediction's frame and scale.
   */
  alignToInputExtScale?: boolean;
  /** Use RANSAC from this many views on (default 10, the reference's `ransac_view_thresh`). */
  ransacViewThreshold?: number;
  /**
   * RANSAC randomness. Default `{ numpySeed: 42 }`: the reference's `random_state=42` drawn by a
   * bit-exact port of numpy's `default_rng(42).choice`, so the draws — and the result — equal the
   * reference's. `{ seed }` uses da3js's own PRNG (deterministic, different draws); `{ draws }`
   * replays recorded ones.
   */
  random?: InputPoseRandomness;
  /**
   * What to do when Umeyama on camera centres is impossible — fewer than 3 views, or centres
   * coincident/collinear (the reference raises; for 2 views that is issue #241):
   * - `'fallback'` (default): see {@link alignToInputPoses};
   * - `'throw'`: throw `Da3Error` `DEGENERATE` like the reference.
   */
  fewViews?: 'fallback' | 'throw';
}

/** Result of {@link alignToInputPoses}. */
export interface InputPoseAlignment extends Sim3 {
  /** How the Sim(3) was found. */
  method: 'umeyama' | 'ransac' | 'fallback';
  /**
   * The Prediction's extrinsics, world→camera N×3×4: with `alignToInputExtScale` the user's own
   * (top 3 rows, in their array type), otherwise the top rows of `alignedExtrinsics`.
   */
  extrinsics: Float32Array | Float64Array;
  /**
   * The user's cameras mapped by the Sim(3) into the prediction's world frame and scale,
   * world→camera N×4×4 float64 — what the reference returns as `Prediction.extrinsics` (4×4)
   * when `align_to_input_ext_scale=False`.
   */
  alignedExtrinsics: Float64Array;
  /** The Prediction's intrinsics: the user's K, copied (N×3×3), or null when none was given. */
  intrinsics: Float32Array | Float64Array | null;
  /**
   * The Prediction's depth: `depth / scale` in float32 (the user's units) with
   * `alignToInputExtScale`, else the input array itself (unchanged, not copied).
   */
  depth: Float32Array;
  /** RANSAC inlier mask (1 = inlier) or null. */
  inliers: Uint8Array | null;
}

/** Inputs of {@link alignToInputPoses}. */
export interface InputPoseAlignmentInputs {
  /** Predicted world→camera extrinsics, one 3×4 or 4×4 per view (the network's, N×3×4). */
  predExtrinsics: NumberList;
  /** The user's world→camera extrinsics as passed in (before `_normalize_extrinsics`), 3×4 or 4×4 per view. */
  inputExtrinsics: NumberList;
  /** The user's intrinsics after preprocessing (processed pixels), 3×3 per view; optional. */
  inputIntrinsics?: Float32Array | Float64Array | null;
  /** Predicted depth, float32, N×H×W (any layout whose leading size is N views). */
  depth: Float32Array;
  /** Number of views N. */
  views: number;
}

/**
 * Aligns a prediction to the user's input cameras. The Sim(3) maps the **input** camera centres
 * onto the **predicted** ones (`c_pred ≈ scale·R·c_in + t`; `align_poses_umeyama(pred, input)`),
 * so `scale` is predicted units per input unit. Views ≥ `ransacViewThreshold` use RANSAC with
 * `numpySeed` 42 by default (bit-identical draws to the reference). Precision follows the
 * reference's numpy dtypes (see {@link alignPosesUmeyama}): pass the user's extrinsics as the
 * Float32Array the reference sees to reproduce it to the last bit.
 *
 * Fallback (default for < 3 views or degenerate centres; the reference raises): `R` is the
 * chordal mean rotation `polar(Σ_i R_pred,i · R_in,iᵀ)` of the camera-to-world rotations, `scale`
 * the ratio of the RMS spreads of the two sets of centres about their means (1 when the input
 * centres coincide, e.g. one view), and `t = mean(c_pred) − scale·R·mean(c_in)`.
 *
 * Throws `Da3Error`: `BAD_VALUE`/`BAD_SHAPE`/`NON_FINITE` for bad inputs, `DEGENERATE` as above
 * with `fewViews: 'throw'`.
 */
export function alignToInputPoses(inputs: InputPoseAlignmentInputs, options: InputPoseAlignmentOptions = {}): InputPoseAlignment {
  const where = 'alignToInputPoses';
  const { predExtrinsics, inputExtrinsics, depth, views } = inputs;
  const K = inputs.inputIntrinsics ?? null;
  assertPositiveInt(where, 'views', views);
  const sIn = extrinsicsStride(where, 'inputExtrinsics', inputExtrinsics, views);
  extrinsicsStride(where, 'predExtrinsics', predExtrinsics, views);
  if (K !== null && K.length !== 9 * views) {
    throw new Da3Error('BAD_SHAPE', `${where}: inputIntrinsics has ${K.length} numbers, expected ${9 * views} (N×3×3)`);
  }
  if (depth.length % views !== 0) {
    throw new Da3Error('BAD_SHAPE', `${where}: depth has ${depth.length} numbers, not a multiple of ${views} views`);
  }
  assertFinite(where, 'predExtrinsics', predExtrinsics);
  assertFinite(where, 'inputExtrinsics', inputExtrinsics);
  const alignToInputExtScale = options.alignToInputExtScale ?? true;
  const threshold = options.ransacViewThreshold ?? 10;
  const fewViews = options.fewViews ?? 'fallback';

  let res: PoseAlignment | null = null;
  let method: InputPoseAlignment['method'];
  try {
    const ransac = views >= threshold;
    res = alignPosesUmeyama(predExtrinsics, inputExtrinsics, views, {
      ransac: ransac ? { ...(options.random ?? { numpySeed: 42 }) } : false,
    });
    method = ransac ? 'ransac' : 'umeyama';
  } catch (e) {
    if (!isDa3Error(e, 'DEGENERATE') || fewViews === 'throw') throw e;
    method = 'fallback';
  }
  let sim: Sim3;
  let alignedExtrinsics: Float64Array;
  let inliers: Uint8Array | null = null;
  if (res !== null) {
    sim = { R: res.R, t: res.t, scale: res.scale };
    alignedExtrinsics = res.alignedExtrinsics;
    inliers = res.inliers;
  } else {
    sim = fallbackSim3(predExtrinsics, inputExtrinsics, views);
    alignedExtrinsics = applySim3ToExtrinsics(sim, inputExtrinsics, views);
  }

  let extrinsics: Float32Array | Float64Array;
  let outDepth: Float32Array;
  if (alignToInputExtScale) {
    extrinsics = inputExtrinsics instanceof Float32Array ? new Float32Array(12 * views) : new Float64Array(12 * views);
    for (let v = 0; v < views; v++) for (let k = 0; k < 12; k++) extrinsics[12 * v + k] = inputExtrinsics[sIn * v + k];
    // numpy: float32 array /= float64 scalar computes in float32.
    const s = Math.fround(sim.scale);
    outDepth = new Float32Array(depth.length);
    for (let i = 0; i < depth.length; i++) outDepth[i] = Math.fround(depth[i] / s);
  } else {
    extrinsics = new Float64Array(12 * views);
    for (let v = 0; v < views; v++) for (let k = 0; k < 12; k++) extrinsics[12 * v + k] = alignedExtrinsics[16 * v + k];
    outDepth = depth;
  }
  const intrinsics = K === null ? null : K instanceof Float32Array ? Float32Array.from(K) : Float64Array.from(K);
  return { ...sim, method, extrinsics, alignedExtrinsics, intrinsics, depth: outDepth, inliers };
}

/** The documented fallback Sim(3) (input → predicted) for < 3 views or degenerate centres. */
function fallbackSim3(predExt: NumberList, inputExt: NumberList, n: number): Sim3 {
  const sp = extrinsicsStride('alignToInputPoses', 'predExtrinsics', predExt, n);
  const si = extrinsicsStride('alignToInputPoses', 'inputExtrinsics', inputExt, n);
  const cp = cameraCentres(predExt, n);
  const ci = cameraCentres(inputExt, n);
  // Σ R_pred,i · R_in,iᵀ with R = c2w rotation = w2c rotationᵀ: R_pred,c2w · R_in,c2wᵀ = Pᵀ · I
  // where P, I are the w2c rotations.
  const M = new Float64Array(9);
  for (let v = 0; v < n; v++) {
    for (let r = 0; r < 3; r++) {
      for (let c = 0; c < 3; c++) {
        let s = 0;
        for (let k = 0; k < 3; k++) s += predExt[sp * v + 4 * k + r] * inputExt[si * v + 4 * k + c];
        M[3 * r + c] += s;
      }
    }
  }
  const svd = new SVD(new Matrix([Array.from(M.subarray(0, 3)), Array.from(M.subarray(3, 6)), Array.from(M.subarray(6, 9))]), {
    autoTranspose: false,
  });
  const U = svd.leftSingularVectors;
  const V = svd.rightSingularVectors;
  const u = new Float64Array(9);
  const w = new Float64Array(9);
  for (let r = 0; r < 3; r++) {
    for (let c = 0; c < 3; c++) {
      u[3 * r + c] = U.get(r, c);
      w[3 * r + c] = V.get(r, c);
    }
  }
  const sign = det3(u) * det3(w) < 0 ? -1 : 1;
  const R = new Float64Array(9);
  for (let r = 0; r < 3; r++) {
    for (let c = 0; c < 3; c++) R[3 * r + c] = u[3 * r] * w[3 * c] + u[3 * r + 1] * w[3 * c + 1] + sign * u[3 * r + 2] * w[3 * c + 2];
  }
  const mp = [0, 0, 0];
  const mi = [0, 0, 0];
  for (let v = 0; v < n; v++) {
    for (let a = 0; a < 3; a++) {
      mp[a] += cp[3 * v + a] / n;
      mi[a] += ci[3 * v + a] / n;
    }
  }
  let vp = 0;
  let vi = 0;
  for (let v = 0; v < n; v++) {
    for (let a = 0; a < 3; a++) {
      vp += (cp[3 * v + a] - mp[a]) ** 2;
      vi += (ci[3 * v + a] - mi[a]) ** 2;
    }
  }
  const scale = vi > 0 && vp > 0 ? Math.sqrt(vp / vi) : 1;
  const t = new Float64Array(3);
  for (let r = 0; r < 3; r++) t[r] = mp[r] - scale * (R[3 * r] * mi[0] + R[3 * r + 1] * mi[1] + R[3 * r + 2] * mi[2]);
  return { R, t, scale };
}
