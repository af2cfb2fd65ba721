import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  type Gaussians,
  type NetConfig,
  alignToInputPoses,
  encodeOnnxModel,
  gaussianPoseScale,
  gaussiansFromRawMap,
  loadConfig,
  normalizeExtrinsicsForConditioning,
  posesFromCameraHead,
} from '@da3js/core';
import { buildNetGraph } from '@da3js/core/graph';
import * as ort from 'onnxruntime-node';
import { beforeAll, describe, expect, it } from 'vitest';
import { expectParity } from '../helpers/compare.js';
import { FIXTURES, type FixtureTensor } from '../helpers/fixtures.js';
import { NET_TOL, compareOutputs, fixtureCase, fixtureWeights } from './parity-helpers.js';

/**
 * The GIANT-only code paths against the reference (fixtures/tiny-giant, README §8): the SwiGLU
 * backbone, the GS head (GSDPT) with every intermediate the fixture stores, the camera decoding,
 * the Umeyama pose scale of posed input, and the Gaussian adapter — its intermediates
 * (`gs_adapter.*`) and its output (`out.gaussians.*` = `pred.gaussians.*`) — at the README §5
 * tolerance |a − b| ≤ 1e-4 + 1e-4·|b|. Each case runs the graph once (`gaussians`, every tap),
 * then the host-side steps on its outputs; the adapter also runs alone on the reference's own
 * inputs, so a disagreement is pinned to the network or to the adapter.
 */

const CASES = [
  { name: 'multi', posed: false },
  { name: 'posed', posed: true },
] as const;

type Outputs = Record<string, FixtureTensor>;
const f32 = (t: FixtureTensor) => t.data as Float32Array;

/** The reference's quaternions are scalar first ([w, x, y, z], what gsplat renders); ours xyzw. */
function wxyzFromXyzw(q: Float32Array): Float32Array {
  const out = new Float32Array(q.length);
  for (let i = 0; i < q.length; i += 4) out.set([q[i + 3], q[i], q[i + 1], q[i + 2]], i);
  return out;
}

/** e3nn 0.5 `matrix_to_angles` (Y–X–Y Euler angles) of row-major 3×3 rotations, for the `rotate_sh.alpha/beta/gamma` taps. */
function e3nnAngles(rs: Float64Array): { alpha: Float64Array; beta: Float64Array; gamma: Float64Array } {
  const n = rs.length / 9;
  const alpha = new Float64Array(n);
  const beta = new Float64Array(n);
  const gamma = new Float64Array(n);
  for (let v = 0; v < n; v++) {
    const r = rs.subarray(9 * v, 9 * v + 9);
    // x = R·ŷ, normalised; β = acos(x_y), α = atan2(x_x, x_z)
    const len = Math.hypot(r[1], r[4], r[7]);
    const [x, y, z] = [r[1] / len, r[4] / len, r[7] / len].map((c) => Math.min(1, Math.max(-1, c)));
    const a = Math.atan2(x, z);
    const b = Math.acos(y);
    // R' = (R_y(α)·R_x(β))ᵀ·R; γ = atan2(R'[0][2], R'[0][0])
    const ca = Math.cos(a), sa = Math.sin(a), cb = Math.cos(b), sb = Math.sin(b);
    const m = [ca, sa * sb, sa * cb, 0, cb, -sb, -sa, ca * sb, ca * cb]; // R_y(α)·R_x(β)
    const row0 = (c: number) => m[0] * r[c] + m[3] * r[3 + c] + m[6] * r[6 + c];
    alpha[v] = a;
    beta[v] = b;
    gamma[v] = Math.atan2(row0(2), row0(0));
  }
  return { alpha, beta, gamma };
}

function compareGaussians(g: Gaussians, outputs: Outputs, prefix: 'out.gaussians' | 'pred.gaussians', label: string): void {
  expectParity(g.means, f32(outputs[`${prefix}.means`]), NET_TOL, `${label} ${prefix}.means`);
  expectParity(g.scales, f32(outputs[`${prefix}.scales`]), NET_TOL, `${label} ${prefix}.scales`);
  expectParity(wxyzFromXyzw(g.rotations), f32(outputs[`${prefix}.rotations`]), NET_TOL, `${label} ${prefix}.rotations`);
  expectParity(g.harmonics, f32(outputs[`${prefix}.harmonics`]), NET_TOL, `${label} ${prefix}.harmonics`);
  expectParity(g.opacities, f32(outputs[`${prefix}.opacities`]), NET_TOL, `${label} ${prefix}.opacities`);
}

