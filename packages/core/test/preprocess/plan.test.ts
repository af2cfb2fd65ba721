/**
 * Resize plans: sizes, filters, crop offsets and intrinsics, against preprocess.json /
 * preprocess.safetensors and hand-checked edge cases of the reference's arithmetic.
 */
import {
  adjustIntrinsics,
  DEFAULT_PROCESS_RES,
  DEFAULT_RESIZE_METHOD,
  isDa3Error,
  PREPROCESS_SIZE_MULTIPLE,
  planBatch,
  planPreprocess,
  RESIZE_METHODS,
} from '@da3js/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { expectClose } from '../helpers/compare.js';
import { asFloat64, type FixtureTensor } from '../helpers/fixtures.js';
import { preprocessCase, preprocessTensors } from './load.js';

let T: Record<string, FixtureTensor>;
beforeAll(async () => {
  T = await preprocessTensors();
});

const CV: Record<string, string> = { 'cv2.INTER_AREA': 'area', 'cv2.INTER_CUBIC': 'cubic' };

function expectThrows(f: () => unknown, code: string, pattern?: RegExp): void {
  let err: unknown;
  try {
    f();
  } catch (e) {
    err = e;
  }
  expect(isDa3Error(err), `expected a Da3Error, got ${String(err)}`).toBe(true);
  expect((err as { code: string }).code).toBe(code);
  if (pattern) expect((err as Error).message).toMatch(pattern);
}

describe('defaults', () => {
  it('match the reference API (504, upper_bound_resize, patch 14)', () => {
    expect(DEFAULT_PROCESS_RES).toBe(504);
    expect(DEFAULT_RESIZE_METHOD).toBe('upper_bound_resize');
    expect(PREPROCESS_SIZE_MULTIPLE).toBe(14);
    expect([...RESIZE_METHODS].sort()).toEqual(['lower_bound_crop', 'lower_bound_resize', 'upper_bound_crop', 'upper_bound_resize']);
    expect(planPreprocess(640, 430)).toEqual(planPreprocess(640, 430, { processRes: 504, method: 'upper_bound_resize' }));
  });
});

describe('plans for the 640×430 fixture (preprocess.json)', () => {
  const json = preprocessCase();
  it.each(RESIZE_METHODS.map((m) => [m]))('%s', (method) => {
    const want = json.methods[method];
    const plan = planPreprocess(640, 430, { method });
    const [boundary, divisible] = plan.steps;
    expect(boundary.op).toBe('resize');
    if (boundary.op !== 'resize') return;
    expect([boundary.width, boundary.height]).toEqual(want.boundary_resize.size_wh);
    expect([plan.boundaryWidth, plan.boundaryHeight]).toEqual(want.boundary_resize.size_wh);
    expect(boundary.interpolation).toBe(CV[want.boundary_resize.interpolation]);
    expect([plan.width, plan.height]).toEqual(want.make_divisible.size_wh);
    expect(want.network_tensor_shape).toEqual([1, 1, 3, plan.height, plan.width]);
    if (method.endsWith('_resize')) {
      expect(divisible.op === 'resize' && divisible.interpolation).toBe(CV[want.make_divisible.interpolation ?? '']);
    } else {
      expect(divisible.op === 'crop' && [divisible.left, divisible.top]).toEqual([want.make_divisible.crop_left, want.make_divisible.crop_top]);
    }
    expect(plan.steps).toHaveLength(2);
  });

  it.each(RESIZE_METHODS.map((m) => [m]))('%s intrinsics (1e-5 relative, and bit for bit in float32)', (method) => {
    const K = T.input_intrinsics.data as Float32Array;
    const got = adjustIntrinsics(K, planPreprocess(640, 430, { method }));
    const want = T[`${method}.intrinsics`];
    expect(want.shape).toEqual([1, 3, 3]);
    expectClose(got, asFloat64(want), { atol: 0, rtol: 1e-5 }, `${method}.intrinsics`);
    expect(Array.from(got)).toEqual(Array.from(want.data as Float32Array));
    expectClose(got, preprocessCase().methods[method].intrinsics_out.flat(), { atol: 0, rtol: 1e-7 }, `${method} json`);
  });

  it('extrinsics are not touched by preprocessing (fixture sanity)', () => {
    for (const m of RESIZE_METHODS) expect(Array.from(T[`${m}.extrinsics`].data as Float32Array)).toEqual(Array.from(T.input_extrinsics.data as Float32Array));
  });
});

