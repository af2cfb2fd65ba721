/**
 * *PCA → RGB of backbone features, the reference's `feat_vis` (`utils/export/feat_vis.py`,
 * `utils/pca_utils.py::PCARGBVisualizer(basis_mode="fixed", percentile_mode="global",
 * clip_percent=10)`), deterministic.*
 *
 * One basis for all views ("fixed"): the feature vectors of every view and pixel (rows, C channels)
 * are centred on their global mean and projected on the top three principal directions; each of
 * the three projections is clipped to its global [10 %, 90 %] quantiles ("global", linear
 * interpolation like `torch.quantile`), scaled by `max(hi − lo, 1e-4)` to [0, 1], and written as
 * `uint8(x·255)` (truncated) — red = first component.
 *
 * Deviation, by design: the reference finds the directions with `torch.pca_lowrank` (randomized,
 * unseeded, two power iterations, arbitrary signs). da3js runs seeded block subspace iteration
 * with Rayleigh–Ritz to convergence (residual ‖A·v − λ·v‖ ≤ 1e-8·λ₁ for the top three), i.e. the
 * exact leading eigenvectors of the covariance within float64 round-off, and fixes each sign so
 * the entry of largest magnitude is positive. Same input → same bytes on every runtime.
 *
 * NaN/±∞ features: rejected by default (`NON_FINITE`); `nonFinite: 'replace'` maps them like the
 * reference's `torch.nan_to_num(nan=0, posinf=1e6, neginf=-1e6)`.
 */
import { Da3Error, type FeatureMap, type Prediction, createPrng, quantileLinear } from '@da3js/core';

/** Options of {@link featurePca}. */
export interface FeaturePcaOptions {
  /** Percent clipped at each end of every channel, in [0, 50). Default 10 (the reference's). */
  clipPercent?: number;
  /** Seed of the starting subspace (the result does not depend on it beyond round-off). Default 0. */
  seed?: number;
  /** `error` (default): throw `NON_FINITE` on NaN/±∞; `replace`: NaN → 0, ±∞ → ±1e6 (the reference). */
  nonFinite?: 'error' | 'replace';
  /** Iteration cap of the subspace iteration. Default 200. */
  maxIterations?: number;
}

/** A fitted PCA and its RGB rendering at the feature resolution. */
export interface FeaturePca {
  /** The feature layer (`FeatureMap.layer`). */
  readonly layer: number;
  readonly views: number;
  /** Feature-map rows (h = H/14). */
  readonly height: number;
  /** Feature-map columns (w = W/14). */
  readonly width: number;
  readonly channels: number;
  /** Global mean feature [C]. */
  readonly mean: Float64Array;
  /** Principal directions, row-major [C, 3] (column k = component k, unit length, orthogonal). */
  readonly basis: Float64Array;
  /** Variance of each component's projection over all rows (population), descending [3]. */
  readonly variance: Float64Array;
  /** The clip range of each component [3] (its `clipPercent` and `100 − clipPercent` quantiles). */
  readonly lo: Float64Array;
  readonly hi: Float64Array;
  /** RGB bytes [views, height, width, 3]. */
  readonly rgb: Uint8Array;
  /** Subspace iterations run. */
  readonly iterations: number;
}

const COMPONENTS = 3;
const OVERSAMPLE = 16; // the reference's q_oversample (pca_lowrank q = max(16, 8))
const DENOM_EPS = 1e-4; // PCARGBVisualizer.denom_eps
/** Convergence: Ritz residual ‖A·v − λ·v‖ ≤ TOLERANCE·λ₁ for the top three pairs. */
const TOLERANCE = 1e-8;

