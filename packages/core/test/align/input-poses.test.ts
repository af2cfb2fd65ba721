import { alignPosesUmeyama, alignToInputPoses, applySim3ToExtrinsics, createPrng, isDa3Error } from '@da3js/core';
import { describe, expect, it } from 'vitest';
import { asFloat64, loadJson, loadTensors } from '../helpers/fixtures.js';
import { EXACT, F64, F32_REL, expectParity } from './parity.js';

const DIR = 'tiny/posed';

interface CaseJson {
  outputs: Record<string, { shape: number[]; dtype: string; same_values_as?: string }>;
}

describe('pose-conditioned alignment vs tiny/posed (api.py _align_to_input_extrinsics_intrinsics)', async () => {
  const inp = await loadTensors(`${DIR}/inputs.safetensors`);
  const out = await loadTensors(`${DIR}/outputs.safetensors`);
  const cj = loadJson<CaseJson>(`${DIR}/case.json`);
  const views = 3;
  // What the reference hands to align_poses_umeyama: the network's float32 (S,3,4) extrinsics and
  // the user's float32 (S,4,4) extrinsics (before normalisation).
  const predExtrinsics = out['out.extrinsics'].data as Float32Array;
  const inputExtrinsics = inp.extrinsics_input.data as Float32Array;
  const inputIntrinsics = inp.intrinsics_input.data as Float32Array;
  const depth = out['out.depth'].data as Float32Array;

  it('the fixture stores what this test reads', () => {
    expect(inp.extrinsics_input.shape).toEqual([3, 4, 4]);
    expect(inp.extrinsics_input.dtype).toBe('F32');
    expect(out['out.extrinsics'].shape).toEqual([1, 3, 3, 4]);
    expect(cj.outputs['pred_noscale.depth'].same_values_as).toBe('out.depth');
  });

  it('align_to_input_ext_scale=True: Umeyama R, t, scale; depth / scale; the user’s extrinsics and K', () => {
    const r = alignToInputPoses({ predExtrinsics, inputExtrinsics, inputIntrinsics, depth, views });
    expect(r.method).toBe('umeyama');
    expectParity(r.R, asFloat64(out['pred.align.R']), F64, 'posed.pred.align.R');
    expectParity(r.t, asFloat64(out['pred.align.t']), F64, 'posed.pred.align.t');
    expectParity([r.scale], asFloat64(out['pred.align.scale']), F64, 'posed.pred.align.scale');
    expectParity(r.alignedExtrinsics, asFloat64(out['pred.align.aligned_extrinsics']), F64, 'posed.pred.align.aligned_extrinsics');
    expectParity(r.depth, asFloat64(out['pred.depth']), F32_REL, 'posed.pred.depth');
    expectParity(r.extrinsics, asFloat64(out['pred.extrinsics']), EXACT, 'posed.pred.extrinsics');
    expectParity(r.intrinsics ?? [], asFloat64(out['pred.intrinsics']), EXACT, 'posed.pred.intrinsics');
  });

  it('align_to_input_ext_scale=False: depth unchanged, extrinsics = the Sim(3)-aligned 4×4 (float64)', () => {
    const r = alignToInputPoses({ predExtrinsics, inputExtrinsics, inputIntrinsics, depth, views }, { alignToInputExtScale: false });
    expectParity(r.R, asFloat64(out['pred_noscale.align.R']), F64, 'posed.pred_noscale.align.R');
    expectParity(r.t, asFloat64(out['pred_noscale.align.t']), F64, 'posed.pred_noscale.align.t');
    expectParity([r.scale], asFloat64(out['pred_noscale.align.scale']), F64, 'posed.pred_noscale.align.scale');
    expectParity(r.alignedExtrinsics, asFloat64(out['pred_noscale.extrinsics']), F64, 'posed.pred_noscale.extrinsics');
    expect(r.depth).toBe(depth);
    // The Prediction-facing 3×4 view is the top of the same matrices.
    const top = asFloat64(out['pred_noscale.extrinsics']).filter((_, i) => i % 16 < 12);
    expectParity(r.extrinsics, top, F64, 'posed.pred_noscale.extrinsics_3x4');
  });

  it('the float32 emulation matters: all-float64 inputs land ~1e-8 away, outside 1e-9', () => {
    const r = alignPosesUmeyama(Float64Array.from(predExtrinsics), Float64Array.from(inputExtrinsics), views);
    const d = Math.abs(r.scale - asFloat64(out['pred.align.scale'])[0]);
    expect(d).toBeGreaterThan(1e-9);
    expect(d).toBeLessThan(1e-6);
  });
});

