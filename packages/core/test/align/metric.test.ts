import {
  alignNestedToMetric,
  applyMetricScaling,
  computeAlignmentMask,
  computeNonSkyMask,
  handleSkyRegions,
  leastSquaresScale,
  medianConfidence,
  monoSkyFill,
  scaleDepthAndExtrinsics,
} from '@da3js/core';
import { describe, expect, it } from 'vitest';
import { asFloat64, loadJson, loadTensors } from '../helpers/fixtures.js';
import { EXACT, F32, F32_REL, expectParity } from './parity.js';
import { errorCode } from '../../../../test-utils/tools.js';

const DIR = 'geometry/metric_alignment';


describe('Nested metric pipeline vs geometry/metric_alignment, step by step', async () => {
  const inp = await loadTensors(`${DIR}/inputs.safetensors`);
  const out = await loadTensors(`${DIR}/outputs.safetensors`);
  const caseJson = loadJson<{ outputs: Record<string, { dtype: string }> }>(`${DIR}/case.json`);
  const shape = inp.depth.shape; // [1, 2, 20, 30]
  const depth = inp.depth.data as Float32Array;
  const conf = inp.depth_conf.data as Float32Array;
  const K = inp.intrinsics.data as Float32Array;
  const ext = inp.extrinsics.data as Float32Array;
  const metricDepth = inp.metric_depth.data as Float32Array;
  const metricSky = inp.metric_sky.data as Float32Array;

  // Each step consumes the fixture's previous intermediate, so a failure points at one step.
  it('1. metric scaling with the any-view K: depth·((fx+fy)/2)/300', () => {
    const got = applyMetricScaling(metricDepth, K, shape);
    expectParity(got, asFloat64(out.metric_depth_scaled), F32_REL, 'metric_alignment.metric_depth_scaled');
  });

  it('2. non-sky mask sky < 0.3 (exact)', () => {
    expectParity(computeNonSkyMask(metricSky), asFloat64(out.non_sky_mask), EXACT, 'metric_alignment.non_sky_mask');
  });

  it('3. median confidence over non-sky pixels', () => {
    const got = medianConfidence(conf, out.non_sky_mask.data as Uint8Array);
    expectParity([got], asFloat64(out.median_conf), F32_REL, 'metric_alignment.median_conf');
  });

  it('4. alignment mask (exact)', () => {
    const got = computeAlignmentMask(
      conf,
      out.non_sky_mask.data as Uint8Array,
      depth,
      out.metric_depth_scaled.data as Float32Array,
      (out.median_conf.data as Float32Array)[0],
    );
    expectParity(got, asFloat64(out.align_mask), EXACT, 'metric_alignment.align_mask');
  });

  it('5. least-squares scale over the mask (a float32 value stored as F64 by .item())', () => {
    expect(caseJson.outputs.scale_factor.dtype).toBe('F64');
    const a = out.metric_depth_scaled.data as Float32Array;
    const mask = out.align_mask.data as Uint8Array;
    // The reference computed s in float32 (torch.dot on float32 tensors); `.item()` only widened
    // it. The stored value is a float32 number, and the float32 mode reproduces it bit for bit
    // here (in general it can be one ulp off: the reference's BLAS sdot order is unknown).
    const want = asFloat64(out.scale_factor)[0];
    expect(Math.fround(want)).toBe(want);
    expectParity([leastSquaresScale(a, depth, mask, { precision: 'float32' })], [want], EXACT, 'metric_alignment.scale_factor');
    // float64 mode: the unrounded least-squares value, within float32 rounding of it.
    expectParity([leastSquaresScale(a, depth, mask)], [want], F32_REL, 'metric_alignment.scale_factor_f64');
  });

  it('6. depth and extrinsics translation × s', () => {
    const s = asFloat64(out.scale_factor)[0];
    const got = scaleDepthAndExtrinsics(depth, ext, shape, s);
    expectParity(got.depth, asFloat64(out.depth_after_alignment), F32_REL, 'metric_alignment.depth_after_alignment');
    expectParity(got.extrinsics, asFloat64(out.extrinsics_after_alignment), F32, 'metric_alignment.extrinsics_after_alignment');
  });

  it('7. sky: depth[sky] = min(q0.99(non-sky depth), 200), conf[sky] = 1', () => {
    const got = handleSkyRegions(out.depth_after_alignment.data as Float32Array, conf, out.non_sky_mask.data as Uint8Array);
    expectParity(got.depth, asFloat64(out.depth_final), F32_REL, 'metric_alignment.depth_final');
    expectParity(got.conf ?? [], asFloat64(out.depth_conf_final), F32_REL, 'metric_alignment.depth_conf_final');
  });

  it('whole pipeline (alignNestedToMetric) reproduces every intermediate', () => {
    const r = alignNestedToMetric({ depth, conf, extrinsics: ext, intrinsics: K, metricDepth, metricSky, shape });
    expectParity(r.metricDepthScaled, asFloat64(out.metric_depth_scaled), F32_REL, 'nested.metric_depth_scaled');
    expectParity(r.nonSkyMask, asFloat64(out.non_sky_mask), EXACT, 'nested.non_sky_mask');
    expectParity([r.medianConf], asFloat64(out.median_conf), F32_REL, 'nested.median_conf');
    expectParity(r.alignMask, asFloat64(out.align_mask), EXACT, 'nested.align_mask');
    expectParity([r.scaleFactor], asFloat64(out.scale_factor), EXACT, 'nested.scale_factor');
    expectParity(r.depthAfterAlignment, asFloat64(out.depth_after_alignment), F32_REL, 'nested.depth_after_alignment');
    expectParity(r.extrinsicsAfterAlignment, asFloat64(out.extrinsics_after_alignment), F32, 'nested.extrinsics_after_alignment');
    expectParity(r.depth, asFloat64(out.depth_final), F32_REL, 'nested.depth_final');
    expectParity(r.conf, asFloat64(out.depth_conf_final), F32_REL, 'nested.depth_conf_final');
    // The sky value is capped at 200 only above it; here it is the 0.99 quantile.
    expect(r.skyDepth).toBeLessThan(200);
  });

  it('mono sky fill: q0.99 of non-sky depth over both views together', () => {
    const r = monoSkyFill(depth, metricSky);
    expect(r.applied).toBe(true);
    expectParity(r.depth, asFloat64(out.mono_depth_final), F32_REL, 'metric_alignment.mono_depth_final');
  });
});

