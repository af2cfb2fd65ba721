import { Da3Error, createPrediction, viewSlice } from '@da3js/core';
import { describe, expect, it } from 'vitest';

const N = 2;
const H = 3;
const W = 4;
const base = () => ({
  views: N,
  height: H,
  width: W,
  depth: new Float32Array(N * H * W).fill(1),
  processedImages: new Uint8Array(N * H * W * 3),
});

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    return e instanceof Da3Error ? e.code : 'not a Da3Error';
  }
  return undefined;
}

describe('createPrediction', () => {
  it('fills defaults and freezes', () => {
    const p = createPrediction({ ...base(), extrinsics: new Float32Array(N * 12), intrinsics: new Float32Array(N * 9) });
    expect(p.conf).toBeNull();
    expect(p.sky).toBeNull();
    expect(p.isMetric).toBe(false);
    expect(p.scaleFactor).toBeNull();
    expect(Object.isFrozen(p)).toBe(true);
    expect(viewSlice(p.depth, 1, H * W)).toHaveLength(H * W);
  });

  it('names the field and shape of a wrong-sized array', () => {
    expect(() => createPrediction({ ...base(), conf: new Float32Array(5) })).toThrowError(/conf must be \[2, 3, 4\] = 24 values, got 5/);
    expect(() => createPrediction({ ...base(), extrinsics: new Float32Array(16) })).toThrowError(/extrinsics must be \[2, 3, 4\]/);
    expect(codeOf(() => createPrediction({ ...base(), depth: new Float32Array(1) }))).toBe('BAD_SHAPE');
    expect(codeOf(() => createPrediction({ ...base(), views: 0 }))).toBe('BAD_SHAPE');
    expect(
      codeOf(() =>
        createPrediction({ ...base(), rays: { height: 2, width: 2, rays: new Float32Array(N * 4 * 6), conf: new Float32Array(3) } }),
      ),
    ).toBe('BAD_SHAPE');
  });

  it('rejects NaN cameras and a bad scale factor', () => {
    const ext = new Float32Array(N * 12);
    ext[5] = Number.NaN;
    expect(codeOf(() => createPrediction({ ...base(), extrinsics: ext }))).toBe('NON_FINITE');
    expect(codeOf(() => createPrediction({ ...base(), scaleFactor: -1 }))).toBe('BAD_VALUE');
  });
});