describe('boundary resize arithmetic', () => {
  it("uses Python's round-half-to-even for ties", () => {
    // upper bound, scale exactly 0.5: 677·0.5 = 338.5 → 338, 679·0.5 = 339.5 → 340
    expect(planPreprocess(1008, 677).boundaryHeight).toBe(338);
    expect(planPreprocess(1008, 679).boundaryHeight).toBe(340);
    expect(planPreprocess(1008, 681).boundaryHeight).toBe(340); // 340.5 → 340
    // lower bound at processRes 140, shortest 56 → scale 2.5: 101·2.5 = 252.5 → 252, 103·2.5 = 257.5 → 258
    expect(planPreprocess(101, 56, { processRes: 140, method: 'lower_bound_resize' }).boundaryWidth).toBe(252);
    expect(planPreprocess(103, 56, { processRes: 140, method: 'lower_bound_resize' }).boundaryWidth).toBe(258);
  });

  it('uses AREA when shrinking, CUBIC when enlarging', () => {
    const down = planPreprocess(1000, 700).steps[0];
    const up = planPreprocess(300, 200).steps[0];
    expect(down.op === 'resize' && down.interpolation).toBe('area');
    expect(up.op === 'resize' && up.interpolation).toBe('cubic');
    expect(up.op === 'resize' && [up.width, up.height]).toEqual([504, 336]);
  });

  it('is skipped when the bound side already equals processRes', () => {
    const p = planPreprocess(504, 378);
    expect(p.steps).toEqual([]);
    expect([p.width, p.height, p.boundaryWidth, p.boundaryHeight]).toEqual([504, 378, 504, 378]);
    expect(planPreprocess(378, 504).steps).toEqual([]);
    expect(planPreprocess(504, 504, { method: 'lower_bound_crop' }).steps).toEqual([]);
    expect(planPreprocess(672, 504, { method: 'lower_bound_resize' }).steps).toEqual([]);
    // longest 504 under lower_bound is not the bound: the shortest side is scaled up to 504
    const lb = planPreprocess(504, 378, { method: 'lower_bound_resize' });
    expect(lb.steps[0].op === 'resize' && [lb.steps[0].width, lb.steps[0].height, lb.steps[0].interpolation]).toEqual([672, 504, 'cubic']);
  });

  it('handles 1×N images: lower bound scales the 1-pixel side up', () => {
    const p = planPreprocess(1, 10, { method: 'lower_bound_resize' });
    expect([p.width, p.height]).toEqual([504, 5040]);
    // 1×1000 would be 504×504000 (254 Mpx): refused from the plan, before any pixel exists.
    expectThrows(() => planPreprocess(1, 1000, { method: 'lower_bound_resize' }), 'OUT_OF_RANGE', /504×504000.*MAX_PROCESSED_SIDE/);
    expect(p.steps).toHaveLength(1);
    expect(p.steps[0].op === 'resize' && p.steps[0].interpolation).toBe('cubic');
    const q = planPreprocess(1, 1, { method: 'upper_bound_crop' });
    expect([q.width, q.height, q.steps.length]).toEqual([504, 504, 1]);
  });

  it('rejects 1×N images whose thin side ends below 14 pixels (max(1, round(…)) = 1)', () => {
    // upper bound: 1×2000 → scale 0.252 → round(0.252) = 0 → max(1, 0) = 1 → 1×504, not a multiple of 14
    expectThrows(() => planPreprocess(1, 2000), 'BAD_SHAPE', /1×2000.*1×504/);
    expectThrows(() => planPreprocess(2000, 5, { method: 'upper_bound_crop' }), 'BAD_SHAPE', /504×0/);
    expectThrows(() => planPreprocess(30, 1, { processRes: 14 }), 'BAD_SHAPE', /14×1\b/);
  });
});

describe('make-divisible-by-14 arithmetic', () => {
  it('resizes to the nearest multiple, ties going up, CUBIC when a side grows', () => {
    // 504×343: 343 is 7 from 336 and from 350 → 350 (up), CUBIC
    const tie = planPreprocess(504, 343);
    expect(tie.steps).toHaveLength(1);
    const s = tie.steps[0];
    expect(s.op === 'resize' && [s.stage, s.width, s.height, s.interpolation]).toEqual(['divisible', 504, 350, 'cubic']);
    // 504×342 → 336 (down), AREA
    const dn = planPreprocess(504, 342).steps[0];
    expect(dn.op === 'resize' && [dn.height, dn.interpolation]).toEqual([336, 'area']);
    // one side grows, the other shrinks → CUBIC (processRes 500: 500 → 504, 605 → 602)
    const mixed = planPreprocess(500, 605, { processRes: 500, method: 'lower_bound_resize' });
    expect(mixed.steps).toHaveLength(1);
    const m = mixed.steps[0];
    expect(m.op === 'resize' && [m.width, m.height, m.interpolation]).toEqual([504, 602, 'cubic']);
  });

  it('crops to the floor multiple with offset (w − w′)//2', () => {
    const p = planPreprocess(504, 377, { method: 'upper_bound_crop' });
    const c = p.steps[0];
    expect(c.op === 'crop' && [c.stage, c.left, c.top, c.width, c.height]).toEqual(['divisible', 0, 6, 504, 364]); // (377 − 364)//2
    const q = planPreprocess(517, 1000, { processRes: 517, method: 'lower_bound_crop' }); // 517 → 504, offset 13//2
    const d = q.steps[0];
    expect(d.op === 'crop' && [d.left, d.top, d.width, d.height]).toEqual([6, 3, 504, 994]); // (1000 − 994)//2 = 3
  });
});

