import { expect } from 'vitest';

/** Tolerance |a − b| ≤ atol + rtol·|b| (fixtures README §5). */
export interface Tolerance {
  atol: number;
  rtol?: number;
}

/**
 * Asserts element-wise closeness and reports the worst element. An empty comparison fails:
 * it is never a parity pass.
 */
export function expectClose(got: ArrayLike<number>, want: ArrayLike<number>, tol: Tolerance, label = 'tensor'): void {
  expect(want.length, `${label}: empty reference`).toBeGreaterThan(0);
  expect(got.length, `${label}: length`).toBe(want.length);
  const rtol = tol.rtol ?? 0;
  let worst = -1;
  let worstExcess = Number.NEGATIVE_INFINITY;
  let maxAbs = 0;
  for (let i = 0; i < want.length; i++) {
    const a = got[i];
    const b = want[i];
    if (Number.isNaN(b) && Number.isNaN(a)) continue;
    const d = Math.abs(a - b);
    if (!(d <= maxAbs)) maxAbs = Number.isNaN(d) ? Number.POSITIVE_INFINITY : d;
    const excess = Number.isNaN(d) ? Number.POSITIVE_INFINITY : d - (tol.atol + rtol * Math.abs(b));
    if (excess > worstExcess) {
      worstExcess = excess;
      worst = i;
    }
  }
  if (worstExcess > 0) {
    expect.fail(
      `${label}: n=${want.length} max|d|=${maxAbs.toExponential(3)} worst@${worst} got=${got[worst]} want=${want[worst]} (atol ${tol.atol}, rtol ${rtol})`,
    );
  }
}

/** Largest |a − b| (for reporting measured errors). */
export function maxAbsDiff(got: ArrayLike<number>, want: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < want.length; i++) m = Math.max(m, Math.abs(got[i] - want[i]));
  return m;
}

/**
 * `expectClose` plus a measured-error line (max |d| and max |d| / max |ref|) printed when
 * DA3_PARITY_LOG is set, for the parity tables of the closing notes.
 */
export function expectParity(got: ArrayLike<number>, want: ArrayLike<number>, tol: Tolerance, label: string): void {
  if (process.env.DA3_PARITY_LOG) {
    let ref = 0;
    for (let i = 0; i < want.length; i++) ref = Math.max(ref, Math.abs(want[i]));
    const d = maxAbsDiff(got, want);
    console.info(`[parity] ${label}: max|d| ${d.toExponential(2)}  rel ${(ref > 0 ? d / ref : d).toExponential(2)}  (n=${want.length})`);
  }
  expectClose(got, want, tol, label);
}

/** float64 geometry tolerance (fixtures README §5). */
export const F64: Tolerance = { atol: 1e-9, rtol: 1e-9 };
/** float32 geometry tolerance (fixtures README §5). */
export const F32: Tolerance = { atol: 1e-5, rtol: 1e-5 };
