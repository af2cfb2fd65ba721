/**
 * The depth-ratio scale of the reference's 'scale+se3' alignment ("Scale precompute" in
 * `da3_streaming/loop_utils/sim3utils.py`): `compute_scale_ransac` (scikit-learn's
 * `RANSACRegressor` around a no-intercept `LinearRegression`, `random_state=42`),
 * `compute_scale_weighted` (a confidence-weighted quantile of depth ratios),
 * `compute_chunk_scale_advanced` ('auto' combines both) and `precompute_scale_chunks_with_depth`.
 *
 * The scale maps depths of chunk 2 (current) onto chunk 1 (previous): `depth1 ≈ scale · depth2`.
 * Inputs are flat `[F,H,W]`; confidences as the reference sees them (already shifted by −1).
 */
import { Da3Error } from '../../errors.js';
import { selectKth } from '../../align/quantile.js';
import { legacyRandomState } from './legacyRandom.js';

/** `Model.scale_compute_method`. */
export type ScaleComputeMethod = 'auto' | 'ransac' | 'weighted';

/** Options of the scale estimates (reference defaults). */
export interface ScaleOptions {
  /** Both: confidence threshold = max(median(conf1), median(conf2)) × this, at least 1e-6 (default 0.1). */
  confThresholdRatio?: number;
  /** RANSAC: at most this many valid pixels are fitted (default 10000). */
  maxSamples?: number;
  /**
   * RANSAC: seed of the draw of `maxSamples` pixels when there are more. The reference draws them
   * with numpy's global, unseeded `np.random.choice(n, maxSamples, replace=False)`, so its result
   * is not reproducible there; we draw `RandomState(seed).permutation(n)[:maxSamples]`, which is
   * what the reference draws after `np.random.seed(seed)` (default 42, ours).
   */
  subsampleSeed?: number;
  /** RANSAC: `random_state` of `RANSACRegressor` (default 42, the reference's). */
  ransacRandomState?: number;
  /** RANSAC: `max_trials` (default 1000). */
  maxTrials?: number;
  /** RANSAC: `residual_threshold` on depth, in chunk 1's depth units (default 0.1). */
  residualThreshold?: number;
  /** Weighted: weights (c₁·c₂)^weightPower (default 2). */
  weightPower?: number;
  /** Weighted: the weighted quantile of the ratios returned (default 0.9). */
  robustQuantile?: number;
  /** Both: `[median(conf1), median(conf2)]` when already known (saves two selections on large inputs). */
  confMedians?: readonly [number, number];
}

/** A scale and its quality score. */
export interface ScaleEstimate {
  /** depth1 ≈ scale · depth2; 1 when the estimate fell outside (0.1, 10) or had < 100 valid pixels. */
  readonly scale: number;
  /** RANSAC: the inlier ratio; weighted: 1 − normalised weight entropy; 0 with < 100 valid pixels. */
  readonly quality: number;
}

/** The result of {@link computeChunkScaleAdvanced}. */
export interface ChunkScale extends ScaleEstimate {
  /** 'ransac', 'weighted' or 'average' (auto, when both qualities exceed 0.7). */
  readonly method: 'ransac' | 'weighted' | 'average';
}

/**
 * The reference's `compute_scale_ransac(depth1, depth2, conf1, conf2)`: RANSAC fit of
 * `depth1 = scale · depth2` over the pixels with both confidences above the threshold and both
 * depths in (1e-3, 100).
 */
