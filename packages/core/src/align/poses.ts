/**
 * Sim(3) alignment of camera trajectories given as world→camera extrinsics — the reference's
 * `utils/pose_align.py::align_poses_umeyama`, with its RANSAC variant.
 *
 * Conventions: extrinsics are world→camera (w2c), row-major, OpenCV axes, either N×3×4 (12
 * numbers a view) or N×4×4 (16 a view; the last row is kept as given, as `affine_inverse_np`
 * does). Camera poses (c2w) are their rigid inverses; the camera centre is the c2w translation.
 */
import { Da3Error, isDa3Error } from '../errors.js';
import { createPrng, sampleWithoutReplacement } from '../random/index.js';
import { type Sim3, umeyamaCore } from './umeyama.js';
import { type NumberList, assertFinite, assertPositiveInt, extrinsicsStride } from './validate.js';
import { numpyDefaultRng } from './numpyRandom.js';

/** Randomness of the RANSAC sampling; exactly one source is used (see {@link RansacOptions}). */
export interface RansacOptions {
  /** Views per minimal sample; default `max(3, ⌊(N+1)/2⌋)`, clamped to [3, N] when given. */
  subN?: number;
  /**
   * Inlier threshold in the reference trajectory's units. Default: the median, over the estimated
   * cameras after a full (all-view) Umeyama pre-alignment, of the distance to the nearest
   * reference camera centre (any index, not only the same one).
   */
  inlierThreshold?: number;
  /** Iterations (default 10). Ignored with `draws`, whose row count sets it. */
  maxIterations?: number;
  /**
   * Recorded draws to replay, one row of `subN` view indices per iteration: either an array of
   * rows or one flat row-major array (e.g. the fixture's I64 `ransac_draws`, `BigInt64Array`).
   */
  draws?: ReadonlyArray<ArrayLike<number | bigint>> | ArrayLike<number | bigint>;
  /**
   * numpy-compatible seed: the draws are `numpy.random.default_rng(numpySeed).choice(N, subN,
   * replace=False)`, once per iteration — bit-identical to the reference's `random_state`.
   */
  numpySeed?: number;
  /**
   * da3js seed: each iteration draws `sampleWithoutReplacement(createPrng(seed), N, subN)` from one
   * PRNG. Deterministic in every runtime, but not the reference's sequence.
   */
  seed?: number;
}

/** Options of {@link alignPosesUmeyama}. */
export interface PoseAlignOptions {
  /** Use RANSAC (`true` = defaults with `numpySeed` unset and `seed` 0). Default false. */
  ransac?: boolean | RansacOptions;
}

/** Result of {@link alignPosesUmeyama}. */
export interface PoseAlignment extends Sim3 {
  /**
   * The estimated cameras after alignment, as world→camera N×4×4 float64 (row-major, 16 numbers a
   * view), in the reference trajectory's frame and units: pose_i ↦ `[R·R_i | R·(scale·t_i) + t]`
   * then inverted — what `align_poses_umeyama(..., return_aligned=True)` returns.
   */
  alignedExtrinsics: Float64Array;
  /** RANSAC only: the inlier mask (1 = inlier) of the best iteration, or null when none ran. */
  inliers: Uint8Array | null;
  /** RANSAC only: the inlier threshold used; NaN without RANSAC. */
  inlierThreshold: number;
}

/**
 * Camera centres (c2w translations `−Rᵀt`) of N world→camera extrinsics (3×4 or 4×4 each), as a
 * new N×3 Float64Array, in world units.
 */
export function cameraCentres(ext: NumberList, views: number): Float64Array {
  assertPositiveInt('cameraCentres', 'views', views);
  const stride = extrinsicsStride('cameraCentres', 'ext', ext, views);
  return posesFromExtrinsics(ext, views, stride, false).centres as Float64Array;
}

