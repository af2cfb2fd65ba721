import { type CameraEncoderConfig, type FloatPrecision, type NetConfig, encodeOnnxModel, float16ToFloat32, float32ToFloat16Bits, loadConfig, mat3ToQuatXyzw, poseEncodingFromW2c } from '@da3js/core';
import { GraphBuilder, buildCameraDecoder, buildCameraEncoder, rotationToQuaternion } from '@da3js/core/graph';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { expectClose } from '../helpers/compare.js';
import { FIXTURES, type FixtureTensor, loadTensors } from '../helpers/fixtures.js';
import { NET_TOL, compareOutputs, fixtureCase, fixtureWeights, runModel } from './parity-helpers.js';

/** Ops of the camera graphs; all implemented by the CPU, CUDA and WebGPU execution providers (opset 17). */
const PORTABLE_OPS = new Set([
  'Add', 'Atan', 'Cast', 'Concat', 'Div', 'Equal', 'Erf', 'Gather', 'Identity', 'LayerNormalization', 'Less', 'MatMul', 'Max', 'Mul',
  'Neg', 'ReduceMax', 'ReduceSum', 'Relu', 'Reshape', 'Shape', 'Slice', 'Softmax', 'Sqrt', 'Squeeze', 'Sub', 'Transpose', 'Unsqueeze', 'Where',
]);

const loadCfg = (model: string) => loadConfig(readFileSync(join(FIXTURES, model, 'config.json'), 'utf8')) as NetConfig;

async function runFeeds(bytes: Uint8Array, feeds: Record<string, ort.Tensor>): Promise<Record<string, ort.Tensor>> {
  const session = await ort.InferenceSession.create(bytes, { graphOptimizationLevel: 'all' });
  try {
    return await session.run(feeds);
  } finally {
    await session.release();
  }
}

const f32 = (t: FixtureTensor) => new ort.Tensor('float32', t.data as Float32Array, t.shape);
const i64 = (v: number) => new ort.Tensor('int64', BigInt64Array.from([BigInt(v)]), [1]);

async function decoderGraph(precision: FloatPrecision = 'float32') {
  const cfg = loadCfg('tiny');
  const w = await fixtureWeights('tiny');
  const g = new GraphBuilder({ name: 'cam_dec', taps: true, precision });
  const camDec = cfg.camDec;
  if (!camDec) throw new Error('tiny has no cam_dec');
  const token = g.input('camera_token', g.floatType, ['B', 'S', camDec.dimIn]);
  g.output(buildCameraDecoder(g, token, w, camDec), 'pose_enc', 'float32', ['B', 'S', 9]);
  return { model: g.build(), w };
}

/** Encoder graph with int64 image-size inputs (`size`) or an `images` input giving H and W. */
async function encoderGraph(sizeFrom: 'size' | 'images', precision: FloatPrecision = 'float32') {
  const cfg = loadCfg('tiny');
  const w = await fixtureWeights('tiny');
  const g = new GraphBuilder({ name: 'cam_enc', taps: true, precision });
  const ext = g.input('extrinsics', 'float32', ['B', 'S', 4, 4]);
  const ixt = g.input('intrinsics', 'float32', ['B', 'S', 3, 3]);
  const image = sizeFrom === 'size' ? { imageH: g.input('image_h', 'int64', [1]), imageW: g.input('image_w', 'int64', [1]) } : g.input('images', 'float32', ['B', 'S', 3, 'H', 'W']);
  const camEnc: CameraEncoderConfig | null = cfg.camEnc;
  if (!camEnc) throw new Error('tiny has no cam_enc');
  const tokens = buildCameraEncoder(g, ext, ixt, image, w, camEnc);
  g.output(precision === 'float16' ? g.op('Cast', [tokens], { to: 1 }) : tokens, 'tokens', 'float32', ['B', 'S', cfg.backbone.embedDim]);
  return { model: g.build(), w };
}

