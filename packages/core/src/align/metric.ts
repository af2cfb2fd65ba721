/**
 * Metric scaling, Nested (any-view + metric) scale alignment and sky handling — the reference's
 * `utils/alignment.py` and `model/da3.py` (`NestedDepthAnything3Net._apply_metric_scaling`,
 * `_apply_depth_alignment`, `_handle_sky_regions`; `DepthAnything3Net._process_mono_sky_estimation`)
 * as small float32 steps.
 *
 * Tensors are flat row-major Float32Array with an explicit `shape` `[..., H, W]` (usually
 * `[B, N, H, W]` or `[N, H, W]`); every leading index is one view. Intrinsics are per view 3×3
 * (9 numbers), extrinsics per view 3×4 or 4×4 world→camera. Masks are Uint8Array, 1 = true.
 * Arithmetic mirrors torch on float32 tensors (each operation rounded to float32), so results
 * match the reference to float32 rounding; quantiles are exact (see `quantile.ts`).
 */
import { Da3Error } from '../errors.js';
import { quantileMasked } from './quantile.js';
import { type NumberList, assertFinite, assertShape, extrinsicsStride } from './validate.js';

const f32 = Math.fround;

/** Plane layout of a `[..., H, W]` tensor: number of views and pixels per view. */
interface PlaneLayout {
  views: number;
  pixels: number;
}

function layout(where: string, shape: readonly number[], length: number): PlaneLayout {
  if (shape.length < 2) throw new Da3Error('BAD_SHAPE', `${where}: shape [${shape.join(', ')}] must be [..., H, W]`);
  assertShape(where, 'depth', shape, length);
  const pixels = shape[shape.length - 1] * shape[shape.length - 2];
  let views = 1;
  for (let i = 0; i < shape.length - 2; i++) views *= shape[i];
  return { views, pixels };
}

function sameLength(where: string, name: string, a: NumberList, n: number): void {
  if (a.length !== n) throw new Da3Error('BAD_SHAPE', `${where}: ${name} has ${a.length} numbers, expected ${n} (the depth's shape)`);
}

/**
 * Metric depth from a focal-normalised prediction: `depth · ((fx + fy)/2) / baseFocal` per view
 * (`utils/alignment.py::apply_metric_scaling`; DA3METRIC-LARGE's README rule, metres = net·f/300).
 * `intrinsics`: one 3×3 per view in processed-image pixels — for Nested, the any-view model's
 * **predicted** K. Returns a new Float32Array in metres. Float32 as torch: `f = (fx+fy)/2`,
 * `r = f/300`, `d·r`.
 */
export function applyMetricScaling(
  depth: Float32Array,
  intrinsics: NumberList,
  shape: readonly number[],
  options: { baseFocal?: number } = {},
): Float32Array {
  const where = 'applyMetricScaling';
  const { views, pixels } = layout(where, shape, depth.length);
  if (intrinsics.length !== 9 * views) {
    throw new Da3Error('BAD_SHAPE', `${where}: intrinsics has ${intrinsics.length} numbers, expected ${9 * views} (${views} views × 3×3)`);
  }
  assertFinite(where, 'intrinsics', intrinsics);
  const base = options.baseFocal ?? 300;
  if (!(base > 0) || !Number.isFinite(base)) throw new Da3Error('BAD_VALUE', `${where}: baseFocal must be a positive number, got ${base}`);
  const out = new Float32Array(depth.length);
  for (let v = 0; v < views; v++) {
    const focal = f32(f32(f32(intrinsics[9 * v]) + f32(intrinsics[9 * v + 4])) / 2);
    const ratio = f32(focal / base);
    const o = v * pixels;
    for (let i = 0; i < pixels; i++) out[o + i] = f32(depth[o + i] * ratio);
  }
  return out;
}

/**
 * Non-sky mask `sky < threshold` (`compute_sky_mask`, default 0.3, compared in float32), as a
 * Uint8Array with 1 = non-sky. `sky` is the metric/mono model's sky probability. (The
 * `Prediction.sky` output uses a different rule, `sky ≥ 0.5`.) Throws `NON_FINITE` for a NaN or
 * infinite sky value.
 */
export function computeNonSkyMask(sky: Float32Array, threshold = 0.3): Uint8Array {
  assertFinite('computeNonSkyMask', 'sky', sky);
  const t = f32(threshold);
  const out = new Uint8Array(sky.length);
  for (let i = 0; i < sky.length; i++) out[i] = sky[i] < t ? 1 : 0;
  return out;
}

