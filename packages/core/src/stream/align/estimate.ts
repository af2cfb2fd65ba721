/**
 * The reference's dense chunk-alignment estimators (`da3_streaming/loop_utils/sim3utils.py`, the
 * numpy path `align_lib: 'numpy'`): confidence-weighted Sim(3)/SE(3) fits of corresponding points
 * and the Huber IRLS around them. Float64 throughout (the reference's numpy code runs in the dtype
 * of its inputs — float32 in the pipeline; the goldens run it in float64 on the same values).
 *
 * Points are N×3 row-major (`[x0, y0, z0, x1, …]`); weights N. The fits map `source` onto
 * `target`: `target ≈ s·R·source + t`.
 */
import { SVD, Matrix } from 'ml-matrix';
import { Da3Error } from '../../errors.js';
import type { Sim3 } from './sim3.js';

/** `align_method` of the reference. */
export type StreamAlignMethod = 'sim3' | 'se3' | 'scale+se3';

/** A Sim(3) fit plus what the IRLS did. */
export interface RobustSim3Estimate extends Sim3 {
  /**
   * IRLS iterations run: the loop index at which the reference's convergence test broke out
   * (that iteration's re-fit discarded, as the reference does), or `maxIters` when it never did.
   */
  readonly iterations: number;
}

/** Options of {@link robustWeightedEstimateSim3} (the reference's `IRLS` config block). */
export interface IrlsOptions {
  /** Huber threshold on the point residual, in target units (`IRLS.delta`, default 0.1). */
  delta?: number;
  /** Re-weighting iterations (`IRLS.max_iters`, default 5 in `base_config.yaml`; the function's own default is 20). */
  maxIters?: number;
  /** Convergence tolerance (`IRLS.tol`, default 1e-9). */
  tol?: number;
  /** `align_method` (default 'sim3'). */
  alignMethod?: StreamAlignMethod;
}

/**
 * Corresponding points, possibly gathered through an index list (`idx[k]` is the k-th pair's point
 * number) and with the source multiplied by `srcScale` on read (the reference's
 * `point_map2 *= precompute_scale`). @internal
 */
export interface PointPairs {
  src: ArrayLike<number>;
  tgt: ArrayLike<number>;
  idx: Uint32Array | null;
  n: number;
  srcScale: number;
}

const RAD_0_1 = (0.1 * Math.PI) / 180; // np.radians(0.1)

// ───────────────────────────────────────── public API ─────────────────────────────────────────

/**
 * The reference's `weighted_estimate_sim3(source_points, target_points, weights)`: weighted means,
 * the scale as the ratio of weighted RMS spreads `s = √(Σw‖y−ȳ‖²) / √(Σw‖x−x̄‖²)` (not Umeyama's
 * optimal scale), Kabsch rotation from `H = Σ w (s(x−x̄))(y−ȳ)ᵀ` with the reflection fix, and
 * `t = ȳ − s·R·x̄`. Weights are normalised to sum 1.
 *
 * Throws `Da3Error`: BAD_SHAPE (sizes), NON_FINITE, DEGENERATE (total weight < 1e-6, as the
 * reference raises; or a covariance of rank < 2: coincident or collinear points).
 */
export function weightedEstimateSim3(sourcePoints: ArrayLike<number>, targetPoints: ArrayLike<number>, weights: ArrayLike<number>): Sim3 {
  const pairs = checkPairs('weightedEstimateSim3', sourcePoints, targetPoints, weights);
  return weightedEstimate(pairs, weights, 'sim3', 'weightedEstimateSim3');
}

/**
 * The reference's `weighted_estimate_se3`: {@link weightedEstimateSim3} with the scale fixed at 1
 * (`t = ȳ − R·x̄`).
 */
export function weightedEstimateSe3(sourcePoints: ArrayLike<number>, targetPoints: ArrayLike<number>, weights: ArrayLike<number>): Sim3 {
  const pairs = checkPairs('weightedEstimateSe3', sourcePoints, targetPoints, weights);
  return weightedEstimate(pairs, weights, 'se3', 'weightedEstimateSe3');
}

/**
 * The reference's unweighted `estimate_sim3(source_points, target_points)` (used by its
 * `align_point_maps`): {@link weightedEstimateSim3} with equal weights.
 */
