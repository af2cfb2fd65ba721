/** Bad input → the documented Da3Error code, with the offending value in the message. */
import {
  adjustIntrinsics,
  applyPlan,
  cropImageU8,
  type Da3ErrorCode,
  type ImageU8,
  isDa3Error,
  MAX_PROCESS_RES,
  MAX_PROCESSED_SIDE,
  normalizeRgbToChw,
  planPreprocess,
  preprocessImages,
  type ResizeMethod,
  resizeImageU8,
  toProcessedImages,
  toRgbU8,
} from '@da3js/core';
import { describe, expect, it } from 'vitest';

function rgb(width: number, height: number, channels: 3 | 4 = 3): ImageU8 {
  return { data: new Uint8Array(width * height * channels), width, height, channels };
}

function expectDa3(f: () => unknown, code: Da3ErrorCode, pattern?: RegExp): void {
  let err: unknown;
  try {
    f();
  } catch (e) {
    err = e;
  }
  expect(isDa3Error(err), `expected Da3Error ${code}, got ${String(err)}`).toBe(true);
  expect((err as { code: string }).code).toBe(code);
  if (pattern) expect((err as Error).message).toMatch(pattern);
}

const K = [500, 0, 10, 0, 500, 10, 0, 0, 1];

describe('preprocessImages rejects bad input', () => {
  it('no images', () => {
    expectDa3(() => preprocessImages([]), 'EMPTY_INPUT', /^preprocessImages: no images/);
  });

  it('zero-size images', () => {
    expectDa3(() => preprocessImages([rgb(0, 10)]), 'EMPTY_INPUT', /width is 0/);
    expectDa3(() => preprocessImages([rgb(20, 20), rgb(10, 0)]), 'EMPTY_INPUT', /image 1 height is 0/);
  });

  it('non-integer or negative sizes', () => {
    expectDa3(() => preprocessImages([{ data: new Uint8Array(30), width: 2.5, height: 4, channels: 3 }]), 'BAD_SHAPE', /2\.5/);
    expectDa3(() => preprocessImages([{ data: new Uint8Array(0), width: -2, height: 4, channels: 3 }]), 'BAD_SHAPE', /-2/);
  });

  it('data length ≠ w·h·c', () => {
    expectDa3(() => preprocessImages([{ data: new Uint8Array(10 * 10 * 3 - 1), width: 10, height: 10, channels: 3 }]), 'BAD_SHAPE', /299/);
    expectDa3(() => preprocessImages([{ data: new Uint8Array(10 * 10 * 3), width: 10, height: 10, channels: 4 }]), 'BAD_SHAPE', /300.*400/);
  });

  it('channels other than 3 or 4', () => {
    const bad = { data: new Uint8Array(100), width: 10, height: 10, channels: 1 } as unknown as ImageU8;
    expectDa3(() => preprocessImages([bad]), 'BAD_SHAPE', /channels .* got 1/);
  });

  it('data that is not bytes', () => {
    const bad = { data: new Float32Array(300), width: 10, height: 10, channels: 3 } as unknown as ImageU8;
    expectDa3(() => preprocessImages([bad]), 'BAD_VALUE', /Uint8Array/);
  });

  it('processRes < 14 or not an integer', () => {
    expectDa3(() => preprocessImages([rgb(20, 20)], { processRes: 13 }), 'BAD_VALUE', /got 13/);
    expectDa3(() => preprocessImages([rgb(20, 20)], { processRes: 504.5 }), 'BAD_VALUE', /504\.5/);
    expectDa3(() => preprocessImages([rgb(20, 20)], { processRes: Number.NaN }), 'BAD_VALUE', /NaN/);
    expectDa3(() => planPreprocess(20, 20, { processRes: 0 }), 'BAD_VALUE');
  });

  it('processRes and processed sizes are bounded before any pixel is allocated', () => {
    // 100000 used to throw an untyped RangeError from a 20 GB allocation.
    expectDa3(() => preprocessImages([rgb(20, 20)], { processRes: 100_000 }), 'BAD_VALUE', /processRes must be an integer in \[14, 4096\].*got 100000/);
    expectDa3(() => planPreprocess(20, 20, { processRes: MAX_PROCESS_RES + 1 }), 'BAD_VALUE', /MAX_PROCESS_RES/);
    expect(planPreprocess(20, 20, { processRes: MAX_PROCESS_RES }).width).toBe(4102); // nearest multiple of 14
    // lower_bound on a 1×40 strip at 4096: the long side would be 163840 px.
    expectDa3(() => planPreprocess(40, 1, { processRes: 4096, method: 'lower_bound_resize' }), 'OUT_OF_RANGE', /163840×4096.*at most 8192 px a side/);
    expect(MAX_PROCESSED_SIDE).toBe(8192);
  });

  it('unknown method', () => {
    expectDa3(() => preprocessImages([rgb(20, 20)], { method: 'bilinear' as ResizeMethod }), 'BAD_VALUE', /"bilinear"/);
    expectDa3(() => planPreprocess(20, 20, { method: 'upper_bound' as ResizeMethod }), 'BAD_VALUE', /"upper_bound"/);
  });

  it('intrinsics count or shape mismatch', () => {
    expectDa3(() => preprocessImages([rgb(20, 20), rgb(20, 20)], { intrinsics: new Float32Array(9) }), 'BAD_SHAPE', /18.*got 9/);
    expectDa3(() => preprocessImages([rgb(20, 20)], { intrinsics: [K, K] }), 'BAD_SHAPE', /2 intrinsics matrices for 1 images/);
    expectDa3(() => preprocessImages([rgb(20, 20)], { intrinsics: [[1, 2, 3]] }), 'BAD_SHAPE', /intrinsics\[0\].*got 3/);
    expectDa3(() => preprocessImages([rgb(20, 20)], { intrinsics: [] }), 'BAD_SHAPE');
  });

  it('non-finite intrinsics', () => {
    expectDa3(() => preprocessImages([rgb(20, 20)], { intrinsics: [500, 0, Number.NaN, 0, 500, 10, 0, 0, 1] }), 'NON_FINITE', /\[0\]\[2\] is NaN/);
    const k = Float32Array.from(K);
    k[4] = Number.POSITIVE_INFINITY;
    expectDa3(() => preprocessImages([rgb(20, 20)], { intrinsics: [k] }), 'NON_FINITE', /\[0\]\[4\] is Infinity/);
  });

  it('an aspect ratio too extreme for 14-pixel patches', () => {
    expectDa3(() => preprocessImages([rgb(1, 3000)]), 'BAD_SHAPE', /multiples of 14/);
  });
});

