/**
 * Quantiles as `torch.quantile(x, q)` computes them (default `interpolation='linear'`, over all
 * elements): sort ascending, rank `q·(n−1)`, linear interpolation between the two neighbouring
 * order statistics with torch's two-sided `lerp`.
 *
 * Deviation from the reference, by design: where the reference quantiles a random subset of at
 * most 100 000 values (`torch.randint` / `torch.randperm`, unseeded, in the sky fill and the
 * Nested median-confidence), da3js takes the **exact** quantile over all values by default —
 * deterministic, and equal to the reference whenever it does not subsample (≤ 100 000 values,
 * the fixtures' case). Above that size the reference's own answer is random, within sampling
 * error of the exact one. The optional `sample` option gives a seeded subsample instead (same
 * size rule and with-replacement draws as `torch.randint`, but da3js's PRNG stream).
 *
 * Selection is O(n) (three-way quickselect on a copy); the input is never modified.
 */
import { Da3Error } from '../errors.js';
import { createPrng } from '../random/index.js';
import { type NumberList, assertProbability } from './validate.js';

/** Arithmetic of the rank and the interpolation. */
export type QuantilePrecision = 'float32' | 'float64';

/** Options of {@link quantileLinear} and {@link quantileMasked}. */
export interface QuantileOptions {
  /**
   * `float32` reproduces torch on a float32 tensor (q, the rank and the lerp rounded to float32);
   * `float64` is plain double arithmetic. Default: `float32` for a Float32Array, else `float64`.
   */
  precision?: QuantilePrecision;
  /**
   * Seeded subsampling, for very large inputs: when more than `maxSamples` values are selected,
   * `maxSamples` of them are drawn uniformly **with replacement** with `createPrng(seed)` (the
   * reference's sky-fill rule, `torch.randint`) and the quantile is taken over the draw.
   * Default: none (exact quantile over every value).
   */
  sample?: { maxSamples: number; seed: number };
}

/**
 * The q-quantile (q ∈ [0, 1]) of `values` with linear interpolation, like `torch.quantile`.
 * Units are those of `values`. Throws `Da3Error` `EMPTY_INPUT` for no values, `NON_FINITE` for a
 * NaN/±Infinity value (torch would return NaN), `BAD_VALUE` for q outside [0, 1].
 */
export function quantileLinear(values: NumberList, q: number, options: QuantileOptions = {}): number {
  const where = 'quantileLinear';
  assertProbability(where, 'q', q);
  if (values.length === 0) throw new Da3Error('EMPTY_INPUT', `${where}: no values`);
  const f32 = (options.precision ?? (values instanceof Float32Array ? 'float32' : 'float64')) === 'float32';
  const work = f32 ? new Float32Array(values.length) : new Float64Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (!Number.isFinite(v)) throw new Da3Error('NON_FINITE', `${where}: values[${i}] is ${v}`);
    work[i] = v;
  }
  return quantileOfWork(maybeSample(work, options, where), q, f32);
}

/**
 * {@link quantileLinear} over the elements whose `mask` entry is non-zero (`x[mask]` in torch);
 * the values are gathered in index order. `mask` has the length of `values` (e.g. a Uint8Array
 * from a boolean tensor). Throws `BAD_SHAPE` for a length mismatch and `EMPTY_INPUT` when the
 * mask selects nothing.
 */
export function quantileMasked(values: NumberList, mask: NumberList, q: number, options: QuantileOptions = {}): number {
  const where = 'quantileMasked';
  assertProbability(where, 'q', q);
  if (mask.length !== values.length) {
    throw new Da3Error('BAD_SHAPE', `${where}: mask has ${mask.length} entries, values ${values.length}`);
  }
  let count = 0;
  for (let i = 0; i < mask.length; i++) if (mask[i]) count++;
  if (count === 0) throw new Da3Error('EMPTY_INPUT', `${where}: the mask selects no values (of ${values.length})`);
  const f32 = (options.precision ?? (values instanceof Float32Array ? 'float32' : 'float64')) === 'float32';
  const work = f32 ? new Float32Array(count) : new Float64Array(count);
  let k = 0;
  for (let i = 0; i < values.length; i++) {
    if (!mask[i]) continue;
    const v = values[i];
    if (!Number.isFinite(v)) throw new Da3Error('NON_FINITE', `${where}: values[${i}] is ${v}`);
    work[k++] = v;
  }
  return quantileOfWork(maybeSample(work, options, where), q, f32);
}

/**
 * Weighted q-quantile (q ∈ [0, 1]) with linear interpolation, deterministic (no sampling): the
 * values are sorted (ties by index), entries of zero weight dropped, and each remaining value i is
 * placed at the midpoint of its weight span, `m_i = Σ_{j<i} w_j + w_i/2`, rescaled so the first
 * sits at 0 and the last at 1: `p_i = (m_i − m_0)/(m_last − m_0)`. The result interpolates
 * linearly between the values whose `p` bracket q. With equal weights `p_i = i/(n−1)`, i.e. the
 * same as {@link quantileLinear} (float64). Weights are relative (any positive scale).
 *
 * Throws `BAD_SHAPE` (length mismatch), `EMPTY_INPUT` (no positive weight), `NON_FINITE`,
 * `BAD_VALUE` (negative weight or q outside [0, 1]).
 */