export function estimateSim3(sourcePoints: ArrayLike<number>, targetPoints: ArrayLike<number>): Sim3 {
  const w = new Float64Array(Math.floor(sourcePoints.length / 3)).fill(1);
  return estimateSim3Pairs(checkPairs('estimateSim3', sourcePoints, targetPoints, w), 'estimateSim3');
}

/** `estimate_sim3` on gathered pairs. @internal */
export function estimateSim3Pairs(pairs: PointPairs, where: string): Sim3 {
  return weightedEstimate(pairs, new Float64Array(pairs.n).fill(1), 'sim3', where);
}

/** The reference's `huber_loss(r, delta)`: ½r² for |r| ≤ δ, δ(|r| − ½δ) beyond. */
export function huberLoss(r: number, delta: number): number {
  const a = Math.abs(r);
  return a <= delta ? 0.5 * r * r : delta * (a - 0.5 * delta);
}

/**
 * The reference's `robust_weighted_estimate_sim3(src, tgt, init_weights, delta, max_iters, tol,
 * align_method)`, numpy path: an initial weighted fit ({@link weightedEstimateSim3}, or
 * {@link weightedEstimateSe3} for 'se3' and 'scale+se3'), then up to `maxIters` rounds of Huber
 * re-weighting — residual r = ‖tgt − (s·R·src + t)‖, weight `init · min(1, δ/r)` normalised — and
 * re-fitting, stopping when `|Δs| + ‖Δt‖ < tol` and the rotation change is under 0.1°, or when the
 * init-weighted Huber cost changes by less than `tol` relative.
 *
 * As in the reference, the re-fits of 'scale+se3' are full Sim(3) fits (only 'se3' re-fits with
 * unit scale), and the re-fit of the iteration that meets the test is discarded.
 */
export function robustWeightedEstimateSim3(
  src: ArrayLike<number>,
  tgt: ArrayLike<number>,
  initWeights: ArrayLike<number>,
  options: IrlsOptions = {},
): RobustSim3Estimate {
  const where = 'robustWeightedEstimateSim3';
  const pairs = checkPairs(where, src, tgt, initWeights);
  return robustEstimate(pairs, initWeights, resolveIrls(where, options, 20), where);
}

// ───────────────────────────────────────── internals ─────────────────────────────────────────

/** @internal */
export interface ResolvedIrls {
  delta: number;
  maxIters: number;
  tol: number;
  alignMethod: StreamAlignMethod;
}

/** @internal */
export function resolveIrls(where: string, o: IrlsOptions, defaultMaxIters: number): ResolvedIrls {
  const delta = o.delta ?? 0.1;
  const maxIters = o.maxIters ?? defaultMaxIters;
  const tol = o.tol ?? 1e-9;
  const alignMethod = o.alignMethod ?? 'sim3';
  if (!(delta > 0) || !Number.isFinite(delta)) throw new Da3Error('BAD_VALUE', `${where}: delta must be a positive number, got ${delta}`);
  if (!Number.isInteger(maxIters) || maxIters < 0) throw new Da3Error('BAD_VALUE', `${where}: maxIters must be a non-negative integer, got ${maxIters}`);
  if (!(tol >= 0) || !Number.isFinite(tol)) throw new Da3Error('BAD_VALUE', `${where}: tol must be a non-negative number, got ${tol}`);
  if (alignMethod !== 'sim3' && alignMethod !== 'se3' && alignMethod !== 'scale+se3') {
    throw new Da3Error('BAD_VALUE', `${where}: alignMethod must be 'sim3', 'se3' or 'scale+se3', got ${String(alignMethod)}`);
  }
  return { delta, maxIters, tol, alignMethod };
}

