/**
 * Small float64 solvers for the ray → pose path: a streaming least-squares QR (Givens rotations),
 * a one-sided Jacobi SVD for the null vector of a 9-column system, and the 3×3 QL decomposition
 * exactly as the DA3 reference defines it (`utils/ray_utils.py` `ql_decomposition`).
 * Matrices are row-major flat Float64Arrays.
 */

/**
 * Triangular factor `R` (n×n, upper) of a tall system `A` whose rows are added one at a time:
 * after adding the rows of `A`, `RᵀR = AᵀA` and `A` and `R` have the same singular values and
 * right singular vectors. Rows are folded in with Givens rotations, so `AᵀA` is never formed
 * (its condition number would be squared).
 * @internal
 */
export class GivensQr {
  /** Row-major n×n upper-triangular factor. */
  readonly r: Float64Array;
  private readonly work: Float64Array;

  constructor(readonly n: number) {
    this.r = new Float64Array(n * n);
    this.work = new Float64Array(n);
  }

  /** Clears the factor (an empty system). */
  reset(): void {
    this.r.fill(0);
  }

  /** Adds one row (n numbers, read from `row` starting at `offset`). */
  addRow(row: ArrayLike<number>, offset = 0): void {
    const n = this.n;
    const r = this.r;
    const x = this.work;
    for (let j = 0; j < n; j++) x[j] = row[offset + j];
    for (let k = 0; k < n; k++) {
      const b = x[k];
      if (b === 0) continue;
      const kk = k * n + k;
      const a = r[kk];
      if (a === 0) {
        for (let j = k; j < n; j++) {
          r[k * n + j] = x[j];
          x[j] = 0;
        }
        return;
      }
      const h = Math.sqrt(a * a + b * b);
      const c = a / h;
      const s = b / h;
      r[kk] = h;
      x[k] = 0;
      for (let j = k + 1; j < n; j++) {
        const rj = r[k * n + j];
        const xj = x[j];
        r[k * n + j] = c * rj + s * xj;
        x[j] = c * xj - s * rj;
      }
    }
  }
}

/**
 * Right singular vector of the smallest singular value of an n×n matrix `m` (row-major), by the
 * one-sided (Hestenes) Jacobi SVD: columns of `m` are rotated pairwise until orthogonal; the
 * accumulated rotation is V. The vector is unit length with an arbitrary sign (the callers
 * normalise by a component, as the reference does after `torch.linalg.svd`).
 *
 * @param out receives n numbers.
 * @returns `out`
 * @internal
 */
export function smallestRightSingularVector(out: Float64Array, m: Float64Array, n: number): Float64Array {
  const a = Float64Array.from(m);
  const v = new Float64Array(n * n);
  for (let i = 0; i < n; i++) v[i * n + i] = 1;
  const eps = 1e-15;
  for (let sweep = 0; sweep < 80; sweep++) {
    let rotated = false;
    for (let p = 0; p < n - 1; p++) {
      for (let q = p + 1; q < n; q++) {
        let alpha = 0;
        let beta = 0;
        let gamma = 0;
        for (let i = 0; i < n; i++) {
          const ap = a[i * n + p];
          const aq = a[i * n + q];
          alpha += ap * ap;
          beta += aq * aq;
          gamma += ap * aq;
        }
        if (gamma === 0 || Math.abs(gamma) <= eps * Math.sqrt(alpha * beta)) continue;
        rotated = true;
        const zeta = (beta - alpha) / (2 * gamma);
        const t = (zeta >= 0 ? 1 : -1) / (Math.abs(zeta) + Math.sqrt(1 + zeta * zeta));
        const c = 1 / Math.sqrt(1 + t * t);
        const s = c * t;
        for (let i = 0; i < n; i++) {
          const ap = a[i * n + p];
          const aq = a[i * n + q];
          a[i * n + p] = c * ap - s * aq;
          a[i * n + q] = s * ap + c * aq;
          const vp = v[i * n + p];
          const vq = v[i * n + q];
          v[i * n + p] = c * vp - s * vq;
          v[i * n + q] = s * vp + c * vq;
        }
      }
    }
    if (!rotated) break;
  }
  let best = 0;
  let bestNorm = Number.POSITIVE_INFINITY;
  for (let j = 0; j < n; j++) {
    let s = 0;
    for (let i = 0; i < n; i++) s += a[i * n + j] * a[i * n + j];
    if (s <= bestNorm) {
      bestNorm = s;
      best = j;
    }
  }
  for (let i = 0; i < n; i++) out[i] = v[i * n + best];
  return out;
}