describe('alignToInputPoses: few views, RANSAC switch, bad inputs', () => {
  /** Random w2c 3×4 cameras and their images under a known Sim(3) (input → predicted frame). */
  function scene(n: number, seed: number) {
    const p = createPrng(seed);
    const g = () => Math.sqrt(-2 * Math.log(Math.max(p.next(), 1e-300))) * Math.cos(2 * Math.PI * p.next());
    const input = new Float64Array(12 * n);
    for (let i = 0; i < n; i++) {
      const a = g(), b = g(), c = g();
      // rotation from a small axis-angle via Rodrigues
      const th = Math.hypot(a, b, c), kx = a / th, ky = b / th, kz = c / th, s = Math.sin(th), co = 1 - Math.cos(th);
      const R = [1 - co * (ky * ky + kz * kz), co * kx * ky - s * kz, co * kx * kz + s * ky, co * kx * ky + s * kz, 1 - co * (kx * kx + kz * kz), co * ky * kz - s * kx, co * kx * kz - s * ky, co * ky * kz + s * kx, 1 - co * (kx * kx + ky * ky)];
      const t = [g(), g(), g()];
      for (let r = 0; r < 3; r++) {
        for (let k = 0; k < 3; k++) input[12 * i + 4 * r + k] = R[3 * r + k];
        input[12 * i + 4 * r + 3] = t[r];
      }
    }
    const sim = { R: Float64Array.of(0, -1, 0, 1, 0, 0, 0, 0, 1), t: Float64Array.of(0.5, -0.25, 2), scale: 0.4 };
    const pred = applySim3ToExtrinsics(sim, input, n); // 4×4: input cameras in the predicted frame
    return { input, pred, sim };
  }

  it('two views: documented fallback recovers scale, rotation and translation (reference crashes, #241)', () => {
    const { input, pred, sim } = scene(2, 1);
    const depth = new Float32Array(2 * 4).fill(2);
    const r = alignToInputPoses({ predExtrinsics: pred, inputExtrinsics: input, depth, views: 2 });
    expect(r.method).toBe('fallback');
    expectParity([r.scale], [sim.scale], F64, 'fallback.scale');
    expectParity(r.R, sim.R, F64, 'fallback.R');
    expectParity(r.t, sim.t, F64, 'fallback.t');
    expectParity(r.depth, new Float32Array(8).fill(Math.fround(2 / Math.fround(sim.scale))), EXACT, 'fallback.depth');
    expectParity(r.alignedExtrinsics, pred, F64, 'fallback.aligned');
  });

  it('one view: fallback with scale 1', () => {
    const { input, pred } = scene(1, 2);
    const r = alignToInputPoses({ predExtrinsics: pred, inputExtrinsics: input, depth: new Float32Array(4).fill(1), views: 1 });
    expect(r.method).toBe('fallback');
    expect(r.scale).toBe(1);
  });

  it("fewViews: 'throw' raises DEGENERATE like the reference", () => {
    const { input, pred } = scene(2, 3);
    try {
      alignToInputPoses({ predExtrinsics: pred, inputExtrinsics: input, depth: new Float32Array(2), views: 2 }, { fewViews: 'throw' });
      expect.fail('no error');
    } catch (e) {
      expect(isDa3Error(e, 'DEGENERATE')).toBe(true);
    }
  });

  it('RANSAC from 10 views on (numpySeed 42 by default), exact Sim(3) recovered', () => {
    for (const n of [9, 10, 14]) {
      const { input, pred, sim } = scene(n, 10 + n);
      const r = alignToInputPoses({ predExtrinsics: pred, inputExtrinsics: input, depth: new Float32Array(n), views: n });
      expect(r.method).toBe(n >= 10 ? 'ransac' : 'umeyama');
      expectParity([r.scale], [sim.scale], F64, `ransac-switch.scale n=${n}`);
      expectParity(r.R, sim.R, F64, `ransac-switch.R n=${n}`);
      // Same draws as the reference's default_rng(42) → same result as replaying them.
      if (n >= 10) {
        const direct = alignPosesUmeyama(pred, input, n, { ransac: { numpySeed: 42 } });
        expect(r.scale).toBe(direct.scale);
      }
    }
  });

  it('bad inputs → BAD_SHAPE / NON_FINITE / BAD_VALUE', () => {
    const { input, pred } = scene(3, 4);
    const run = (over: Record<string, unknown>) => {
      try {
        alignToInputPoses({ predExtrinsics: pred, inputExtrinsics: input, depth: new Float32Array(3), views: 3, ...over });
      } catch (e) {
        return isDa3Error(e) ? e.code : 'other';
      }
      return 'no error';
    };
    expect(run({ inputExtrinsics: input.subarray(0, 30) })).toBe('BAD_SHAPE');
    expect(run({ inputIntrinsics: new Float32Array(10) })).toBe('BAD_SHAPE');
    expect(run({ depth: new Float32Array(4) })).toBe('BAD_SHAPE');
    const nan = Float64Array.from(input);
    nan[3] = Number.NaN;
    expect(run({ inputExtrinsics: nan })).toBe('NON_FINITE');
    expect(run({ views: 2.5 })).toBe('BAD_VALUE');
  });
});
