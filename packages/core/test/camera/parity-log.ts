export { expectParity, F32, F64 } from '../helpers/compare.js';

/** Rounds every element to float32, for outputs the reference stores as F32. */
export function f32(a: ArrayLike<number>): Float32Array {
  return Float32Array.from(a);
}
