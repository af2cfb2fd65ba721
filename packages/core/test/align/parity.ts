import type { Tolerance } from '../helpers/compare.js';

export { expectParity, F32, F64 } from '../helpers/compare.js';
/** float32 depth-like values (strictly positive): 1e-5 relative. */
export const F32_REL: Tolerance = { atol: 0, rtol: 1e-5 };
/** Bit-exact. */
export const EXACT: Tolerance = { atol: 0, rtol: 0 };