describe.each(['mono', 'multi', 'multi_first', 'posed'])('camera decoder parity tiny/%s', (name) => {
  it('cam_dec.pose_enc from backbone.feat3_cam_token', async () => {
    const { outputs } = await fixtureCase('tiny', name);
    const { model } = await decoderGraph();
    const got = await runModel(await encodeOnnxModel(model), { camera_token: outputs['backbone.feat3_cam_token'] });
    expect(got.pose_enc.dims).toEqual(outputs['cam_dec.pose_enc'].shape);
    const report = compareOutputs(got, outputs, ['cam_dec.pose_enc']);
    expect(Array.from(got.pose_enc.data as Float32Array)).toEqual(Array.from(got['cam_dec.pose_enc'].data as Float32Array));
    console.log(`tiny/${name}`, JSON.stringify(report));
  });
});

describe('camera encoder parity tiny/posed', () => {
  it.each(['size', 'images'] as const)('cam_enc.pose_encoding and cam_enc.tokens (image size from %s)', async (sizeFrom) => {
    const { inputs, outputs } = await fixtureCase('tiny', 'posed');
    const [, , , H, W] = inputs.x.shape;
    const { model } = await encoderGraph(sizeFrom);
    const feeds: Record<string, ort.Tensor> = { extrinsics: f32(inputs.extrinsics_normalized), intrinsics: f32(inputs.intrinsics) };
    if (sizeFrom === 'size') Object.assign(feeds, { image_h: i64(H), image_w: i64(W) });
    else feeds.images = f32(inputs.x);
    const got = await runFeeds(await encodeOnnxModel(model), feeds);
    expect(got.tokens.dims).toEqual(outputs['cam_enc.tokens'].shape);
    const report = compareOutputs(got, outputs, ['cam_enc.pose_encoding', 'cam_enc.tokens']);
    console.log(`tiny/posed (${sizeFrom})`, JSON.stringify(report));
  });

  it('pose encoding matches the host poseEncodingFromW2c', async () => {
    const { inputs, outputs } = await fixtureCase('tiny', 'posed');
    const [, S, , H, W] = inputs.x.shape;
    const host = poseEncodingFromW2c(inputs.extrinsics_normalized.data as Float32Array, inputs.intrinsics.data as Float32Array, [H, W]);
    expect(host.length).toBe(S * 9);
    expectClose(host, outputs['cam_enc.pose_encoding'].data as Float32Array, NET_TOL, 'host pose encoding');
  });
});

