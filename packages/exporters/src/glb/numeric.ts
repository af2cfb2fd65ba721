/**
 * NumPy 1.x order statistics as the reference's GLB exporter uses them (`numpy<2` is pinned by
 * the reference): `np.percentile(x, q)` (method 'linear') and `np.median(x)`.
 *
 * `np.percentile` on a float32 array (numpy 1.24): rank `(n−1)·(q/100)` in float64, the two
 * neighbouring order statistics `a ≤ b`, `d = float32(b − a)`, then in float64
 * `a + d·g` for `g < 0.5`, else `b − d·(1 − g)` (g the rank's fraction); the result is a
 * float64. Any NaN makes the result NaN. Checked against numpy 1.24.2 and 2.4 (float64 inputs:
 * identical formula with `d = b − a`).
 */

import { selectKth } from '@da3js/core';

type Work = Float32Array | Float64Array;

/**
 * `np.percentile(values, q)` (linear). `work` is a scratch copy that is reordered in place
 * (pass a copy). Returns NaN for an empty input or when a value is NaN.
 */
export function percentileLinear(work: Work, q: number): number {
  const n = work.length;
  if (n === 0) return Number.NaN;
  for (let i = 0; i < n; i++) if (Number.isNaN(work[i])) return Number.NaN;
  const vi = (n - 1) * (q / 100);
  let lo: number;
  let hi: number;
  let g: number;
  if (vi >= n - 1) {
    // numpy indexes the last element (-1) for both neighbours; gamma = vi − (−1).
    lo = n - 1;
    hi = n - 1;
    g = vi + 1;
  } else if (vi < 0) {
    lo = 0;
    hi = 0;
    g = vi;
  } else {
    lo = Math.floor(vi);
    hi = lo + 1;
    g = vi - lo;
  }
  const a = selectKth(work, lo);
  const b = hi === lo ? a : minFrom(work, lo + 1);
  const d = work instanceof Float32Array ? Math.fround(b - a) : b - a;
  return g >= 0.5 ? b - d * (1 - g) : a + d * g;
}

/** `np.median` of a float64 scratch array (reordered in place): the middle value, or the mean of the two middle values. */
export function medianF64(work: Float64Array): number {
  const n = work.length;
  if (n === 0) return Number.NaN;
  for (let i = 0; i < n; i++) if (Number.isNaN(work[i])) return Number.NaN;
  const k = n >> 1;
  const upper = selectKth(work, k);
  if (n % 2 === 1) return upper;
  const lower = maxBelow(work, k);
  return (lower + upper) / 2;
}

/** Smallest element of `a[from..]` (the next order statistic after a selection at from−1). */
function minFrom(a: Work, from: number): number {
  let m = a[from];
  for (let i = from + 1; i < a.length; i++) if (a[i] < m) m = a[i];
  return m;
}

/** Largest element of `a[..k)`. */
function maxBelow(a: Work, k: number): number {
  let m = a[0];
  for (let i = 1; i < k; i++) if (a[i] > m) m = a[i];
  return m;
}