/**
 * Umeyama Sim(3) that maps the **estimated** camera centres onto the **reference** ones
 * (`c_ref ≈ scale · R · c_est + t`), as `align_poses_umeyama(ext_ref, ext_est)` does via evo's
 * `PosePath3D.align(correct_scale=True)`; returns it with the aligned estimated extrinsics.
 *
 * `extRef`, `extEst`: `views` world→camera extrinsics each, N×3×4 or N×4×4 (independently).
 * Precision follows the reference's numpy dtypes: a 3×4 batch is promoted to float64 by
 * `_to44`; a 4×4 `Float32Array` batch stays float32 through its rigid inverse, the Umeyama
 * centring and norm, the in-place translation scaling and (RANSAC) the re-applied poses. Pass
 * Float64Array for pure float64.
 *
 * RANSAC (`options.ransac`): a full pre-alignment sets the default inlier threshold; each
 * iteration fits a `subN`-view sample (samples whose fit is degenerate are skipped, as the
 * reference's `try/except` does), applies it to all views and counts views whose aligned centre
 * lies within the threshold of the same-index reference centre; the best iteration (most inliers,
 * ties broken by the lower mean inlier error) is refit on its inliers if they are ≥ 3. Deviation:
 * if that refit is degenerate the reference raises; here the best iteration's model is kept.
 *
 * Throws `Da3Error`: `BAD_VALUE` for views ≤ 0 or bad RANSAC options/draws, `BAD_SHAPE` for
 * lengths that are not `views`×12 or ×16, `NON_FINITE`, and `DEGENERATE` for fewer than 3 views or
 * coincident/collinear centres (the reference crashes there too; see `alignToInputPoses` for a
 * fallback).
 */
export function alignPosesUmeyama(extRef: NumberList, extEst: NumberList, views: number, options: PoseAlignOptions = {}): PoseAlignment {
  const where = 'alignPosesUmeyama';
  assertPositiveInt(where, 'views', views);
  const sRef = extrinsicsStride(where, 'extRef', extRef, views);
  const sEst = extrinsicsStride(where, 'extEst', extEst, views);
  assertFinite(where, 'extRef', extRef);
  assertFinite(where, 'extEst', extEst);
  if (views < 3) {
    throw new Da3Error('DEGENERATE', `${where}: ${views} view(s); Umeyama on camera centres needs at least 3 (the reference fails too)`);
  }
  // numpy keeps a float32 array float32 unless `_to44` pads it (3×4 → float64 eye).
  const refF32 = extRef instanceof Float32Array && sRef === 16;
  const estF32 = extEst instanceof Float32Array && sEst === 16;
  const ref = posesFromExtrinsics(extRef, views, sRef, refF32);
  const est = posesFromExtrinsics(extEst, views, sEst, estF32);

  if (!options.ransac) {
    const sim = umeyamaCore(est.centres, ref.centres, views, estF32, refF32, true);
    const aligned = evoAlign(est, sim, views, estF32);
    return { ...sim, alignedExtrinsics: invertPoses64(aligned, views), inliers: null, inlierThreshold: Number.NaN };
  }

  const ro: RansacOptions = options.ransac === true ? {} : options.ransac;
  const res = ransacSim3(ref, est, views, refF32, estF32, ro);
  const alignedPoses = applySim3ToPoses(est, res.sim, views, estF32);
  const alignedExtrinsics = estF32 ? invertPosesF32(alignedPoses, views) : invertPoses64(alignedPoses, views);
  return { ...res.sim, alignedExtrinsics, inliers: res.inliers, inlierThreshold: res.threshold };
}

/**
 * Applies a Sim(3) to world→camera extrinsics the way `apply_umeyama_alignment_to_ext` does:
 * c2w pose `[R_i | t_i]` ↦ `[R·R_i | scale·R·t_i + t]`, returned as world→camera N×4×4 float64.
 * `ext` holds `views` 3×4 or 4×4 matrices.
 */
export function applySim3ToExtrinsics(sim: Sim3, ext: NumberList, views: number): Float64Array {
  const where = 'applySim3ToExtrinsics';
  assertPositiveInt(where, 'views', views);
  const stride = extrinsicsStride(where, 'ext', ext, views);
  const p = posesFromExtrinsics(ext, views, stride, false);
  return invertPoses64(applySim3ToPoses(p, sim, views, false), views);
}

// ───────────────────────────────────────── internals ─────────────────────────────────────────

/** c2w poses: rotations N×9 and centres N×3 (Float32Array when float32 semantics apply). */
interface Poses {
  rot: Float64Array | Float32Array;
  centres: Float64Array | Float32Array;
}

