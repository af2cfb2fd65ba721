import { type ImageU8, MAX_PROCESSED_SIDE, type ModelKind, runInference } from '@da3js/core';
import { ROPE_MAX_POSITION } from '@da3js/core/graph';
import { describe, expect, it } from 'vitest';
import { expectClose } from '../../../../test-utils/compare.js';
import { fixtureModel } from '../../../../test-utils/ort-model.js';
import { fixtureCase } from '../model/parity-helpers.js';

/**
 * The whole inference (preprocess → graph → post-process) against the reference API's
 * `Prediction` (`pred.*`) for every tiny case, from the fixture's uint8 images.
 */
const NET = { atol: 1e-4, rtol: 1e-4 };
const POSE = { atol: 1e-5, rtol: 1e-5 };

function images(u8: { data: unknown; shape: number[] }): ImageU8[] {
  const [S, H, W] = u8.shape;
  const data = u8.data as Uint8Array;
  return Array.from({ length: S }, (_, s) => ({ data: data.subarray(s * H * W * 3, (s + 1) * H * W * 3), width: W, height: H, channels: 3 as const }));
}

/** Which `pred.*` keys each case's Prediction has (explicit, so a renamed key fails instead of being skipped). */
const CAMERAS = ['pred.conf', 'pred.extrinsics', 'pred.intrinsics'] as const;
const SKY = ['pred.sky'] as const;

describe.each([
  ['anyview', 'tiny', 'mono', CAMERAS, [1, 5]],
  ['anyview', 'tiny', 'multi', CAMERAS, [1, 5]],
  ['mono', 'tiny-mono', 'mono', SKY, [2]],
  ['mono', 'tiny-mono', 'multi', SKY, [2]],
  ['nested', 'tiny-nested', 'multi', CAMERAS, []],
] as [ModelKind, string, string, readonly string[], number[]][])('runInference %s %s/%s', (kind, dir, name, keys, featLayers) => {
  it('returns the reference Prediction', async () => {
    const { inputs, outputs } = await fixtureCase(dir, name);
    const stored = Object.keys(outputs).filter((k) => /^pred\.(conf|extrinsics|intrinsics|sky)$/.test(k));
    expect(stored.sort()).toEqual([...keys].sort());
    expect(Object.keys(outputs).filter((k) => k.startsWith('pred.aux.feat_layer_')).sort()).toEqual(featLayers.map((l) => `pred.aux.feat_layer_${l}`));
    const model = await fixtureModel(kind, { exportFeatLayers: featLayers });
    try {
      const pred = await runInference(model, images(inputs.image_u8), { processRes: 84 });
      expect([pred.views, pred.height, pred.width]).toEqual(outputs['pred.depth'].shape);
      expect(Array.from(pred.processedImages)).toEqual(Array.from(outputs['pred.processed_images'].data as Uint8Array));
      expectClose(pred.depth, outputs['pred.depth'].data as Float32Array, NET, 'pred.depth');
      if (keys === CAMERAS) {
        expectClose(pred.conf!, outputs['pred.conf'].data as Float32Array, NET, 'pred.conf');
        expectClose(pred.extrinsics!, outputs['pred.extrinsics'].data as Float32Array, POSE, 'pred.extrinsics');
        expectClose(pred.intrinsics!, outputs['pred.intrinsics'].data as Float32Array, POSE, 'pred.intrinsics');
        if (kind === 'nested') {
          // The reference's Nested Prediction exposes no sky mask (its issue #228); da3js adds the
          // metric branch's one (sky ≥ 0.5), checked here against that branch's stored sky head.
          const metricSky = outputs['da3_metric.head_out.sky'].data as Float32Array;
          expect(Array.from(pred.sky!)).toEqual(Array.from(metricSky, (v) => (v >= 0.5 ? 1 : 0)));
        } else {
          expect(pred.sky).toBeNull();
        }
      } else {
        expect(Array.from(pred.sky!)).toEqual(Array.from(outputs['pred.sky'].data as Uint8Array));
        expect([pred.conf, pred.extrinsics, pred.intrinsics]).toEqual([null, null, null]);
      }
      for (const l of featLayers) {
        expectClose(pred.aux[`feat_layer_${l}`].data, outputs[`pred.aux.feat_layer_${l}`].data as Float32Array, NET, `feat_layer_${l}`);
      }
      if (kind === 'nested') {
        expect(pred.isMetric).toBe(true);
        expect(pred.scaleFactor).toBeGreaterThan(0);
      }
    } finally {
      await model.dispose();
    }
  });
});

