import { normalizeExtrinsicsForConditioning } from '@da3js/core';
import { describe, expect, it } from 'vitest';
import { asFloat64, loadTensors } from '../helpers/fixtures.js';
import { F32, F64, expectParity } from './parity-log.js';

const DIR = 'geometry/normalize_extrinsics';

describe('normalizeExtrinsicsForConditioning vs geometry/normalize_extrinsics', async () => {
  const inp = await loadTensors(`${DIR}/inputs.safetensors`);
  const out = await loadTensors(`${DIR}/outputs.safetensors`);

  it('4 views (even count: torch lower median)', () => {
    const { w2c, scale } = normalizeExtrinsicsForConditioning(asFloat64(inp.ex), 4);
    expect(scale).toBeGreaterThan(0.1);
    expectParity(w2c, asFloat64(out.normalized_f64), F64, 'normalize_extrinsics.normalized_f64');
    expectParity(w2c, asFloat64(out.normalized_f32), F32, 'normalize_extrinsics.normalized_f32');
    // view 0 is the identity
    for (let i = 0; i < 16; i++) expect(Math.abs(w2c[i] - (i % 5 === 0 ? 1 : 0))).toBeLessThan(1e-12);
  });

  it('small baseline: the 0.1 clamp', () => {
    const { w2c, scale } = normalizeExtrinsicsForConditioning(asFloat64(inp.ex_small), 3);
    expect(scale).toBe(0.1);
    expectParity(w2c, asFloat64(out.normalized_small_f64), F64, 'normalize_extrinsics.normalized_small_f64');
    expectParity(w2c, asFloat64(out.normalized_small_f32), F32, 'normalize_extrinsics.normalized_small_f32');
  });

  it('3×4 input gives the same result as its 4×4 form', () => {
    const ex = asFloat64(inp.ex);
    const ex34 = new Float64Array(4 * 12);
    for (let b = 0; b < 4; b++) ex34.set(ex.subarray(16 * b, 16 * b + 12), 12 * b);
    const a = normalizeExtrinsicsForConditioning(ex34, 4);
    const b = normalizeExtrinsicsForConditioning(ex, 4);
    expect(Array.from(a.w2c)).toEqual(Array.from(b.w2c));
    expect(a.scale).toBe(b.scale);
  });

  it('odd count uses the middle value', () => {
    // camera centres at distance 1, 2, 3 (plus the origin camera 0 → 0): median of [0, 1, 2, 3] is 1; of [0,1,2] is 1
    const mk = (cx: number) => [1, 0, 0, -cx, 0, 1, 0, 0, 0, 0, 1, 0];
    expect(normalizeExtrinsicsForConditioning([...mk(0), ...mk(1), ...mk(2), ...mk(3)], 4).scale).toBe(1);
    expect(normalizeExtrinsicsForConditioning([...mk(0), ...mk(2), ...mk(3)], 3).scale).toBe(2);
  });
});

describe('normalizeExtrinsicsForConditioning input errors', () => {
  it('BAD_SHAPE for a length that fits neither 3×4 nor 4×4', () => {
    expect(() => normalizeExtrinsicsForConditioning(new Float64Array(20), 2)).toThrow(expect.objectContaining({ code: 'BAD_SHAPE' }));
  });
  it('BAD_VALUE for a non-integer view count', () => {
    expect(() => normalizeExtrinsicsForConditioning(new Float64Array(12), 0)).toThrow(expect.objectContaining({ code: 'BAD_VALUE' }));
  });
  it('NON_FINITE for NaN', () => {
    const e = new Float64Array(12);
    e[3] = Number.NaN;
    expect(() => normalizeExtrinsicsForConditioning(e, 1)).toThrow(expect.objectContaining({ code: 'NON_FINITE' }));
  });
});
