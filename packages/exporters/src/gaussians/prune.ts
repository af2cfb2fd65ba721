/**
 * *The reference's Gaussian pruning before `gs_ply`* (`utils/gsply_helpers.py::save_gaussian_ply`
 * as `utils/export/gs.py::export_to_gs_ply` calls it).
 *
 * Usage:
 * ```ts
 * const keep = gaussianPruneIndices(prediction);                  // Uint32Array of kept indices
 * await writeGaussiansPly(prediction.gaussians!, sink, { indices: keep });
 * const small = pruneGaussians(prediction, { viewsInterval: 2 });  // a new, smaller Gaussians
 * ```
 *
 * Input layout: the GS adapter emits one Gaussian per pixel of every view, flattened
 * `(v h w)` — Gaussian `i` belongs to view `⌊i / (H·W)⌋`, row `⌊i / W⌋ mod H`, column `i mod W`
 * — so `count` must equal `views·H·W` of the depth it is pruned with (`prediction.depth`
 * [views, H, W]; for Nested that depth is metric while the Gaussians are not, which does not
 * change per-view quantile masks).
 *
 * Rule (defaults are the reference's export):
 * 1. Border: keep rows `[t_h, H − t_h)` and columns `[t_w, W − t_w)`, `t_h = int(8/256·H)`,
 *    `t_w = int(8/256·W)` (`border: true`).
 * 2. Depth: keep `depth ≤ quantile_q(depth of that view)`, torch's linear quantile over all H·W
 *    values of the view in float32, `q = depthQuantile` (0.9; `null` or ≥ 1 disables).
 * 3. Views: only views 0, k, 2k, … (`viewsInterval` k, default 1; `'auto'` = max(⌊views/12⌋, 1),
 *    the reference's `None`).
 * Kept indices are in the reference's order: view, then row, then column.
 *
 * Deliberate differences, both in cases the reference mishandles:
 * - When `t_h` or `t_w` is 0 (H or W below 32) nothing is trimmed on that axis; the reference's
 *   slice `0:-0` is empty and drops every Gaussian.
 * - Non-finite depth: the quantile is taken over the view's finite depths and those pixels are
 *   dropped; the reference's quantile turns NaN and drops the whole view.
 */
import { Da3Error, type Gaussians, type Prediction, quantileLinear } from '@da3js/core';
import { checkGaussianShapes } from './common.js';

/** Options of {@link gaussianPruneIndices} and {@link pruneGaussians}. */
export interface PruneGaussiansOptions {
  /** Drop the border Gaussians (default true). */
  border?: boolean;
  /** Keep depth ≤ this per-view quantile (default 0.9); `null` or ≥ 1 keeps every depth. */
  depthQuantile?: number | null;
  /** Keep every k-th view (default 1); `'auto'`: max(⌊views / 12⌋, 1). */
  viewsInterval?: number | 'auto';
}

/** The per-pixel layout the pruning needs: depth [views, height, width]. */
export interface GaussianPixelLayout {
  readonly views: number;
  readonly height: number;
  readonly width: number;
  readonly depth: Float32Array;
}

function layoutOf(input: Prediction | GaussianPixelLayout, where: string): GaussianPixelLayout {
  if (!input || typeof input !== 'object') throw new Da3Error('BAD_VALUE', `${where}: expected a Prediction or { views, height, width, depth }`);
  const { views, height, width, depth } = input;
  for (const [k, v] of [
    ['views', views],
    ['height', height],
    ['width', width],
  ] as const) {
    if (!Number.isSafeInteger(v) || v < 1) throw new Da3Error('BAD_SHAPE', `${where}: ${k} must be a positive integer, got ${v}`);
  }
  if (!(depth instanceof Float32Array) || depth.length !== views * height * width) {
    throw new Da3Error('BAD_SHAPE', `${where}: depth must be a Float32Array [${views}, ${height}, ${width}], got ${depth?.length} values`);
  }
  return { views, height, width, depth };
}

/**
 * Indices of the Gaussians the reference's `gs_ply` export keeps (see the module doc). `input`
 * gives the depth maps; when it is a Prediction with `gaussians`, their count is checked against
 * `views·H·W`.
 * @throws Da3Error `BAD_SHAPE` (depth size, Gaussian count ≠ views·H·W), `BAD_VALUE` (options)
 */
