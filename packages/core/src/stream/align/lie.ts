/**
 * The Sim(3) exponential and logarithm (pypose's `sim3` layout: `[τ(3), φ(3), σ]`, translation
 * part first, then the rotation vector, then the log-scale), float64.
 *
 * Exp(τ, φ, σ) is the matrix exponential of the 4×4 algebra element `[[σI + φ^, τ], [0, 0]]`:
 * scale `e^σ`, rotation `exp(φ^)` (Rodrigues), translation `W·τ` with `W = Σ Aⁿ/(n+1)!`,
 * `A = σI + φ^` — computed by scaling and squaring, so every regime (small angle, small σ, both)
 * is exact to rounding. Log is its inverse on the principal branch (rotation angle ≤ π).
 */
import { Da3Error } from '../../errors.js';
import type { Sim3 } from './sim3.js';

/** Sim(3) exponential of a 7-vector `[τx, τy, τz, φx, φy, φz, σ]`. */
export function sim3Exp(xi: ArrayLike<number>): Sim3 {
  if (xi.length !== 7) throw new Da3Error('BAD_SHAPE', `sim3Exp: ${xi.length} numbers, expected 7 ([τ, φ, σ])`);
  for (let i = 0; i < 7; i++) if (!Number.isFinite(xi[i])) throw new Da3Error('NON_FINITE', `sim3Exp: xi[${i}] is ${xi[i]}`);
  return expUnchecked(xi);
}

/** Sim(3) logarithm: the 7-vector `[τ, φ, σ]` with `sim3Exp(sim3Log(s)) = s`. */
export function sim3Log(s: Sim3): Float64Array {
  if (!(s.scale > 0) || !Number.isFinite(s.scale)) throw new Da3Error('BAD_VALUE', `sim3Log: scale must be a positive number, got ${s.scale}`);
  return logUnchecked(s);
}

/** @internal */
export function expUnchecked(xi: ArrayLike<number>): Sim3 {
  const phi0 = xi[3], phi1 = xi[4], phi2 = xi[5], sigma = xi[6];
  const rotation = rodrigues(phi0, phi1, phi2);
  const W = wMatrix(phi0, phi1, phi2, sigma);
  const translation = new Float64Array(3);
  for (let r = 0; r < 3; r++) translation[r] = W[3 * r] * xi[0] + W[3 * r + 1] * xi[1] + W[3 * r + 2] * xi[2];
  return { scale: Math.exp(sigma), rotation, translation };
}

/** @internal */
export function logUnchecked(s: Sim3): Float64Array {
  const sigma = Math.log(s.scale);
  const phi = rotationLog(s.rotation);
  const W = wMatrix(phi[0], phi[1], phi[2], sigma);
  const tau = solve3(W, s.translation);
  return Float64Array.of(tau[0], tau[1], tau[2], phi[0], phi[1], phi[2], sigma);
}

/** exp(φ^) by Rodrigues' formula (with series coefficients for small angles). */
function rodrigues(x: number, y: number, z: number): Float64Array {
  const t2 = x * x + y * y + z * z;
  const t = Math.sqrt(t2);
  let a: number, b: number;
  if (t < 1e-4) {
    a = 1 - t2 / 6 + (t2 * t2) / 120;
    b = 0.5 - t2 / 24 + (t2 * t2) / 720;
  } else {
    a = Math.sin(t) / t;
    b = (1 - Math.cos(t)) / t2;
  }
  // I + a·K + b·K², K = φ^.
  return Float64Array.of(
    1 - b * (y * y + z * z), -a * z + b * x * y, a * y + b * x * z,
    a * z + b * x * y, 1 - b * (x * x + z * z), -a * x + b * y * z,
    -a * y + b * x * z, a * x + b * y * z, 1 - b * (x * x + y * y),
  );
}

/** The rotation vector of a rotation matrix (angle in [0, π]), through the quaternion (Shepperd). */
function rotationLog(R: ArrayLike<number>): Float64Array {
  const tr = R[0] + R[4] + R[8];
  let w: number, x: number, y: number, z: number;
  if (tr > R[0] && tr > R[4] && tr > R[8]) {
    const s = 2 * Math.sqrt(1 + tr);
    w = 0.25 * s;
    x = (R[7] - R[5]) / s;
    y = (R[2] - R[6]) / s;
    z = (R[3] - R[1]) / s;
  } else if (R[0] >= R[4] && R[0] >= R[8]) {
    const s = 2 * Math.sqrt(Math.max(0, 1 + R[0] - R[4] - R[8]));
    w = (R[7] - R[5]) / s;
    x = 0.25 * s;
    y = (R[1] + R[3]) / s;
    z = (R[2] + R[6]) / s;
  } else if (R[4] >= R[8]) {
    const s = 2 * Math.sqrt(Math.max(0, 1 + R[4] - R[0] - R[8]));
    w = (R[2] - R[6]) / s;
    x = (R[1] + R[3]) / s;
    y = 0.25 * s;
    z = (R[5] + R[7]) / s;
  } else {
    const s = 2 * Math.sqrt(Math.max(0, 1 + R[8] - R[0] - R[4]));
    w = (R[3] - R[1]) / s;
    x = (R[2] + R[6]) / s;
    y = (R[5] + R[7]) / s;
    z = 0.25 * s;
  }
  if (w < 0) {
    w = -w;
    x = -x;
    y = -y;
    z = -z;
  }
  const n = Math.sqrt(x * x + y * y + z * z);
  // φ = θ·v/‖v‖ with θ = 2·atan2(‖v‖, w); → 2v/w as ‖v‖ → 0.
  const f = n < 1e-12 ? 2 / w : (2 * Math.atan2(n, w)) / n;
  return Float64Array.of(f * x, f * y, f * z);
}