function posesFromExtrinsics(ext: NumberList, n: number, stride: number, f32: boolean): Poses {
  const rot = f32 ? new Float32Array(9 * n) : new Float64Array(9 * n);
  const centres = f32 ? new Float32Array(3 * n) : new Float64Array(3 * n);
  for (let i = 0; i < n; i++) {
    const o = i * stride;
    for (let r = 0; r < 3; r++) for (let c = 0; c < 3; c++) rot[9 * i + 3 * r + c] = ext[o + 4 * c + r];
    const t0 = ext[o + 3], t1 = ext[o + 7], t2 = ext[o + 11];
    for (let r = 0; r < 3; r++) {
      // −Rᵀt; Rᵀ row r is R column r.
      centres[3 * i + r] = -(ext[o + r] * t0 + ext[o + 4 + r] * t1 + ext[o + 8 + r] * t2);
    }
  }
  return { rot, centres };
}

/**
 * evo's `PosePath3D.align(correct_scale=True)`: scale the translations in place (the array keeps
 * its dtype), then left-multiply every pose by se3(R, t) in float64.
 */
function evoAlign(est: Poses, sim: Sim3, n: number, f32: boolean): Poses {
  const rot = new Float64Array(9 * n);
  const centres = new Float64Array(3 * n);
  const { R, t, scale } = sim;
  for (let i = 0; i < n; i++) {
    const st = [0, 0, 0];
    for (let a = 0; a < 3; a++) {
      const v = scale * est.centres[3 * i + a];
      st[a] = f32 ? Math.fround(v) : v;
    }
    for (let r = 0; r < 3; r++) {
      for (let c = 0; c < 3; c++) {
        rot[9 * i + 3 * r + c] = R[3 * r] * est.rot[9 * i + c] + R[3 * r + 1] * est.rot[9 * i + 3 + c] + R[3 * r + 2] * est.rot[9 * i + 6 + c];
      }
      centres[3 * i + r] = R[3 * r] * st[0] + R[3 * r + 1] * st[1] + R[3 * r + 2] * st[2] + t[r];
    }
  }
  return { rot, centres };
}

/**
 * `_apply_sim3_to_poses`: `[R·R_i | R·(s·t_i) + t]`, written into a copy of the poses (so a
 * float32 pose array rounds the result to float32).
 */
function applySim3ToPoses(est: Poses, sim: Sim3, n: number, f32: boolean): Poses {
  const rot = f32 ? new Float32Array(9 * n) : new Float64Array(9 * n);
  const centres = f32 ? new Float32Array(3 * n) : new Float64Array(3 * n);
  const { R, t, scale } = sim;
  for (let i = 0; i < n; i++) {
    // numpy: float64 scalar × float32 array stays float32.
    let s0 = scale * est.centres[3 * i], s1 = scale * est.centres[3 * i + 1], s2 = scale * est.centres[3 * i + 2];
    if (f32) {
      s0 = Math.fround(s0);
      s1 = Math.fround(s1);
      s2 = Math.fround(s2);
    }
    for (let r = 0; r < 3; r++) {
      for (let c = 0; c < 3; c++) {
        rot[9 * i + 3 * r + c] = R[3 * r] * est.rot[9 * i + c] + R[3 * r + 1] * est.rot[9 * i + 3 + c] + R[3 * r + 2] * est.rot[9 * i + 6 + c];
      }
      centres[3 * i + r] = R[3 * r] * s0 + R[3 * r + 1] * s1 + R[3 * r + 2] * s2 + t[r];
    }
  }
  return { rot, centres };
}

/** c2w poses → w2c N×4×4 float64 (`affine_inverse_np`, last row [0,0,0,1]). */
function invertPoses64(p: Poses, n: number): Float64Array {
  const out = new Float64Array(16 * n);
  for (let i = 0; i < n; i++) writeInverse(out, 16 * i, p, i, false);
  return out;
}

/** Same in float32 arithmetic (numpy on a float32 array), returned widened to Float64Array. */
function invertPosesF32(p: Poses, n: number): Float64Array {
  const out = new Float64Array(16 * n);
  for (let i = 0; i < n; i++) writeInverse(out, 16 * i, p, i, true);
  return out;
}

