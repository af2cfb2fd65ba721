import { Da3Error } from '../errors.js';
import { affineInverse } from '../camera/matrix.js';
import type { ReadonlyNumArray } from '../camera/types.js';
import { assertFinite, checkImageHw } from '../camera/validate.js';
import { type Prng, createPrng, sampleWithoutReplacement } from '../random/prng.js';
import { type MapDims, checkMap } from './dims.js';
import { GivensQr, qlDecomposition3, smallestRightSingularVector } from './linalg.js';
import { RAY_MAP_CHANNELS } from './ray-map.js';

/**
 * Camera pose and intrinsics from a predicted ray map, the DA3 reference's `use_ray_pose=True`
 * path: `utils/ray_utils.py` `get_extrinsic_from_camray` → `camray_to_caminfo` →
 * `compute_optimal_rotation_intrinsics_batch` / `ransac_find_homography_weighted_fast_batch` /
 * `ql_decomposition`, then `model/da3.py` `_process_ray_pose_estimation`.
 */

const NAME = 'cameraFromRayMap';

/** Options of {@link cameraFromRayMap}. Units: normalised image-plane coordinates (see the function). */
export interface RayPoseOptions {
  /**
   * Replay mode: the RANSAC draws, `[iterations, samplesPerIteration]` row-major indices into the
   * top-`nSample` candidate list (the reference's `rand_sample_iters_idx`, which one
   * `torch.randperm(nSample)[:8]` per iteration fills). One table is shared by every view, as in
   * the reference. Plain numbers or an int64 `BigInt64Array` (as stored in the fixtures).
   * When absent, draws come from the seeded PRNG (see `seed`).
   */
  draws?: ArrayLike<number> | BigInt64Array;
  /**
   * Seed of the deterministic PRNG ({@link createPrng}, default 0). Seeded mode draws the RANSAC
   * table from it (`iterations` × `sampleWithoutReplacement(nSample, samplesPerIteration)`) and then,
   * view by view, the inlier subsample when a view has more than `maxInliers` inliers. In replay
   * mode only that subsample uses it (the reference does not record those draws, so parity with a
   * recorded run holds only while every view has ≤ `maxInliers` inliers).
   * The reference is unseeded (`torch.randperm`): equal seeds give equal results here, not equal to
   * a given torch run.
   */
  seed?: number;
  /** RANSAC iterations (reference: 100). Must match `draws` when given. */
  iterations?: number;
  /** Points per RANSAC sample (reference: 8). Must match `draws` when given. */
  samplesPerIteration?: number;
  /** Candidates are the top `max(samplesPerIteration, floor(ratio·h·w))` points by confidence (reference: 0.3). */
  sampleRatio?: number;
  /** Inlier if the reprojection error in normalised plane units is below this (reference: 0.2). */
  reprojectionThreshold?: number;
  /** At most this many inliers are used for the refit (reference: 8000), sampled from the top 95%. */
  maxInliers?: number;
  /** Rays with `|d_z| ≤ this` get weight 0 (reference: 1e-4). */
  zThreshold?: number;
}

/** The reference's constants for {@link cameraFromRayMap}. */
export const RAY_POSE_DEFAULTS: Readonly<Required<Omit<RayPoseOptions, 'draws'>>> = Object.freeze({
  seed: 0,
  iterations: 100,
  samplesPerIteration: 8,
  sampleRatio: 0.3,
  reprojectionThreshold: 0.2,
  maxInliers: 8000,
  zThreshold: 1e-4,
});

/** Result of {@link cameraFromRayMap}; every array is float64, one entry per view. */
export interface RayPoseResult {
  /** World→camera `[N, 3, 4]` (OpenCV axes), the network's `extrinsics` in ray-pose mode. */
  w2c: Float64Array;
  /** Camera→world `[N, 4, 4]` `[R | T; 0 0 0 1]`: R from the QL factor, T the weighted mean ray origin. */
  c2w: Float64Array;
  /** `[N, 3, 3]` pixels of the image `imageHw`: `fx = fₙ,x/2·W`, `fy = fₙ,y/2·H`, `cx = pₙ,x·W/2`, `cy = pₙ,y·H/2`. */
  intrinsics: Float64Array;
  /** `[N, 2]` focal in units of half the image size (`1/L₀₀`, `1/L₁₁`). */
  focalNormalized: Float64Array;
  /** `[N, 2]` principal point in `[0, 2]` units (`L₂₀ + 1`, `L₂₁ + 1`; 1 = image centre). */
  principalPointNormalized: Float64Array;
  /** `[N]` inliers of the best RANSAC hypothesis (before the `maxInliers` subsample). */
  inlierCounts: Int32Array;
  /** The RANSAC draws used, `[iterations, samplesPerIteration]` (replay them with `draws`). */
  draws: Int32Array;
  /** Size of the candidate list the draws index into. */
  nSample: number;
}

