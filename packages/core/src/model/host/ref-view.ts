import { Da3Error } from '../../errors.js';

/**
 * Reference-view selection (model/reference_view_selector.py): which view becomes view 0 (the
 * world frame and the reference camera token) when 3 or more views are given without poses.
 */

/** The reference's strategies; `saddle_balanced` is its default, `first` is what benchmarks use. */
export type RefViewStrategy = 'first' | 'middle' | 'saddle_balanced' | 'saddle_sim_range';

/** All strategies, in a stable order (for validation messages and pickers). */
export const REF_VIEW_STRATEGIES: readonly RefViewStrategy[] = Object.freeze(['saddle_balanced', 'saddle_sim_range', 'first', 'middle']);

/**
 * Chooses the reference view from each view's token 0 (the cls token before block alt_start−1).
 * - `saddle_balanced`: normalise three per-view metrics to [0, 1] over views (mean off-diagonal
 *   cosine similarity, L2 norm of the raw token, unbiased variance of the L2-normalised token) and
 *   take the argmin of the summed |metric − ½|.
 * - `saddle_sim_range`: argmax of (max − min) off-diagonal similarity.
 * - `first`: 0; `middle`: ⌊S/2⌋.
 *
 * @param clsTokens Float32Array [S, C]: token 0 of each view
 * @returns the chosen view index (ties pick the lowest index, like `torch.argmin`)
 */
export function selectReferenceView(clsTokens: Float32Array, views: number, channels: number, strategy: RefViewStrategy = 'saddle_balanced'): number {
  if (!REF_VIEW_STRATEGIES.includes(strategy)) {
    throw new Da3Error('BAD_VALUE', `selectReferenceView: unknown strategy ${JSON.stringify(strategy)}; one of ${REF_VIEW_STRATEGIES.join(', ')}`);
  }
  if (clsTokens.length !== views * channels || views < 1 || channels < 1) {
    throw new Da3Error('BAD_SHAPE', `selectReferenceView: expected [${views}, ${channels}] tokens, got ${clsTokens.length} values`);
  }
  if (views <= 1 || strategy === 'first') return 0;
  if (strategy === 'middle') return Math.floor(views / 2);
  const S = views;
  const C = channels;
  const norms = new Float64Array(S);
  const unit = new Float64Array(S * C);
  for (let s = 0; s < S; s++) {
    let sq = 0;
    for (let c = 0; c < C; c++) sq += clsTokens[s * C + c] ** 2;
    norms[s] = Math.sqrt(sq);
    for (let c = 0; c < C; c++) unit[s * C + c] = clsTokens[s * C + c] / norms[s];
  }
  const sim = new Float64Array(S * S);
  for (let i = 0; i < S; i++) {
    for (let j = 0; j < S; j++) {
      let d = 0;
      for (let c = 0; c < C; c++) d += unit[i * C + c] * unit[j * C + c];
      sim[i * S + j] = d - (i === j ? 1 : 0);
    }
  }
  if (strategy === 'saddle_sim_range') {
    let best = 0;
    let bestRange = Number.NEGATIVE_INFINITY;
    for (let i = 0; i < S; i++) {
      let lo = Number.POSITIVE_INFINITY;
      let hi = Number.NEGATIVE_INFINITY;
      for (let j = 0; j < S; j++) {
        lo = Math.min(lo, sim[i * S + j]);
        hi = Math.max(hi, sim[i * S + j]);
      }
      if (hi - lo > bestRange) {
        bestRange = hi - lo;
        best = i;
      }
    }
    return best;
  }
  const simScore = new Float64Array(S);
  const variance = new Float64Array(S);
  for (let i = 0; i < S; i++) {
    let s = 0;
    for (let j = 0; j < S; j++) s += sim[i * S + j];
    simScore[i] = s / (S - 1);
    let mean = 0;
    for (let c = 0; c < C; c++) mean += unit[i * C + c];
    mean /= C;
    let v = 0;
    for (let c = 0; c < C; c++) v += (unit[i * C + c] - mean) ** 2;
    variance[i] = v / (C - 1);
  }
  const normalise = (m: Float64Array) => {
    const lo = Math.min(...m);
    const hi = Math.max(...m);
    return m.map((v) => (v - lo) / (hi - lo + 1e-8));
  };
  const a = normalise(simScore);
  const b = normalise(norms);
  const c = normalise(variance);
  let best = 0;
  let bestScore = Number.POSITIVE_INFINITY;
  for (let i = 0; i < S; i++) {
    const score = Math.abs(a[i] - 0.5) + Math.abs(b[i] - 0.5) + Math.abs(c[i] - 0.5);
    if (score < bestScore) {
      bestScore = score;
      best = i;
    }
  }
  return best;
}

/**
 * The working view order after choosing `ref`: `[ref, 0, …, ref−1, ref+1, …, S−1]`.
 * `order[k]` is the original index of working view k.
 */
export function referenceViewOrder(views: number, ref: number): Int32Array {
  if (!Number.isInteger(ref) || ref < 0 || ref >= Math.max(views, 1)) {
    throw new Da3Error('OUT_OF_RANGE', `referenceViewOrder: reference view ${ref} outside 0..${views - 1}`);
  }
  const order = new Int32Array(views);
  order[0] = ref;
  for (let k = 1; k < views; k++) order[k] = k <= ref ? k - 1 : k;
  return order;
}

/**
 * Gathers views of a `[S, ...]` batch (`stride` values each) into `order` (`out[k] = x[order[k]]`):
 * with {@link referenceViewOrder} this is the reference's `reorder_by_reference`.
 */
export function gatherViews<T extends Float32Array | Float64Array>(x: T, order: Int32Array, stride: number): T {
  const out = new (x.constructor as { new (n: number): T })(x.length);
  for (let k = 0; k < order.length; k++) out.set(x.subarray(order[k] * stride, (order[k] + 1) * stride), k * stride);
  return out;
}

/** Inverse of {@link gatherViews}: puts working views back in their original order (`restore_original_order`). */
export function scatterViews<T extends Float32Array | Float64Array>(x: T, order: Int32Array, stride: number): T {
  const out = new (x.constructor as { new (n: number): T })(x.length);
  for (let k = 0; k < order.length; k++) out.set(x.subarray(k * stride, (k + 1) * stride), order[k] * stride);
  return out;
}