describe.each(CASES)('tiny-giant/$name: GS head, pose scale and Gaussian adapter vs the reference', ({ name, posed }) => {
  let inputs: Outputs;
  let outputs: Outputs;
  let got: Record<string, ort.Tensor>;
  let S: number, H: number, W: number;
  let featLayers: number[];

  beforeAll(async () => {
    const cfg = loadConfig(readFileSync(join(FIXTURES, 'tiny-giant', 'config.json'), 'utf8')) as NetConfig;
    ({ inputs, outputs } = await fixtureCase('tiny-giant', name));
    [, S, H, W] = outputs['head_out.depth'].shape;
    featLayers = Object.keys(outputs)
      .filter((k) => k.startsWith('out.aux.feat_layer_'))
      .map((k) => Number(k.slice('out.aux.feat_layer_'.length)));
    const model = buildNetGraph(cfg, await fixtureWeights('tiny-giant'), { gaussians: true, taps: true, poseConditioned: posed, exportFeatLayers: featLayers });
    const session = await ort.InferenceSession.create(await encodeOnnxModel(model));
    const feeds: Record<string, ort.Tensor> = { images: new ort.Tensor('float32', f32(inputs.x), inputs.x.shape) };
    if (posed) {
      feeds.extrinsics = new ort.Tensor('float32', f32(inputs.extrinsics_normalized), inputs.extrinsics_normalized.shape);
      feeds.intrinsics = new ort.Tensor('float32', f32(inputs.intrinsics), inputs.intrinsics.shape);
    }
    got = await session.run(feeds);
    await session.release();
  });

  it('graph: every stored backbone, camera, DualDPT and GS-head tensor, and the raw GS map', () => {
    const stored = Object.keys(outputs).filter((k) => /^(backbone|head|cam_enc|cam_dec|gs_head)\./.test(k) && !k.startsWith('backbone.rope_pos'));
    expect(stored.filter((k) => !got[k])).toEqual([]);
    expect(stored.filter((k) => k.startsWith('gs_head.')).length).toBeGreaterThanOrEqual(posed ? 5 : 7);
    compareOutputs(got, outputs, stored);
    const contract: Record<string, string> = { depth: 'head_out.depth', depth_conf: 'head_out.depth_conf', ray: 'head_out.ray', ray_conf: 'head_out.ray_conf', pose_enc: 'cam_dec.pose_enc' };
    for (const l of featLayers) contract[`feat_${l}`] = `out.aux.feat_layer_${l}`;
    compareOutputs(Object.fromEntries(Object.entries(contract).map(([o, ref]) => [ref, got[o]])), outputs, Object.values(contract));

    // gs_raw [1, S, H, W, 38] = raw_gs (37 channels) + the density logit (raw_gs_conf = sigmoid).
    expect(got.gs_raw.dims).toEqual([1, S, H, W, 38]);
    const raw = got.gs_raw.data as Float32Array;
    const n = S * H * W;
    const raw37 = new Float32Array(37 * n);
    const conf = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      raw37.set(raw.subarray(38 * i, 38 * i + 37), 37 * i);
      conf[i] = 1 / (1 + Math.exp(-raw[38 * i + 37]));
    }
    expectParity(raw37, f32(outputs['gs_head_out.raw_gs']), NET_TOL, `${name} gs_head_out.raw_gs`);
    expectParity(conf, f32(outputs['gs_head_out.raw_gs_conf']), NET_TOL, `${name} gs_head_out.raw_gs_conf`);
    // map_pdf_to_opacity with exponent 1 is the identity up to rounding.
    expectParity(conf, f32(outputs['gs_adapter.in.opacities']), NET_TOL, `${name} gs_adapter.in.opacities`);
  });

  it('host: cameras, pose scale, every adapter intermediate, and the Gaussians (out.* and pred.*)', () => {
    const poses = posesFromCameraHead(got.pose_enc.data as Float32Array, H, W);
    expectParity(poses.extrinsics, f32(outputs['out.extrinsics']), { atol: 1e-5 }, `${name} out.extrinsics`);
    expectParity(poses.intrinsics, f32(outputs['out.intrinsics']), { atol: 1e-5, rtol: 1e-5 }, `${name} out.intrinsics`);
    const inExt = f32(outputs['gs_adapter.in.extrinsics']);
    for (let v = 0; v < S; v++) expectParity(poses.extrinsics.subarray(12 * v, 12 * v + 12), inExt.subarray(16 * v, 16 * v + 12), { atol: 1e-5 }, `${name} gs_adapter.in.extrinsics`);

    let poseScale = 1;
    if (posed) {
      const given = f32(inputs.extrinsics_normalized);
      expect(Array.from(given)).toEqual(Array.from(f32(outputs['gs_adapter.in.gt_extrinsics'])));
      const ps = gaussianPoseScale(given, poses.extrinsics, S);
      expect(ps.method).toBe('umeyama');
      expectParity([ps.scale], f32(outputs['gs_adapter.umeyama.scale']), NET_TOL, `${name} gs_adapter.umeyama.scale`);
      expectParity(ps.R!, f32(outputs['gs_adapter.umeyama.R']), NET_TOL, `${name} gs_adapter.umeyama.R`);
      expectParity(ps.t!, f32(outputs['gs_adapter.umeyama.t']), NET_TOL, `${name} gs_adapter.umeyama.t`);
      expect(ps.scale).toBeGreaterThan(2); // README §8: 2.232, inside the clamp
      poseScale = ps.scale;
    }

    const taps: Record<string, Float64Array> = {};
    const g = gaussiansFromRawMap({
      raw: got.gs_raw.data as Float32Array,
      depth: got.depth.data as Float32Array,
      extrinsics: poses.extrinsics,
      intrinsics: poses.intrinsics,
      views: S,
      height: H,
      width: W,
      poseScale,
      taps: (tapName, data) => void (taps[`gs_adapter.${tapName}`] = data),
    });
    const angles = e3nnAngles(taps['gs_adapter.rotate_sh.R_so3_yzx']);
    for (const a of ['alpha', 'beta', 'gamma'] as const) taps[`gs_adapter.rotate_sh.${a}`] = angles[a];
    const stored = Object.keys(outputs).filter((k) => k.startsWith('gs_adapter.') && !k.startsWith('gs_adapter.in.') && !k.startsWith('gs_adapter.umeyama.'));
    expect(stored.filter((k) => !taps[k])).toEqual([]);
    expect(stored.length).toBeGreaterThanOrEqual(posed ? 14 : 15);
    for (const k of stored) expectParity(taps[k], f32(outputs[k]), NET_TOL, `${name} ${k}`);
    expect(taps['gs_adapter.pose_scale'][0]).toBe(Math.min(3, Math.max(1 / 3, poseScale)));

    compareGaussians(g, outputs, 'out.gaussians', name);
    compareGaussians(g, outputs, 'pred.gaussians', name);
  });

  it.runIf(posed)('posed API steps: the normalised input cameras, and the API’s own Umeyama (pred.align.*), which leaves the Gaussians alone', () => {
    const normalized = normalizeExtrinsicsForConditioning(f32(inputs.extrinsics_input), S).w2c;
    expectParity(normalized, f32(outputs['api.extrinsics_normalized']), { atol: 1e-6 }, 'posed api.extrinsics_normalized');
    expectParity(normalized, f32(inputs.extrinsics_normalized), { atol: 1e-6 }, 'posed inputs.extrinsics_normalized');
    expect(Array.from(f32(outputs['api.intrinsics_in']))).toEqual(Array.from(f32(inputs.intrinsics)));
    const r = alignToInputPoses({
      predExtrinsics: f32(outputs['out.extrinsics']),
      inputExtrinsics: f32(inputs.extrinsics_input),
      inputIntrinsics: f32(inputs.intrinsics_input),
      depth: f32(outputs['head_out.depth']),
      views: S,
    });
    // numpy runs this Umeyama on float32 arrays (its float32 covariance sums in its own order):
    // float32-level agreement, not the 1e-9 of float64 geometry.
    const f64 = (k: string) => outputs[k].data as Float64Array;
    const F32_GEOM = { atol: 1e-6, rtol: 1e-6 };
    expectParity(r.R, f64('pred.align.R'), F32_GEOM, 'posed pred.align.R');
    expectParity(r.t, f64('pred.align.t'), F32_GEOM, 'posed pred.align.t');
    expectParity([r.scale], f64('pred.align.scale'), F32_GEOM, 'posed pred.align.scale');
    expectParity(r.alignedExtrinsics, f64('pred.align.aligned_extrinsics'), F32_GEOM, 'posed pred.align.aligned_extrinsics');
    expectParity(r.depth, f32(outputs['pred.depth']), { atol: 0, rtol: 1e-6 }, 'posed pred.depth');
    // A different alignment from the adapter's (2.232 vs 0.2874, README §8).
    expect(r.scale).toBeLessThan(0.3);
  });

  it('the adapter alone, on the reference’s own inputs', () => {
    const n = S * H * W;
    const raw = new Float32Array(38 * n);
    const raw37 = f32(outputs['gs_head_out.raw_gs']);
    const conf = f32(outputs['gs_head_out.raw_gs_conf']);
    for (let i = 0; i < n; i++) {
      raw.set(raw37.subarray(37 * i, 37 * i + 37), 38 * i);
      raw[38 * i + 37] = Math.log(conf[i] / (1 - conf[i]));
    }
    const poseScale = posed ? f32(outputs['gs_adapter.umeyama.scale'])[0] : 1;
    const g = gaussiansFromRawMap({
      raw,
      depth: f32(outputs['head_out.depth']),
      extrinsics: f32(outputs['gs_adapter.in.extrinsics']),
      intrinsics: f32(outputs['gs_adapter.in.intrinsics']),
      views: S,
      height: H,
      width: W,
      poseScale,
    });
    compareGaussians(g, outputs, 'out.gaussians', `${name} (reference inputs)`);
  });
});