/**
 * Median confidence over the non-sky pixels of all views (`torch.quantile(conf[non_sky], 0.5)`,
 * float32). Exact over all pixels; the reference subsamples (randperm) above 100 000.
 * Throws `BAD_SHAPE` (length mismatch) and `EMPTY_INPUT` (no non-sky pixel).
 */
export function medianConfidence(conf: Float32Array, nonSkyMask: NumberList): number {
  return quantileMasked(conf, nonSkyMask, 0.5, { precision: 'float32' });
}

/** Thresholds of {@link computeAlignmentMask} (reference defaults). */
export interface AlignmentMaskOptions {
  /** Any-view depth must exceed this (default 1e-3, model units). */
  minDepth?: number;
  /** Metric depth must exceed this (default 1e-2 m). */
  minMetricDepth?: number;
}

/**
 * Pixels used for the Nested least-squares scale (`compute_alignment_mask`):
 * `conf ≥ medianConf & nonSky & metricDepth > 0.01 & depth > 0.001` (float32 comparisons).
 * All inputs have the same length; returns a Uint8Array (1 = used).
 */
export function computeAlignmentMask(
  conf: Float32Array,
  nonSkyMask: NumberList,
  depth: Float32Array,
  metricDepth: Float32Array,
  medianConf: number,
  options: AlignmentMaskOptions = {},
): Uint8Array {
  const where = 'computeAlignmentMask';
  const n = depth.length;
  sameLength(where, 'conf', conf, n);
  sameLength(where, 'nonSkyMask', nonSkyMask, n);
  sameLength(where, 'metricDepth', metricDepth, n);
  const med = f32(medianConf);
  const minD = f32(options.minDepth ?? 1e-3);
  const minM = f32(options.minMetricDepth ?? 1e-2);
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    out[i] = conf[i] >= med && nonSkyMask[i] && metricDepth[i] > minM && depth[i] > minD ? 1 : 0;
  }
  return out;
}

/**
 * Least-squares scale without shift, `s = ⟨a, b⟩ / max(⟨b, b⟩, eps)` so that `a ≈ s·b`
 * (`least_squares_scale_scalar`, eps 1e-12), over the elements where `mask` is non-zero (all when
 * omitted). Dot products are accumulated in float64. `precision: 'float64'` (default) returns
 * `num/den` in float64; `'float32'` follows the reference's float32 torch arithmetic: both dot
 * products rounded to float32, den clamped at float32(eps), the quotient rounded to float32.
 * The reference's `torch.dot` is a BLAS float32 dot whose summation order depends on the BLAS
 * build and CPU, so even this mode can differ from it by one float32 ulp (bit-identical on
 * geometry/metric_alignment, 1 ulp = 6.7e-8 relative on tiny-nested/multi). Units: a's per b's.
 *
 * Throws `BAD_SHAPE` (length mismatch), `NON_FINITE` (a used element is NaN/±Infinity),
 * `EMPTY_INPUT` (the mask selects nothing — the reference would silently return 0).
 */
export function leastSquaresScale(
  a: NumberList,
  b: NumberList,
  mask?: NumberList,
  options: { eps?: number; precision?: 'float32' | 'float64' } = {},
): number {
  const where = 'leastSquaresScale';
  if (a.length !== b.length) throw new Da3Error('BAD_SHAPE', `${where}: a has ${a.length} numbers, b ${b.length}`);
  if (mask !== undefined && mask.length !== a.length) throw new Da3Error('BAD_SHAPE', `${where}: mask has ${mask.length} entries, a ${a.length}`);
  let num = 0;
  let den = 0;
  let used = 0;
  for (let i = 0; i < a.length; i++) {
    if (mask !== undefined && !mask[i]) continue;
    const x = a[i];
    const y = b[i];
    if (!Number.isFinite(x) || !Number.isFinite(y)) {
      throw new Da3Error('NON_FINITE', `${where}: element ${i} is (${x}, ${y}); every used value must be finite`);
    }
    num += x * y;
    den += y * y;
    used++;
  }
  if (used === 0) throw new Da3Error('EMPTY_INPUT', `${where}: no element selected (of ${a.length})`);
  const eps = options.eps ?? 1e-12;
  if (options.precision === 'float32') return f32(f32(num) / Math.max(f32(den), f32(eps)));
  return num / Math.max(den, eps);
}

/**
 * Applies a scale to depth and camera translations (Nested step 6): `depth·s` and
 * `extrinsics[:, :3, 3]·s`, in float32 with `s` rounded to float32 first (torch multiplies by a
 * float32 scalar tensor). `extrinsics` holds one 3×4 or 4×4 per view of `shape`; both results are
 * new Float32Arrays of the input sizes (a 4×4's last row copied).
 */