describe('in-graph camera geometry', () => {
  async function quatGraph() {
    const g = new GraphBuilder({ name: 'quat' });
    const r = g.input('R', 'float32', ['N', 3, 3]);
    g.output(rotationToQuaternion(g, r), 'q', 'float32', ['N', 4]);
    return encodeOnnxModel(g.build());
  }

  /** The branch `mat_to_quat` picks: first argmax of q_abs. */
  function branch(m: ArrayLike<number>, o: number): number {
    const [m00, m11, m22] = [m[o], m[o + 4], m[o + 8]];
    const a = [1 + m00 + m11 + m22, 1 + m00 - m11 - m22, 1 - m00 + m11 - m22, 1 - m00 - m11 + m22].map((v) => Math.sqrt(Math.max(v, 0)));
    return a.indexOf(Math.max(...a));
  }

  it('quaternion = mat_to_quat (fixture, f32) = host mat3ToQuatXyzw on all four branches', async () => {
    const ins = await loadTensors('geometry/quaternion/inputs.safetensors');
    const outs = await loadTensors('geometry/quaternion/outputs.safetensors');
    const R = Float32Array.from(ins.R.data as Float64Array);
    const n = ins.R.shape[0];
    const got = (await runFeeds(await quatGraph(), { R: new ort.Tensor('float32', R, [n, 3, 3]) })).q.data as Float32Array;
    const host = new Float64Array(4 * n);
    for (let i = 0; i < n; i++) host.set(mat3ToQuatXyzw(new Float64Array(4), R, 9 * i) as Float64Array, 4 * i);
    const branches = new Set(Array.from({ length: 8 }, (_, i) => branch(R, 9 * i)));
    expect([...branches].sort()).toEqual([0, 1, 2, 3]);
    expectClose(got, outs.mat_to_quat_f32.data as Float32Array, { atol: 1e-6, rtol: 0 }, 'graph vs reference f32');
    expectClose(got, host, { atol: 1e-6, rtol: 0 }, 'graph vs host');
    let d = 0;
    for (let i = 0; i < got.length; i++) d = Math.max(d, Math.abs(got[i] - (outs.mat_to_quat_f32.data as Float32Array)[i]));
    console.log(`quaternion: max |d| vs reference f32 ${d.toExponential(2)} over ${n} rotations`);
  });

  it('quaternion takes the first maximum on ties and keeps w ≥ 0', async () => {
    // 180° about (1,1,0)/√2 (tie q1 = q2), about (1,1,1)/√3 (tie of three), about (0,1,1)/√2 (tie q2 = q3),
    // a 45° turn about z, and −126.87° about x, whose chosen candidate (branch 1) has w < 0 before standardisation.
    const s = Math.SQRT1_2;
    const rots = [
      [0, 1, 0, 1, 0, 0, 0, 0, -1],
      [-1 / 3, 2 / 3, 2 / 3, 2 / 3, -1 / 3, 2 / 3, 2 / 3, 2 / 3, -1 / 3],
      [-1, 0, 0, 0, 0, 1, 0, 1, 0],
      [s, -s, 0, s, s, 0, 0, 0, 1],
      [1, 0, 0, 0, -0.6, 0.8, 0, -0.8, -0.6],
    ];
    const R = Float32Array.from(rots.flat());
    const got = (await runFeeds(await quatGraph(), { R: new ort.Tensor('float32', R, [rots.length, 3, 3]) })).q.data as Float32Array;
    for (let i = 0; i < rots.length; i++) {
      const want = mat3ToQuatXyzw(new Float64Array(4), R, 9 * i);
      expectClose(got.subarray(4 * i, 4 * i + 4), want, { atol: 1e-6, rtol: 0 }, `rotation ${i}`);
      expect(got[4 * i + 3]).toBeGreaterThanOrEqual(0);
    }
  });

  it('pose encoding = reference extri_intri_to_pose_encoding (geometry/pose_encoding, B = 2, 336×504); batch items stay apart', async () => {
    const ins = await loadTensors('geometry/pose_encoding/inputs.safetensors');
    const outs = await loadTensors('geometry/pose_encoding/outputs.safetensors');
    const c2w = ins.c2w.data as Float64Array;
    const [B, S] = ins.c2w.shape;
    // The graph takes world→camera: invert the float64 c2w rigidly on the host, then round to f32.
    const w2c = new Float32Array(B * S * 16);
    for (let v = 0; v < B * S; v++) {
      const o = 16 * v;
      for (let r = 0; r < 3; r++) {
        for (let c = 0; c < 3; c++) w2c[o + 4 * r + c] = c2w[o + 4 * c + r];
        w2c[o + 4 * r + 3] = -(c2w[o + r] * c2w[o + 3] + c2w[o + 4 + r] * c2w[o + 7] + c2w[o + 8 + r] * c2w[o + 11]);
      }
      w2c[o + 15] = 1;
    }
    const [H, W] = Array.from(ins.image_hw.data as BigInt64Array, Number);
    const { model } = await encoderGraph('size');
    const got = await runFeeds(await encodeOnnxModel(model), {
      extrinsics: new ort.Tensor('float32', w2c, [B, S, 4, 4]),
      intrinsics: new ort.Tensor('float32', Float32Array.from(ins.K.data as Float64Array), [B, S, 3, 3]),
      image_h: i64(H),
      image_w: i64(W),
    });
    const report = compareOutputs({ 'cam_enc.pose_encoding': got['cam_enc.pose_encoding'] }, { 'cam_enc.pose_encoding': outs.encode_f64 }, ['cam_enc.pose_encoding']);
    console.log('geometry/pose_encoding', JSON.stringify(report));
    // The trunk attends across the views of one batch item only: each item alone gives the same tokens.
    const all = got.tokens.data as Float32Array;
    const D = got.tokens.dims[2];
    for (let b = 0; b < B; b++) {
      const one = await runFeeds(await encodeOnnxModel(model), {
        extrinsics: new ort.Tensor('float32', w2c.slice(16 * S * b, 16 * S * (b + 1)), [1, S, 4, 4]),
        intrinsics: new ort.Tensor('float32', Float32Array.from((ins.K.data as Float64Array).subarray(9 * S * b, 9 * S * (b + 1))), [1, S, 3, 3]),
        image_h: i64(H),
        image_w: i64(W),
      });
      expectClose(one.tokens.data as Float32Array, all.subarray(S * D * b, S * D * (b + 1)), { atol: 1e-6, rtol: 1e-6 }, `batch item ${b} alone`);
    }
  });
});