function checkPairs(where: string, src: ArrayLike<number>, tgt: ArrayLike<number>, w: ArrayLike<number>): PointPairs {
  if (src.length !== tgt.length) {
    throw new Da3Error('BAD_SHAPE', `${where}: source has ${src.length} numbers, target ${tgt.length}; both must be N×3 with the same N`);
  }
  if (src.length % 3 !== 0) throw new Da3Error('BAD_SHAPE', `${where}: ${src.length} numbers is not N×3`);
  const n = src.length / 3;
  if (w.length !== n) throw new Da3Error('BAD_SHAPE', `${where}: ${w.length} weights for ${n} points`);
  if (n === 0) throw new Da3Error('EMPTY_INPUT', `${where}: no points`);
  for (let i = 0; i < src.length; i++) {
    if (!Number.isFinite(src[i])) throw new Da3Error('NON_FINITE', `${where}: source[${i}] is ${src[i]}`);
    if (!Number.isFinite(tgt[i])) throw new Da3Error('NON_FINITE', `${where}: target[${i}] is ${tgt[i]}`);
  }
  for (let i = 0; i < n; i++) {
    if (!Number.isFinite(w[i])) throw new Da3Error('NON_FINITE', `${where}: weights[${i}] is ${w[i]}`);
    if (w[i] < 0) throw new Da3Error('BAD_VALUE', `${where}: weights[${i}] is negative (${w[i]})`);
  }
  return { src, tgt, idx: null, n, srcScale: 1 };
}

/**
 * `weighted_estimate_sim3` / `weighted_estimate_se3` on `pairs` with weights `w` (length n).
 * @internal
 */
export function weightedEstimate(p: PointPairs, w: ArrayLike<number>, kind: 'sim3' | 'se3', where: string): Sim3 {
  const { src, tgt, idx, n, srcScale: k } = p;
  let total = 0;
  for (let i = 0; i < n; i++) total += w[i];
  if (total < 1e-6) throw new Da3Error('DEGENERATE', `${where}: total weight ${total} is too small for a meaningful estimate (< 1e-6)`);

  let ms0 = 0, ms1 = 0, ms2 = 0, mt0 = 0, mt1 = 0, mt2 = 0;
  for (let i = 0; i < n; i++) {
    const nw = w[i] / total;
    const o = 3 * (idx === null ? i : idx[i]);
    ms0 += nw * (k * src[o]);
    ms1 += nw * (k * src[o + 1]);
    ms2 += nw * (k * src[o + 2]);
    mt0 += nw * tgt[o];
    mt1 += nw * tgt[o + 1];
    mt2 += nw * tgt[o + 2];
  }

  // Spreads (sim3) and the weighted cross-covariance Σ nw (x−x̄)(y−ȳ)ᵀ in one pass.
  let vs = 0, vt = 0;
  const H = new Float64Array(9);
  for (let i = 0; i < n; i++) {
    const nw = w[i] / total;
    const o = 3 * (idx === null ? i : idx[i]);
    const x0 = k * src[o] - ms0, x1 = k * src[o + 1] - ms1, x2 = k * src[o + 2] - ms2;
    const y0 = tgt[o] - mt0, y1 = tgt[o + 1] - mt1, y2 = tgt[o + 2] - mt2;
    vs += nw * (x0 * x0 + x1 * x1 + x2 * x2);
    vt += nw * (y0 * y0 + y1 * y1 + y2 * y2);
    const a0 = nw * x0, a1 = nw * x1, a2 = nw * x2;
    H[0] += a0 * y0; H[1] += a0 * y1; H[2] += a0 * y2;
    H[3] += a1 * y0; H[4] += a1 * y1; H[5] += a1 * y2;
    H[6] += a2 * y0; H[7] += a2 * y1; H[8] += a2 * y2;
  }
  let s = 1;
  if (kind === 'sim3') {
    if (!(vs > 0)) throw new Da3Error('DEGENERATE', `${where}: the source points have no spread (all weighted points coincide)`);
    s = Math.sqrt(vt) / Math.sqrt(vs);
    // H of the reference is built from s·(x−x̄); the rotation does not depend on it, but keep it.
    for (let j = 0; j < 9; j++) H[j] *= s;
  }
  const R = kabsch(H, where);
  const translation = Float64Array.of(
    mt0 - s * (R[0] * ms0 + R[1] * ms1 + R[2] * ms2),
    mt1 - s * (R[3] * ms0 + R[4] * ms1 + R[5] * ms2),
    mt2 - s * (R[6] * ms0 + R[7] * ms1 + R[8] * ms2),
  );
  return { scale: s, rotation: R, translation };
}

/**
 * numpy's `U, _, Vt = svd(H); R = Vt.T @ U.T; if det(R) < 0: Vt[2] *= -1; R = Vt.T @ U.T`.
 * @internal
 */