export function computeScaleRansac(
  depth1: ArrayLike<number>,
  depth2: ArrayLike<number>,
  conf1: ArrayLike<number>,
  conf2: ArrayLike<number>,
  options: ScaleOptions = {},
): ScaleEstimate {
  const where = 'computeScaleRansac';
  checkScaleInputs(where, depth1, depth2, conf1, conf2);
  const valid = validPixels(depth1, depth2, conf1, conf2, options.confThresholdRatio ?? 0.1, options.confMedians);
  if (valid.length < 100) return { scale: 1, quality: 0 };
  const maxSamples = options.maxSamples ?? 10000;
  let sel: ArrayLike<number> = valid;
  if (valid.length > maxSamples) {
    const perm = legacyRandomState(options.subsampleSeed ?? 42).permutation(valid.length);
    const picked = new Uint32Array(maxSamples);
    for (let k = 0; k < maxSamples; k++) picked[k] = valid[perm[k]];
    sel = picked;
  }
  const n = sel.length;
  const X = new Float64Array(n);
  const y = new Float64Array(n);
  for (let k = 0; k < n; k++) {
    X[k] = depth2[sel[k]];
    y[k] = depth1[sel[k]];
  }
  const { coef, inliers } = ransacNoIntercept(X, y, {
    minSamples: Math.max(10, Math.floor(n / 100)),
    maxTrials: options.maxTrials ?? 1000,
    residualThreshold: options.residualThreshold ?? 0.1,
    randomState: options.ransacRandomState ?? 42,
  });
  const ratio = inliers / n;
  return coef > 0.1 && coef < 10.0 ? { scale: coef, quality: ratio } : { scale: 1, quality: ratio };
}

/**
 * The reference's `compute_scale_weighted(depth1, depth2, conf1, conf2)`: the `robustQuantile`
 * (0.9) weighted quantile of the ratios depth1/(depth2 + 1e-8) with weights (c₁c₂)² (the first
 * sorted ratio whose cumulative weight reaches the quantile); quality 1 − entropy/log(n).
 */
export function computeScaleWeighted(
  depth1: ArrayLike<number>,
  depth2: ArrayLike<number>,
  conf1: ArrayLike<number>,
  conf2: ArrayLike<number>,
  options: ScaleOptions = {},
): ScaleEstimate {
  const where = 'computeScaleWeighted';
  checkScaleInputs(where, depth1, depth2, conf1, conf2);
  const valid = validPixels(depth1, depth2, conf1, conf2, options.confThresholdRatio ?? 0.1, options.confMedians);
  if (valid.length < 100) return { scale: 1, quality: 0 };
  const power = options.weightPower ?? 2;
  const q = options.robustQuantile ?? 0.9;
  const n = valid.length;
  const w = new Float64Array(n);
  const ratios = new Float64Array(n);
  let sum = 0;
  for (let k = 0; k < n; k++) {
    const i = valid[k];
    w[k] = (conf1[i] * conf2[i]) ** power;
    sum += w[k];
    ratios[k] = depth1[i] / (depth2[i] + 1e-8);
  }
  const norm = sum + 1e-8;
  for (let k = 0; k < n; k++) w[k] /= norm;
  // numpy: argsort the ratios, cumsum the weights in that order, searchsorted(cum, q). The value
  // found is the smallest ratio whose cumulative weight (ties included) reaches q — a weighted
  // selection, O(n), without sorting all pixels.
  const vals = Float64Array.from(ratios);
  const wts = Float64Array.from(w);
  const scaleMedian = weightedSelect(vals, wts, 0.5) ?? 1.0;
  const scaleQuantile = weightedSelect(vals, wts, q) ?? scaleMedian;

  let entropy = 0;
  for (let k = 0; k < n; k++) entropy -= w[k] * Math.log(w[k] + 1e-8);
  const maxEntropy = Math.log(n);
  const quality = maxEntropy > 0 ? 1.0 - entropy / maxEntropy : 0.0;
  return scaleQuantile > 0.1 && scaleQuantile < 10.0 ? { scale: scaleQuantile, quality } : { scale: 1, quality };
}

/**
 * The reference's `compute_chunk_scale_advanced(depth1, depth2, conf1, conf2, method)`. 'auto'
 * runs both: their mean when both qualities exceed 0.7, else the one of higher quality (weighted
 * on ties); the quality reported is the larger one.
 */