describe('camera graphs', () => {
  it('use only portable ops and every cam_enc / cam_dec weight', async () => {
    const dec = await decoderGraph();
    const enc = await encoderGraph('size');
    for (const m of [dec.model, enc.model]) {
      const ops = new Set(m.graph.nodes.map((n) => n.opType));
      expect([...ops].filter((op) => !PORTABLE_OPS.has(op))).toEqual([]);
    }
    expect(dec.w.unused().filter((k) => k.startsWith('model.cam_dec.'))).toEqual([]);
    expect(enc.w.unused().filter((k) => k.startsWith('model.cam_enc.'))).toEqual([]);
  });

  it('float16 graphs run with float32 outputs close to the float32 graphs', async () => {
    const { inputs, outputs } = await fixtureCase('tiny', 'posed');
    const [, , , H, W] = inputs.x.shape;
    const encFeeds = { extrinsics: f32(inputs.extrinsics_normalized), intrinsics: f32(inputs.intrinsics), image_h: i64(H), image_w: i64(W) };
    const enc32 = await runFeeds(await encodeOnnxModel((await encoderGraph('size')).model), encFeeds);
    const enc16 = await runFeeds(await encodeOnnxModel((await encoderGraph('size', 'float16')).model), encFeeds);
    const tok = outputs['backbone.feat3_cam_token'];
    const tok16 = float32ToFloat16Bits(tok.data as Float32Array);
    const dec32 = await runFeeds(await encodeOnnxModel((await decoderGraph()).model), {
      camera_token: new ort.Tensor('float32', float16ToFloat32(tok16), tok.shape),
    });
    const dec16 = await runFeeds(await encodeOnnxModel((await decoderGraph('float16')).model), { camera_token: new ort.Tensor('float16', tok16, tok.shape) });
    const pairs: [string, ort.Tensor, ort.Tensor][] = [
      ['cam_enc.pose_encoding', enc16['cam_enc.pose_encoding'], enc32['cam_enc.pose_encoding']],
      ['cam_enc.tokens', enc16['cam_enc.tokens'], enc32['cam_enc.tokens']],
      ['cam_dec.pose_enc', dec16.pose_enc, dec32.pose_enc],
    ];
    for (const [k, a, b] of pairs) {
      expect(a.type, k).toBe('float32');
      const ad = a.data as Float32Array;
      const bd = b.data as Float32Array;
      let worst = 0;
      for (let i = 0; i < bd.length; i++) worst = Math.max(worst, Math.abs(ad[i] - bd[i]) / (1 + Math.abs(bd[i])));
      console.log(`float16 ${k}: max |d|/(1+|b|) = ${worst.toExponential(2)}`);
      // The pose encoding is float32 maths in both graphs.
      expect(worst, k).toBeLessThan(k === 'cam_enc.pose_encoding' ? 1e-7 : 1e-2);
    }
  });
});
