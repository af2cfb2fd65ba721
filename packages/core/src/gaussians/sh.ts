import { Da3Error } from '../errors.js';
import type { Mat3, ReadonlyNumArray } from '../camera/types.js';

/**
 * Real spherical-harmonic rotation (degrees 0–2), as the DA3 reference's `utils/sh_helpers.py`
 * `rotate_sh` does it with e3nn.
 *
 * Conventions:
 * - Matrices are row-major; rotations act on column vectors (`p' = R·p`).
 * - **e3nn basis** (used by {@link wignerD1} / {@link wignerD2}): e3nn's real harmonics with the
 *   y axis special, up to one constant factor per degree:
 *   `Y1 = (x, y, z)`, `Y2 = (√3·xz, √3·xy, y² − (x² + z²)/2, √3·yz, (√3/2)·(z² − x²))`.
 *   `D(R)` is defined by `Y(R·p) = D(R)·Y(p)`, so a function `f = cᵀY` rotated by R
 *   (`f_rot(p) = f(Rᵀp)`) has coefficients `D(R)·c`.
 * - **3DGS / gsplat basis** (the one DA3's Gaussians use, see {@link shRotationMatrices}):
 *   `Y1 = C1·(−y, z, −x)`, `Y2 = (C·xy, −C·yz, C'·(2z² − x² − y²), −C·xz, C''·(x² − y²))` with
 *   positive constants C, C', C''. DA3 permutes the rotation axes (`P⁻¹ R P`, "yzx → xyz") and
 *   negates e3nn's β Euler angle; the net effect (derived in the doc of
 *   {@link shRotationMatrices}) is exactly the rotation of the SH function in this basis.
 */

/** Number of SH coefficients per colour for a degree: `(degree + 1)²`. */
export function shCoefficientCount(degree: number): number {
  return (degree + 1) * (degree + 1);
}

/**
 * e3nn's real Wigner-D matrix of degree 1 for rotation `r`: with e3nn's `Y1 = (x, y, z)` it is
 * `r` itself (row-major 3×3, Float64Array). `r` should be a rotation (not checked).
 */
export function wignerD1(r: ReadonlyNumArray): Float64Array {
  checkMat3('wignerD1', r);
  return Float64Array.from({ length: 9 }, (_, i) => r[i]);
}

/** Symmetric matrices `Q_i` with `Y2_i(p) = pᵀ·Q_i·p` (e3nn degree-2 basis, order above). */
const H3 = Math.sqrt(3) / 2;
const Q2: readonly (readonly number[])[] = [
  [0, 0, H3, 0, 0, 0, H3, 0, 0], // √3·xz
  [0, H3, 0, H3, 0, 0, 0, 0, 0], // √3·xy
  [-0.5, 0, 0, 0, 1, 0, 0, 0, -0.5], // y² − (x² + z²)/2
  [0, 0, 0, 0, 0, H3, 0, H3, 0], // √3·yz
  [-H3, 0, 0, 0, 0, 0, 0, 0, H3], // (√3/2)(z² − x²)
];
/** Frobenius norm² of every `Q_i` (they are mutually orthogonal). */
const Q2_NORM2 = 1.5;

/**
 * e3nn's real Wigner-D matrix of degree 2 for orthogonal `r` (row-major 3×3): the 5×5 matrix
 * (row-major, Float64Array) with `Y2(r·p) = D·Y2(p)` in e3nn's degree-2 basis (see the module
 * doc). Computed in closed form: `Y2_i(r·p) = pᵀ(rᵀQ_i r)p`, so
 * `D_ij = ⟨rᵀQ_i r, Q_j⟩_F / ⟨Q_j, Q_j⟩_F` (the `Q_j` are an orthogonal basis of the symmetric
 * traceless matrices). For a non-orthogonal `r` the result is not a representation.
 */