export function computeChunkScaleAdvanced(
  depth1: ArrayLike<number>,
  depth2: ArrayLike<number>,
  conf1: ArrayLike<number>,
  conf2: ArrayLike<number>,
  method: ScaleComputeMethod = 'auto',
  options: ScaleOptions = {},
): ChunkScale {
  if (method === 'ransac') return { ...computeScaleRansac(depth1, depth2, conf1, conf2, options), method: 'ransac' };
  if (method === 'weighted') return { ...computeScaleWeighted(depth1, depth2, conf1, conf2, options), method: 'weighted' };
  if (method !== 'auto') throw new Da3Error('BAD_VALUE', `computeChunkScaleAdvanced: method must be 'auto', 'ransac' or 'weighted', got ${String(method)}`);
  const r = computeScaleRansac(depth1, depth2, conf1, conf2, options);
  const w = computeScaleWeighted(depth1, depth2, conf1, conf2, options);
  const quality = Math.max(r.quality, w.quality);
  if (r.quality > 0.7 && w.quality > 0.7) return { scale: (r.scale + w.scale) / 2, quality, method: 'average' };
  if (r.quality > w.quality) return { scale: r.scale, quality, method: 'ransac' };
  return { scale: w.scale, quality, method: 'weighted' };
}

/**
 * The reference's `precompute_scale_chunks_with_depth(chunk1_depth, chunk1_conf, chunk2_depth,
 * chunk2_conf, method)`: {@link computeChunkScaleAdvanced} with the arguments in chunk order.
 */
export function precomputeScaleChunksWithDepth(
  chunk1Depth: ArrayLike<number>,
  chunk1Conf: ArrayLike<number>,
  chunk2Depth: ArrayLike<number>,
  chunk2Conf: ArrayLike<number>,
  method: ScaleComputeMethod = 'auto',
  options: ScaleOptions = {},
): ChunkScale {
  return computeChunkScaleAdvanced(chunk1Depth, chunk2Depth, chunk1Conf, chunk2Conf, method, options);
}

// ───────────────────────────────────────── internals ─────────────────────────────────────────

function checkScaleInputs(where: string, d1: ArrayLike<number>, d2: ArrayLike<number>, c1: ArrayLike<number>, c2: ArrayLike<number>): void {
  const n = d1.length;
  if (d2.length !== n || c1.length !== n || c2.length !== n) {
    throw new Da3Error('BAD_SHAPE', `${where}: depth1, depth2, conf1, conf2 have ${d1.length}, ${d2.length}, ${c1.length}, ${c2.length} numbers; they must match`);
  }
  if (n === 0) throw new Da3Error('EMPTY_INPUT', `${where}: no pixels`);
  for (const [name, a] of [['depth1', d1], ['depth2', d2], ['conf1', c1], ['conf2', c2]] as const) {
    for (let i = 0; i < n; i++) if (!Number.isFinite(a[i])) throw new Da3Error('NON_FINITE', `${where}: ${name}[${i}] is ${a[i]}`);
  }
}

/** numpy `np.median` (mean of the two middle values for an even count), float64. @internal */
export function medianOf(values: ArrayLike<number>): number {
  const a = values instanceof Float32Array ? Float32Array.from(values) : Float64Array.from(values);
  const m = a.length >> 1;
  const hi = selectKth(a, m);
  if (a.length % 2 === 1) return hi;
  let lo = a[0];
  for (let i = 1; i < m; i++) if (a[i] > lo) lo = a[i];
  return (lo + hi) / 2;
}

