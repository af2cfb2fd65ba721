/**
 * Pixel parity with the reference (OpenCV 4.6 cv2.resize via InputProcessor) on
 * fixtures/preprocess: the boundary-resize stage and the final make-divisible stage of all four
 * methods, from the decoded PNG.
 */
import { applyPlan, type ImageU8, planPreprocess, RESIZE_METHODS, resizeImageU8, toRgbU8 } from '@da3js/core';
import { beforeAll, describe, expect, it } from 'vitest';
import type { FixtureTensor } from '../helpers/fixtures.js';
import { formatStats, loadPng, pixelStats, preprocessCase, preprocessTensors } from './load.js';

let T: Record<string, FixtureTensor>;
let png: ImageU8;

beforeAll(async () => {
  T = await preprocessTensors();
  png = loadPng('synthetic_640x430.png');
});

/** The contract (≥ 99.9 % within one grey level) and, achieved and guarded, bit-exactness. */
function expectPixels(label: string, got: Uint8Array, want: FixtureTensor, w: number, h: number): void {
  expect(want.shape).toEqual([h, w, 3]);
  const s = pixelStats(got, want.data as Uint8Array);
  console.log(formatStats(label, s));
  expect(s.within1 / s.n).toBeGreaterThanOrEqual(0.999);
  expect(s.maxDiff, label).toBe(0);
  expect(s.exact, label).toBe(s.n);
}

describe('boundary resize pixels (cv2.resize INTER_AREA / INTER_CUBIC)', () => {
  it('the PNG is the 640×430 RGB input', () => {
    expect([png.width, png.height, png.channels]).toEqual([640, 430, 4]);
  });

  it.each([
    ['upper_bound', 'upper_bound_resize', 'area'],
    ['lower_bound', 'lower_bound_resize', 'cubic'],
  ] as const)('%s.boundary_u8 from the PNG', (key, method, interp) => {
    const plan = planPreprocess(640, 430, { method });
    const step = plan.steps[0];
    expect(step.op === 'resize' && step.stage === 'boundary' && step.interpolation).toBe(interp);
    const out = resizeImageU8(png, plan.boundaryWidth, plan.boundaryHeight, interp);
    expectPixels(`${key}.boundary_u8 (${interp} 640×430→${out.width}×${out.height})`, out.data, T[`${key}.boundary_u8`], out.width, out.height);
  });

  it('reading RGBA directly equals resizing the RGB copy', () => {
    const rgb = toRgbU8(png);
    for (const [w, h, m] of [
      [504, 339, 'area'],
      [750, 504, 'cubic'],
    ] as const) {
      const s = pixelStats(resizeImageU8(png, w, h, m).data, resizeImageU8(rgb, w, h, m).data);
      expect(s.exact).toBe(s.n);
    }
  });
});

describe('final pixels of every method (boundary resize, then make-divisible by 14)', () => {
  const json = preprocessCase();
  it.each(RESIZE_METHODS.map((m) => [m]))('%s.final_u8', (method) => {
    const plan = planPreprocess(640, 430, { method });
    const [w, h] = json.methods[method].make_divisible.size_wh;
    expect([plan.width, plan.height]).toEqual([w, h]);
    const out = applyPlan(png, plan);
    expect([out.width, out.height, out.channels]).toEqual([w, h, 3]);
    const kinds = plan.steps.map((s) => (s.op === 'resize' ? s.interpolation : 'crop')).join('+');
    expectPixels(`${method}.final_u8 (${kinds})`, out.data, T[`${method}.final_u8`], w, h);
  });

  it('the boundary-stage fixtures are shared by *_resize and *_crop (plans agree)', () => {
    for (const bound of ['upper_bound', 'lower_bound'] as const) {
      const a = planPreprocess(640, 430, { method: `${bound}_resize` as const });
      const b = planPreprocess(640, 430, { method: `${bound}_crop` as const });
      expect(a.steps[0]).toEqual(b.steps[0]);
    }
  });
});