describe('gaussianPoseScale', () => {
  const I = [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0];
  const cam = (cx: number, cy: number, cz: number) => [1, 0, 0, -cx, 0, 1, 0, -cy, 0, 0, 1, -cz];
  it('is the Umeyama scale from predicted to given camera centres', () => {
    const pred = [...I, ...cam(1, 0, 0), ...cam(0, 1, 0), ...cam(0, 0, 1)];
    const given = [...I, ...cam(2, 0, 0), ...cam(0, 2, 0), ...cam(0, 0, 2)];
    const r = gaussianPoseScale(given, pred, 4);
    expect(r.method).toBe('umeyama');
    expect(r.scale).toBeCloseTo(2, 5);
  });
  it('is 1 for identical cameras (torch.equal) and where the reference’s Umeyama raises (2 views, collinear centres)', () => {
    const pred = [...I, ...cam(1, 0, 0), ...cam(0, 1, 0)];
    expect(gaussianPoseScale(pred, pred, 3)).toMatchObject({ scale: 1, method: 'identical' });
    expect(gaussianPoseScale([...I, ...cam(3, 0, 0)], [...I, ...cam(1, 0, 0)], 2)).toMatchObject({ scale: 1, method: 'failed' });
    expect(gaussianPoseScale([...I, ...cam(2, 0, 0), ...cam(4, 0, 0)], [...I, ...cam(1, 0, 0), ...cam(2, 0, 0)], 3)).toMatchObject({ scale: 1, method: 'failed' });
  });
  it('refuses bad sizes and non-finite cameras', () => {
    expect(() => gaussianPoseScale([1, 2, 3], I, 1)).toThrow(/givenExtrinsics must be/);
    expect(() => gaussianPoseScale(I, [...I.slice(0, 11), Number.NaN], 1)).toThrow(/finite/);
  });
});