function validPixels(
  d1: ArrayLike<number>,
  d2: ArrayLike<number>,
  c1: ArrayLike<number>,
  c2: ArrayLike<number>,
  ratio: number,
  medians: readonly [number, number] | undefined,
): Uint32Array {
  const [m1, m2] = medians ?? [medianOf(c1), medianOf(c2)];
  const thr = Math.max(m1 * ratio, m2 * ratio, 1e-6);
  const ok = (i: number) => c1[i] > thr && c2[i] > thr && d1[i] > 1e-3 && d2[i] > 1e-3 && d1[i] < 100 && d2[i] < 100;
  let count = 0;
  for (let i = 0; i < d1.length; i++) if (ok(i)) count++;
  const out = new Uint32Array(count);
  let k = 0;
  for (let i = 0; i < d1.length; i++) if (ok(i)) out[k++] = i;
  return out;
}

/**
 * `sorted_values[searchsorted(cumsum(weights in value order), q)]`, or undefined when the total
 * weight is below q (numpy's index n): the smallest value whose cumulative weight, ties included,
 * reaches q. Quickselect with three-way partitioning; permutes `vals` and `wts` together.
 */
function weightedSelect(vals: Float64Array, wts: Float64Array, q: number): number | undefined {
  let total = 0;
  for (let i = 0; i < wts.length; i++) total += wts[i];
  if (!(total >= q)) return undefined;
  let lo = 0, hi = vals.length;
  let need = q;
  while (hi - lo > 16) {
    const mid = (lo + hi) >> 1;
    const a = vals[lo], b = vals[mid], c = vals[hi - 1];
    const pivot = Math.max(Math.min(a, b), Math.min(Math.max(a, b), c)); // median of three
    // Dutch national flag: [lo, lt) < pivot, [lt, i) == pivot, (gt, hi) > pivot.
    let lt = lo, i = lo, gt = hi - 1;
    let massLess = 0, massEq = 0;
    while (i <= gt) {
      const v = vals[i];
      if (v < pivot) {
        massLess += wts[i];
        swap(vals, wts, lt++, i++);
      } else if (v > pivot) {
        swap(vals, wts, i, gt--);
      } else {
        massEq += wts[i];
        i++;
      }
    }
    if (massLess >= need) hi = lt;
    else if (massLess + massEq >= need) return pivot;
    else {
      need -= massLess + massEq;
      lo = gt + 1;
    }
  }
  // Small remainder: insertion sort, then the cumulative walk.
  for (let i = lo + 1; i < hi; i++) {
    const v = vals[i], wv = wts[i];
    let j = i - 1;
    while (j >= lo && vals[j] > v) {
      vals[j + 1] = vals[j];
      wts[j + 1] = wts[j];
      j--;
    }
    vals[j + 1] = v;
    wts[j + 1] = wv;
  }
  let c = 0;
  for (let i = lo; i < hi; i++) {
    c += wts[i];
    if (c >= need) return vals[i];
  }
  return hi > lo ? vals[hi - 1] : undefined;
}

function swap(v: Float64Array, w: Float64Array, i: number, j: number): void {
  const tv = v[i];
  v[i] = v[j];
  v[j] = tv;
  const tw = w[i];
  w[i] = w[j];
  w[j] = tw;
}

interface RansacSettings {
  minSamples: number;
  maxTrials: number;
  residualThreshold: number;
  randomState: number;
}

/** np.spacing(1) */
const EPSILON = 2.220446049250313e-16;

/**
 * scikit-learn 1.x `RANSACRegressor(estimator=LinearRegression(fit_intercept=False), ...)` on one
 * feature (defaults: absolute-error loss, stop_probability 0.99, no stop score/inlier count, no
 * validity callbacks): returns the final coefficient (refit on the best consensus set) and its
 * inlier count.
 */