/**
 * Size of the RANSAC candidate list for `numPoints` rays: `max(k, floor(numPoints·ratio))`
 * (the reference's `get_params_for_ransac`, `int(N·0.3)`).
 */
export function rayPoseSampleCount(
  numPoints: number,
  sampleRatio = RAY_POSE_DEFAULTS.sampleRatio,
  samplesPerIteration = RAY_POSE_DEFAULTS.samplesPerIteration,
): number {
  return Math.max(samplesPerIteration, Math.floor(numPoints * sampleRatio));
}

/**
 * Camera pose and intrinsics from a ray map, exactly as the reference's ray-pose head does it.
 *
 * Per view, on the `h × w` map (N = h·w rays):
 * 1. **Source points** are pixel centres on a normalised identity camera:
 *    `x = (u + ½)·2/w − 1`, `y = (v + ½)·2/h − 1`, i.e. `[x, y, 1]`.
 * 2. **Targets** are the ray directions projected to `(dx/dz, dy/dz)`; rays with `|dz| ≤ 1e-4` keep
 *    `(dx, dy)` and get weight 0 — in the confidence used everywhere below, including the origin
 *    mean (the reference zeroes the confidence tensor in place).
 * 3. **Weighted DLT homography + RANSAC**: candidates are the top `nSample = max(8, ⌊0.3N⌋)` rays by
 *    weight (stable order on ties); each of 100 iterations fits H to 8 drawn candidates (DLT rows
 *    scaled by √w, null vector by SVD, `H /= H₂₂`); a ray is an inlier when
 *    `‖(Hs)ₓᵧ/(Hs)_z − target‖ < 0.2`; the hypothesis with the largest summed inlier weight wins
 *    (first on ties); H is refitted on its inliers (if there are more than 8000, 8000 are drawn from
 *    the top `max(⌊0.95·count⌋, 8000)` by weight).
 * 4. If `det H < 0`, `H = −H`. **QL**: `H = Q·L` with `diag L ≥ 0` ({@link qlDecomposition3}),
 *    `L /= L₂₂`; `R_c2w = Q`, focal `1/(L₀₀, L₁₁)`, principal point `(L₂₀, L₂₁) + 1` (the
 *    reference reads the bottom row, so only a centred principal point is recovered correctly).
 * 5. **Centre** `T = Σ wᵢ·originᵢ / Σ wᵢ`. `c2w = [R | T]`, `w2c = affine_inverse(c2w)`, K in pixels of
 *    the image `[H, W]` (not of the ray map).
 *
 * Randomness: replay a recorded run with `{ draws }`, or run deterministically with `{ seed }`
 * (default: seed 0). See {@link RayPoseOptions}.
 *
 * Deviation from the reference: all maths is float64 (the reference runs float32 on the
 * network's float32 rays); the results agree to float32 rounding on well-posed maps
 * (see `test/rays/ray-to-pose.test.ts` for the measured differences).
 *
 * @param rays `[N, h, w, 6]` `[dx, dy, dz, ox, oy, oz]` world frame (the network's `ray` output).
 * @param conf `[N, h, w]` non-negative confidence (`ray_conf`), or `null` for all ones.
 * @param dims `{ views: N, height: h, width: w }` of the ray map.
 * @param imageHw `[H, W]` of the processed image, pixels (only used to express K in pixels).
 * @param options see {@link RayPoseOptions}.
 * @throws Da3Error `BAD_SHAPE` / `BAD_VALUE` (sizes, options, fewer than `samplesPerIteration` rays),
 *   `NON_FINITE` (rays or conf), `BAD_VALUE` (negative conf), `OUT_OF_RANGE` (draw indices),
 *   `DEGENERATE` (a view with zero total weight, or no usable homography).
 */
