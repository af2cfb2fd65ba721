import {
  POSE_ENCODING_SIZE,
  cameraFromPoseEncoding,
  createPrng,
  focalFromFov,
  fovFromFocal,
  fovFromIntrinsics,
  intrinsicsFromFov,
  makeIntrinsics,
  poseEncodingFromCamera,
  poseEncodingFromW2c,
  quatXyzwToMat3,
} from '@da3js/core';
import { describe, expect, it } from 'vitest';
import { asFloat64, loadTensors } from '../helpers/fixtures.js';
import { F32, F64, expectParity, f32 } from './parity-log.js';

const DIR = 'geometry/pose_encoding';
const HW: [number, number] = [336, 504];

describe('pose encoding vs geometry/pose_encoding', async () => {
  const inp = await loadTensors(`${DIR}/inputs.safetensors`);
  const out = await loadTensors(`${DIR}/outputs.safetensors`);
  const c2w = asFloat64(inp.c2w); // [2,3,4,4]
  const K = asFloat64(inp.K);
  const encIn = asFloat64(inp.enc_in);

  it('uses the fixture image size', () => {
    expect(Array.from(asFloat64(inp.image_hw))).toEqual(HW);
  });

  it('encode matches encode_f64 (float32-cast) and encode_f32', () => {
    const got = poseEncodingFromCamera(c2w, K, HW);
    expect(got.length).toBe(6 * POSE_ENCODING_SIZE);
    // encode_f64 is float64 maths cast to float32 by the reference's .float(): compare after the same cast
    expectParity(f32(got), asFloat64(out.encode_f64), F64, 'pose_encoding.encode_f64');
    expectParity(got, asFloat64(out.encode_f32), F32, 'pose_encoding.encode_f32');
  });

  it('decode matches decode_c2w_f64, decode_K_f64 (float32 tensor) and the f32 run (incl. the 1e-6 tan clamp)', () => {
    const { c2w: gotC2w, intrinsics } = cameraFromPoseEncoding(encIn, HW);
    expectParity(gotC2w, asFloat64(out.decode_c2w_f64), F64, 'pose_encoding.decode_c2w_f64');
    expectParity(f32(intrinsics), asFloat64(out.decode_K_f64), F64, 'pose_encoding.decode_K_f64');
    expectParity(gotC2w, asFloat64(out.decode_c2w_f32), F32, 'pose_encoding.decode_c2w_f32');
    expectParity(intrinsics, asFloat64(out.decode_K_f32), F32, 'pose_encoding.decode_K_f32');
    // enc_in[0,0,7] = 0 → fy = (H/2)/1e-6
    expect(encIn[7]).toBe(0);
    expect(intrinsics[4]).toBeCloseTo(168 / 1e-6, 0);
  });

  it('round trip (decode the float32 encoding) matches roundtrip_*', () => {
    // The reference's encode returns float32 (.float()) even in its f64 run, so its decode then runs
    // in float32: roundtrip_*_f64 are float32 geometry (README §5: 1e-5), not float64.
    const enc = f32(poseEncodingFromCamera(c2w, K, HW));
    const { c2w: rc2w, intrinsics: rK } = cameraFromPoseEncoding(enc, HW);
    expectParity(rc2w, asFloat64(out.roundtrip_c2w_f64), F32, 'pose_encoding.roundtrip_c2w_f64');
    expectParity(rK, asFloat64(out.roundtrip_K_f64), F32, 'pose_encoding.roundtrip_K_f64');
    expectParity(rc2w, asFloat64(out.roundtrip_c2w_f32), F32, 'pose_encoding.roundtrip_c2w_f32');
    expectParity(rK, asFloat64(out.roundtrip_K_f32), F32, 'pose_encoding.roundtrip_K_f32');
  });
});

function randomQuat(rng: () => number): number[] {
  // uniform rotation (Shoemake)
  const u1 = rng(), u2 = rng(), u3 = rng();
  const a = Math.sqrt(1 - u1), b = Math.sqrt(u1);
  return [a * Math.sin(2 * Math.PI * u2), a * Math.cos(2 * Math.PI * u2), b * Math.sin(2 * Math.PI * u3), b * Math.cos(2 * Math.PI * u3)];
}