describe('lower-level functions reject bad input', () => {
  it('resizeImageU8', () => {
    expectDa3(() => resizeImageU8(rgb(10, 10), 0, 5, 'area'), 'BAD_SHAPE', /width .* got 0/);
    expectDa3(() => resizeImageU8(rgb(10, 10), 20, 5, 'area'), 'BAD_VALUE', /only downscales/);
    expectDa3(() => resizeImageU8(rgb(10, 10), 5, 5, 'linear' as 'area'), 'BAD_VALUE', /"linear"/);
    expectDa3(() => resizeImageU8({ data: new Uint8Array(5), width: 10, height: 10, channels: 3 }, 5, 5, 'cubic'), 'BAD_SHAPE');
  });

  it('cropImageU8 / toRgbU8', () => {
    expectDa3(() => cropImageU8(rgb(10, 10), 5, 0, 6, 10), 'OUT_OF_RANGE', /6×10 at \(5, 0\)/);
    expectDa3(() => cropImageU8(rgb(10, 10), -1, 0, 2, 2), 'OUT_OF_RANGE');
    expectDa3(() => toRgbU8(rgb(0, 3)), 'EMPTY_INPUT');
  });

  it('applyPlan with an image of another size', () => {
    expectDa3(() => applyPlan(rgb(640, 431), planPreprocess(640, 430)), 'BAD_SHAPE', /640×431.*640×430/);
  });

  it('normalizeRgbToChw / toProcessedImages', () => {
    expectDa3(() => normalizeRgbToChw(new Uint8Array(5), 2, 1), 'BAD_SHAPE');
    expectDa3(() => normalizeRgbToChw(new Uint8Array(6), 2, 1, new Float32Array(6), 1), 'OUT_OF_RANGE');
    expectDa3(() => toProcessedImages(new Float32Array(12), [1, 4, 1, 3]), 'BAD_SHAPE', /\[1, 4, 1, 3\]/);
    expectDa3(() => toProcessedImages(new Float32Array(11), [1, 3, 2, 2]), 'BAD_SHAPE', /length 11/);
  });

  it('adjustIntrinsics', () => {
    expectDa3(() => adjustIntrinsics(new Float32Array(8), planPreprocess(20, 20)), 'BAD_SHAPE');
    expectDa3(() => adjustIntrinsics([1, 0, 0, 0, 1, 0, 0, 0, Number.NEGATIVE_INFINITY], planPreprocess(20, 20)), 'NON_FINITE');
  });
});
