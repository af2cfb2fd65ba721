import { createPrng, quantileLinear, quantileMasked, weightedQuantile } from '@da3js/core';
import { describe, expect, it } from 'vitest';
import { errorCode } from '../../../../test-utils/tools.js';


/** Reference: numpy/torch 'linear' quantile via a full sort, float64. */
function sortQuantile(v: ArrayLike<number>, q: number): number {
  const s = Float64Array.from(v).sort();
  const r = q * (s.length - 1);
  const lo = Math.floor(r);
  const hi = Math.ceil(r);
  const w = r - lo;
  return w < 0.5 ? s[lo] + w * (s[hi] - s[lo]) : s[hi] - (s[hi] - s[lo]) * (1 - w);
}

describe('quantileLinear (torch.quantile, linear)', () => {
  it('hand values', () => {
    const v = [3, 1, 4, 1, 5, 9, 2, 6]; // sorted 1 1 2 3 4 5 6 9
    expect(quantileLinear(v, 0)).toBe(1);
    expect(quantileLinear(v, 1)).toBe(9);
    expect(quantileLinear(v, 0.5)).toBe(3.5); // rank 3.5 → (3+4)/2
    expect(quantileLinear(v, 0.25)).toBeCloseTo(1.75, 15); // rank 1.75 → 1 + 0.75·(2−1)
    expect(quantileLinear(v, 0.99)).toBeCloseTo(8.79, 13); // rank 6.93 → 6 + 0.93·3
    expect(quantileLinear([7], 0.3)).toBe(7);
    expect(quantileLinear([2, 4], 0.5)).toBe(3);
  });

  it('does not modify its input', () => {
    const v = Float64Array.of(5, 4, 3, 2, 1);
    quantileLinear(v, 0.5);
    expect(Array.from(v)).toEqual([5, 4, 3, 2, 1]);
  });

  it('float32 input uses torch float32 arithmetic (q, rank and lerp in float32)', () => {
    // 8 values 0, 1000, …, 7000 and q = 0.3: float64 rank 2.0999999999999996, float32 rank
    // fround(fround(0.3)·7) = 2.1000001430511475 → 2100.000244140625 after the float32 lerp (ulp 2.4e-4).
    const v = Float32Array.from({ length: 8 }, (_, i) => 1000 * i);
    expect(quantileLinear(v, 0.3, { precision: 'float64' })).toBeCloseTo(2100, 9);
    expect(quantileLinear(v, 0.3)).toBe(2100.000244140625);
    expect(quantileLinear(Float64Array.from(v), 0.3)).toBe(quantileLinear(v, 0.3, { precision: 'float64' }));
  });

  it('matches a full sort on random data with many ties (quickselect path)', () => {
    const p = createPrng(17);
    for (const n of [1, 2, 3, 17, 100, 5001]) {
      const v = Float64Array.from({ length: n }, () => Math.floor(p.next() * 50) / 7);
      for (const q of [0, 0.01, 0.3, 0.5, 0.77, 0.99, 1]) expect(quantileLinear(v, q)).toBe(sortQuantile(v, q));
    }
  });

  it('matches a full sort on ordered patterns (sorted, reversed, organ pipe, constant)', () => {
    const n = 4097;
    const patterns = [(i: number) => i, (i: number) => -i, (i: number) => Math.abs(i - n / 2), () => 3, (i: number) => i % 7];
    for (const gen of patterns) {
      const v = Float64Array.from({ length: n }, (_, i) => gen(i));
      for (const q of [0, 0.25, 0.5, 0.99, 1]) expect(quantileLinear(v, q)).toBe(sortQuantile(v, q));
    }
  });

  it('seeded subsampling is deterministic and close to the exact value', () => {
    const p = createPrng(5);
    const v = Float64Array.from({ length: 20000 }, () => p.next());
    const a = quantileLinear(v, 0.5, { sample: { maxSamples: 5000, seed: 1 } });
    expect(quantileLinear(v, 0.5, { sample: { maxSamples: 5000, seed: 1 } })).toBe(a);
    expect(Math.abs(a - quantileLinear(v, 0.5))).toBeLessThan(0.03);
    // At or under the limit the sample option changes nothing.
    expect(quantileLinear(v, 0.5, { sample: { maxSamples: 20000, seed: 1 } })).toBe(quantileLinear(v, 0.5));
  });

  it('masked variant selects x[mask]', () => {
    const v = [10, 1, 20, 2, 30, 3];
    const m = Uint8Array.of(0, 1, 0, 1, 0, 1);
    expect(quantileMasked(v, m, 0.5)).toBe(2);
    expect(quantileMasked(v, m, 1)).toBe(3);
  });

  it('bad inputs → typed errors', () => {
    expect(errorCode(() => quantileLinear([], 0.5))).toBe('EMPTY_INPUT');
    expect(errorCode(() => quantileLinear([1, Number.NaN], 0.5))).toBe('NON_FINITE');
    expect(errorCode(() => quantileLinear([1, 2], 1.5))).toBe('BAD_VALUE');
    expect(errorCode(() => quantileMasked([1, 2], [1], 0.5))).toBe('BAD_SHAPE');
    expect(errorCode(() => quantileMasked([1, 2], [0, 0], 0.5))).toBe('EMPTY_INPUT');
  });
});

describe('weightedQuantile', () => {
  it('equal weights reproduce quantileLinear', () => {
    const p = createPrng(3);
    const v = Float64Array.from({ length: 37 }, () => p.next() * 10);
    const w = new Float64Array(37).fill(2.5);
    for (const q of [0, 0.1, 0.5, 0.9, 0.99, 1]) expect(weightedQuantile(v, w, q)).toBeCloseTo(quantileLinear(v, q), 12);
  });

  it('hand values: weights move the quantile, zero weights drop values', () => {
    // values 1, 2, 3 with weights 1, 2, 1: midpoints 0.5, 2, 3.5 → p = 0, 0.5, 1.
    expect(weightedQuantile([3, 1, 2], [1, 1, 2], 0.5)).toBe(2);
    expect(weightedQuantile([3, 1, 2], [1, 1, 2], 0.25)).toBe(1.5);
    // weights 3, 1 on values 0, 10: midpoints 1.5, 3.5 → p = 0, 1.
    expect(weightedQuantile([0, 10], [3, 1], 0.5)).toBe(5);
    expect(weightedQuantile([0, 10, 100], [1, 1, 0], 1)).toBe(10);
    expect(weightedQuantile([4, 10], [0, 5], 0.2)).toBe(10);
  });

  it('bad inputs → typed errors', () => {
    expect(errorCode(() => weightedQuantile([1, 2], [1], 0.5))).toBe('BAD_SHAPE');
    expect(errorCode(() => weightedQuantile([1, 2], [0, 0], 0.5))).toBe('EMPTY_INPUT');
    expect(errorCode(() => weightedQuantile([1, 2], [1, -1], 0.5))).toBe('BAD_VALUE');
    expect(errorCode(() => weightedQuantile([1, 2], [1, Number.NaN], 0.5))).toBe('NON_FINITE');
  });
});
