/**
 * Aligning one chunk to the previous one from the point maps of their shared overlap frames: the
 * reference's `DA3_Streaming.align_2pcds` and `weighted_align_point_maps` (numpy path), plus the
 * unweighted `align_point_maps` and `compute_alignment_error`.
 *
 * Layout: point maps `[F,H,W,3]` float32, confidences and depths `[F,H,W]`, flat row-major; frame
 * f of `prev` and frame f of `cur` are the same image. Only the flat order matters (the reference
 * concatenates frame by frame, which is the flat order).
 */
import { Da3Error } from '../../errors.js';
import { type IrlsOptions, type PointPairs, type RobustSim3Estimate, type StreamAlignMethod, estimateSim3Pairs, resolveIrls, robustEstimate } from './estimate.js';
import { type ChunkScale, type ScaleComputeMethod, type ScaleOptions, medianOf as median, precomputeScaleChunksWithDepth } from './scale.js';
import type { Sim3 } from './sim3.js';

/** The overlap frames of one chunk. */
export interface OverlapMaps {
  /** `[F,H,W,3]` world points of the overlap frames, in this chunk's own frame. */
  readonly points: Float32Array;
  /** `[F,H,W]` DA3 confidence of the same pixels (see {@link StreamAlignOptions.confShift}). */
  readonly conf: Float32Array;
  /** `[F,H,W]` depth; needed for `method: 'scale+se3'` and for `depthThreshold`. */
  readonly depth?: Float32Array;
}

/**
 * Options of {@link alignChunkOverlap}; defaults are the reference's `configs/base_config.yaml`
 * and `da3_streaming.py`.
 */
export interface StreamAlignOptions {
  /** `Model.align_method` (default 'sim3'). */
  method?: StreamAlignMethod;
  /** `Model.scale_compute_method`, used by 'scale+se3' (default 'auto'). */
  scaleComputeMethod?: ScaleComputeMethod;
  /** `Model.IRLS.delta`: Huber threshold on the point residual, in the previous chunk's units (default 0.1). */
  huberDelta?: number;
  /** `Model.IRLS.max_iters` (default 5). */
  maxIters?: number;
  /** `Model.IRLS.tol` (default 1e-9). */
  tol?: number;
  /**
   * Fixed confidence threshold (after {@link confShift}); pixels whose confidence exceeds it in
   * both chunks are used. Default: the reference's `min(median(conf_prev), median(conf_cur)) ×
   * confThresholdRatio`, medians over all overlap pixels.
   */
  confThreshold?: number;
  /** The ratio of the default threshold (default 0.1). */
  confThresholdRatio?: number;
  /**
   * Subtracted from every confidence first. The reference does `predictions.conf -= 1.0` right
   * after each chunk's inference (DA3's confidence is ≥ 1), and every later step (thresholds,
   * weights √(c₁c₂), the scale estimates) sees the shifted values. Default 1: pass DA3's raw
   * confidence. Pass 0 when the confidences are already shifted.
   */
  confShift?: number;
  /**
   * `Model.depth_threshold` of the reference's config is 15.0, but no code of the reference reads
   * it. Default: not applied (Infinity), as in the reference. When finite (our option), pixels
   * whose depth exceeds it in either chunk are left out of the fit; needs `depth` on both.
   */
  depthThreshold?: number;
  /** Options of the scale estimate of 'scale+se3' (reference defaults). */
  scale?: ScaleOptions;
}

/** What {@link alignChunkOverlap} found: the Sim(3) (prev ← cur) plus diagnostics. */
export interface ChunkAlignment extends RobustSim3Estimate {
  /** Corresponding pixels used (confident in both chunks). */
  readonly matchedPoints: number;
  /** The confidence threshold used (after the shift). */
  readonly confThreshold: number;
  /**
   * The reference's `compute_alignment_error`: mean ‖prev − (s·R·cur + t)‖ over the used pixels
   * (for 'scale+se3', `cur` already multiplied by the pre-computed scale, as the reference does).
   */
  readonly meanError: number;
  /** 'scale+se3' only: the depth-based scale estimate. */
  readonly scaleEstimate?: ChunkScale;
}