export function cameraFromRayMap(
  rays: ReadonlyNumArray,
  conf: ReadonlyNumArray | null,
  dims: MapDims,
  imageHw: readonly [number, number],
  options: RayPoseOptions = {},
): RayPoseResult {
  checkMap(NAME, 'rays', rays, dims, RAY_MAP_CHANNELS);
  if (conf !== null) checkMap(NAME, 'conf', conf, dims, 1);
  const [imgH, imgW] = checkImageHw(NAME, imageHw);
  assertFinite(NAME, 'rays', rays);
  if (conf !== null) {
    assertFinite(NAME, 'conf', conf);
    for (let i = 0; i < conf.length; i++) {
      if (conf[i] < 0) throw new Da3Error('BAD_VALUE', `${NAME}: conf must be ≥ 0, got ${conf[i]} at index ${i}`);
    }
  }
  const opts = { ...RAY_POSE_DEFAULTS, ...definedOnly(options) };
  const { iterations, samplesPerIteration: k, sampleRatio, reprojectionThreshold, maxInliers, zThreshold } = opts;
  checkIntOption('iterations', iterations, 1);
  checkIntOption('samplesPerIteration', k, 4);
  checkIntOption('maxInliers', maxInliers, 4);
  checkNumOption('sampleRatio', sampleRatio, (x) => x > 0 && x <= 1);
  checkNumOption('reprojectionThreshold', reprojectionThreshold, (x) => x > 0);
  checkNumOption('zThreshold', zThreshold, (x) => x >= 0);
  if (!Number.isFinite(opts.seed)) throw new Da3Error('BAD_VALUE', `${NAME}: seed must be a finite integer, got ${opts.seed}`);

  const { views, height: h, width: w } = dims;
  const np = h * w;
  if (np < k) {
    throw new Da3Error('BAD_SHAPE', `${NAME}: a ${h}×${w} ray map has ${np} rays, fewer than samplesPerIteration = ${k}`);
  }
  const nSample = rayPoseSampleCount(np, sampleRatio, k);
  const prng = createPrng(opts.seed);
  const draws = options.draws !== undefined ? readDraws(options.draws, iterations, k, nSample) : drawTable(prng, iterations, k, nSample);

  // source grid (normalised identity camera, pixel centres)
  const sx = new Float64Array(np);
  const sy = new Float64Array(np);
  for (let v = 0; v < h; v++) {
    for (let u = 0; u < w; u++) {
      sx[v * w + u] = ((u + 0.5) * 2) / w - 1;
      sy[v * w + u] = ((v + 0.5) * 2) / h - 1;
    }
  }

  const result: RayPoseResult = {
    w2c: new Float64Array(12 * views),
    c2w: new Float64Array(16 * views),
    intrinsics: new Float64Array(9 * views),
    focalNormalized: new Float64Array(2 * views),
    principalPointNormalized: new Float64Array(2 * views),
    inlierCounts: new Int32Array(views),
    draws,
    nSample,
  };

  const tu = new Float64Array(np);
  const tv = new Float64Array(np);
  const wt = new Float64Array(np);
  for (let b = 0; b < views; b++) {
    const base = b * np;
    let wsum = 0;
    let ox = 0;
    let oy = 0;
    let oz = 0;
    for (let p = 0; p < np; p++) {
      const r = (base + p) * RAY_MAP_CHANNELS;
      const dx = rays[r], dy = rays[r + 1], dz = rays[r + 2];
      let cw = conf === null ? 1 : conf[base + p];
      if (Math.abs(dz) > zThreshold) {
        tu[p] = dx / dz;
        tv[p] = dy / dz;
      } else {
        tu[p] = dx;
        tv[p] = dy;
        cw = 0;
      }
      wt[p] = cw;
      wsum += cw;
      ox += cw * rays[r + 3];
      oy += cw * rays[r + 4];
      oz += cw * rays[r + 5];
    }
    if (!(wsum > 0)) {
      throw new Da3Error('DEGENERATE', `${NAME}: view ${b} has zero total confidence (all-zero conf or every |dz| ≤ ${zThreshold})`);
    }

    const { H, inliers } = ransacHomography(sx, sy, tu, tv, wt, draws, k, nSample, reprojectionThreshold, maxInliers, prng, b);
    result.inlierCounts[b] = inliers;

    let det = H[0] * (H[4] * H[8] - H[5] * H[7]) - H[1] * (H[3] * H[8] - H[5] * H[6]) + H[2] * (H[3] * H[7] - H[4] * H[6]);
    if (det < 0) {
      for (let i = 0; i < 9; i++) H[i] = -H[i];
      det = -det;
    }
    const { q, l } = qlDecomposition3(H);
    const l22 = l[8];
    for (let i = 0; i < 9; i++) l[i] /= l22;
    const fnx = 1 / l[0];
    const fny = 1 / l[4];
    const ppx = l[6] + 1;
    const ppy = l[7] + 1;
    if (!(Number.isFinite(fnx) && Number.isFinite(fny) && Number.isFinite(ppx) && Number.isFinite(ppy)) || det === 0) {
      throw new Da3Error('DEGENERATE', `${NAME}: view ${b}: the homography is singular (det ${det}, L diag ${l[0]}, ${l[4]})`);
    }
    result.focalNormalized[2 * b] = fnx;
    result.focalNormalized[2 * b + 1] = fny;
    result.principalPointNormalized[2 * b] = ppx;
    result.principalPointNormalized[2 * b + 1] = ppy;

    const c2w = result.c2w.subarray(16 * b, 16 * b + 16);
    const t = [ox / wsum, oy / wsum, oz / wsum];
    for (let i = 0; i < 3; i++) {
      for (let j = 0; j < 3; j++) c2w[4 * i + j] = q[3 * i + j];
      c2w[4 * i + 3] = t[i];
    }
    c2w[15] = 1;
    affineInverse(result.w2c.subarray(12 * b, 12 * b + 12), c2w.subarray(0, 12));
    const K = result.intrinsics.subarray(9 * b, 9 * b + 9);
    K[0] = (fnx / 2) * imgW;
    K[2] = ppx * imgW * 0.5;
    K[4] = (fny / 2) * imgH;
    K[5] = ppy * imgH * 0.5;
    K[8] = 1;
  }
  return result;
}