describe('runInference with known cameras (tiny/posed)', () => {
  it.each([
    [true, 'pred'],
    [false, 'pred_noscale'],
  ] as const)('alignToInputExtScale=%s equals %s.*', async (alignToInputExtScale, prefix) => {
    const { inputs, outputs } = await fixtureCase('tiny', 'posed');
    const model = await fixtureModel('anyview');
    try {
      const pred = await runInference(model, images(inputs.image_u8), {
        processRes: 84,
        extrinsics: inputs.extrinsics_input.data as Float32Array,
        intrinsics: inputs.intrinsics_input.data as Float32Array,
        alignToInputExtScale,
      });
      expectClose(pred.depth, outputs[`${prefix}.depth`].data as Float32Array, NET, `${prefix}.depth`);
      expectClose(pred.extrinsics!, (outputs[`${prefix}.extrinsics`].data as Float32Array).filter((_, i) => outputs[`${prefix}.extrinsics`].shape[1] === 3 || i % 16 < 12), POSE, `${prefix}.extrinsics`);
      expectClose(pred.intrinsics!, outputs[`${prefix}.intrinsics`].data as Float32Array, POSE, `${prefix}.intrinsics`);
    } finally {
      await model.dispose();
    }
  });
});

describe('runInference with ray pose (tiny/multi, replayed RANSAC draws)', () => {
  it('equals raypose.out.extrinsics / intrinsics at 1e-3 relative', async () => {
    const { inputs, outputs } = await fixtureCase('tiny', 'multi');
    const model = await fixtureModel('anyview');
    try {
      const pred = await runInference(model, images(inputs.image_u8), {
        processRes: 84,
        useRayPose: true,
        rayPose: { draws: outputs['raypose.rand_sample_iters_idx'].data as BigInt64Array },
      });
      expectClose(pred.extrinsics!, outputs['raypose.out.extrinsics'].data as Float32Array, { atol: 1e-3, rtol: 1e-3 }, 'raypose extrinsics');
      expectClose(pred.intrinsics!, outputs['raypose.out.intrinsics'].data as Float32Array, { atol: 1e-3, rtol: 1e-3 }, 'raypose intrinsics');
    } finally {
      await model.dispose();
    }
  });
});

describe('runInference input size limit', () => {
  it('refuses inputs beyond the processed-size limits, which lie inside the RoPE tables (1024 patches), before running anything', async () => {
    expect(MAX_PROCESSED_SIDE).toBeLessThanOrEqual(ROPE_MAX_POSITION * 14 - 14);
    let ran = false;
    const loaded = await fixtureModel('anyview');
    await loaded.dispose();
    const model = {
      config: loaded.config,
      kind: 'anyview' as const,
      runner: async () => {
        ran = true;
        return { run: async () => ({}) };
      },
    };
    const wide: ImageU8 = { data: new Uint8Array(14 * 15_000 * 3), width: 15_000, height: 14, channels: 3 };
    await expect(runInference(model, [wide], { processRes: 15_000 })).rejects.toMatchObject({ code: 'BAD_VALUE', message: expect.stringMatching(/MAX_PROCESS_RES/) });
    await expect(runInference(model, [wide], { processRes: 4096, processResMethod: 'lower_bound_resize' })).rejects.toMatchObject({ code: 'OUT_OF_RANGE' });
    expect(ran).toBe(false);
  });
});