/**
 * Aligns the current chunk to the previous one from their shared overlap frames: maps points in
 * `cur`'s frame into `prev`'s (`prev ≈ s·R·cur + t`). The reference's `align_2pcds` with the numpy
 * IRLS (`align_lib: 'numpy'`):
 * 1. shift the confidences (`confShift`), threshold = min of the two medians × 0.1;
 * 2. 'scale+se3' only: a depth-ratio scale from the overlap depths (`scaleComputeMethod`), the
 *    current points multiplied by it;
 * 3. the pixels confident in both chunks, weighted √(c_prev·c_cur), into the Huber IRLS
 *    ({@link robustWeightedEstimateSim3});
 * 4. 'scale+se3' only: the returned scale is the pre-computed one (rotation and translation are
 *    the IRLS's), as in the reference.
 *
 * Throws `Da3Error`: BAD_SHAPE (sizes differ or are not [F,H,W,3]/[F,H,W]), NON_FINITE (NaN/±Inf
 * anywhere in points, conf or depth), BAD_VALUE (options; depth missing where needed), DEGENERATE
 * (no pixel confident in both chunks — the reference's "No matching point pairs were found!" — or
 * a degenerate fit).
 */
export function alignChunkOverlap(prev: OverlapMaps, cur: OverlapMaps, options: StreamAlignOptions = {}): ChunkAlignment {
  const where = 'alignChunkOverlap';
  const method = options.method ?? 'sim3';
  const irls = resolveIrls(where, { delta: options.huberDelta, maxIters: options.maxIters ?? 5, tol: options.tol, alignMethod: method }, 5);
  const shift = options.confShift ?? 1;
  if (!Number.isFinite(shift)) throw new Da3Error('BAD_VALUE', `${where}: confShift must be finite, got ${shift}`);
  const ratio = options.confThresholdRatio ?? 0.1;
  if (!Number.isFinite(ratio)) throw new Da3Error('BAD_VALUE', `${where}: confThresholdRatio must be finite, got ${ratio}`);
  const depthThreshold = options.depthThreshold ?? Number.POSITIVE_INFINITY;
  if (Number.isNaN(depthThreshold)) throw new Da3Error('BAD_VALUE', `${where}: depthThreshold is NaN`);

  const n = checkOverlap(where, 'prev', prev);
  const n2 = checkOverlap(where, 'cur', cur);
  if (n !== n2) {
    throw new Da3Error('BAD_SHAPE', `${where}: prev has ${n} overlap pixels, cur ${n2}; the overlap frames must match one to one (same F, H, W)`);
  }
  const needDepth = method === 'scale+se3' || Number.isFinite(depthThreshold);
  if (needDepth && (!prev.depth || !cur.depth)) {
    throw new Da3Error('BAD_VALUE', `${where}: ${method === 'scale+se3' ? "method 'scale+se3'" : 'depthThreshold'} needs the overlap depth of both chunks (prev.depth, cur.depth)`);
  }

  const c1 = shifted(prev.conf, shift);
  const c2 = shifted(cur.conf, shift);
  const medians: [number, number] = [median(c1), median(c2)];
  let confThreshold = options.confThreshold;
  if (confThreshold === undefined) confThreshold = Math.min(medians[0], medians[1]) * ratio;
  else if (Number.isNaN(confThreshold)) throw new Da3Error('BAD_VALUE', `${where}: confThreshold is NaN`);

  let scaleEstimate: ChunkScale | undefined;
  if (method === 'scale+se3') {
    scaleEstimate = precomputeScaleChunksWithDepth(
      prev.depth as Float32Array,
      c1,
      cur.depth as Float32Array,
      c2,
      options.scaleComputeMethod ?? 'auto',
      { confMedians: medians, ...options.scale },
    );
  }
  const r = weightedAlignCore(prev.points, c1, cur.points, c2, confThreshold, irls, scaleEstimate?.scale, where, {
    d1: prev.depth,
    d2: cur.depth,
    depthThreshold,
  });
  return { ...r, confThreshold, ...(scaleEstimate ? { scaleEstimate } : {}) };
}

/**
 * The reference's `weighted_align_point_maps(point_map1, conf1, point_map2, conf2,
 * conf_threshold, config, precompute_scale)` with `align_lib: 'numpy'`: maps `pointMap2` into
 * `pointMap1`'s frame. Confidences are used as given (already shifted). With `precomputeScale`
 * ('scale+se3'), `pointMap2` is read multiplied by it and the returned scale is it.
 */