/** Symmetric eigen-decomposition of a small matrix (cyclic Jacobi); eigenvalues descending. */
function jacobiEigen(a: Float64Array, n: number): { values: Float64Array<ArrayBuffer>; vectors: Float64Array<ArrayBuffer> } {
  const m = Float64Array.from(a);
  const v = new Float64Array(n * n);
  for (let i = 0; i < n; i++) v[i * n + i] = 1;
  for (let sweep = 0; sweep < 100; sweep++) {
    let off = 0;
    let diag = 0;
    for (let i = 0; i < n; i++) {
      diag += m[i * n + i] * m[i * n + i];
      for (let j = i + 1; j < n; j++) off += m[i * n + j] * m[i * n + j];
    }
    if (off <= 1e-30 * diag || off === 0) break;
    for (let p = 0; p < n; p++) {
      for (let q = p + 1; q < n; q++) {
        const apq = m[p * n + q];
        if (apq === 0) continue;
        const app = m[p * n + p];
        const aqq = m[q * n + q];
        const theta = (aqq - app) / (2 * apq);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let k = 0; k < n; k++) {
          const mkp = m[k * n + p];
          const mkq = m[k * n + q];
          m[k * n + p] = c * mkp - s * mkq;
          m[k * n + q] = s * mkp + c * mkq;
        }
        for (let k = 0; k < n; k++) {
          const mpk = m[p * n + k];
          const mqk = m[q * n + k];
          m[p * n + k] = c * mpk - s * mqk;
          m[q * n + k] = s * mpk + c * mqk;
        }
        for (let k = 0; k < n; k++) {
          const vkp = v[k * n + p];
          const vkq = v[k * n + q];
          v[k * n + p] = c * vkp - s * vkq;
          v[k * n + q] = s * vkp + c * vkq;
        }
      }
    }
  }
  const order = Array.from({ length: n }, (_, i) => i).sort((x, y) => m[y * n + y] - m[x * n + x] || x - y);
  const values = new Float64Array(n);
  const vectors = new Float64Array(n * n);
  order.forEach((src, dst) => {
    values[dst] = m[src * n + src];
    for (let k = 0; k < n; k++) vectors[k * n + dst] = v[k * n + src];
  });
  return { values, vectors };
}

/** Orthonormalises the q rows of `z` [q, C] in place (Gram–Schmidt, twice), refilling dead rows. */
function orthonormalize(z: Float64Array, C: number, q: number, rand: () => number): void {
  for (let j = 0; j < q; j++) {
    const zj = z.subarray(j * C, (j + 1) * C);
    for (let attempt = 0; attempt < 4; attempt++) {
      let before = 0;
      for (let c = 0; c < C; c++) before += zj[c] * zj[c];
      for (let pass = 0; pass < 2; pass++) {
        for (let k = 0; k < j; k++) {
          const zk = z.subarray(k * C, (k + 1) * C);
          let dot = 0;
          for (let c = 0; c < C; c++) dot += zj[c] * zk[c];
          for (let c = 0; c < C; c++) zj[c] -= dot * zk[c];
        }
      }
      let norm = 0;
      for (let c = 0; c < C; c++) norm += zj[c] * zj[c];
      if (norm > 1e-20 * before && norm > 0) {
        const inv = 1 / Math.sqrt(norm);
        for (let c = 0; c < C; c++) zj[c] *= inv;
        break;
      }
      // Row in the span of the previous ones (rank-deficient data): restart it at random.
      for (let c = 0; c < C; c++) zj[c] = rand() - 0.5;
    }
  }
}

function featureViews(where: string, map: FeatureMap): number {
  const { height: h, width: w, channels: C, data } = map;
  for (const [k, v] of [
    ['height', h],
    ['width', w],
    ['channels', C],
  ] as const) {
    if (!Number.isSafeInteger(v) || v < 0) throw new Da3Error('BAD_SHAPE', `${where}: ${k} must be a non-negative integer, got ${v}`);
    if (v === 0) throw new Da3Error('EMPTY_INPUT', `${where}: ${k} is 0`);
  }
  if (!(data instanceof Float32Array)) throw new Da3Error('BAD_VALUE', `${where}: data must be a Float32Array`);
  if (data.length === 0) throw new Da3Error('EMPTY_INPUT', `${where}: no feature values`);
  const per = h * w * C;
  if (data.length % per !== 0) throw new Da3Error('BAD_SHAPE', `${where}: ${data.length} values are not a whole number of [${h}, ${w}, ${C}] views`);
  if (C < COMPONENTS) throw new Da3Error('BAD_SHAPE', `${where}: PCA → RGB needs at least ${COMPONENTS} channels, got ${C}`);
  return data.length / per;
}

/**
 * Fits the fixed-basis, global-percentile PCA of a feature map over all its views and renders each
 * view as RGB at the feature resolution (see the module doc).
 * @throws Da3Error `EMPTY_INPUT`, `BAD_SHAPE` (data length vs [N, h, w, C], fewer than 3
 *   channels), `BAD_VALUE` (options), `NON_FINITE` (NaN/±∞ features unless `nonFinite: 'replace'`)
 */