function definedOnly<T extends object>(o: T): Partial<T> {
  const out: Partial<T> = {};
  for (const [key, val] of Object.entries(o)) if (val !== undefined) (out as Record<string, unknown>)[key] = val;
  return out;
}

function checkIntOption(what: string, v: number, min: number): void {
  if (!Number.isInteger(v) || v < min) throw new Da3Error('BAD_VALUE', `${NAME}: ${what} must be an integer ≥ ${min}, got ${v}`);
}

function checkNumOption(what: string, v: number, ok: (x: number) => boolean): void {
  if (!(Number.isFinite(v) && ok(v))) throw new Da3Error('BAD_VALUE', `${NAME}: ${what} is out of range: ${v}`);
}

/** Seeded counterpart of the reference's per-call `torch.randperm(nSample)[:k]` table. */
function drawTable(prng: Prng, iterations: number, k: number, nSample: number): Int32Array {
  const out = new Int32Array(iterations * k);
  for (let it = 0; it < iterations; it++) out.set(sampleWithoutReplacement(prng, nSample, k), it * k);
  return out;
}

function readDraws(d: ArrayLike<number> | BigInt64Array, iterations: number, k: number, nSample: number): Int32Array {
  if (d.length !== iterations * k) {
    throw new Da3Error('BAD_SHAPE', `${NAME}: draws must be [${iterations}, ${k}] (${iterations * k} indices), got ${d.length}`);
  }
  const out = new Int32Array(d.length);
  for (let i = 0; i < d.length; i++) {
    const v = Number(d[i]);
    if (!Number.isInteger(v) || v < 0 || v >= nSample) {
      throw new Da3Error('OUT_OF_RANGE', `${NAME}: draws[${i}] = ${d[i]} is not an index into the ${nSample} candidates`);
    }
    out[i] = v;
  }
  return out;
}

/** Indices 0..n−1 of `w` sorted by weight, descending, ties in index order. */
function argsortDescending(w: Float64Array, idx: Int32Array): Int32Array {
  const a = Array.from(idx);
  a.sort((i, j) => w[j] - w[i] || i - j);
  return Int32Array.from(a);
}

const dltRow = new Float64Array(9);