/** torch.sign: −1, 0 or 1. */
function sign(x: number): number {
  return x > 0 ? 1 : x < 0 ? -1 : 0;
}

/** Result of {@link qlDecomposition3}. */
export interface QlDecomposition {
  /** Orthogonal factor, row-major 3×3 (a rotation when det(A) > 0 and diag(L) ≠ 0). */
  q: Float64Array;
  /** Lower-triangular factor with a non-negative diagonal, row-major 3×3. */
  l: Float64Array;
}

/**
 * QL decomposition `A = Q·L` of a 3×3 matrix (row-major), defined as the DA3 reference's
 * `ql_decomposition`: QR of `A·P` (P the anti-identity), `Q = Q̃·P`, `L = P·R̃·P`, then column i of
 * Q and row i of L are multiplied by `sign(L[i][i])` so that the diagonal of L is ≥ 0 (a zero
 * diagonal entry zeroes its row and column, as `torch.sign(0) = 0` does). With a non-zero
 * diagonal the result is unique, so it does not depend on the QR algorithm's sign choices
 * (Householder reflections here, float64).
 */
export function qlDecomposition3(a: ArrayLike<number>): QlDecomposition {
  // M = A·P: columns reversed
  const m = new Float64Array(9);
  for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) m[3 * i + j] = a[3 * i + (2 - j)];
  // Householder QR of M: M = Qt·Rt
  const qt = new Float64Array([1, 0, 0, 0, 1, 0, 0, 0, 1]);
  const rt = m;
  for (let k = 0; k < 2; k++) {
    let norm = 0;
    for (let i = k; i < 3; i++) norm += rt[3 * i + k] * rt[3 * i + k];
    norm = Math.sqrt(norm);
    if (norm === 0) continue;
    const alpha = rt[3 * k + k] > 0 ? -norm : norm;
    const vv = [0, 0, 0];
    for (let i = k; i < 3; i++) vv[i] = rt[3 * i + k];
    vv[k] -= alpha;
    let vn = 0;
    for (let i = k; i < 3; i++) vn += vv[i] * vv[i];
    if (vn === 0) continue;
    // Rt ← (I − 2vvᵀ/vᵀv)·Rt
    for (let j = 0; j < 3; j++) {
      let d = 0;
      for (let i = k; i < 3; i++) d += vv[i] * rt[3 * i + j];
      const f = (2 * d) / vn;
      for (let i = k; i < 3; i++) rt[3 * i + j] -= f * vv[i];
    }
    // Qt ← Qt·(I − 2vvᵀ/vᵀv)
    for (let i = 0; i < 3; i++) {
      let d = 0;
      for (let j = k; j < 3; j++) d += qt[3 * i + j] * vv[j];
      const f = (2 * d) / vn;
      for (let j = k; j < 3; j++) qt[3 * i + j] -= f * vv[j];
    }
  }
  for (let i = 1; i < 3; i++) for (let j = 0; j < i; j++) rt[3 * i + j] = 0;
  // Q = Qt·P (columns reversed), L = P·Rt·P (rows and columns reversed)
  const q = new Float64Array(9);
  const l = new Float64Array(9);
  for (let i = 0; i < 3; i++) {
    for (let j = 0; j < 3; j++) {
      q[3 * i + j] = qt[3 * i + (2 - j)];
      l[3 * i + j] = rt[3 * (2 - i) + (2 - j)];
    }
  }
  const s0 = sign(l[0]);
  const s1 = sign(l[4]);
  const s2 = sign(l[8]);
  const s = [s0, s1, s2];
  for (let i = 0; i < 3; i++) {
    for (let j = 0; j < 3; j++) {
      q[3 * i + j] *= s[j];
      l[3 * i + j] *= s[i];
    }
  }
  return { q, l };
}
