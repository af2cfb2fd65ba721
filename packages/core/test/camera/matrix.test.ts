import { affineInverse, toHomogeneous } from '@da3js/core';
import { describe, expect, it } from 'vitest';
import { asFloat64, loadTensors } from '../helpers/fixtures.js';
import { F32, F64, expectParity } from './parity-log.js';

const DIR = 'geometry/affine_inverse';

function batched(a: Float64Array, size: number, fn: (out: Float64Array, m: Float64Array) => void, outSize = size): Float64Array {
  const n = a.length / size;
  const out = new Float64Array(n * outSize);
  for (let b = 0; b < n; b++) fn(out.subarray(b * outSize, (b + 1) * outSize), a.subarray(b * size, (b + 1) * size));
  return out;
}

describe('affineInverse / toHomogeneous vs geometry/affine_inverse', async () => {
  const inp = await loadTensors(`${DIR}/inputs.safetensors`);
  const out = await loadTensors(`${DIR}/outputs.safetensors`);
  const a44 = asFloat64(inp.A44);
  const a34 = asFloat64(inp.A34);

  it('4×4 inverse (last row copied) matches inv44_f64 / inv44_f32', () => {
    const got = batched(a44, 16, (o, m) => affineInverse(o, m));
    expectParity(got, asFloat64(out.inv44_f64), F64, 'affine_inverse.inv44_f64');
    expectParity(got, asFloat64(out.inv44_f32), F32, 'affine_inverse.inv44_f32');
  });

  it('3×4 inverse matches inv34_f64 / inv34_f32', () => {
    const got = batched(a34, 12, (o, m) => affineInverse(o, m));
    expectParity(got, asFloat64(out.inv34_f64), F64, 'affine_inverse.inv34_f64');
    expectParity(got, asFloat64(out.inv34_f32), F32, 'affine_inverse.inv34_f32');
  });

  it('as_homogeneous matches homog34_f64 exactly', () => {
    const got = batched(a34, 12, (o, m) => toHomogeneous(o, m), 16);
    expect(Array.from(got)).toEqual(Array.from(asFloat64(out.homog34_f64)));
  });
});