// Scratch 3×3 matrices of wMatrix (single-threaded; never escape).
const SA = new Float64Array(9);
const SP = new Float64Array(9);
const ST = new Float64Array(9);
const SE = new Float64Array(9);

/** out = a·b (3×3 row-major); out may not alias a or b. */
function mul3Into(out: Float64Array, a: Float64Array, b: Float64Array): void {
  for (let r = 0; r < 3; r++) {
    const a0 = a[3 * r], a1 = a[3 * r + 1], a2 = a[3 * r + 2];
    out[3 * r] = a0 * b[0] + a1 * b[3] + a2 * b[6];
    out[3 * r + 1] = a0 * b[1] + a1 * b[4] + a2 * b[7];
    out[3 * r + 2] = a0 * b[2] + a1 * b[5] + a2 * b[8];
  }
}

/**
 * W = φ(A) = Σ_{n≥0} Aⁿ/(n+1)!, A = σI + φ^, by scaling and squaring: a degree-14 Taylor series
 * at X = A/2ᵏ (‖X‖₁ ≤ ½, truncation < 1e-17), then k doublings φ(2X) = φ(X)·(e^X + I)/2,
 * e^{2X} = (e^X)².
 */
function wMatrix(x: number, y: number, z: number, sigma: number): Float64Array {
  const norm = Math.abs(sigma) + Math.max(Math.abs(y) + Math.abs(z), Math.abs(x) + Math.abs(z), Math.abs(x) + Math.abs(y));
  const k = norm > 0.5 ? Math.ceil(Math.log2(norm / 0.5)) : 0;
  const f = 2 ** -k;
  const A = SA;
  A[0] = sigma * f; A[1] = -z * f; A[2] = y * f;
  A[3] = z * f; A[4] = sigma * f; A[5] = -x * f;
  A[6] = -y * f; A[7] = x * f; A[8] = sigma * f;
  // Horner for φ(X) = I + X/2! + X²/3! + …: P ← I + X·P/(d+1), d = 14 … 1.
  let P = SP, T = ST;
  P.fill(0);
  P[0] = P[4] = P[8] = 1;
  for (let d = 14; d >= 1; d--) {
    mul3Into(T, A, P);
    const inv = 1 / (d + 1);
    for (let i = 0; i < 9; i++) T[i] *= inv;
    T[0] += 1;
    T[4] += 1;
    T[8] += 1;
    const tmp = P;
    P = T;
    T = tmp;
  }
  if (k > 0) {
    // e^X = I + X·φ(X)
    let E = SE;
    mul3Into(E, A, P);
    E[0] += 1;
    E[4] += 1;
    E[8] += 1;
    let B = A; // reuse as scratch from here on
    for (let s = 0; s < k; s++) {
      E[0] += 1;
      E[4] += 1;
      E[8] += 1;
      mul3Into(T, P, E); // φ·(e^X + I)
      for (let i = 0; i < 9; i++) T[i] *= 0.5;
      const tmp = P;
      P = T;
      T = tmp;
      E[0] -= 1;
      E[4] -= 1;
      E[8] -= 1;
      mul3Into(B, E, E);
      const t2 = E;
      E = B;
      B = t2;
    }
  }
  return Float64Array.from(P);
}

/** Solves the 3×3 system W·x = b (Cramer with partial checks). */
function solve3(W: Float64Array, b: ArrayLike<number>): Float64Array {
  const det = W[0] * (W[4] * W[8] - W[5] * W[7]) - W[1] * (W[3] * W[8] - W[5] * W[6]) + W[2] * (W[3] * W[7] - W[4] * W[6]);
  if (!(Math.abs(det) > 0)) throw new Da3Error('DEGENERATE', 'sim3Log: singular W (rotation angle at 2π with unit scale)');
  const inv = Float64Array.of(
    W[4] * W[8] - W[5] * W[7], W[2] * W[7] - W[1] * W[8], W[1] * W[5] - W[2] * W[4],
    W[5] * W[6] - W[3] * W[8], W[0] * W[8] - W[2] * W[6], W[2] * W[3] - W[0] * W[5],
    W[3] * W[7] - W[4] * W[6], W[1] * W[6] - W[0] * W[7], W[0] * W[4] - W[1] * W[3],
  );
  const out = new Float64Array(3);
  for (let r = 0; r < 3; r++) out[r] = (inv[3 * r] * b[0] + inv[3 * r + 1] * b[1] + inv[3 * r + 2] * b[2]) / det;
  return out;
}
