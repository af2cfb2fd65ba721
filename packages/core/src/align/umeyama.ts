/**
 * Umeyama's least-squares similarity transform between two registered point sets, with the exact
 * conventions of evo's `geometry.umeyama_alignment` (the algorithm behind the reference's
 * `utils/pose_align.py`): population covariance `Σ (y−ȳ)(x−x̄)ᵀ / n`, variance `‖x−x̄‖²_F / n`,
 * the Kabsch sign fix `S = diag(1, 1, −1)` when `det(U)·det(Vᵀ) < 0`, `R = U S Vᵀ`,
 * `c = tr(D S) / σ²ₓ`, `t = ȳ − c R x̄`.
 */
import { SVD, Matrix } from 'ml-matrix';
import { Da3Error } from '../errors.js';
import { type NumberList, assertFinite } from './validate.js';

/**
 * A similarity transform `p ↦ scale · R · p + t` (Sim(3)).
 * - `R`: 3×3 rotation, row-major, Float64Array(9), det = +1.
 * - `t`: translation, Float64Array(3), in the destination frame's units.
 * - `scale`: positive scalar (1 when the scale is not estimated).
 */
export interface Sim3 {
  R: Float64Array;
  t: Float64Array;
  scale: number;
}

/** Options of {@link umeyamaSim3}. */
export interface UmeyamaOptions {
  /** Estimate the scale (evo's `with_scale`; default true). When false, `scale` is 1. */
  withScale?: boolean;
}

/** numpy's `np.finfo(np.float64).eps`, evo's rank threshold on the singular values. */
const F64_EPS = 2.220446049250313e-16;

/**
 * Umeyama Sim(3) mapping `src` onto `dst` in the least-squares sense:
 * `dst_i ≈ scale · R · src_i + t`.
 *
 * `src` and `dst` are N×3 point sets, row-major flat (`[x0, y0, z0, x1, …]`), in any consistent
 * units; the result is in `dst`'s units. All arithmetic is float64, except that — like numpy,
 * which evo runs on — a `Float32Array` operand is treated as a float32 array: its mean, its
 * centred coordinates and (for `src`) its Frobenius norm are rounded to float32, which is what
 * the reference does when it is handed float32 4×4 extrinsics (see `alignToInputPoses`).
 *
 * Throws `Da3Error`:
 * - `EMPTY_INPUT` for no points, `BAD_SHAPE` for a length that is not a multiple of 3 or
 *   different lengths, `NON_FINITE` for NaN/±Infinity;
 * - `DEGENERATE` for fewer than 3 points, or when fewer than 2 singular values of the covariance
 *   exceed float64 epsilon (evo's "Degenerate covariance rank": coincident or collinear points).
 */
export function umeyamaSim3(src: NumberList, dst: NumberList, options: UmeyamaOptions = {}): Sim3 {
  const where = 'umeyamaSim3';
  if (src.length !== dst.length) {
    throw new Da3Error('BAD_SHAPE', `${where}: src has ${src.length} numbers, dst ${dst.length}; both must be N×3 with the same N`);
  }
  if (src.length % 3 !== 0) throw new Da3Error('BAD_SHAPE', `${where}: ${src.length} numbers is not N×3`);
  const n = src.length / 3;
  if (n === 0) throw new Da3Error('EMPTY_INPUT', `${where}: no points`);
  assertFinite(where, 'src', src);
  assertFinite(where, 'dst', dst);
  if (n < 3) {
    throw new Da3Error('DEGENERATE', `${where}: ${n} point(s); a Sim(3) needs at least 3 non-collinear points`);
  }
  return umeyamaCore(src, dst, n, src instanceof Float32Array, dst instanceof Float32Array, options.withScale ?? true);
}

/**
 * The algorithm without input validation. `xF32`/`yF32` select numpy float32 semantics for that
 * operand (see {@link umeyamaSim3}).
 * @internal
 */