export function wignerD2(r: ReadonlyNumArray): Float64Array {
  checkMat3('wignerD2', r);
  const out = new Float64Array(25);
  const t = new Float64Array(9);
  for (let i = 0; i < 5; i++) {
    const q = Q2[i];
    // t = rᵀ·q·r
    for (let a = 0; a < 3; a++) {
      for (let b = 0; b < 3; b++) {
        let s = 0;
        for (let c = 0; c < 3; c++) {
          const rca = r[3 * c + a];
          if (rca === 0) continue;
          for (let d = 0; d < 3; d++) s += rca * q[3 * c + d] * r[3 * d + b];
        }
        t[3 * a + b] = s;
      }
    }
    for (let j = 0; j < 5; j++) {
      const qj = Q2[j];
      let s = 0;
      for (let k = 0; k < 9; k++) s += t[k] * qj[k];
      out[5 * i + j] = s / Q2_NORM2;
    }
  }
  return out;
}

/**
 * Projects a near-rotation onto SO(3) (the orthogonal polar factor, `U·Vᵀ` of its SVD) with
 * Newton's iteration `X ← (X + X⁻ᵀ)/2`, standing in for the reference's `project_to_so3_strict`.
 * Throws `DEGENERATE` for a singular matrix or one with negative determinant (a reflection).
 */
export function projectToSo3(r: ReadonlyNumArray): Float64Array {
  checkMat3('projectToSo3', r);
  let x = Float64Array.from({ length: 9 }, (_, i) => r[i]);
  for (let it = 0; it < 30; it++) {
    const det = det3(x);
    if (!(det > 0) || !Number.isFinite(det)) {
      throw new Da3Error('DEGENERATE', `projectToSo3: matrix must be a proper rotation (det > 0), got det ${det}`);
    }
    // x⁻ᵀ = cofactor(x) / det
    const c = cofactor3(x);
    const next = new Float64Array(9);
    let delta = 0;
    for (let k = 0; k < 9; k++) {
      next[k] = 0.5 * (x[k] + c[k] / det);
      delta = Math.max(delta, Math.abs(next[k] - x[k]));
    }
    x = next;
    if (delta < 1e-15) break;
  }
  return x;
}

/** `P` of sh_helpers.py ("yzx → xyz") composed with `diag(1, −1, 1)`: `B = diag(1,−1,1)·Pᵀ`. */
const B = [0, 1, 0, 0, 0, -1, 1, 0, 0];

/**
 * The per-degree rotation matrices DA3's `rotate_sh(sh, R)` applies (degree 0: `[1]`, degree 1:
 * 3×3, degree 2: 5×5, row-major Float64Arrays), for a rotation `r` (row-major 3×3, e.g. a
 * camera→world rotation).
 *
 * The reference computes `R_p = P⁻¹ r P` (P = [[0,0,1],[1,0,0],[0,1,0]]), projects it onto SO(3),
 * takes e3nn's Euler angles `(α, β, γ)` of `R_p` (`R_p = R_y(α) R_x(β) R_y(γ)`) and uses
 * `wigner_D(l, α, −β, γ) = D_l(R_y(α) R_x(−β) R_y(γ)) = D_l(F R_p F)` with `F = diag(1, −1, 1)`
 * (conjugating by F flips rotations about x and keeps those about y). So this returns
 * `D_l(B·r·B⁻¹)` with `B = F·Pᵀ`. Since `Y_e3nn(B·p)` equals the 3DGS/gsplat basis up to one
 * constant per degree, this is exactly "rotate the SH function by r" in the 3DGS basis.
 *
 * @param degree 0, 1 or 2 (higher degrees are not implemented → `BAD_VALUE`).
 */
export function shRotationMatrices(r: ReadonlyNumArray, degree: number): Float64Array[] {
  checkDegree('shRotationMatrices', degree);
  const rp = projectToSo3(r);
  // a = B·rp·Bᵀ (B orthogonal)
  const a = new Float64Array(9);
  for (let i = 0; i < 3; i++) {
    for (let j = 0; j < 3; j++) {
      let s = 0;
      for (let k = 0; k < 3; k++) for (let l = 0; l < 3; l++) s += B[3 * i + k] * rp[3 * k + l] * B[3 * j + l];
      a[3 * i + j] = s;
    }
  }
  const out: Float64Array[] = [Float64Array.of(1)];
  if (degree >= 1) out.push(wignerD1(a));
  if (degree >= 2) out.push(wignerD2(a));
  return out;
}

