import { expectClose, maxAbsDiff, type Tolerance } from '../helpers/compare.js';

/**
 * `expectClose` plus a measured-error line (max |d| and max |d|/max|ref|) printed when
 * DA3_PARITY_LOG is set, for the parity tables in the report.
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

/** float64 geometry (fixtures README §5). */
export const F64: Tolerance = { atol: 1e-9, rtol: 1e-9 };
/** float32 geometry (fixtures README §5). */
export const F32: Tolerance = { atol: 1e-5, rtol: 1e-5 };

/** Rounds every element to float32, for outputs the reference stores as F32. */
export function f32(a: ArrayLike<number>): Float32Array {
  return Float32Array.from(a);
}