export function umeyamaCore(x: NumberList, y: NumberList, n: number, xF32: boolean, yF32: boolean, withScale: boolean): Sim3 {
  const mx = mean3(x, n, xF32);
  const my = mean3(y, n, yF32);

  // Centred coordinates (float32 arrays stay float32: numpy's `x - mean_x[:, None]`).
  const cx = centre(x, n, mx, xF32);
  const cy = centre(y, n, my, yF32);

  // σ²ₓ = 1/n · ‖x − x̄‖²_F  (norm taken, then squared, as evo writes it).
  let ss = 0;
  for (let i = 0; i < 3 * n; i++) ss += cx[i] * cx[i];
  let norm = Math.sqrt(ss);
  if (xF32) norm = Math.fround(Math.sqrt(Math.fround(ss)));
  const sigmaX = (1.0 / n) * (norm * norm);

  // Σ_i outer(y_i − ȳ, x_i − x̄), accumulated in float64; then × 1/n.
  const both32 = xF32 && yF32;
  const cov = new Float64Array(9);
  for (let i = 0; i < n; i++) {
    for (let a = 0; a < 3; a++) {
      const ya = cy[3 * i + a];
      for (let b = 0; b < 3; b++) {
        const p = ya * cx[3 * i + b];
        cov[3 * a + b] += both32 ? Math.fround(p) : p;
      }
    }
  }
  for (let k = 0; k < 9; k++) cov[k] = (1.0 / n) * cov[k];

  const svd = new SVD(new Matrix([Array.from(cov.subarray(0, 3)), Array.from(cov.subarray(3, 6)), Array.from(cov.subarray(6, 9))]), {
    computeLeftSingularVectors: true,
    computeRightSingularVectors: true,
    autoTranspose: false,
  });
  const d = svd.diagonal;
  const U = svd.leftSingularVectors;
  const V = svd.rightSingularVectors;
  let nonZero = 0;
  for (const v of d) if (v > F64_EPS) nonZero++;
  if (nonZero < 2) {
    throw new Da3Error(
      'DEGENERATE',
      `umeyamaSim3: degenerate covariance rank (singular values ${d.map((v) => v.toExponential(3)).join(', ')}); the points are coincident or collinear`,
    );
  }
  const u = new Float64Array(9);
  const v = new Float64Array(9);
  for (let r = 0; r < 3; r++) {
    for (let c = 0; c < 3; c++) {
      u[3 * r + c] = U.get(r, c);
      v[3 * r + c] = V.get(r, c);
    }
  }
  // numpy's third SVD output is Vᵀ; det(Vᵀ) = det(V).
  const sign = det3(u) * det3(v) < 0 ? -1 : 1;

  // R = U · S · Vᵀ
  const R = new Float64Array(9);
  for (let r = 0; r < 3; r++) {
    for (let c = 0; c < 3; c++) {
      R[3 * r + c] = u[3 * r] * v[3 * c] + u[3 * r + 1] * v[3 * c + 1] + sign * u[3 * r + 2] * v[3 * c + 2];
    }
  }
  const scale = withScale ? (1 / sigmaX) * (d[0] + d[1] + sign * d[2]) : 1.0;
  const t = new Float64Array(3);
  for (let r = 0; r < 3; r++) {
    t[r] = my[r] - scale * (R[3 * r] * mx[0] + R[3 * r + 1] * mx[1] + R[3 * r + 2] * mx[2]);
  }
  return { R, t, scale };
}

function mean3(p: NumberList, n: number, f32: boolean): Float64Array {
  const m = new Float64Array(3);
  for (let a = 0; a < 3; a++) {
    let s = 0;
    if (f32) {
      for (let i = 0; i < n; i++) s = Math.fround(s + p[3 * i + a]);
      m[a] = Math.fround(s / n);
    } else {
      for (let i = 0; i < n; i++) s += p[3 * i + a];
      m[a] = s / n;
    }
  }
  return m;
}

function centre(p: NumberList, n: number, m: Float64Array, f32: boolean): Float64Array {
  const out = new Float64Array(3 * n);
  for (let i = 0; i < n; i++) {
    for (let a = 0; a < 3; a++) {
      const d = p[3 * i + a] - m[a];
      out[3 * i + a] = f32 ? Math.fround(d) : d;
    }
  }
  return out;
}

/** Determinant of a row-major 3×3. */
export function det3(m: ArrayLike<number>): number {
  return (
    m[0] * (m[4] * m[8] - m[5] * m[7]) - m[1] * (m[3] * m[8] - m[5] * m[6]) + m[2] * (m[3] * m[7] - m[4] * m[6])
  );
}

/**
 * Applies a Sim(3) to N×3 points: `out_i = scale · R · p_i + t` (float64, a new array).
 */
export function transformPointsSim3(sim: Sim3, points: NumberList): Float64Array {
  if (points.length % 3 !== 0) throw new Da3Error('BAD_SHAPE', `transformPointsSim3: ${points.length} numbers is not N×3`);
  const out = new Float64Array(points.length);
  const { R, t, scale } = sim;
  for (let i = 0; i < points.length; i += 3) {
    const x = points[i], y = points[i + 1], z = points[i + 2];
    out[i] = scale * (R[0] * x + R[1] * y + R[2] * z) + t[0];
    out[i + 1] = scale * (R[3] * x + R[4] * y + R[5] * z) + t[1];
    out[i + 2] = scale * (R[6] * x + R[7] * y + R[8] * z) + t[2];
  }
  return out;
}