export function kabsch(H: Float64Array, where: string): Float64Array {
  const svd = new SVD(new Matrix([Array.from(H.subarray(0, 3)), Array.from(H.subarray(3, 6)), Array.from(H.subarray(6, 9))]), {
    computeLeftSingularVectors: true,
    computeRightSingularVectors: true,
    autoTranspose: false,
  });
  const d = svd.diagonal;
  const scaleRef = Math.max(Math.abs(d[0]), Number.MIN_VALUE);
  if (!(d[1] > scaleRef * 1e-12)) {
    throw new Da3Error(
      'DEGENERATE',
      `${where}: the weighted cross-covariance has rank < 2 (singular values ${d.map((v) => v.toExponential(3)).join(', ')}); the points are coincident or collinear`,
    );
  }
  const U = svd.leftSingularVectors;
  const V = svd.rightSingularVectors;
  const R = new Float64Array(9);
  const fill = (sign: number) => {
    for (let r = 0; r < 3; r++) {
      for (let c = 0; c < 3; c++) R[3 * r + c] = V.get(r, 0) * U.get(c, 0) + V.get(r, 1) * U.get(c, 1) + sign * V.get(r, 2) * U.get(c, 2);
    }
  };
  fill(1);
  if (det3(R) < 0) fill(-1);
  return R;
}

function det3(m: ArrayLike<number>): number {
  return m[0] * (m[4] * m[8] - m[5] * m[7]) - m[1] * (m[3] * m[8] - m[5] * m[6]) + m[2] * (m[3] * m[7] - m[4] * m[6]);
}

/** The IRLS of {@link robustWeightedEstimateSim3} on `pairs`. @internal */
export function robustEstimate(p: PointPairs, initWeights: ArrayLike<number>, o: ResolvedIrls, where: string): RobustSim3Estimate {
  const { src, tgt, idx, n, srcScale: k } = p;
  const { delta, maxIters, tol, alignMethod } = o;
  let cur = weightedEstimate(p, initWeights, alignMethod === 'sim3' ? 'sim3' : 'se3', where);
  const refitKind = alignMethod === 'se3' ? 'se3' : 'sim3';
  let prevError = Number.POSITIVE_INFINITY;
  const combined = new Float64Array(n);
  const residuals = new Float64Array(n);
  let iterations = maxIters;
  for (let iter = 0; iter < maxIters; iter++) {
    const s = cur.scale, R = cur.rotation, t = cur.translation;
    // transformed = s·(src @ Rᵀ) + t; residual = ‖tgt − transformed‖.
    let sum = 0;
    for (let i = 0; i < n; i++) {
      const oo = 3 * (idx === null ? i : idx[i]);
      const x = k * src[oo], y = k * src[oo + 1], z = k * src[oo + 2];
      const d0 = tgt[oo] - (s * (R[0] * x + R[1] * y + R[2] * z) + t[0]);
      const d1 = tgt[oo + 1] - (s * (R[3] * x + R[4] * y + R[5] * z) + t[1]);
      const d2 = tgt[oo + 2] - (s * (R[6] * x + R[7] * y + R[8] * z) + t[2]);
      const r = Math.sqrt(d0 * d0 + d1 * d1 + d2 * d2);
      residuals[i] = r;
      const cw = initWeights[i] * (r > delta ? delta / r : 1);
      combined[i] = cw;
      sum += cw;
    }
    const norm = sum + 1e-12;
    for (let i = 0; i < n; i++) combined[i] /= norm;
    const next = weightedEstimate(p, combined, refitKind, where);

    const dt0 = next.translation[0] - t[0], dt1 = next.translation[1] - t[1], dt2 = next.translation[2] - t[2];
    const paramChange = Math.abs(next.scale - s) + Math.sqrt(dt0 * dt0 + dt1 * dt1 + dt2 * dt2);
    // trace(R_new · Rᵀ) = Σ R_new ⊙ R.
    let tr = 0;
    for (let j = 0; j < 9; j++) tr += next.rotation[j] * R[j];
    const rotAngle = Math.acos(Math.min(1, Math.max(-1, (tr - 1) / 2)));
    let currentError = 0;
    for (let i = 0; i < n; i++) currentError += huberLoss(residuals[i], delta) * initWeights[i];

    if ((paramChange < tol && rotAngle < RAD_0_1) || Math.abs(prevError - currentError) < tol * prevError) {
      iterations = iter;
      break;
    }
    cur = next;
    prevError = currentError;
  }
  return { scale: cur.scale, rotation: cur.rotation, translation: cur.translation, iterations };
}
