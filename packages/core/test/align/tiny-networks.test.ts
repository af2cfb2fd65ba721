import { alignNestedToMetric, monoSkyFill } from '@da3js/core';
import { describe, expect, it } from 'vitest';
import { asFloat64, loadTensors } from '../helpers/fixtures.js';
import { EXACT, F32_REL, expectParity } from './parity.js';

// The post-network maths on real (tiny) network outputs, fed from the fixture's head outputs.

describe.each(['mono', 'multi'])('mono sky fill vs tiny-mono/%s (head_out.depth + sky → out.depth)', (name) => {
  it('sky pixels get q0.99 of non-sky depth over all views together', async () => {
    const out = await loadTensors(`tiny-mono/${name}/outputs.safetensors`);
    const r = monoSkyFill(out['head_out.depth'].data as Float32Array, out['out.sky'].data as Float32Array);
    expect(r.applied).toBe(true);
    expectParity(r.depth, asFloat64(out['out.depth']), F32_REL, `tiny-mono/${name}.out.depth`);
  });
});

describe('Nested alignment vs tiny-nested/multi (call-order intermediates)', async () => {
  const out = await loadTensors('tiny-nested/multi/outputs.safetensors');
  const shape = out['out.depth'].shape; // [1, 3, 56, 84]
  const metricFill = monoSkyFill(out['da3_metric.head_out.depth'].data as Float32Array, out['da3_metric.head_out.sky'].data as Float32Array);

  it('metric branch sky fill (set_sky_regions_to_max_depth call0)', () => {
    expect(metricFill.applied).toBe(true);
    expectParity(metricFill.depth, asFloat64(out['nested.set_sky_regions_to_max_depth.call0.out0']), F32_REL, 'tiny-nested.metric_sky_fill');
  });

  it('metric scaling, masks, scale, final depth and conf', () => {
    const r = alignNestedToMetric({
      depth: out['da3.head_out.depth'].data as Float32Array,
      conf: out['da3.head_out.depth_conf'].data as Float32Array,
      // Only the translation column is scaled; the pre-scale extrinsics are not stored, so they are not compared.
      extrinsics: out['out.extrinsics'].data as Float32Array,
      intrinsics: out['out.intrinsics'].data as Float32Array,
      metricDepth: out['nested.set_sky_regions_to_max_depth.call0.out0'].data as Float32Array,
      metricSky: out['da3_metric.head_out.sky'].data as Float32Array,
      shape,
    });
    expectParity(r.metricDepthScaled, asFloat64(out['nested.apply_metric_scaling.call0.out0']), F32_REL, 'tiny-nested.apply_metric_scaling');
    expectParity(r.nonSkyMask, asFloat64(out['nested.compute_sky_mask.call0.out0']), EXACT, 'tiny-nested.compute_sky_mask');
    expect(out['nested.sample_tensor_for_quantile.call0.out0'].shape).toEqual([r.nonSkyMask.reduce((a, b) => a + b, 0)]);
    expectParity(r.alignMask, asFloat64(out['nested.compute_alignment_mask.call0.out0']), EXACT, 'tiny-nested.compute_alignment_mask');
    // A float32 value computed by the reference with a BLAS sdot (summation order unknowable): one
    // float32 ulp apart here, so float32 tolerance; it carries into depth at float32 rounding.
    expectParity([r.scaleFactor], asFloat64(out['nested.least_squares_scale_scalar.call0.out0']), F32_REL, 'tiny-nested.least_squares_scale');
    expectParity(r.depth, asFloat64(out['out.depth']), F32_REL, 'tiny-nested.out.depth');
    expectParity(r.conf, asFloat64(out['out.depth_conf']), F32_REL, 'tiny-nested.out.depth_conf');
  });
});
