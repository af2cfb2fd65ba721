import { Da3Error } from '../errors.js';

/**
 * Internal input checks shared by camera/ and rays/ (not exported from the package).
 * Every check throws a {@link Da3Error} whose message starts with the calling function's name.
 */

/** Throws `NON_FINITE` at the first NaN/±Infinity in `a`. */
export function assertFinite(fn: string, what: string, a: ArrayLike<number>): void {
  for (let i = 0; i < a.length; i++) {
    const v = a[i];
    if (!Number.isFinite(v)) throw new Da3Error('NON_FINITE', `${fn}: ${what} must be finite, got ${v} at index ${i}`);
  }
}

/** Throws `BAD_VALUE` unless `v` is a positive integer. */
export function assertPositiveInt(fn: string, what: string, v: number): void {
  if (!Number.isInteger(v) || v <= 0) throw new Da3Error('BAD_VALUE', `${fn}: ${what} must be a positive integer, got ${v}`);
}

/** Checks an image size `[H, W]` (positive finite numbers, pixels) and returns it. */
export function checkImageHw(fn: string, hw: readonly [number, number] | ArrayLike<number>, what = 'imageHw'): [number, number] {
  if (hw?.length !== 2) throw new Da3Error('BAD_SHAPE', `${fn}: ${what} must be [H, W], got ${hw ? `length ${hw.length}` : hw}`);
  const h = Number(hw[0]);
  const w = Number(hw[1]);
  if (!(Number.isFinite(h) && h > 0 && Number.isFinite(w) && w > 0)) {
    throw new Da3Error('BAD_VALUE', `${fn}: ${what} must be two positive sizes in pixels, got [${h}, ${w}]`);
  }
  return [h, w];
}

/**
 * Number of numbers per matrix in a batch of `count` 3×4 or 4×4 matrices (12 or 16), checked
 * against the array length.
 */
export function rigidStride(fn: string, what: string, a: ArrayLike<number>, count: number): 12 | 16 {
  if (a.length === 12 * count) return 12;
  if (a.length === 16 * count) return 16;
  throw new Da3Error('BAD_SHAPE', `${fn}: ${what} must be [${count}, 3, 4] or [${count}, 4, 4] (${12 * count} or ${16 * count} numbers), got ${a.length}`);
}

/** `N` for a batch of `[N, size]` values; throws `BAD_SHAPE`/`EMPTY_INPUT`. */
export function batchCount(fn: string, what: string, a: ArrayLike<number>, size: number, shape: string): number {
  if (a.length === 0) throw new Da3Error('EMPTY_INPUT', `${fn}: ${what} is empty`);
  if (a.length % size !== 0) throw new Da3Error('BAD_SHAPE', `${fn}: ${what} must be ${shape} (a multiple of ${size} numbers), got ${a.length}`);
  return a.length / size;
}
