import { colorizeDepth, spectralLutBytes } from '@da3js/exporters';
import { describe, expect, it } from 'vitest';
import { colourBar, depthAt, formatDepth } from '../../src/colour-bar.js';

describe('depth colour bar', () => {
  it('runs from the near colour (Spectral 0, red) to the far colour (Spectral 255, blue)', () => {
    const lut = spectralLutBytes();
    const bar = colourBar([0.25, 1], 256);
    expect(Array.from(bar.rgb.subarray(0, 3))).toEqual(Array.from(lut.subarray(0, 3)));
    expect(Array.from(bar.rgb.subarray(255 * 3))).toEqual(Array.from(lut.subarray(255 * 3)));
    expect(bar.minDepth).toBe(1);
    expect(bar.maxDepth).toBe(4);
  });

  it('matches the depth image: the nearest and farthest pixels get the bar’s end colours', () => {
    const depth = Float32Array.from(Array.from({ length: 100 }, (_, i) => 1 + i / 10));
    const c = colorizeDepth(depth, { percentile: 0 });
    const bar = colourBar(c.range, 256);
    expect(Array.from(c.rgb.subarray(0, 3))).toEqual(Array.from(bar.rgb.subarray(0, 3)));
    expect(Array.from(c.rgb.subarray(99 * 3, 100 * 3))).toEqual(Array.from(bar.rgb.subarray(255 * 3)));
    expect(bar.minDepth).toBeCloseTo(1, 5);
    expect(bar.maxDepth).toBeCloseTo(1 + 99 / 10, 4);
  });

  it('depthAt inverts the disparity range; far disparity ≤ 0 is infinitely far', () => {
    expect(depthAt(0.5, [0.5, 1.5])).toBe(1);
    expect(depthAt(1, [0, 1])).toBe(Number.POSITIVE_INFINITY);
  });

  it('formatDepth: 3 significant digits, ∞, unit', () => {
    expect(formatDepth(1.23456)).toBe('1.23');
    expect(formatDepth(1234.5, 'm')).toBe('1230 m');
    expect(formatDepth(Number.POSITIVE_INFINITY)).toBe('∞');
  });
});
