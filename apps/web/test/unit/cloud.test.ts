import { createPrediction, quantileLinear } from '@da3js/core';
import { describe, expect, it } from 'vitest';
import { isNearBlack as isBlack, isNearWhite as isWhite } from '@da3js/exporters';
import { buildCloud, percentileThreshold } from '../../src/viewer/cloud.js';

const K = [2, 0, 1.5, 0, 2, 1, 0, 0, 1];

function prediction(opts: { conf?: number[]; rgb?: number[]; depth?: number[]; extrinsics?: number[] } = {}) {
  const W = 4;
  const H = 3;
  return createPrediction({
    views: 1,
    height: H,
    width: W,
    depth: Float32Array.from(opts.depth ?? Array.from({ length: W * H }, (_, i) => 1 + i)),
    processedImages: Uint8Array.from(opts.rgb ?? Array.from({ length: W * H * 3 }, () => 128)),
    conf: opts.conf ? Float32Array.from(opts.conf) : null,
    intrinsics: Float32Array.from(K),
    extrinsics: Float32Array.from(opts.extrinsics ?? [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0]),
  });
}

describe('point cloud data', () => {
  it('percentileThreshold: linear percentile of the confidences; none for p ≤ 0 or no conf', () => {
    const conf = Float32Array.from([1, 2, 3, 4, 5]);
    expect(percentileThreshold(conf, 50)).toBe(3);
    expect(percentileThreshold(conf, 10)).toBeCloseTo(1.4, 12);
    expect(percentileThreshold(conf, 10)).toBe(quantileLinear(conf, 0.1, { precision: 'float64' }));
    expect(percentileThreshold(conf, 0)).toBe(Number.NEGATIVE_INFINITY);
    expect(percentileThreshold(null, 50)).toBe(Number.NEGATIVE_INFINITY);
  });

  it('the confidence cut hides points below the p-th percentile', () => {
    const conf = Array.from({ length: 12 }, (_, i) => 1 + i);
    expect(buildCloud(prediction({ conf }), { confPercentile: 0 }).count).toBe(12);
    const c = buildCloud(prediction({ conf }), { confPercentile: 50 }); // threshold 6.5 → 7..12 kept
    expect(c.count).toBe(6);
    expect(Array.from(c.pixels)).toEqual([6, 7, 8, 9, 10, 11]);
  });

  it('background filters drop near-black (< 16) / near-white (≥ 240) colours', () => {
    expect(isBlack(15, 15, 15)).toBe(true);
    expect(isBlack(16, 0, 0)).toBe(false);
    expect(isWhite(240, 240, 240)).toBe(true);
    expect(isWhite(239, 255, 255)).toBe(false);
    const rgb = Array.from({ length: 36 }, () => 128);
    rgb.splice(0, 3, 0, 0, 0);
    rgb.splice(3, 3, 255, 255, 255);
    expect(buildCloud(prediction({ rgb }), { filterBlackBg: true }).count).toBe(11);
    expect(buildCloud(prediction({ rgb }), { filterWhiteBg: true }).count).toBe(11);
    expect(buildCloud(prediction({ rgb }), { filterBlackBg: true, filterWhiteBg: true }).count).toBe(10);
  });

  it('unprojects with K and world→camera, shows three.js axes (x, −y, −z), keeps float64 world points', () => {
    // Camera translated by t = (1, 0, 0) in its own frame: world = camera − t.
    const c = buildCloud(prediction({ extrinsics: [1, 0, 0, 1, 0, 1, 0, 0, 0, 0, 1, 0] }));
    const d = 1 + 6; // pixel (u=2, v=1)
    const want = [((2 - 1.5) / 2) * d - 1, ((1 - 1) / 2) * d, d];
    expect(Array.from(c.world.subarray(18, 21))).toEqual(want);
    expect(Array.from(c.positions.subarray(18, 21))).toEqual([want[0], -want[1], -want[2]].map(Math.fround));
    expect(Array.from(c.colors.subarray(18, 21))).toEqual([128, 128, 128]);
  });

  it('drops non-finite and non-positive depth, and subsamples to maxPoints deterministically', () => {
    const depth = Array.from({ length: 12 }, (_, i) => 1 + i);
    depth[0] = 0;
    depth[1] = Number.NaN;
    depth[2] = Number.POSITIVE_INFINITY;
    const c = buildCloud(prediction({ depth }));
    expect(c.valid).toBe(9);
    expect(c.count).toBe(9);
    const a = buildCloud(prediction(), { maxPoints: 5, seed: 3 });
    const b = buildCloud(prediction(), { maxPoints: 5, seed: 3 });
    expect(a.count).toBe(5);
    expect(Array.from(a.pixels)).toEqual(Array.from(b.pixels));
    expect([...a.pixels].every((p, i, arr) => i === 0 || p > arr[i - 1])).toBe(true);
  });
});