export function featurePca(map: FeatureMap, options: FeaturePcaOptions = {}): FeaturePca {
  const where = `featurePca(layer ${map?.layer})`;
  const views = featureViews(where, map);
  const clip = options.clipPercent ?? 10;
  if (typeof clip !== 'number' || !(clip >= 0 && clip < 50)) throw new Da3Error('BAD_VALUE', `${where}: clipPercent must be in [0, 50), got ${clip}`);
  const mode = options.nonFinite ?? 'error';
  if (mode !== 'error' && mode !== 'replace') throw new Da3Error('BAD_VALUE', `${where}: nonFinite must be 'error' or 'replace', got ${String(mode)}`);
  const maxIt = options.maxIterations ?? 200;
  if (!Number.isInteger(maxIt) || maxIt < 1) throw new Da3Error('BAD_VALUE', `${where}: maxIterations must be a positive integer, got ${maxIt}`);
  const { height: h, width: w, channels: C } = map;
  const rows = views * h * w;

  let x = map.data;
  for (let i = 0; i < x.length; i++) {
    if (Number.isFinite(x[i])) continue;
    if (mode === 'error') {
      const r = Math.floor(i / C);
      throw new Da3Error('NON_FINITE', `${where}: feature [view ${Math.floor(r / (h * w))}, pixel ${r % (h * w)}, channel ${i % C}] is ${x[i]}`);
    }
    if (x === map.data) x = Float32Array.from(map.data);
    x[i] = Number.isNaN(x[i]) ? 0 : x[i] > 0 ? 1e6 : -1e6;
  }

  const mean = new Float64Array(C);
  for (let r = 0; r < rows; r++) for (let c = 0; c < C; c++) mean[c] += x[r * C + c];
  for (let c = 0; c < C; c++) mean[c] /= rows;

  // Block subspace iteration on A = Xcᵀ·Xc without forming Xc or A, the q vectors stored as rows
  // (Q, Z: [q, C]): y = Xc·qⱼ = X·qⱼ − mean·qⱼ per row, zⱼ = Xcᵀ·y = Xᵀ·y − mean·Σy.
  const q = Math.min(C, OVERSAMPLE);
  const prng = createPrng(options.seed ?? 0);
  const rand = () => prng.next();
  let Q = new Float64Array(q * C);
  for (let i = 0; i < Q.length; i++) Q[i] = rand() - 0.5;
  orthonormalize(Q, C, q, rand);
  const Z = new Float64Array(q * C);
  const y = new Float64Array(q);
  const mQ = new Float64Array(q);
  const ySum = new Float64Array(q);
  const applyA = (V: Float64Array) => {
    for (let j = 0; j < q; j++) {
      let s = 0;
      for (let c = 0; c < C; c++) s += mean[c] * V[j * C + c];
      mQ[j] = s;
    }
    Z.fill(0);
    ySum.fill(0);
    for (let r = 0; r < rows; r++) {
      const xr = x.subarray(r * C, (r + 1) * C);
      for (let j = 0; j < q; j++) {
        const o = j * C;
        let s = 0;
        for (let c = 0; c < C; c++) s += xr[c] * V[o + c];
        y[j] = s - mQ[j];
        ySum[j] += y[j];
      }
      for (let j = 0; j < q; j++) {
        const o = j * C;
        const yj = y[j];
        for (let c = 0; c < C; c++) Z[o + c] += yj * xr[c];
      }
    }
    for (let j = 0; j < q; j++) for (let c = 0; c < C; c++) Z[j * C + c] -= mean[c] * ySum[j];
  };

  let values = new Float64Array(q);
  let W = new Float64Array(q * q);
  let iterations = 0;
  for (;;) {
    iterations++;
    applyA(Q);
    // Rayleigh–Ritz: B = Qᵀ·A·Q (symmetrised), B = W·Λ·Wᵀ.
    const B = new Float64Array(q * q);
    for (let i = 0; i < q; i++) {
      for (let j = i; j < q; j++) {
        let s1 = 0;
        let s2 = 0;
        for (let c = 0; c < C; c++) {
          s1 += Q[i * C + c] * Z[j * C + c];
          s2 += Q[j * C + c] * Z[i * C + c];
        }
        B[i * q + j] = B[j * q + i] = (s1 + s2) / 2;
      }
    }
    ({ values, vectors: W } = jacobiEigen(B, q));
    // Residuals of the top Ritz pairs: ‖Z·w − λ·Q·w‖ (Z·w = A·(Q·w)).
    const scale = Math.max(Math.abs(values[0]), Number.MIN_VALUE);
    let converged = true;
    for (let k = 0; k < COMPONENTS && converged; k++) {
      let res = 0;
      for (let c = 0; c < C; c++) {
        let zw = 0;
        let qw = 0;
        for (let j = 0; j < q; j++) {
          zw += Z[j * C + c] * W[j * q + k];
          qw += Q[j * C + c] * W[j * q + k];
        }
        res += (zw - values[k] * qw) ** 2;
      }
      if (Math.sqrt(res) > TOLERANCE * scale) converged = false;
    }
    // Stop with the Ritz vectors V = Q·W[:, :3] of the current Q (q = C: they are exact).
    if (converged || values[0] <= 0 || q === C || iterations >= maxIt) break;
    const next = Float64Array.from(Z);
    orthonormalize(next, C, q, rand);
    Q = next;
  }

  const basis = new Float64Array(C * COMPONENTS);
  for (let k = 0; k < COMPONENTS; k++) {
    let big = 0;
    for (let c = 0; c < C; c++) {
      let s = 0;
      for (let j = 0; j < q; j++) s += Q[j * C + c] * W[j * q + k];
      basis[c * COMPONENTS + k] = s;
      if (Math.abs(s) > Math.abs(basis[big * COMPONENTS + k])) big = c;
    }
    let norm = 0;
    for (let c = 0; c < C; c++) norm += basis[c * COMPONENTS + k] ** 2;
    const sign = basis[big * COMPONENTS + k] < 0 ? -1 : 1;
    const inv = norm > 0 ? sign / Math.sqrt(norm) : 0;
    for (let c = 0; c < C; c++) basis[c * COMPONENTS + k] *= inv;
  }

  // Projections of every row, their variance, clip ranges and bytes.
  const pcs = [new Float64Array(rows), new Float64Array(rows), new Float64Array(rows)];
  const mB = new Float64Array(COMPONENTS);
  for (let c = 0; c < C; c++) for (let k = 0; k < COMPONENTS; k++) mB[k] += mean[c] * basis[c * COMPONENTS + k];
  for (let r = 0; r < rows; r++) {
    let p0 = 0;
    let p1 = 0;
    let p2 = 0;
    const xo = r * C;
    for (let c = 0; c < C; c++) {
      const xv = x[xo + c];
      const bo = c * COMPONENTS;
      p0 += xv * basis[bo];
      p1 += xv * basis[bo + 1];
      p2 += xv * basis[bo + 2];
    }
    pcs[0][r] = p0 - mB[0];
    pcs[1][r] = p1 - mB[1];
    pcs[2][r] = p2 - mB[2];
  }
  const variance = new Float64Array(COMPONENTS);
  const lo = new Float64Array(COMPONENTS);
  const hi = new Float64Array(COMPONENTS);
  const rgb = new Uint8Array(rows * 3);
  for (let k = 0; k < COMPONENTS; k++) {
    const p = pcs[k];
    let s = 0;
    let s2 = 0;
    for (let r = 0; r < rows; r++) s += p[r];
    const m = s / rows;
    for (let r = 0; r < rows; r++) s2 += (p[r] - m) ** 2;
    variance[k] = s2 / rows;
    lo[k] = quantileLinear(p, clip / 100, { precision: 'float64' });
    hi[k] = quantileLinear(p, 1 - clip / 100, { precision: 'float64' });
    const denom = Math.max(hi[k] - lo[k], DENOM_EPS);
    for (let r = 0; r < rows; r++) {
      const v = Math.min(Math.max(p[r], lo[k]), hi[k]);
      const t = Math.min(Math.max((v - lo[k]) / denom, 0), 1);
      rgb[r * 3 + k] = Math.trunc(t * 255);
    }
  }
  return { layer: map.layer, views, height: h, width: w, channels: C, mean, basis, variance, lo, hi, rgb, iterations };
}

/**
 * The `feat_layer_<i>` feature maps of a prediction (`exportFeatLayers`), in layer order, or the
 * requested `layers` in the given order.
 * @throws Da3Error `BAD_VALUE` when a requested layer was not exported
 */
export function featureMaps(prediction: Prediction, layers?: readonly number[]): FeatureMap[] {
  const all = Object.entries(prediction.aux ?? {})
    .filter(([k]) => k.startsWith('feat_layer_'))
    .map(([, v]) => v)
    .sort((a, b) => a.layer - b.layer);
  if (!layers) return all;
  return layers.map((l) => {
    const f = all.find((m) => m.layer === l);
    if (!f) throw new Da3Error('BAD_VALUE', `featureMaps: layer ${l} was not exported (have ${all.map((m) => m.layer).join(', ') || 'none'})`);
    return f;
  });
}
