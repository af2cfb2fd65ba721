import { Da3Error, mat3sToQuatsXyzw, mat3ToQuatXyzw, quatsXyzwToMat3s, quatXyzwToMat3 } from '@da3js/core';
import { describe, expect, it } from 'vitest';
import { asFloat64, loadTensors } from '../helpers/fixtures.js';
import { F32, F64, expectParity } from './parity-log.js';

const DIR = 'geometry/quaternion';

describe('quaternions vs geometry/quaternion', async () => {
  const inp = await loadTensors(`${DIR}/inputs.safetensors`);
  const out = await loadTensors(`${DIR}/outputs.safetensors`);
  const R = asFloat64(inp.R);
  const quats = asFloat64(inp.quats);

  it('mat_to_quat (all four branches, w ≥ 0) matches f64 and f32', () => {
    const got = mat3sToQuatsXyzw(R);
    expectParity(got, asFloat64(out.mat_to_quat_f64), F64, 'quaternion.mat_to_quat_f64');
    expectParity(got, asFloat64(out.mat_to_quat_f32), F32, 'quaternion.mat_to_quat_f32');
  });

  it('quat_to_mat (non-unit quaternions) matches f64 and f32', () => {
    const got = quatsXyzwToMat3s(quats);
    expectParity(got, asFloat64(out.quat_to_mat_f64), F64, 'quaternion.quat_to_mat_f64');
    expectParity(got, asFloat64(out.quat_to_mat_f32), F32, 'quaternion.quat_to_mat_f32');
  });

  it('round trip matches f64 and f32', () => {
    const got = quatsXyzwToMat3s(mat3sToQuatsXyzw(R));
    expectParity(got, asFloat64(out.roundtrip_f64), F64, 'quaternion.roundtrip_f64');
    expectParity(got, asFloat64(out.roundtrip_f32), F32, 'quaternion.roundtrip_f32');
  });

  it('single-matrix functions fill and return out; offsets read from a batch', () => {
    const q = new Float64Array(4);
    expect(mat3ToQuatXyzw(q, R, 9 * 5)).toBe(q);
    expect(Array.from(q)).toEqual(Array.from(mat3sToQuatsXyzw(R).subarray(20, 24)));
    const m = new Float64Array(9);
    expect(quatXyzwToMat3(m, quats, 4 * 3)).toBe(m);
    expect(Array.from(m)).toEqual(Array.from(quatsXyzwToMat3s(quats).subarray(27, 36)));
  });

  it('scale invariance of quat_to_mat and the identity', () => {
    const m1 = quatXyzwToMat3(new Float64Array(9), [0.1, -0.2, 0.3, 0.9]);
    const m2 = quatXyzwToMat3(new Float64Array(9), [0.5, -1.0, 1.5, 4.5]);
    for (let i = 0; i < 9; i++) expect(m2[i]).toBeCloseTo(m1[i], 14);
    expect(Array.from(mat3ToQuatXyzw(new Float64Array(4), [1, 0, 0, 0, 1, 0, 0, 0, 1]))).toEqual([0, 0, 0, 1]);
  });
});

describe('quaternion input errors', () => {
  it('BAD_SHAPE for a length that is not a multiple of 4 / 9', () => {
    expect(() => quatsXyzwToMat3s(new Float64Array(5))).toThrow(expect.objectContaining({ code: 'BAD_SHAPE' }));
    expect(() => mat3sToQuatsXyzw(new Float64Array(10))).toThrow(expect.objectContaining({ code: 'BAD_SHAPE' }));
  });
  it('EMPTY_INPUT for no quaternions', () => {
    expect(() => quatsXyzwToMat3s([])).toThrow(expect.objectContaining({ code: 'EMPTY_INPUT' }));
  });
  it('NON_FINITE for NaN', () => {
    expect(() => mat3sToQuatsXyzw([1, 0, 0, 0, Number.NaN, 0, 0, 0, 1])).toThrow(Da3Error);
    expect(() => mat3sToQuatsXyzw([1, 0, 0, 0, Number.NaN, 0, 0, 0, 1])).toThrow(expect.objectContaining({ code: 'NON_FINITE' }));
  });
  it('DEGENERATE for a zero quaternion', () => {
    expect(() => quatsXyzwToMat3s([0, 0, 0, 0])).toThrow(expect.objectContaining({ code: 'DEGENERATE' }));
  });
});