export function weightedAlignPointMaps(
  pointMap1: Float32Array | Float64Array,
  conf1: Float32Array | Float64Array,
  pointMap2: Float32Array | Float64Array,
  conf2: Float32Array | Float64Array,
  confThreshold: number,
  irls: IrlsOptions = {},
  precomputeScale?: number,
): ChunkAlignment {
  const where = 'weightedAlignPointMaps';
  const o = resolveIrls(where, irls, 20);
  checkMaps(where, pointMap1, conf1, pointMap2, conf2);
  if (precomputeScale !== undefined && !(precomputeScale > 0 && Number.isFinite(precomputeScale))) {
    throw new Da3Error('BAD_VALUE', `${where}: precomputeScale must be a positive number, got ${precomputeScale}`);
  }
  const r = weightedAlignCore(pointMap1, conf1, pointMap2, conf2, confThreshold, o, precomputeScale, where, {});
  return { ...r, confThreshold };
}

/**
 * The reference's unweighted `align_point_maps(point_map1, conf1, point_map2, conf2,
 * conf_threshold)`: `estimate_sim3` on the pixels confident in both maps (pointMap2 → pointMap1).
 */
export function alignPointMaps(
  pointMap1: Float32Array | Float64Array,
  conf1: Float32Array | Float64Array,
  pointMap2: Float32Array | Float64Array,
  conf2: Float32Array | Float64Array,
  confThreshold: number,
): Sim3 {
  const where = 'alignPointMaps';
  checkMaps(where, pointMap1, conf1, pointMap2, conf2);
  const { idx } = gather(conf1, conf2, confThreshold, {}, where);
  return estimateSim3Pairs({ src: pointMap2, tgt: pointMap1, idx, n: idx.length, srcScale: 1 }, where);
}

/**
 * The reference's `compute_alignment_error`: mean ‖map1 − (s·R·map2 + t)‖ over the pixels whose
 * confidence exceeds `confThreshold` in both maps; NaN when there are none.
 */
export function computeAlignmentError(
  pointMap1: Float32Array | Float64Array,
  conf1: Float32Array | Float64Array,
  pointMap2: Float32Array | Float64Array,
  conf2: Float32Array | Float64Array,
  confThreshold: number,
  s: Sim3,
): number {
  const where = 'computeAlignmentError';
  checkMaps(where, pointMap1, conf1, pointMap2, conf2);
  let count = 0, sum = 0;
  for (let i = 0; i < conf1.length; i++) {
    if (conf1[i] > confThreshold && conf2[i] > confThreshold) {
      sum += residual(pointMap1, pointMap2, 3 * i, s, 1);
      count++;
    }
  }
  return count === 0 ? Number.NaN : sum / count;
}

// ───────────────────────────────────────── internals ─────────────────────────────────────────

function checkOverlap(where: string, name: string, m: OverlapMaps): number {
  if (!m || !(m.points instanceof Float32Array) || !(m.conf instanceof Float32Array)) {
    throw new Da3Error('BAD_VALUE', `${where}: ${name} must be { points: Float32Array, conf: Float32Array, depth?: Float32Array }`);
  }
  const n = m.conf.length;
  if (n === 0) throw new Da3Error('EMPTY_INPUT', `${where}: ${name} has no overlap pixels`);
  if (m.points.length !== 3 * n) {
    throw new Da3Error('BAD_SHAPE', `${where}: ${name}.points has ${m.points.length} numbers for ${n} confidences; expected [F,H,W,3] = ${3 * n}`);
  }
  if (m.depth !== undefined && m.depth.length !== n) {
    throw new Da3Error('BAD_SHAPE', `${where}: ${name}.depth has ${m.depth.length} numbers for ${n} confidences; expected [F,H,W]`);
  }
  finite(where, `${name}.points`, m.points);
  finite(where, `${name}.conf`, m.conf);
  if (m.depth) finite(where, `${name}.depth`, m.depth);
  return n;
}

function checkMaps(where: string, p1: ArrayLike<number>, c1: ArrayLike<number>, p2: ArrayLike<number>, c2: ArrayLike<number>): void {
  if (c1.length !== c2.length) throw new Da3Error('BAD_SHAPE', `${where}: conf1 has ${c1.length} numbers, conf2 ${c2.length}`);
  if (p1.length !== 3 * c1.length || p2.length !== 3 * c2.length) {
    throw new Da3Error('BAD_SHAPE', `${where}: point maps have ${p1.length} and ${p2.length} numbers for ${c1.length} confidences; expected [F,H,W,3]`);
  }
  if (c1.length === 0) throw new Da3Error('EMPTY_INPUT', `${where}: no pixels`);
  finite(where, 'pointMap1', p1);
  finite(where, 'pointMap2', p2);
  finite(where, 'conf1', c1);
  finite(where, 'conf2', c2);
}