function writeInverse(out: Float64Array, o: number, p: Poses, i: number, f32: boolean): void {
  const R = p.rot, c = p.centres;
  for (let r = 0; r < 3; r++) {
    for (let k = 0; k < 3; k++) out[o + 4 * r + k] = R[9 * i + 3 * k + r];
    const v = -(R[9 * i + r] * c[3 * i] + R[9 * i + 3 + r] * c[3 * i + 1] + R[9 * i + 6 + r] * c[3 * i + 2]);
    out[o + 4 * r + 3] = f32 ? Math.fround(v) : v;
  }
  out[o + 12] = 0;
  out[o + 13] = 0;
  out[o + 14] = 0;
  out[o + 15] = 1;
}

function subsetPoses(p: Poses, idx: ArrayLike<number>, f32: boolean): Float64Array | Float32Array {
  const out = f32 ? new Float32Array(3 * idx.length) : new Float64Array(3 * idx.length);
  for (let k = 0; k < idx.length; k++) for (let a = 0; a < 3; a++) out[3 * k + a] = p.centres[3 * idx[k] + a];
  return out;
}

/** numpy `np.median` (mean of the two middle values for an even count). */
function median(values: Float64Array): number {
  const s = Float64Array.from(values).sort();
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m] : (s[m - 1] + s[m]) / 2;
}

function ransacSim3(
  ref: Poses,
  est: Poses,
  n: number,
  refF32: boolean,
  estF32: boolean,
  o: RansacOptions,
): { sim: Sim3; inliers: Uint8Array | null; threshold: number } {
  const where = 'alignPosesUmeyama';
  let subN: number;
  if (o.subN === undefined) subN = Math.max(3, Math.floor((n + 1) / 2));
  else {
    if (!Number.isInteger(o.subN)) throw new Da3Error('BAD_VALUE', `${where}: ransac.subN must be an integer, got ${o.subN}`);
    subN = Math.max(3, Math.min(o.subN, n));
  }

  // Pre-alignment and default threshold.
  const sim0 = umeyamaCore(est.centres, ref.centres, n, estF32, refF32, true);
  let threshold: number;
  if (o.inlierThreshold === undefined) {
    const pre = evoAlign(est, sim0, n, estF32);
    const nn = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      let best = Number.POSITIVE_INFINITY;
      for (let j = 0; j < n; j++) {
        const dx = ref.centres[3 * j] - pre.centres[3 * i];
        const dy = ref.centres[3 * j + 1] - pre.centres[3 * i + 1];
        const dz = ref.centres[3 * j + 2] - pre.centres[3 * i + 2];
        const d = Math.sqrt(dx * dx + dy * dy + dz * dz);
        if (d < best) best = d;
      }
      nn[i] = best;
    }
    threshold = median(nn);
  } else {
    if (!(o.inlierThreshold >= 0)) throw new Da3Error('BAD_VALUE', `${where}: ransac.inlierThreshold must be ≥ 0, got ${o.inlierThreshold}`);
    threshold = o.inlierThreshold;
  }

  const draw = makeSampler(o, n, subN);

  let bestSim: Sim3 = sim0;
  let bestInliers: Uint8Array | null = null;
  let bestK = -1;
  let bestErr = Number.POSITIVE_INFINITY;
  const errs = new Float64Array(n);
  const both32 = refF32 && estF32;
  for (let it = 0; it < draw.iterations; it++) {
    const sample = draw.next(it);
    let sim: Sim3;
    try {
      sim = umeyamaCore(subsetPoses(est, sample, estF32), subsetPoses(ref, sample, refF32), sample.length, estF32, refF32, true);
    } catch (e) {
      if (isDa3Error(e, 'DEGENERATE')) continue;
      throw e;
    }
    const h = applySim3ToPoses(est, sim, n, estF32);
    const inl = new Uint8Array(n);
    let k = 0;
    let sum = 0;
    for (let i = 0; i < n; i++) {
      errs[i] = both32 ? dist3F32(h.centres, ref.centres, i) : dist3(h.centres, ref.centres, i);
      if (errs[i] <= threshold) {
        inl[i] = 1;
        k++;
        sum += errs[i];
      }
    }
    const meanErr = k > 0 ? (both32 ? Math.fround(sum / k) : sum / k) : Number.POSITIVE_INFINITY;
    if (k > bestK || (k === bestK && meanErr < bestErr)) {
      bestK = k;
      bestErr = meanErr;
      bestSim = sim;
      bestInliers = inl;
    }
  }

  if (bestInliers !== null && bestK >= 3) {
    const idx: number[] = [];
    for (let i = 0; i < n; i++) if (bestInliers[i]) idx.push(i);
    try {
      bestSim = umeyamaCore(subsetPoses(est, idx, estF32), subsetPoses(ref, idx, refF32), idx.length, estF32, refF32, true);
    } catch (e) {
      // The reference raises here; keeping the best sample's model is the documented deviation.
      if (!isDa3Error(e, 'DEGENERATE')) throw e;
    }
  }
  return { sim: bestSim, inliers: bestInliers, threshold };
}

