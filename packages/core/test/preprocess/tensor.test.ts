/**
 * The network input: ImageNet normalisation bit-exact with the stored tensors, preprocessImages end
 * to end (single view and the mixed batch), and the processed-images inverse.
 */
import {
  IMAGENET_MEAN,
  IMAGENET_STD,
  type ImageU8,
  normalizeRgbToChw,
  preprocessImages,
  RESIZE_METHODS,
  toProcessedImages,
  toRgbU8,
} from '@da3js/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { expectClose } from '../helpers/compare.js';
import { asFloat64, type FixtureTensor } from '../helpers/fixtures.js';
import { formatStats, loadPng, pixelStats, preprocessTensors } from './load.js';

let T: Record<string, FixtureTensor>;
let png: ImageU8;
let png2: ImageU8;

beforeAll(async () => {
  T = await preprocessTensors();
  png = loadPng('synthetic_640x430.png');
  png2 = loadPng('synthetic_200x301.png');
});

/** Bitwise equality of float32 arrays, reported as a count (fast on large arrays). */
function countUnequal(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length);
  const ua = new Uint32Array(a.buffer, a.byteOffset, a.length);
  const ub = new Uint32Array(b.buffer, b.byteOffset, b.length);
  let n = 0;
  for (let i = 0; i < ua.length; i++) if (ua[i] !== ub[i]) n++;
  return n;
}

/** Largest difference in grey levels (units of 1/255 before normalisation) per channel-plane tensor. */
function maxGreyLevels(got: Float32Array, want: Float32Array, planeSize: number): number {
  let m = 0;
  for (let i = 0; i < want.length; i++) {
    const c = Math.floor(i / planeSize) % 3;
    m = Math.max(m, (Math.abs(got[i] - want[i]) * IMAGENET_STD[c] * 255) / 1);
  }
  return m;
}

describe('ImageNet normalisation', () => {
  it('constants are the reference values', () => {
    expect([...IMAGENET_MEAN]).toEqual([0.485, 0.456, 0.406]);
    expect([...IMAGENET_STD]).toEqual([0.229, 0.224, 0.225]);
  });

  it('upper_bound_resize.network_input is bit-exact from final_u8', () => {
    const want = T['upper_bound_resize.network_input'];
    expect(want.shape).toEqual([1, 1, 3, 336, 504]);
    const got = normalizeRgbToChw(T['upper_bound_resize.final_u8'].data as Uint8Array, 504, 336);
    const bad = countUnequal(got, want.data as Float32Array);
    console.log(`normalize(final_u8) vs network_input: ${got.length - bad}/${got.length} bit-exact`);
    expect(bad).toBe(0);
  });

  it('writes into a caller array at an offset', () => {
    const rgb = new Uint8Array([0, 128, 255, 10, 20, 30]);
    const out = new Float32Array(20).fill(7);
    normalizeRgbToChw(rgb, 2, 1, out, 5);
    expect(out[4]).toBe(7);
    expect(out[11]).toBe(7);
    expect(out[5]).toBe(Math.fround(Math.fround(0 - Math.fround(0.485)) / Math.fround(0.229)));
    expect(out[7]).toBe(Math.fround(Math.fround(Math.fround(128 / 255) - Math.fround(0.456)) / Math.fround(0.224)));
    expect(out[10]).toBe(Math.fround(Math.fround(Math.fround(30 / 255) - Math.fround(0.406)) / Math.fround(0.225)));
  });
});