describe('metric / sky behaviour and bad inputs', () => {
  it('sky depth is capped at 200 in the Nested sky handling, not in the mono fill', () => {
    const depth = Float32Array.from({ length: 40 }, (_, i) => 300 + i);
    const sky = Float32Array.from({ length: 40 }, (_, i) => (i < 20 ? 0.9 : 0.1));
    const nonSky = computeNonSkyMask(sky);
    expect(handleSkyRegions(depth, null, nonSky).skyDepth).toBe(200);
    const mono = monoSkyFill(depth, sky);
    expect(mono.applied).toBe(true);
    expect(mono.skyDepth).toBeGreaterThan(300);
  });

  it('mono sky fill is skipped unless both classes have more than 10 pixels', () => {
    const depth = Float32Array.from({ length: 30 }, (_, i) => i + 1);
    const sky10 = Float32Array.from({ length: 30 }, (_, i) => (i < 10 ? 0.9 : 0.1)); // exactly 10 sky
    const r = monoSkyFill(depth, sky10);
    expect(r.applied).toBe(false);
    expect(r.depth).toBe(depth);
    const sky11 = Float32Array.from({ length: 30 }, (_, i) => (i < 11 ? 0.9 : 0.1));
    expect(monoSkyFill(depth, sky11).applied).toBe(true);
  });

  it('least-squares scale: hand value and eps clamp', () => {
    expect(leastSquaresScale([2, 4, 6], [1, 2, 3])).toBe(2);
    expect(leastSquaresScale([2, 4, 100], [1, 2, 3], [1, 1, 0])).toBe(2);
    expect(leastSquaresScale([1], [0])).toBe(0); // den clamped to 1e-12, num 0
  });

  it('empty mask → EMPTY_INPUT', () => {
    expect(errorCode(() => leastSquaresScale([1, 2], [1, 2], [0, 0]))).toBe('EMPTY_INPUT');
    expect(errorCode(() => handleSkyRegions(Float32Array.of(1, 2), null, [0, 0]))).toBe('EMPTY_INPUT');
  });

  it('too few non-sky pixels for the Nested alignment → EMPTY_INPUT', () => {
    const n = 2 * 4 * 5;
    const ones = new Float32Array(n).fill(1);
    const sky = new Float32Array(n).fill(0.9);
    sky.fill(0.1, 0, 10); // 10 non-sky pixels: the reference asserts > 10
    const K = Float32Array.of(100, 0, 2.5, 0, 100, 2, 0, 0, 1, 100, 0, 2.5, 0, 100, 2, 0, 0, 1);
    const ext = new Float32Array(24);
    expect(
      errorCode(() => alignNestedToMetric({ depth: ones, conf: ones, extrinsics: ext, intrinsics: K, metricDepth: ones, metricSky: sky, shape: [1, 2, 4, 5] })),
    ).toBe('EMPTY_INPUT');
  });

  it('mismatched shapes → BAD_SHAPE', () => {
    expect(errorCode(() => applyMetricScaling(new Float32Array(12), new Float32Array(9), [2, 2, 3]))).toBe('BAD_SHAPE');
    expect(errorCode(() => applyMetricScaling(new Float32Array(12), new Float32Array(18), [2, 2, 2]))).toBe('BAD_SHAPE');
    expect(errorCode(() => leastSquaresScale([1, 2], [1]))).toBe('BAD_SHAPE');
    expect(errorCode(() => scaleDepthAndExtrinsics(new Float32Array(8), new Float32Array(20), [2, 2, 2], 1))).toBe('BAD_SHAPE');
  });

  it('NaN → NON_FINITE', () => {
    expect(errorCode(() => leastSquaresScale([1, Number.NaN], [1, 2]))).toBe('NON_FINITE');
    expect(errorCode(() => computeNonSkyMask(Float32Array.of(0.1, Number.NaN)))).toBe('NON_FINITE');
    expect(errorCode(() => applyMetricScaling(new Float32Array(4), Float32Array.of(Number.NaN, 0, 0, 0, 1, 0, 0, 0, 1), [1, 2, 2]))).toBe('NON_FINITE');
  });
});
