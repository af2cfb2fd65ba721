/**
 * *The reference's `visualize_depth` colouring (`utils/visualize.py`), reproduced with its NumPy
 * 1.x float32 arithmetic so the colours equal the reference's byte for byte.*
 *
 * For a float32 map `v` and a validity mask:
 * 1. `lo = np.percentile(v[valid], p)`, `hi = np.percentile(v[valid], 100 − p)` (linear, computed
 *    in float64 from the float32 order statistics), or `lo = hi = 0` when ≤ 10 values are valid;
 *    when `lo == hi` they become `lo − 1e-6`, `hi + 1e-6`.
 * 2. `t = clip((v − lo) / (hi − lo), 0, 1)` in float32 (the float64 `lo` and `hi − lo` are
 *    rounded to float32 first, NumPy 1.x's value-based casting), then `1 − t`; invalid pixels keep
 *    their raw value (so they land on an end colour), NaN stays NaN.
 * 3. matplotlib Spectral: index `int(x·256)`; NaN → transparent black (RGB 0, 0, 0).
 */
import { Da3Error } from '@da3js/core';
import { spectralIndex, spectralLutBytes } from './spectral.js';

/**
 * `np.percentile(values, p)` (method `linear`) of float32 `sorted` values (ascending, no NaN), as
 * NumPy 1.x computes it: rank `(n−1)·(p/100)` in float64, the float32 difference of the two
 * neighbours, and the two-sided lerp in float64. Returns a float64.
 */
export function percentileNumpyF32(sorted: Float32Array, p: number): number {
  const n = sorted.length;
  if (n === 0) throw new Da3Error('EMPTY_INPUT', 'percentileNumpyF32: no values');
  const vi = (n - 1) * (p / 100);
  if (vi >= n - 1) return sorted[n - 1];
  const i = Math.floor(vi);
  const g = vi - i;
  const a = sorted[i];
  const b = sorted[i + 1];
  const d = Math.fround(b - a);
  return g >= 0.5 ? b - d * (1 - g) : a + d * g;
}

/** Options of the Spectral colouring. */
export interface SpectralOptions {
  /** Lower percentile of the normalisation range (the upper one is `100 − percentile`). Default 2. */
  percentile?: number;
  /**
   * A fixed normalisation range `[lo, hi]` in the coloured quantity's units (disparity 1/depth for
   * depth maps, confidence for conf maps) instead of the percentiles, e.g. to colour every view
   * of a sequence alike (the reference's `depth_min` / `depth_max`).
   */
  range?: readonly [number, number];
}

/** A colour map and the normalisation range it used. */
export interface Colorized {
  /** RGB bytes [H·W, 3]. */
  readonly rgb: Uint8Array;
  /** The range mapped onto the colours (after the ±1e-6 widening of an empty range). */
  readonly range: readonly [number, number];
  /** How many pixels counted as valid. */
  readonly valid: number;
}

/**
 * Colours a float32 map with Spectral of `1 − norm(v)` (see the module doc). `valid[i]` non-zero
 * marks the pixels that set the range; every pixel is coloured.
 * @throws Da3Error `BAD_SHAPE` (mask length), `BAD_VALUE` (percentile outside [0, 50]),
 *   `NON_FINITE` (a non-finite `range`)
 */
export function colorizeSpectral(v: Float32Array, valid: Uint8Array, options: SpectralOptions = {}, where = 'colorizeSpectral'): Colorized {
  if (valid.length !== v.length) throw new Da3Error('BAD_SHAPE', `${where}: mask has ${valid.length} entries, values ${v.length}`);
  const p = options.percentile ?? 2;
  if (typeof p !== 'number' || !(p >= 0 && p <= 50)) throw new Da3Error('BAD_VALUE', `${where}: percentile must be in [0, 50], got ${p}`);
  let count = 0;
  for (let i = 0; i < valid.length; i++) if (valid[i]) count++;
  let lo: number;
  let hi: number;
  if (options.range) {
    [lo, hi] = options.range;
    if (!Number.isFinite(lo) || !Number.isFinite(hi)) throw new Da3Error('NON_FINITE', `${where}: range [${lo}, ${hi}] must be finite`);
  } else if (count <= 10) {
    lo = 0;
    hi = 0;
  } else {
    const sel = new Float32Array(count);
    for (let i = 0, k = 0; i < v.length; i++) if (valid[i]) sel[k++] = v[i];
    sel.sort();
    lo = percentileNumpyF32(sel, p);
    hi = percentileNumpyF32(sel, 100 - p);
  }
  if (lo === hi) {
    lo -= 1e-6;
    hi += 1e-6;
  }
  const lo32 = Math.fround(lo);
  const span32 = Math.fround(hi - lo);
  const lut = spectralLutBytes();
  const rgb = new Uint8Array(v.length * 3);
  for (let i = 0; i < v.length; i++) {
    let t = Math.fround(Math.fround(v[i] - lo32) / span32);
    if (t < 0) t = 0;
    else if (t > 1) t = 1;
    const idx = spectralIndex(Math.fround(1 - t));
    if (idx < 0) continue; // NaN: matplotlib's "bad" colour, transparent black → RGB 0
    rgb[i * 3] = lut[idx * 3];
    rgb[i * 3 + 1] = lut[idx * 3 + 1];
    rgb[i * 3 + 2] = lut[idx * 3 + 2];
  }
  return { rgb, range: [lo, hi], valid: count };
}

/**
 * Depth → Spectral exactly as the reference's `visualize_depth(depth)`: valid = `depth > 0`
 * (so +∞ counts, with disparity 0), disparity `1/depth` in float32 on valid pixels, percentile
 * range of the disparity, near = red, far = blue. Invalid pixels keep their raw depth: 0, negative
 * or −∞ → far end (blue; mid-scale when ≤ 10 pixels are valid), NaN → black.
 */
export function colorizeDepth(depth: Float32Array, options: SpectralOptions = {}, where = 'colorizeDepth'): Colorized {
  const v = new Float32Array(depth.length);
  const valid = new Uint8Array(depth.length);
  for (let i = 0; i < depth.length; i++) {
    const d = depth[i];
    if (d > 0) {
      v[i] = 1 / d;
      valid[i] = 1;
    } else {
      v[i] = d;
    }
  }
  return colorizeSpectral(v, valid, options, where);
}

/**
 * Confidence → Spectral, da3js's `conf_vis` (the reference has no confidence image): the same
 * rule as {@link colorizeDepth} applied to the confidence itself, so high confidence is red and
 * low is blue, over the P2–P98 range of the finite values; NaN → black.
 */
export function colorizeConf(conf: Float32Array, options: SpectralOptions = {}, where = 'colorizeConf'): Colorized {
  const valid = new Uint8Array(conf.length);
  for (let i = 0; i < conf.length; i++) valid[i] = Number.isFinite(conf[i]) ? 1 : 0;
  return colorizeSpectral(conf, valid, options, where);
}