/**
 * Rotates SH coefficients (3DGS basis, DA3's `rotate_sh`) by rotation `r`.
 *
 * @param sh `[M, K]` coefficients, `K = (degree + 1)²` per row (e.g. `[G, 3, K]` colour-major
 *   harmonics flattened: every colour of every Gaussian is one row).
 * @param r row-major 3×3 rotation.
 * @param degree 0–2.
 * @returns a new Float64Array `[M, K]` of rotated coefficients (`f_rot(p) = f(rᵀp)`).
 * @throws Da3Error `BAD_SHAPE` when `sh.length` is not a multiple of K; `BAD_VALUE` for a bad
 *   degree; `NON_FINITE`; `DEGENERATE` when `r` is not a proper rotation.
 */
export function rotateShCoefficients(sh: ReadonlyNumArray, r: ReadonlyNumArray, degree: number): Float64Array {
  checkDegree('rotateShCoefficients', degree);
  const k = shCoefficientCount(degree);
  if (sh.length % k !== 0) {
    throw new Da3Error('BAD_SHAPE', `rotateShCoefficients: sh must be [M, ${k}] (a multiple of ${k} numbers), got ${sh.length}`);
  }
  assertFiniteArray('rotateShCoefficients', 'sh', sh);
  const mats = shRotationMatrices(r, degree);
  const out = new Float64Array(sh.length);
  applyShRotation(out, sh, mats, sh.length / k, k);
  return out;
}

/**
 * `out[m] = blockdiag(mats)·sh[m]` for `rows` rows of `k` coefficients (internal; `out` may not
 * alias `sh`).
 */
export function applyShRotation(out: { [i: number]: number }, sh: ReadonlyNumArray, mats: readonly Float64Array[], rows: number, k: number, outOffset = 0, shOffset = 0): void {
  for (let m = 0; m < rows; m++) {
    const base = shOffset + m * k;
    const obase = outOffset + m * k;
    for (let l = 0; l < mats.length; l++) {
      const d = mats[l];
      const n = 2 * l + 1;
      const s = l * l;
      for (let i = 0; i < n; i++) {
        let acc = 0;
        for (let j = 0; j < n; j++) acc += d[n * i + j] * sh[base + s + j];
        out[obase + s + i] = acc;
      }
    }
  }
}

function checkMat3(fn: string, r: ReadonlyNumArray): void {
  if (r?.length !== 9) throw new Da3Error('BAD_SHAPE', `${fn}: rotation must be a row-major 3×3 (9 numbers), got ${r ? `length ${r.length}` : r}`);
  assertFiniteArray(fn, 'rotation', r);
}

function checkDegree(fn: string, degree: number): void {
  if (!Number.isInteger(degree) || degree < 0 || degree > 2) {
    throw new Da3Error('BAD_VALUE', `${fn}: SH degree must be 0, 1 or 2, got ${degree}`);
  }
}

function assertFiniteArray(fn: string, what: string, a: ArrayLike<number>): void {
  for (let i = 0; i < a.length; i++) {
    if (!Number.isFinite(a[i])) throw new Da3Error('NON_FINITE', `${fn}: ${what} must be finite, got ${a[i]} at index ${i}`);
  }
}

function det3(m: Mat3 | ReadonlyNumArray): number {
  return m[0] * (m[4] * m[8] - m[5] * m[7]) - m[1] * (m[3] * m[8] - m[5] * m[6]) + m[2] * (m[3] * m[7] - m[4] * m[6]);
}

/** Cofactor matrix (= det · m⁻ᵀ), row-major. */
function cofactor3(m: ReadonlyNumArray): Float64Array {
  return Float64Array.of(
    m[4] * m[8] - m[5] * m[7], m[5] * m[6] - m[3] * m[8], m[3] * m[7] - m[4] * m[6],
    m[2] * m[7] - m[1] * m[8], m[0] * m[8] - m[2] * m[6], m[1] * m[6] - m[0] * m[7],
    m[1] * m[5] - m[2] * m[4], m[2] * m[3] - m[0] * m[5], m[0] * m[4] - m[1] * m[3],
  );
}