function ransacNoIntercept(X: Float64Array, y: Float64Array, o: RansacSettings): { coef: number; inliers: number } {
  const n = X.length;
  const rs = legacyRandomState(o.randomState);
  const k = o.minSamples;
  const ratio = n !== 0 ? k / n : 1.0;
  const draw = (): ArrayLike<number> => {
    // sklearn.utils.random.sample_without_replacement, method 'auto'.
    if (ratio > 0.01 && ratio < 0.99) return rs.permutation(n).subarray(0, k);
    if (ratio < 0.2) {
      const out = new Int32Array(k);
      const seen = new Set<number>();
      for (let i = 0; i < k; i++) {
        let j = rs.randint(n);
        while (seen.has(j)) j = rs.randint(n);
        seen.add(j);
        out[i] = j;
      }
      return out;
    }
    // Reservoir sampling (ratio ≥ 0.99 with tiny n): not reachable with the reference's
    // min_samples = max(10, n // 100) and n ≥ 100.
    throw new Da3Error('OUT_OF_RANGE', `computeScaleRansac: ${k} of ${n} samples needs sklearn's reservoir sampling, which is not implemented`);
  };

  let nInliersBest = 1;
  let scoreBest = Number.NEGATIVE_INFINITY;
  let bestMask: Uint8Array | null = null;
  let trials = 0;
  let maxTrials = o.maxTrials;
  const mask = new Uint8Array(n);
  while (trials < maxTrials) {
    trials++;
    const sub = draw();
    const coef = lstsq1(X, y, sub);
    let count = 0;
    for (let i = 0; i < n; i++) {
      const inl = Math.abs(y[i] - X[i] * coef) <= o.residualThreshold;
      mask[i] = inl ? 1 : 0;
      if (inl) count++;
    }
    if (count < nInliersBest) continue;
    const score = r2Score(X, y, mask, coef);
    if (count === nInliersBest && score < scoreBest) continue;
    nInliersBest = count;
    scoreBest = score;
    bestMask = Uint8Array.from(mask);
    maxTrials = Math.min(maxTrials, dynamicMaxTrials(nInliersBest, n, k, 0.99));
  }
  if (bestMask === null) throw new Da3Error('DEGENERATE', 'computeScaleRansac: RANSAC found no consensus set');
  const idx: number[] = [];
  for (let i = 0; i < n; i++) if (bestMask[i]) idx.push(i);
  return { coef: lstsq1(X, y, idx), inliers: idx.length };
}

/** Least squares y ≈ c·x over `sub` (no intercept): c = Σxy / Σx². */
function lstsq1(X: Float64Array, y: Float64Array, sub: ArrayLike<number>): number {
  let sxy = 0, sxx = 0;
  for (let k = 0; k < sub.length; k++) {
    const i = sub[k];
    sxy += X[i] * y[i];
    sxx += X[i] * X[i];
  }
  return sxx > 0 ? sxy / sxx : 0;
}

/** sklearn `r2_score` (force_finite) of the prediction c·x over the masked samples. */
function r2Score(X: Float64Array, y: Float64Array, mask: Uint8Array, c: number): number {
  let m = 0, count = 0;
  for (let i = 0; i < X.length; i++) {
    if (mask[i]) {
      m += y[i];
      count++;
    }
  }
  if (count < 2) return Number.NaN;
  m /= count;
  let num = 0, den = 0;
  for (let i = 0; i < X.length; i++) {
    if (!mask[i]) continue;
    const r = y[i] - X[i] * c;
    num += r * r;
    const d = y[i] - m;
    den += d * d;
  }
  if (den !== 0) return num !== 0 ? 1 - num / den : 1.0;
  return num !== 0 ? 0.0 : 1.0;
}

/** sklearn `_dynamic_max_trials`. */
function dynamicMaxTrials(nInliers: number, nSamples: number, minSamples: number, probability: number): number {
  const inlierRatio = nInliers / nSamples;
  const nom = Math.max(EPSILON, 1 - probability);
  const denom = Math.max(EPSILON, 1 - inlierRatio ** minSamples);
  if (nom === 1) return 0;
  if (denom === 1) return Number.POSITIVE_INFINITY;
  return Math.abs(Math.ceil(Math.log(nom) / Math.log(denom)));
}
