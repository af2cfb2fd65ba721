/**
 * Input checks shared by the align/ modules. Every check throws a {@link Da3Error} whose message
 * starts with the calling function's name and names the offending value.
 */
import { Da3Error } from '../errors.js';

/** Anything indexable by number with a length (typed arrays and plain arrays). */
export type NumberList = ArrayLike<number>;

/** Throws NON_FINITE at the first NaN/±Infinity of `values`. */
export function assertFinite(where: string, name: string, values: NumberList): void {
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (!Number.isFinite(v)) {
      throw new Da3Error('NON_FINITE', `${where}: ${name}[${i}] is ${v}; every value must be finite`);
    }
  }
}

/** Throws BAD_SHAPE unless `values.length === expected`. */
export function assertLength(where: string, name: string, values: NumberList, expected: number, what: string): void {
  if (values.length !== expected) {
    throw new Da3Error('BAD_SHAPE', `${where}: ${name} has ${values.length} numbers, expected ${expected} (${what})`);
  }
}

/** Throws BAD_VALUE unless `n` is a positive integer. */
export function assertPositiveInt(where: string, name: string, n: number): void {
  if (!Number.isInteger(n) || n <= 0) throw new Da3Error('BAD_VALUE', `${where}: ${name} must be a positive integer, got ${n}`);
}

/** Throws BAD_VALUE unless `q` is a number in [0, 1]. */
export function assertProbability(where: string, name: string, q: number): void {
  if (!(q >= 0 && q <= 1)) throw new Da3Error('BAD_VALUE', `${where}: ${name} must be in [0, 1], got ${q}`);
}

/**
 * Checks a dense tensor shape against its data: every dimension a non-negative integer and the
 * product equal to `length`. Returns the product.
 */
export function assertShape(where: string, name: string, shape: readonly number[], length: number): number {
  let n = 1;
  for (const d of shape) {
    if (!Number.isInteger(d) || d < 0) throw new Da3Error('BAD_SHAPE', `${where}: ${name} shape [${shape.join(', ')}] has a bad dimension ${d}`);
    n *= d;
  }
  if (n !== length) {
    throw new Da3Error('BAD_SHAPE', `${where}: ${name} shape [${shape.join(', ')}] holds ${n} numbers, but the array has ${length}`);
  }
  return n;
}

/**
 * Splits a batch of extrinsics of `views` matrices into its per-matrix size (12 for 3×4, 16 for
 * 4×4); throws BAD_SHAPE for anything else.
 */
export function extrinsicsStride(where: string, name: string, ext: NumberList, views: number): 12 | 16 {
  const per = ext.length / views;
  if (per !== 12 && per !== 16) {
    throw new Da3Error(
      'BAD_SHAPE',
      `${where}: ${name} has ${ext.length} numbers for ${views} views; expected ${views * 12} (N×3×4) or ${views * 16} (N×4×4)`,
    );
  }
  return per;
}