describe('batch plans (mixed sizes → centre crop to min H, min W)', () => {
  it('leaves equal sizes alone', () => {
    const b = planBatch([
      { width: 640, height: 430 },
      { width: 1280, height: 860 },
    ]);
    expect([b.width, b.height, b.cropped]).toEqual([504, 336, false]);
    expect(b.plans.every((p) => p.steps.every((s) => s.stage !== 'batch'))).toBe(true);
  });

  it('crops the fixture pair (640×430, 200×301 at processRes 140) to 98×98 with torchvision offsets', () => {
    const b = planBatch(
      [
        { width: 640, height: 430 },
        { width: 200, height: 301 },
      ],
      { processRes: 140 },
    );
    expect([b.width, b.height, b.cropped]).toEqual([98, 98, true]);
    expect(preprocessCase().mixed_batch.network_input_shape).toEqual([1, 2, 3, b.height, b.width]);
    const crops = b.plans.map((p) => p.steps[p.steps.length - 1]);
    expect(crops.map((c) => c.op === 'crop' && [c.stage, c.inWidth, c.inHeight, c.left, c.top, c.width, c.height])).toEqual([
      ['batch', 140, 98, 21, 0, 98, 98],
      ['batch', 98, 140, 0, 21, 98, 98],
    ]);
    expect(b.plans.map((p) => [p.width, p.height])).toEqual([
      [98, 98],
      [98, 98],
    ]);
  });

  it('adds no batch crop to a view already at the smallest size', () => {
    const b = planBatch([
      { width: 504, height: 336 },
      { width: 504, height: 378 },
    ]);
    expect([b.width, b.height]).toEqual([504, 336]);
    expect(b.plans[0].steps).toEqual([]);
    const c = b.plans[1].steps[0];
    expect(c.op === 'crop' && [c.left, c.top]).toEqual([0, 21]);
  });

  it('mixed-batch intrinsics match the fixture (1e-5 relative, bit for bit in float32)', () => {
    const b = planBatch(
      [
        { width: 640, height: 430 },
        { width: 200, height: 301 },
      ],
      { processRes: 140 },
    );
    const Ks = [T.input_intrinsics.data as Float32Array, T['mixed_batch.input2_intrinsics'].data as Float32Array];
    const got = new Float32Array(18);
    b.plans.forEach((p, i) => {
      got.set(adjustIntrinsics(Ks[i], p), i * 9);
    });
    expectClose(got, asFloat64(T['mixed_batch.intrinsics']), { atol: 0, rtol: 1e-5 }, 'mixed_batch.intrinsics');
    expect(Array.from(got)).toEqual(Array.from(T['mixed_batch.intrinsics'].data as Float32Array));
  });

  it('rejects an empty batch and reports the failing view', () => {
    expectThrows(() => planBatch([]), 'EMPTY_INPUT');
    expectThrows(() => planBatch([{ width: 10, height: 10 }, { width: 0, height: 5 }]), 'EMPTY_INPUT', /image 1/);
  });
});

describe('adjustIntrinsics', () => {
  const plan = planPreprocess(640, 430); // 640×430 → 504×339 → 504×336

  it('scales whole rows 0 and 1 (skew included), leaves row 2, no half-pixel shift', () => {
    const K = [500, 3, 320, 0, 510, 215, 0, 0, 1];
    const sx = 504 / 640;
    const sy = (339 / 430) * (336 / 339);
    const got = adjustIntrinsics(K, plan);
    expectClose(got, [500 * sx, 3 * sx, 320 * sx, 0, 510 * sy, 215 * sy, 0, 0, 1], { atol: 1e-12, rtol: 1e-6 }, 'K');
    expect(got).toBeInstanceOf(Float32Array);
  });

  it('subtracts crop offsets from cx, cy only', () => {
    const p = planPreprocess(504, 377, { method: 'upper_bound_crop' }); // crop top 6
    expect(Array.from(adjustIntrinsics([400, 0, 252, 0, 400, 188.5, 0, 0, 1], p))).toEqual([400, 0, 252, 0, 400, 182.5, 0, 0, 1]);
  });

  it('computes in float32 for a Float32Array and in float64 otherwise, like numpy', () => {
    const b = planBatch(
      [
        { width: 640, height: 430 },
        { width: 200, height: 301 },
      ],
      { processRes: 140 },
    );
    const K2 = T['mixed_batch.input2_intrinsics'].data as Float32Array;
    const f32 = adjustIntrinsics(K2, b.plans[1]);
    const f64 = adjustIntrinsics(Array.from(K2), b.plans[1]);
    // fx = 210 · 93/200 · 98/93: float32 steps give 102.89999…, float64 steps round to 102.90000…
    expect(f32[0]).toBe(Math.fround(102.89999389648438));
    expect(f64[0]).toBe(Math.fround(210 * (93 / 200) * (98 / 93)));
    expect(f32[0]).not.toBe(f64[0]);
    expectClose(f32, f64, { atol: 0, rtol: 1e-6 }, 'f32 vs f64');
  });

  it('validates K', () => {
    expectThrows(() => adjustIntrinsics([1, 2, 3], plan), 'BAD_SHAPE');
    expectThrows(() => adjustIntrinsics([1, 0, Number.NaN, 0, 1, 0, 0, 0, 1], plan), 'NON_FINITE', /K\[2\]/);
  });
});
