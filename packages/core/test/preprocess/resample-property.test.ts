/**
 * resizeImageU8 evaluates OpenCV's float32 chains exactly in float64 and falls back to float32
 * emulation only near rounding ties; these checks compare it, bit for bit, with a plain
 * float32-everywhere emulation (opencv-f32.ts) on seeded random images over many size ratios,
 * including tie-heavy ones (4:3, 8:6, 2×, 3×) and tiny images.
 */
import { createPrng, type ImageU8, resizeImageU8 } from '@da3js/core';
import { describe, expect, it } from 'vitest';
import { areaF32, cubicF32 } from './opencv-f32.js';

function randomImage(seed: number, width: number, height: number, kind: 'noise' | 'smooth' | 'levels'): ImageU8 {
  const rng = createPrng(seed);
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      for (let c = 0; c < 3; c++) {
        const i = (y * width + x) * 3 + c;
        if (kind === 'noise') data[i] = Math.floor(rng.next() * 256);
        else if (kind === 'levels') data[i] = rng.next() < 0.5 ? 0 : 255;
        else data[i] = Math.round(127.5 + 127.5 * Math.sin((x * (c + 1)) / 7 + (y * (3 - c)) / 5));
      }
    }
  }
  return { data, width, height, channels: 3 };
}

function mismatches(a: Uint8Array, b: Uint8Array): number {
  expect(a.length).toBe(b.length);
  let n = 0;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) n++;
  return n;
}

const AREA_CASES: Array<[number, number, number, number]> = [
  [8, 6, 6, 3], // 4:3 and 2:1
  [64, 48, 48, 36], // 4:3 both ways: many exact ½ ties
  [40, 30, 20, 15], // 2×2 integer path
  [45, 33, 15, 11], // 3×3 integer path
  [30, 20, 30, 10], // 1×2 integer path
  [37, 29, 23, 17],
  [101, 67, 50, 33],
  [97, 13, 96, 12],
  [50, 50, 1, 1],
  [1, 40, 1, 9],
  [200, 120, 29, 17],
  [64, 43, 64, 42],
  // 6:5 weights (multiples of 1/6, inexact in binary) give exact ½ ties that float32 rounding
  // moves either way: with the tie fallback disabled these cases mismatch by the thousand.
  [36, 10, 30, 10],
  [12, 12, 10, 10],
  [120, 90, 100, 75],
  [30, 18, 25, 15],
];

const CUBIC_CASES: Array<[number, number, number, number]> = [
  [6, 4, 12, 8], // 2× upscale: exact taps, ties possible
  [16, 12, 48, 36], // 3×
  [37, 29, 41, 31],
  [64, 43, 101, 67],
  [1, 1, 9, 7],
  [1, 9, 5, 9],
  [30, 20, 31, 14], // grows in x, shrinks in y
  [50, 40, 17, 13], // downscale
  [13, 7, 3, 2],
];

describe('resizeImageU8 equals the plain float32 emulation of OpenCV', () => {
  it('INTER_AREA, seeded images over many ratios', () => {
    let total = 0;
    for (const [sw, sh, dw, dh] of AREA_CASES) {
      for (const kind of ['noise', 'smooth', 'levels'] as const) {
        const img = randomImage(sw * 1000 + sh * 10 + dw, sw, sh, kind);
        const got = resizeImageU8(img, dw, dh, 'area').data;
        const want = areaF32(img.data as Uint8Array, sw, sh, dw, dh);
        expect(mismatches(got, want), `area ${kind} ${sw}×${sh}→${dw}×${dh}`).toBe(0);
        total += got.length;
      }
    }
    expect(total).toBeGreaterThan(10_000);
  });

  it('INTER_CUBIC, seeded images over many ratios', () => {
    for (const [sw, sh, dw, dh] of CUBIC_CASES) {
      for (const kind of ['noise', 'smooth', 'levels'] as const) {
        const img = randomImage(sw * 1000 + sh * 10 + dw + 1, sw, sh, kind);
        const got = resizeImageU8(img, dw, dh, 'cubic').data;
        const want = cubicF32(img.data as Uint8Array, sw, sh, dw, dh);
        expect(mismatches(got, want), `cubic ${kind} ${sw}×${sh}→${dw}×${dh}`).toBe(0);
      }
    }
  });

  it('INTER_CUBIC near-tie values (found by search: each mismatches once without the fallback)', () => {
    const cases: Array<[number, number, number, number, number]> = [
      [24, 24, 56, 56, 15],
      [24, 24, 56, 56, 23],
      [40, 30, 56, 42, 14],
      [64, 43, 101, 67, 26],
    ];
    for (const [sw, sh, dw, dh, seed] of cases) {
      const img = randomImage(seed, sw, sh, 'noise');
      const got = resizeImageU8(img, dw, dh, 'cubic').data;
      expect(mismatches(got, cubicF32(img.data as Uint8Array, sw, sh, dw, dh)), `cubic ${sw}×${sh}→${dw}×${dh} seed ${seed}`).toBe(0);
    }
  });

  it('an unchanged size is a copy', () => {
    const img = randomImage(3, 9, 5, 'noise');
    for (const m of ['area', 'cubic'] as const) {
      const out = resizeImageU8(img, 9, 5, m);
      expect(out.data).not.toBe(img.data);
      expect(mismatches(out.data, img.data as Uint8Array)).toBe(0);
    }
  });

  it('speed: 640×430 → 504×339 (AREA) and → 750×504 (CUBIC)', () => {
    const img = randomImage(7, 640, 430, 'smooth');
    const time = (f: () => void): number => {
      f();
      const t0 = performance.now();
      for (let i = 0; i < 5; i++) f();
      return (performance.now() - t0) / 5;
    };
    const area = time(() => resizeImageU8(img, 504, 339, 'area'));
    const cubic = time(() => resizeImageU8(img, 750, 504, 'cubic'));
    console.log(`resizeImageU8: area 640×430→504×339 ${area.toFixed(1)} ms, cubic 640×430→750×504 ${cubic.toFixed(1)} ms`);
    expect(area).toBeGreaterThan(0);
  });
});