export function scaleDepthAndExtrinsics(
  depth: Float32Array,
  extrinsics: NumberList,
  shape: readonly number[],
  scale: number,
): { depth: Float32Array; extrinsics: Float32Array } {
  const where = 'scaleDepthAndExtrinsics';
  const { views } = layout(where, shape, depth.length);
  const stride = extrinsicsStride(where, 'extrinsics', extrinsics, views);
  if (!Number.isFinite(scale)) throw new Da3Error('NON_FINITE', `${where}: scale is ${scale}`);
  const s = f32(scale);
  const d = new Float32Array(depth.length);
  for (let i = 0; i < depth.length; i++) d[i] = f32(depth[i] * s);
  const e = Float32Array.from(extrinsics);
  for (let v = 0; v < views; v++) for (let r = 0; r < 3; r++) e[v * stride + 4 * r + 3] = f32(e[v * stride + 4 * r + 3] * s);
  return { depth: d, extrinsics: e };
}

/** Result of {@link handleSkyRegions}. */
export interface SkyHandling {
  /** Depth with sky pixels set to `skyDepth` (new array). */
  depth: Float32Array;
  /** Confidence with sky pixels set to 1 (new array), or null when no confidence was given. */
  conf: Float32Array | null;
  /** The depth written to sky pixels: min(q0.99(non-sky depth), maxDepth), float32. */
  skyDepth: number;
}

/**
 * Nested sky handling (`_handle_sky_regions`, step 7): `skyDepth = min(q0.99(depth[nonSky]),
 * maxDepth)` over all views together (maxDepth 200), then `depth[sky] = skyDepth` and
 * `conf[sky] = 1`. Exact quantile (the reference samples ≤ 100 000 values with replacement above
 * that size). Throws `BAD_SHAPE` (lengths) and `EMPTY_INPUT` (no non-sky pixel).
 */
export function handleSkyRegions(
  depth: Float32Array,
  conf: Float32Array | null,
  nonSkyMask: NumberList,
  options: { maxDepth?: number } = {},
): SkyHandling {
  const where = 'handleSkyRegions';
  sameLength(where, 'nonSkyMask', nonSkyMask, depth.length);
  if (conf !== null) sameLength(where, 'conf', conf, depth.length);
  const maxDepth = options.maxDepth ?? 200;
  const q = quantileMasked(depth, nonSkyMask, 0.99, { precision: 'float32' });
  // Python's min(q, maxDepth) keeps q unless maxDepth < q.
  const skyDepth = maxDepth < q ? f32(maxDepth) : q;
  const d = Float32Array.from(depth);
  const c = conf === null ? null : Float32Array.from(conf);
  for (let i = 0; i < d.length; i++) {
    if (nonSkyMask[i]) continue;
    d[i] = skyDepth;
    if (c !== null) c[i] = 1;
  }
  return { depth: d, conf: c, skyDepth };
}

/** Result of {@link monoSkyFill}. */
export interface MonoSkyFill {
  /** Depth with sky pixels filled (a new array), or the input array itself when not applied. */
  depth: Float32Array;
  /** Whether the fill ran (both classes had more than `minPixels` pixels). */
  applied: boolean;
  /** The fill value q0.99(non-sky depth), or NaN when not applied. */
  skyDepth: number;
}

/**
 * Sky fill of the mono/metric models (`DepthAnything3Net._process_mono_sky_estimation`):
 * `nonSky = sky < threshold` (0.3); only if more than `minPixels` (10) pixels are non-sky **and**
 * more than 10 are sky, every sky pixel gets q0.99 of the non-sky depth, taken over all views
 * together (no 200 cap here). Exact quantile (the reference samples above 100 000 values).
 */
export function monoSkyFill(
  depth: Float32Array,
  sky: Float32Array,
  options: { threshold?: number; minPixels?: number } = {},
): MonoSkyFill {
  const where = 'monoSkyFill';
  sameLength(where, 'sky', sky, depth.length);
  const nonSky = computeNonSkyMask(sky, options.threshold ?? 0.3);
  const minPixels = options.minPixels ?? 10;
  let nNon = 0;
  for (let i = 0; i < nonSky.length; i++) nNon += nonSky[i];
  const nSky = nonSky.length - nNon;
  if (nNon <= minPixels || nSky <= minPixels) return { depth, applied: false, skyDepth: Number.NaN };
  const q = quantileMasked(depth, nonSky, 0.99, { precision: 'float32' });
  const d = Float32Array.from(depth);
  for (let i = 0; i < d.length; i++) if (!nonSky[i]) d[i] = q;
  return { depth: d, applied: true, skyDepth: q };
}

