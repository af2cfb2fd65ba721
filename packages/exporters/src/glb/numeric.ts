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

/**
 * Rearranges `a` (no NaN) so that `a[k]` is its k-th smallest, smaller-or-equal ones left of it and
 * greater-or-equal ones right; returns `a[k]`. Hoare-partition quickselect with a median-of-three
 * pivot; the value returned does not depend on the pivots.
 */
export function selectKth(a: Work, k: number): number {
  let lo = 0;
  let hi = a.length - 1;
  while (hi > lo) {
    if (hi - lo < 16) {
      // insertion sort of the small range
      for (let i = lo + 1; i <= hi; i++) {
        const v = a[i];
        let j = i - 1;
        while (j >= lo && a[j] > v) {
          a[j + 1] = a[j];
          j--;
        }
        a[j + 1] = v;
      }
      return a[k];
    }
    const mid = lo + ((hi - lo) >> 1);
    const x = a[lo];
    const y = a[mid];
    const z = a[hi];
    // biome-ignore lint/complexity/useMathMinMax: a median of three, not a min/max
    const pivot = x < y ? (y < z ? y : x < z ? z : x) : x < z ? x : y < z ? z : y;
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
    // [lo..j] ≤ pivot ≤ [i..hi], and j < i; elements strictly between are equal to the pivot.
    if (k <= j) hi = j;
    else if (k >= i) lo = i;
    else return a[k];
  }
  return a[k];
}
