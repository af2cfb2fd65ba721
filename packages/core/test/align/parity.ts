import { type Tolerance, expectClose, maxAbsDiff } from '../helpers/compare.js';

/**
 * `expectClose` plus a measured-error line (max |d| and max |d| / max |ref|) printed when
 * DA3_PARITY_LOG is set, for the report's parity table.
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
/** float32 depth-like values (strictly positive): 1e-5 relative. */
export const F32_REL: Tolerance = { atol: 0, rtol: 1e-5 };
/** Bit-exact. */
export const EXACT: Tolerance = { atol: 0, rtol: 0 };