/** Inputs of {@link alignNestedToMetric}: the any-view output and the metric model's output. */
export interface NestedAlignmentInputs {
  /** Any-view depth, float32, `shape`. */
  depth: Float32Array;
  /** Any-view depth confidence, float32, `shape`. */
  conf: Float32Array;
  /** Any-view predicted world→camera extrinsics, one 3×4 or 4×4 per view. */
  extrinsics: NumberList;
  /** Any-view predicted intrinsics, one 3×3 per view (processed pixels). */
  intrinsics: NumberList;
  /** Metric model's raw (focal-normalised) depth, float32, `shape` (sky fill already applied). */
  metricDepth: Float32Array;
  /** Metric model's sky probability, float32, `shape`. */
  metricSky: Float32Array;
  /** Tensor shape `[..., H, W]`, e.g. `[B, N, H, W]`. */
  shape: readonly number[];
}

/** Every intermediate of {@link alignNestedToMetric} (names follow the fixture's). */
export interface NestedAlignment {
  /** Metric depth in metres: `metricDepth·((fx+fy)/2)/300` with the any-view K. */
  metricDepthScaled: Float32Array;
  /** 1 = non-sky (`metricSky < 0.3`). */
  nonSkyMask: Uint8Array;
  /** Median any-view confidence over non-sky pixels (float32 value). */
  medianConf: number;
  /** 1 = pixel used for the least-squares scale. */
  alignMask: Uint8Array;
  /** Least-squares scale (metric per any-view unit), a float32 value. */
  scaleFactor: number;
  /** Any-view depth × scaleFactor, in metres, before the sky fill. */
  depthAfterAlignment: Float32Array;
  /** Any-view world→camera extrinsics with translations × scaleFactor (same 3×4/4×4 layout). */
  extrinsicsAfterAlignment: Float32Array;
  /** Final depth in metres (sky pixels at `skyDepth`). */
  depth: Float32Array;
  /** Final confidence (sky pixels 1). */
  conf: Float32Array;
  skyDepth: number;
}

/**
 * The whole Nested metric step (`NestedDepthAnything3Net.forward` after both networks):
 * {@link applyMetricScaling} with the any-view K → {@link computeNonSkyMask} (sky < 0.3) → it
 * requires more than 10 non-sky pixels (the reference asserts; here `EMPTY_INPUT`) →
 * {@link medianConfidence} → {@link computeAlignmentMask} → {@link leastSquaresScale} (float32
 * result) → {@link scaleDepthAndExtrinsics} → {@link handleSkyRegions} (cap 200).
 * Returns every intermediate; `depth`, `conf`, `extrinsicsAfterAlignment` and `scaleFactor` are
 * the Prediction's (`is_metric = 1`).
 */
export function alignNestedToMetric(inputs: NestedAlignmentInputs): NestedAlignment {
  const where = 'alignNestedToMetric';
  const { depth, conf, extrinsics, intrinsics, metricDepth, metricSky, shape } = inputs;
  layout(where, shape, depth.length);
  sameLength(where, 'conf', conf, depth.length);
  sameLength(where, 'metricDepth', metricDepth, depth.length);
  sameLength(where, 'metricSky', metricSky, depth.length);
  assertFinite(where, 'depth', depth);
  assertFinite(where, 'conf', conf);
  assertFinite(where, 'metricDepth', metricDepth);
  const metricDepthScaled = applyMetricScaling(metricDepth, intrinsics, shape);
  const nonSkyMask = computeNonSkyMask(metricSky, 0.3);
  let nNon = 0;
  for (let i = 0; i < nonSkyMask.length; i++) nNon += nonSkyMask[i];
  if (nNon <= 10) throw new Da3Error('EMPTY_INPUT', `${where}: ${nNon} non-sky pixel(s); the alignment needs more than 10`);
  const medianConf = medianConfidence(conf, nonSkyMask);
  const alignMask = computeAlignmentMask(conf, nonSkyMask, depth, metricDepthScaled, medianConf);
  const scaleFactor = leastSquaresScale(metricDepthScaled, depth, alignMask, { precision: 'float32' });
  const scaled = scaleDepthAndExtrinsics(depth, extrinsics, shape, scaleFactor);
  const sky = handleSkyRegions(scaled.depth, conf, nonSkyMask, { maxDepth: 200 });
  return {
    metricDepthScaled,
    nonSkyMask,
    medianConf,
    alignMask,
    scaleFactor,
    depthAfterAlignment: scaled.depth,
    extrinsicsAfterAlignment: scaled.extrinsics,
    depth: sky.depth,
    conf: sky.conf as Float32Array,
    skyDepth: sky.skyDepth,
  };
}
