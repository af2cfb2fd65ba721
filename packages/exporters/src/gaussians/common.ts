/**
 * Shared checks of the Gaussian writers: shapes, finite values, subsets.
 */
import { Da3Error, type Gaussians } from '@da3js/core';

/** Checks the shapes of `g` (like `createPrediction`) and returns its count. */
export function checkGaussianShapes(g: Gaussians, where: string): number {
  if (!g || typeof g !== 'object') throw new Da3Error('BAD_VALUE', `${where}: expected Gaussians, got ${g}`);
  const n = g.count;
  if (!Number.isSafeInteger(n) || n < 0) throw new Da3Error('BAD_SHAPE', `${where}: count must be a non-negative integer, got ${n}`);
  const K = g.shCoefficients;
  if (!Number.isSafeInteger(K) || K < 1) throw new Da3Error('BAD_SHAPE', `${where}: shCoefficients must be a positive integer, got ${K}`);
  const fields: [string, Float32Array, number][] = [
    ['means', g.means, 3],
    ['scales', g.scales, 3],
    ['rotations', g.rotations, 4],
    ['harmonics', g.harmonics, 3 * K],
    ['opacities', g.opacities, 1],
  ];
  for (const [name, data, per] of fields) {
    if (!(data instanceof Float32Array)) throw new Da3Error('BAD_SHAPE', `${where}: ${name} must be a Float32Array, got ${Object.prototype.toString.call(data)}`);
    if (data.length !== n * per) throw new Da3Error('BAD_SHAPE', `${where}: ${name} must hold ${n} × ${per} = ${n * per} values, got ${data.length}`);
  }
  return n;
}

/** Validates a subset (strictly in range, integers); `undefined` means all `count`. */
export function checkIndices(indices: ArrayLike<number> | undefined, count: number, where: string): ArrayLike<number> | null {
  if (indices === undefined) return null;
  if (!indices || typeof indices.length !== 'number') throw new Da3Error('BAD_VALUE', `${where}: indices must be an array of integers`);
  for (let i = 0; i < indices.length; i++) {
    const k = indices[i];
    if (!Number.isInteger(k) || k < 0 || k >= count) throw new Da3Error('BAD_VALUE', `${where}: indices[${i}] = ${k} is not an index below ${count}`);
  }
  return indices;
}

/** Which scales {@link checkGaussianValues} accepts. */
export type ScaleRule = 'positive' | 'nonNegative' | 'any';

/**
 * Checks the values the writers transform: finite everything, scales by `options.scales`
 * (`positive` (default): SPZ stores their log; `nonNegative`: formats storing linear scales;
 * `any`: the 3DGS PLY, which writes `log` like the reference — NaN for a negative scale, −inf for
 * 0), opacities in [0, 1], rotations not all zero.
 * @throws Da3Error `NON_FINITE`, `BAD_VALUE` naming the Gaussian
 */
export function checkGaussianValues(g: Gaussians, sel: ArrayLike<number> | null, where: string, options: { scales?: ScaleRule } = {}): void {
  const n = sel ? sel.length : g.count;
  const K3 = 3 * g.shCoefficients;
  const rule = options.scales ?? 'positive';
  for (let j = 0; j < n; j++) {
    const i = sel ? sel[j] : j;
    for (let a = 0; a < 3; a++) {
      const m = g.means[3 * i + a];
      if (!Number.isFinite(m)) throw new Da3Error('NON_FINITE', `${where}: means[${i}][${a}] is ${m}`);
      const s = g.scales[3 * i + a];
      if (!Number.isFinite(s)) throw new Da3Error('NON_FINITE', `${where}: scales[${i}][${a}] is ${s}`);
      if (rule === 'positive' ? !(s > 0) : rule === 'nonNegative' ? !(s >= 0) : false) {
        const why = rule === 'nonNegative' ? 'linear scales must be ≥ 0' : 'scales must be > 0 (they are stored as log)';
        throw new Da3Error('BAD_VALUE', `${where}: scales[${i}][${a}] is ${s}; ${why}`);
      }
    }
    let q2 = 0;
    for (let a = 0; a < 4; a++) {
      const q = g.rotations[4 * i + a];
      if (!Number.isFinite(q)) throw new Da3Error('NON_FINITE', `${where}: rotations[${i}][${a}] is ${q}`);
      q2 += q * q;
    }
    if (!(q2 > 0)) throw new Da3Error('BAD_VALUE', `${where}: rotations[${i}] is the zero quaternion`);
    const o = g.opacities[i];
    if (!Number.isFinite(o)) throw new Da3Error('NON_FINITE', `${where}: opacities[${i}] is ${o}`);
    if (!(o >= 0 && o <= 1)) throw new Da3Error('BAD_VALUE', `${where}: opacities[${i}] is ${o}; opacities are activated values in [0, 1]`);
    for (let a = 0; a < K3; a++) {
      const h = g.harmonics[K3 * i + a];
      if (!Number.isFinite(h)) throw new Da3Error('NON_FINITE', `${where}: harmonics[${i}] holds ${h}`);
    }
  }
}

/** The highest complete SH degree stored in `K` coefficients per colour (1 → 0, 4 → 1, 9 → 2, 16 → 3). */
export function shDegreeOf(K: number): number {
  return Math.floor(Math.sqrt(K)) - 1;
}

/** Which order `rotations` holds. `xyzw` is the `Gaussians` contract of `@da3js/core`. */
export type GaussianRotationOrder = 'xyzw' | 'wxyz';

/** Writes the rotation of Gaussian `i` as `[w, x, y, z]` into `out`. */
export function rotationWxyz(out: Float64Array, rotations: Float32Array, i: number, order: GaussianRotationOrder): void {
  const q = 4 * i;
  if (order === 'xyzw') {
    out[0] = rotations[q + 3];
    out[1] = rotations[q];
    out[2] = rotations[q + 1];
    out[3] = rotations[q + 2];
  } else {
    out[0] = rotations[q];
    out[1] = rotations[q + 1];
    out[2] = rotations[q + 2];
    out[3] = rotations[q + 3];
  }
}

export function checkOrder(order: unknown, where: string): GaussianRotationOrder {
  if (order === undefined) return 'xyzw';
  if (order !== 'xyzw' && order !== 'wxyz') throw new Da3Error('BAD_VALUE', `${where}: rotationOrder must be 'xyzw' or 'wxyz', got ${JSON.stringify(order)}`);
  return order;
}