describe('preprocessImages', () => {
  it('default method from the PNG: network_input within 1 grey level (and bit-exact)', () => {
    const r = preprocessImages([png]);
    const want = T['upper_bound_resize.network_input'];
    expect(r.shape).toEqual(want.shape);
    expect([r.width, r.height]).toEqual([504, 336]);
    expect(r.intrinsics).toBeUndefined();
    const grey = maxGreyLevels(r.tensor, want.data as Float32Array, 336 * 504);
    const bad = countUnequal(r.tensor, want.data as Float32Array);
    console.log(`preprocessImages(PNG) vs network_input: ${r.tensor.length - bad}/${r.tensor.length} bit-exact, max ${grey.toFixed(6)} grey levels`);
    expect(grey).toBeLessThanOrEqual(1 + 1e-4);
    expect(bad).toBe(0);
  });

  it('every method: tensor = normalize(final_u8), shape from the fixture, intrinsics adjusted', () => {
    const K = T.input_intrinsics.data as Float32Array;
    for (const method of RESIZE_METHODS) {
      const r = preprocessImages([png], { method, intrinsics: K });
      const fu = T[`${method}.final_u8`];
      const [h, w] = fu.shape;
      expect(r.shape).toEqual([1, 1, 3, h, w]);
      expect(countUnequal(r.tensor, normalizeRgbToChw(fu.data as Uint8Array, w, h))).toBe(0);
      expectClose(r.intrinsics!, asFloat64(T[`${method}.intrinsics`]), { atol: 0, rtol: 1e-5 }, `${method}.intrinsics`);
    }
  });

  it('RGB and RGBA inputs give the same tensor', () => {
    const a = preprocessImages([png]);
    const b = preprocessImages([toRgbU8(png)]);
    expect(countUnequal(a.tensor, b.tensor)).toBe(0);
  });

  it('mixed batch: shape, intrinsics and network_input', () => {
    const K = new Float32Array(18);
    K.set(T.input_intrinsics.data as Float32Array, 0);
    K.set(T['mixed_batch.input2_intrinsics'].data as Float32Array, 9);
    const r = preprocessImages([png, png2], { processRes: 140, intrinsics: K });
    const want = T['mixed_batch.network_input'];
    expect(r.shape).toEqual([1, 2, 3, 98, 98]);
    expect(want.shape).toEqual([...r.shape]);
    const bad = countUnequal(r.tensor, want.data as Float32Array);
    const grey = maxGreyLevels(r.tensor, want.data as Float32Array, 98 * 98);
    console.log(`mixed batch network_input: ${r.tensor.length - bad}/${r.tensor.length} bit-exact, max ${grey.toFixed(6)} grey levels`);
    expect(grey).toBeLessThanOrEqual(1 + 1e-4);
    expect(bad).toBe(0);
    expect(r.intrinsics).toHaveLength(18);
    expectClose(r.intrinsics!, asFloat64(T['mixed_batch.intrinsics']), { atol: 0, rtol: 1e-5 }, 'mixed_batch.intrinsics');
    expect(Array.from(r.intrinsics!)).toEqual(Array.from(T['mixed_batch.intrinsics'].data as Float32Array));
    expect(r.plans.map((p) => p.steps.map((s) => s.stage))).toEqual([
      ['boundary', 'divisible', 'batch'],
      ['boundary', 'divisible', 'batch'],
    ]);
  });

  it('accepts intrinsics as a list of 3×3 arrays', () => {
    const K1 = T.input_intrinsics.data as Float32Array;
    const K2 = T['mixed_batch.input2_intrinsics'].data as Float32Array;
    const r = preprocessImages([png, png2], { processRes: 140, intrinsics: [K1, K2] });
    expect(Array.from(r.intrinsics!)).toEqual(Array.from(T['mixed_batch.intrinsics'].data as Float32Array));
  });
});

describe('processed images (the inverse, as api.py _add_processed_images)', () => {
  it('denormalising the stored network_input gives final_u8 or one below (truncation)', () => {
    const want = T['upper_bound_resize.final_u8'].data as Uint8Array;
    const p = toProcessedImages(T['upper_bound_resize.network_input'].data as Float32Array, [1, 1, 3, 336, 504]);
    expect(p.shape).toEqual([1, 336, 504, 3]);
    const counts = new Map<number, number>();
    for (let i = 0; i < want.length; i++) {
      const d = p.data[i] - want[i];
      counts.set(d, (counts.get(d) ?? 0) + 1);
    }
    const s = pixelStats(p.data, want);
    console.log(`${formatStats('processed images vs final_u8', s)}; differences ${JSON.stringify(Object.fromEntries(counts))}`);
    expect([...counts.keys()].every((d) => d === 0 || d === -1)).toBe(true);
    expect(s.within1).toBe(s.n);
  });

  it('follows the float64 formula exactly', () => {
    const x = new Float32Array([-3, -2.117904, 0, 1.5, 2.2489083, 9, Number.NaN, 0.25, 0.5, 0.75, -0.5, 1, 1.25, 1.75, 2, 2.5, 3, 0.1]);
    const p = toProcessedImages(x, [1, 3, 2, 3]);
    for (let c = 0; c < 3; c++) {
      for (let i = 0; i < 6; i++) {
        const v = x[c * 6 + i] * IMAGENET_STD[c] + IMAGENET_MEAN[c];
        const want = Number.isNaN(v) ? 0 : Math.trunc(Math.min(1, Math.max(0, v)) * 255);
        expect(p.data[i * 3 + c]).toBe(want);
      }
    }
  });

  it('round-trips preprocessImages to within one grey level below', () => {
    const r = preprocessImages([png, png2], { processRes: 140 });
    const p = toProcessedImages(r.tensor, r.shape);
    expect(p.shape).toEqual([2, 98, 98, 3]);
    const norm = normalizeRgbToChw(p.data.subarray(0, 98 * 98 * 3), 98, 98);
    expect(maxGreyLevels(norm, r.tensor.subarray(0, norm.length), 98 * 98)).toBeLessThanOrEqual(1 + 1e-4);
  });
});