export function weightedQuantile(values: NumberList, weights: NumberList, q: number): number {
  const where = 'weightedQuantile';
  assertProbability(where, 'q', q);
  if (weights.length !== values.length) {
    throw new Da3Error('BAD_SHAPE', `${where}: weights has ${weights.length} entries, values ${values.length}`);
  }
  const idx: number[] = [];
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    const w = weights[i];
    if (!Number.isFinite(v)) throw new Da3Error('NON_FINITE', `${where}: values[${i}] is ${v}`);
    if (!Number.isFinite(w)) throw new Da3Error('NON_FINITE', `${where}: weights[${i}] is ${w}`);
    if (w < 0) throw new Da3Error('BAD_VALUE', `${where}: weights[${i}] is negative (${w})`);
    if (w > 0) idx.push(i);
  }
  if (idx.length === 0) throw new Da3Error('EMPTY_INPUT', `${where}: no value has a positive weight (of ${values.length})`);
  idx.sort((a, b) => values[a] - values[b] || a - b);
  const n = idx.length;
  if (n === 1) return values[idx[0]];
  const mid = new Float64Array(n);
  let acc = 0;
  for (let k = 0; k < n; k++) {
    const w = weights[idx[k]];
    mid[k] = acc + w / 2;
    acc += w;
  }
  const lo = mid[0];
  const span = mid[n - 1] - lo;
  const target = lo + q * span;
  if (target <= mid[0]) return values[idx[0]];
  if (target >= mid[n - 1]) return values[idx[n - 1]];
  // First k with mid[k] ≥ target (binary search; mid is non-decreasing).
  let a = 0;
  let b = n - 1;
  while (a < b) {
    const m = (a + b) >> 1;
    if (mid[m] < target) a = m + 1;
    else b = m;
  }
  const k1 = a;
  const k0 = k1 - 1;
  const v0 = values[idx[k0]];
  const v1 = values[idx[k1]];
  const gap = mid[k1] - mid[k0];
  const f = gap > 0 ? (target - mid[k0]) / gap : 0;
  return v0 + (v1 - v0) * f;
}

// ───────────────────────────────────────── internals ─────────────────────────────────────────

type Work = Float32Array | Float64Array;

function maybeSample(work: Work, options: QuantileOptions, where: string): Work {
  const s = options.sample;
  if (s === undefined) return work;
  if (!Number.isInteger(s.maxSamples) || s.maxSamples <= 0) {
    throw new Da3Error('BAD_VALUE', `${where}: sample.maxSamples must be a positive integer, got ${s.maxSamples}`);
  }
  if (work.length <= s.maxSamples) return work;
  const prng = createPrng(s.seed);
  const out = work instanceof Float32Array ? new Float32Array(s.maxSamples) : new Float64Array(s.maxSamples);
  for (let i = 0; i < s.maxSamples; i++) out[i] = work[prng.int(work.length)];
  return out;
}

/** The quantile of a scratch copy (reordered in place). */
function quantileOfWork(work: Work, q: number, f32: boolean): number {
  const n = work.length;
  const last = n - 1;
  let rank: number;
  if (f32) rank = Math.fround(Math.fround(q) * last);
  else rank = q * last;
  const below = Math.trunc(rank);
  const above = Math.ceil(rank);
  const lo = selectKth(work, below);
  // After selection everything right of `below` is ≥ lo; the next order statistic is their min.
  let hi = lo;
  if (above !== below) {
    hi = Number.POSITIVE_INFINITY;
    for (let i = below + 1; i < n; i++) if (work[i] < hi) hi = work[i];
  }
  const w = rank - below;
  return lerp(lo, hi, w, f32);
}

/** torch's `lerp`: `lo + w·(hi−lo)` for |w| < 0.5, else `hi − (hi−lo)·(1−w)`. */
function lerp(lo: number, hi: number, w: number, f32: boolean): number {
  if (!f32) return Math.abs(w) < 0.5 ? lo + w * (hi - lo) : hi - (hi - lo) * (1 - w);
  const f = Math.fround;
  const d = f(hi - lo);
  return Math.abs(w) < 0.5 ? f(lo + f(w * d)) : f(hi - f(d * f(1 - w)));
}

/**
 * Rearranges `a` so that `a[k]` is the k-th smallest (0-based), everything left of it ≤ and
 * everything right of it ≥; returns `a[k]`. Quickselect with Hoare partitioning around the median
 * of three pseudo-random elements (a fixed-seed xorshift, so runs are reproducible and no input
 * order is systematically bad); small ranges are sorted. The returned value does not depend on
 * the pivots. Exported for the exporters' NumPy-style percentiles (one selection routine).
 */
export function selectKth(a: Float32Array | Float64Array, k: number): number {
  let lo = 0;
  let hi = a.length - 1;
  let state = 0x9e3779b9;
  const rand = (n: number): number => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) % n;
  };
  while (hi > lo) {
    if (hi - lo < 32) {
      a.subarray(lo, hi + 1).sort();
      return a[k];
    }
    const span = hi - lo + 1;
    const x = a[lo + rand(span)], y = a[lo + rand(span)], z = a[lo + rand(span)];
    // Median of three: max(min(x, y), min(max(x, y), z)).
    const pivot = Math.max(Math.min(x, y), Math.min(Math.max(x, y), z));
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (a[i] < pivot) i++;
      while (a[j] > pivot) j--;
      if (i <= j) {
        const t = a[i];
        a[i] = a[j];
        a[j] = t;
        i++;
        j--;
      }
    }
    // Now a[lo..j] ≤ pivot ≤ a[i..hi], and a[j+1..i−1] (if any) equal the pivot.
    if (k <= j) hi = j;
    else if (k >= i) lo = i;
    else return a[k];
  }
  return a[k];
}