function finite(where: string, name: string, a: ArrayLike<number>): void {
  for (let i = 0; i < a.length; i++) {
    if (!Number.isFinite(a[i])) throw new Da3Error('NON_FINITE', `${where}: ${name}[${i}] is ${a[i]}; every value must be finite`);
  }
}

function shifted(conf: Float32Array, shift: number): Float32Array | Float64Array {
  if (shift === 0) return conf;
  // c − 1 of a float32 c ≥ 1 is exact in float32 (the reference shifts its float32 array in place).
  let exact = Number.isInteger(shift) && Math.abs(shift) <= 1;
  const out = new Float32Array(conf.length);
  for (let i = 0; i < conf.length && exact; i++) {
    const v = conf[i] - shift;
    out[i] = v;
    if (out[i] !== v) exact = false;
  }
  if (exact) return out;
  const out64 = new Float64Array(conf.length);
  for (let i = 0; i < conf.length; i++) out64[i] = conf[i] - shift;
  return out64;
}

interface DepthFilter {
  d1?: ArrayLike<number>;
  d2?: ArrayLike<number>;
  depthThreshold?: number;
}

function gather(
  c1: ArrayLike<number>,
  c2: ArrayLike<number>,
  thr: number,
  df: DepthFilter,
  where: string,
): { idx: Uint32Array; weights: Float64Array } {
  const n = c1.length;
  const useDepth = df.depthThreshold !== undefined && Number.isFinite(df.depthThreshold) && df.d1 && df.d2;
  let count = 0;
  const keep = (i: number) =>
    c1[i] > thr && c2[i] > thr && (!useDepth || ((df.d1 as ArrayLike<number>)[i] <= (df.depthThreshold as number) && (df.d2 as ArrayLike<number>)[i] <= (df.depthThreshold as number)));
  for (let i = 0; i < n; i++) if (keep(i)) count++;
  if (count === 0) {
    throw new Da3Error('DEGENERATE', `${where}: no matching point pairs (no pixel has confidence > ${thr} in both chunks${useDepth ? ` and depth ≤ ${df.depthThreshold}` : ''})`);
  }
  const idx = new Uint32Array(count);
  const weights = new Float64Array(count);
  let k = 0;
  for (let i = 0; i < n; i++) {
    if (keep(i)) {
      idx[k] = i;
      weights[k] = Math.sqrt(c1[i] * c2[i]);
      k++;
    }
  }
  return { idx, weights };
}

function residual(p1: ArrayLike<number>, p2: ArrayLike<number>, o: number, s: Sim3, k: number): number {
  const R = s.rotation, t = s.translation, sc = s.scale;
  const x = k * p2[o], y = k * p2[o + 1], z = k * p2[o + 2];
  const d0 = sc * (R[0] * x + R[1] * y + R[2] * z) + t[0] - p1[o];
  const d1 = sc * (R[3] * x + R[4] * y + R[5] * z) + t[1] - p1[o + 1];
  const d2 = sc * (R[6] * x + R[7] * y + R[8] * z) + t[2] - p1[o + 2];
  return Math.sqrt(d0 * d0 + d1 * d1 + d2 * d2);
}

function weightedAlignCore(
  p1: ArrayLike<number>,
  c1: ArrayLike<number>,
  p2: ArrayLike<number>,
  c2: ArrayLike<number>,
  thr: number,
  irls: ReturnType<typeof resolveIrls>,
  precomputeScale: number | undefined,
  where: string,
  df: DepthFilter,
): Omit<ChunkAlignment, 'confThreshold'> {
  const { idx, weights } = gather(c1, c2, thr, df, where);
  const k = precomputeScale ?? 1;
  const pairs: PointPairs = { src: p2, tgt: p1, idx, n: idx.length, srcScale: k };
  const est = robustEstimate(pairs, weights, irls, where);
  const out: RobustSim3Estimate = precomputeScale === undefined ? est : { ...est, scale: precomputeScale };
  let sum = 0;
  for (let j = 0; j < idx.length; j++) sum += residual(p1, p2, 3 * idx[j], out, k);
  return { ...out, matchedPoints: idx.length, meanError: sum / idx.length };
}