describe('pose encoding properties', () => {
  it('camera → encoding → camera is the identity (random rotations, non-square images, centred K)', () => {
    const prng = createPrng(3);
    const rng = () => prng.next();
    for (const hw of [[280, 504], [504, 280], [336, 336]] as [number, number][]) {
      const n = 16;
      const c2w = new Float64Array(12 * n);
      const K = new Float64Array(9 * n);
      for (let b = 0; b < n; b++) {
        const R = quatXyzwToMat3(new Float64Array(9), randomQuat(rng));
        for (let i = 0; i < 3; i++) {
          for (let j = 0; j < 3; j++) c2w[12 * b + 4 * i + j] = R[3 * i + j];
          c2w[12 * b + 4 * i + 3] = (rng() - 0.5) * 10;
        }
        makeIntrinsics(200 + 800 * rng(), 200 + 800 * rng(), hw[1] / 2, hw[0] / 2, K.subarray(9 * b, 9 * b + 9));
      }
      const enc = poseEncodingFromCamera(c2w, K, hw);
      for (let b = 0; b < n; b++) expect(enc[9 * b + 6]).toBeGreaterThanOrEqual(0); // w ≥ 0
      const dec = cameraFromPoseEncoding(enc, hw);
      for (let i = 0; i < c2w.length; i++) expect(Math.abs(dec.c2w[i] - c2w[i])).toBeLessThan(1e-12);
      for (let i = 0; i < K.length; i++) expect(Math.abs(dec.intrinsics[i] - K[i])).toBeLessThan(1e-9);
      // w2c route gives the same encoding, and the decoded w2c is the rigid inverse
      const enc2 = poseEncodingFromW2c(dec.w2c, dec.intrinsics, hw);
      for (let i = 0; i < enc.length; i++) expect(Math.abs(enc2[i] - enc[i])).toBeLessThan(1e-12);
    }
  });

  it('encoding → camera → encoding is the identity up to quaternion sign and norm', () => {
    const prng = createPrng(4);
    const rng = () => prng.next();
    const n = 32;
    const enc = new Float64Array(9 * n);
    for (let b = 0; b < n; b++) {
      const q = randomQuat(rng);
      const s = 0.5 + rng(); // non-unit
      enc.set([rng() - 0.5, rng() - 0.5, rng() - 0.5, q[0] * s, q[1] * s, q[2] * s, q[3] * s, 0.3 + 2 * rng(), 0.3 + 2 * rng()], 9 * b);
    }
    const dec = cameraFromPoseEncoding(enc, [280, 504]);
    const back = poseEncodingFromCamera(dec.c2w, dec.intrinsics, [280, 504]);
    for (let b = 0; b < n; b++) {
      const o = 9 * b;
      let norm = 0;
      for (let i = 3; i < 7; i++) norm += enc[o + i] ** 2;
      const sgn = enc[o + 6] < 0 ? -1 : 1;
      for (let i = 0; i < 3; i++) expect(Math.abs(back[o + i] - enc[o + i])).toBeLessThan(1e-12);
      for (let i = 3; i < 7; i++) expect(Math.abs(back[o + i] - (sgn * enc[o + i]) / Math.sqrt(norm))).toBeLessThan(1e-12);
      for (let i = 7; i < 9; i++) expect(Math.abs(back[o + i] - enc[o + i])).toBeLessThan(1e-12);
    }
  });

  it('fov ↔ focal helpers', () => {
    expect(focalFromFov(Math.PI / 2, 504)).toBeCloseTo(252, 12);
    expect(fovFromFocal(252, 504)).toBeCloseTo(Math.PI / 2, 14);
    expect(focalFromFov(0, 100)).toBe(50 / 1e-6);
    const K = intrinsicsFromFov(1.0, 1.2, [280, 504]);
    expect(K[2]).toBe(252);
    expect(K[5]).toBe(140);
    const [fh, fw] = fovFromIntrinsics(K, [280, 504]);
    expect(fh).toBeCloseTo(1.0, 14);
    expect(fw).toBeCloseTo(1.2, 14);
  });
});

describe('pose encoding input errors', () => {
  const K = makeIntrinsics(100, 100, 50, 50);
  const c2w = [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0];
  it('BAD_SHAPE when c2w does not hold N 3×4 or 4×4 matrices', () => {
    expect(() => poseEncodingFromCamera(c2w.slice(0, 11), K, [100, 100])).toThrow(expect.objectContaining({ code: 'BAD_SHAPE' }));
  });
  it('BAD_SHAPE when the encoding is not [N, 9]', () => {
    expect(() => cameraFromPoseEncoding(new Float64Array(10), [100, 100])).toThrow(expect.objectContaining({ code: 'BAD_SHAPE' }));
  });
  it('EMPTY_INPUT for zero views', () => {
    expect(() => cameraFromPoseEncoding([], [100, 100])).toThrow(expect.objectContaining({ code: 'EMPTY_INPUT' }));
  });
  it('BAD_VALUE for a non-positive image size', () => {
    expect(() => poseEncodingFromCamera(c2w, K, [0, 100])).toThrow(expect.objectContaining({ code: 'BAD_VALUE' }));
  });
  it('NON_FINITE for NaN in the encoding', () => {
    expect(() => cameraFromPoseEncoding([0, 0, 0, 0, 0, 0, 1, Number.NaN, 1], [100, 100])).toThrow(expect.objectContaining({ code: 'NON_FINITE' }));
  });
  it('DEGENERATE for a zero quaternion', () => {
    expect(() => cameraFromPoseEncoding([0, 0, 0, 0, 0, 0, 0, 1, 1], [100, 100])).toThrow(expect.objectContaining({ code: 'DEGENERATE' }));
  });
  it('BAD_VALUE for non-positive focal lengths in fovFromIntrinsics', () => {
    expect(() => fovFromIntrinsics(makeIntrinsics(0, 1, 0, 0), [10, 10])).toThrow(expect.objectContaining({ code: 'BAD_VALUE' }));
  });
});