/** Euclidean distance between point i of a and of b (float64). */
function dist3(a: ArrayLike<number>, b: ArrayLike<number>, i: number): number {
  const dx = a[3 * i] - b[3 * i];
  const dy = a[3 * i + 1] - b[3 * i + 1];
  const dz = a[3 * i + 2] - b[3 * i + 2];
  return Math.sqrt(dx * dx + dy * dy + dz * dz);
}

/** The same in float32 arithmetic (numpy `norm(axis=1)` of a float32 difference). */
function dist3F32(a: ArrayLike<number>, b: ArrayLike<number>, i: number): number {
  const f = Math.fround;
  const dx = f(a[3 * i] - b[3 * i]);
  const dy = f(a[3 * i + 1] - b[3 * i + 1]);
  const dz = f(a[3 * i + 2] - b[3 * i + 2]);
  return f(Math.sqrt(f(f(f(dx * dx) + f(dy * dy)) + f(dz * dz))));
}

interface Sampler {
  iterations: number;
  next(iteration: number): ArrayLike<number>;
}

function makeSampler(o: RansacOptions, n: number, subN: number): Sampler {
  const where = 'alignPosesUmeyama';
  const sources = (o.draws !== undefined ? 1 : 0) + (o.numpySeed !== undefined ? 1 : 0) + (o.seed !== undefined ? 1 : 0);
  if (sources > 1) throw new Da3Error('BAD_VALUE', `${where}: give at most one of ransac.draws, ransac.numpySeed, ransac.seed`);
  const iters = o.maxIterations ?? 10;
  if (!Number.isInteger(iters) || iters < 0) throw new Da3Error('BAD_VALUE', `${where}: ransac.maxIterations must be an integer ≥ 0, got ${iters}`);

  if (o.draws !== undefined) {
    const rows = drawRows(o.draws, subN);
    rows.forEach((row, r) => {
      const seen = new Set<number>();
      for (const v of row) {
        if (!Number.isInteger(v) || v < 0 || v >= n || seen.has(v)) {
          throw new Da3Error('BAD_VALUE', `${where}: ransac.draws row ${r} [${row.join(', ')}] must hold ${subN} distinct view indices in [0, ${n})`);
        }
        seen.add(v);
      }
      if (row.length !== subN) throw new Da3Error('BAD_VALUE', `${where}: ransac.draws row ${r} has ${row.length} indices, expected subN = ${subN}`);
    });
    return { iterations: rows.length, next: (it) => rows[it] };
  }
  if (o.numpySeed !== undefined) {
    const rng = numpyDefaultRng(o.numpySeed);
    return { iterations: iters, next: () => rng.choiceWithoutReplacement(n, subN) };
  }
  const prng = createPrng(o.seed ?? 0);
  return { iterations: iters, next: () => sampleWithoutReplacement(prng, n, subN) };
}

function drawRows(draws: ReadonlyArray<ArrayLike<number | bigint>> | ArrayLike<number | bigint>, subN: number): number[][] {
  const first = draws.length > 0 ? (draws as ArrayLike<unknown>)[0] : undefined;
  if (typeof first === 'object' && first !== null) {
    return Array.from(draws as ReadonlyArray<ArrayLike<number | bigint>>, (row) => Array.from(row, Number));
  }
  const flat = Array.from(draws as ArrayLike<number | bigint>, Number);
  if (flat.length % subN !== 0) {
    throw new Da3Error('BAD_VALUE', `alignPosesUmeyama: ransac.draws has ${flat.length} indices, not a multiple of subN = ${subN}`);
  }
  const rows: number[][] = [];
  for (let i = 0; i < flat.length; i += subN) rows.push(flat.slice(i, i + subN));
  return rows;
}