/** Adds the two √w-scaled DLT rows of one correspondence (s → t) to `qr`. */
function addCorrespondence(qr: GivensQr, x: number, y: number, u: number, v: number, weight: number): void {
  const s = Math.sqrt(weight);
  if (s === 0) return;
  const r = dltRow;
  r[0] = -x * s; r[1] = -y * s; r[2] = -s; r[3] = 0; r[4] = 0; r[5] = 0;
  r[6] = x * u * s; r[7] = y * u * s; r[8] = u * s;
  qr.addRow(r);
  r[0] = 0; r[1] = 0; r[2] = 0; r[3] = -x * s; r[4] = -y * s; r[5] = -s;
  r[6] = x * v * s; r[7] = y * v * s; r[8] = v * s;
  qr.addRow(r);
}

/** Null vector of the accumulated DLT system, reshaped to H and divided by H₂₂ (may be non-finite). */
function solveHomography(qr: GivensQr, out: Float64Array): Float64Array {
  smallestRightSingularVector(out, qr.r, 9);
  const h22 = out[8];
  for (let i = 0; i < 9; i++) out[i] /= h22;
  return out;
}

function ransacHomography(
  sx: Float64Array,
  sy: Float64Array,
  tu: Float64Array,
  tv: Float64Array,
  wt: Float64Array,
  draws: Int32Array,
  k: number,
  nSample: number,
  threshold: number,
  maxInliers: number,
  prng: Prng,
  view: number,
): { H: Float64Array; inliers: number } {
  const np = wt.length;
  const all = new Int32Array(np);
  for (let i = 0; i < np; i++) all[i] = i;
  const candidates = argsortDescending(wt, all).subarray(0, nSample);
  const iterations = draws.length / k;
  const qr = new GivensQr(9);
  const H = new Float64Array(9);
  let bestScore = Number.NEGATIVE_INFINITY;
  let bestH: Float64Array | null = null;
  for (let it = 0; it < iterations; it++) {
    qr.reset();
    for (let s = 0; s < k; s++) {
      const p = candidates[draws[it * k + s]];
      addCorrespondence(qr, sx[p], sy[p], tu[p], tv[p], wt[p]);
    }
    solveHomography(qr, H);
    let score = 0;
    for (let p = 0; p < np; p++) {
      if (isInlier(H, sx[p], sy[p], tu[p], tv[p], threshold)) score += wt[p];
    }
    if (score > bestScore) {
      bestScore = score;
      bestH = Float64Array.from(H);
    }
  }
  const hb = bestH as Float64Array;
  const inl: number[] = [];
  for (let p = 0; p < np; p++) if (isInlier(hb, sx[p], sy[p], tu[p], tv[p], threshold)) inl.push(p);
  if (inl.length < 4) {
    throw new Da3Error('DEGENERATE', `${NAME}: view ${view}: the best RANSAC hypothesis has ${inl.length} inliers; at least 4 are needed`);
  }
  let chosen: Int32Array = Int32Array.from(inl);
  if (chosen.length > maxInliers) {
    const sorted = argsortDescending(wt, chosen);
    const keep = Math.max(Math.floor(sorted.length * 0.95), maxInliers);
    const perm = sampleWithoutReplacement(prng, keep, maxInliers);
    const sub = new Int32Array(maxInliers);
    for (let i = 0; i < maxInliers; i++) sub[i] = sorted[perm[i]];
    chosen = sub;
  }
  qr.reset();
  let used = 0;
  for (const p of chosen) {
    if (wt[p] > 0) used++;
    addCorrespondence(qr, sx[p], sy[p], tu[p], tv[p], wt[p]);
  }
  if (used < 4) {
    throw new Da3Error('DEGENERATE', `${NAME}: view ${view}: only ${used} inliers have a non-zero weight; at least 4 are needed`);
  }
  const out = solveHomography(qr, new Float64Array(9));
  for (let i = 0; i < 9; i++) {
    if (!Number.isFinite(out[i])) throw new Da3Error('DEGENERATE', `${NAME}: view ${view}: the refitted homography is not finite (H₂₂ = 0)`);
  }
  return { H: out, inliers: inl.length };
}

function isInlier(H: Float64Array, x: number, y: number, u: number, v: number, threshold: number): boolean {
  const pz = H[6] * x + H[7] * y + H[8];
  const ex = (H[0] * x + H[1] * y + H[2]) / pz - u;
  const ey = (H[3] * x + H[4] * y + H[5]) / pz - v;
  return Math.sqrt(ex * ex + ey * ey) < threshold;
}