export function gaussianPruneIndices(input: Prediction | GaussianPixelLayout, options: PruneGaussiansOptions = {}): Uint32Array {
  const where = 'gaussianPruneIndices';
  const { views: V, height: H, width: W, depth } = layoutOf(input, where);
  const g = (input as Prediction).gaussians;
  if (g) {
    const n = checkGaussianShapes(g, where);
    if (n !== V * H * W) {
      throw new Da3Error('BAD_SHAPE', `${where}: ${n} Gaussians, but the per-pixel layout [views ${V}, ${H}, ${W}] needs ${V * H * W}`);
    }
  }
  const border = options.border ?? true;
  const q = options.depthQuantile === undefined ? 0.9 : options.depthQuantile;
  if (q !== null && !(typeof q === 'number' && q >= 0)) throw new Da3Error('BAD_VALUE', `${where}: depthQuantile must be a number ≥ 0 or null, got ${q}`);
  const rawInterval = options.viewsInterval ?? 1;
  const interval = rawInterval === 'auto' ? Math.max(Math.floor(V / 12), 1) : rawInterval;
  if (!Number.isSafeInteger(interval) || interval < 1) throw new Da3Error('BAD_VALUE', `${where}: viewsInterval must be a positive integer or 'auto', got ${rawInterval}`);

  const th = border ? Math.floor((8 / 256) * H) : 0;
  const tw = border ? Math.floor((8 / 256) * W) : 0;
  const px = H * W;
  const kept = new Uint32Array(Math.ceil(V / interval) * px);
  let count = 0;
  for (let b = 0; b < V; b += interval) {
    const view = depth.subarray(b * px, (b + 1) * px);
    let limit = Number.POSITIVE_INFINITY;
    if (q !== null && q < 1) {
      let finite = 0;
      for (let i = 0; i < px; i++) if (Number.isFinite(view[i])) finite++;
      if (finite === 0) continue;
      let values = view;
      if (finite !== px) {
        values = new Float32Array(finite);
        let k = 0;
        for (let i = 0; i < px; i++) if (Number.isFinite(view[i])) values[k++] = view[i];
      }
      limit = quantileLinear(values, q, { precision: 'float32' });
    }
    for (let v = th; v < H - th; v++) {
      for (let u = tw; u < W - tw; u++) {
        const d = view[v * W + u];
        if (Number.isFinite(d) && d <= limit) kept[count++] = b * px + v * W + u;
      }
    }
  }
  return kept.slice(0, count);
}

/** A new `Gaussians` holding only `indices` (in that order). */
export function selectGaussians(g: Gaussians, indices: ArrayLike<number>): Gaussians {
  const where = 'selectGaussians';
  const total = checkGaussianShapes(g, where);
  const n = indices.length;
  const K = g.shCoefficients;
  const means = new Float32Array(3 * n);
  const scales = new Float32Array(3 * n);
  const rotations = new Float32Array(4 * n);
  const harmonics = new Float32Array(3 * K * n);
  const opacities = new Float32Array(n);
  for (let j = 0; j < n; j++) {
    const i = indices[j];
    if (!Number.isInteger(i) || i < 0 || i >= total) throw new Da3Error('BAD_VALUE', `${where}: indices[${j}] = ${i} is not an index below ${total}`);
    means.set(g.means.subarray(3 * i, 3 * i + 3), 3 * j);
    scales.set(g.scales.subarray(3 * i, 3 * i + 3), 3 * j);
    rotations.set(g.rotations.subarray(4 * i, 4 * i + 4), 4 * j);
    harmonics.set(g.harmonics.subarray(3 * K * i, 3 * K * (i + 1)), 3 * K * j);
    opacities[j] = g.opacities[i];
  }
  return { count: n, means, scales, rotations, harmonics, shCoefficients: K, opacities };
}

/**
 * The reference's pruning as a new `Gaussians` (a copy of the kept ones). `input` is a
 * Prediction with `gaussians`, or `{ gaussians, views, height, width, depth }`.
 * @throws Da3Error `BAD_VALUE` (no gaussians), and what {@link gaussianPruneIndices} throws
 */
export function pruneGaussians(input: Prediction | (GaussianPixelLayout & { readonly gaussians: Gaussians }), options: PruneGaussiansOptions = {}): Gaussians {
  const g = input?.gaussians;
  if (!g) throw new Da3Error('BAD_VALUE', 'pruneGaussians: the input has no gaussians (GIANT / NESTED with infer_gs only)');
  return selectGaussians(g, gaussianPruneIndices(input as Prediction, options));
}
