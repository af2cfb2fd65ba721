import { describe, expect, it } from 'vitest';
import { type GsplatGoldenCase, loadGsplatGoldens, maxAbsDiff } from '../../../../test-utils/gsplat-goldens.js';
import { Da3Error } from '../../src/errors.js';
import {
  GSPLAT_CONSTANTS,
  SPLAT,
  SPLAT_STRIDE,
  createCpuRasterizer,
  createSortScratch,
  depthKey,
  prepareRasterFrame,
  projectSplats,
  radixSortPairs,
  shBasis,
} from '../../src/gaussians/render/index.js';
import type { Gaussians } from '../../src/prediction/prediction.js';

const TOL = 1e-3;

function describeDiff(c: GsplatGoldenCase, plane: string, got: ArrayLike<number>, want: ArrayLike<number>, channels: number): string {
  const { max, at } = maxAbsDiff(got, want);
  const pix = Math.floor(at / channels);
  return `${c.name} ${plane}: max abs ${max.toExponential(3)} at pixel (x ${pix % c.camera.width}, y ${Math.floor(pix / c.camera.width)}) channel ${at % channels}: got ${got[at]}, gsplat ${want[at]}`;
}

describe('CPU rasterizer vs gsplat goldens (testdata/gsplat)', async () => {
  const cases = await loadGsplatGoldens();
  const raster = createCpuRasterizer();

  it('has the cases the goldens describe', () => {
    expect(cases.length).toBeGreaterThanOrEqual(13);
    expect(cases.map((c) => c.name)).toContain('tiny-giant-view1');
  });

  for (const c of cases) {
    it(`${c.name}: rgb, alpha${c.depth ? ', depth' : ''} within ${TOL}`, async () => {
      const img = await raster.render(c.gaussians, c.camera, c.options);
      expect(img.width).toBe(c.camera.width);
      expect(img.height).toBe(c.camera.height);
      const errs: string[] = [];
      const check = (plane: string, got: ArrayLike<number> | undefined, want: ArrayLike<number>, ch: number): void => {
        if (!got) {
          errs.push(`${c.name}: no ${plane}`);
          return;
        }
        if (!(maxAbsDiff(got, want).max <= TOL)) errs.push(describeDiff(c, plane, got, want, ch));
      };
      check('rgb', img.rgb, c.rgb, 3);
      check('alpha', img.alpha, c.alpha, 1);
      if (c.depth) check('depth', img.depth, c.depth, 1);
      else expect(img.depth).toBeUndefined();
      expect(errs).toEqual([]);
    });
  }

  it('projection matches gsplat (centres, conics, depths; culling agrees where gsplat’s 3.33σ box is not opacity-limited)', () => {
    for (const c of cases) {
      if (!c.proj) continue;
      const frame = prepareRasterFrame('test', c.gaussians, c.camera, c.options);
      const splats = new Float32Array(c.gaussians.count * SPLAT_STRIDE);
      projectSplats(c.gaussians, frame, 0, c.gaussians.count, splats);
      for (let g = 0; g < c.gaussians.count; g++) {
        const o = g * SPLAT_STRIDE;
        const theirs = c.proj.radii[2 * g] > 0 && c.proj.radii[2 * g + 1] > 0;
        const ours = splats[o + SPLAT.RX] > 0;
        // ours additionally culls opacity < 1/255 and uses the tighter opacity-aware box (gsplat CUDA)
        if (ours) expect(theirs, `${c.name} #${g} visible here, culled by gsplat`).toBe(true);
        if (!theirs || !ours) continue;
        const rel = (a: number, b: number): number => Math.abs(a - b) / Math.max(1, Math.abs(b));
        expect(rel(splats[o + SPLAT.MX], c.proj.means2d[2 * g])).toBeLessThan(1e-5);
        expect(rel(splats[o + SPLAT.MY], c.proj.means2d[2 * g + 1])).toBeLessThan(1e-5);
        expect(rel(splats[o + SPLAT.DEPTH], c.proj.depths[g])).toBeLessThan(1e-5);
        for (let k = 0; k < 3; k++) {
          expect(rel(splats[o + SPLAT.CA + k], c.proj.conics[3 * g + k]), `${c.name} #${g} conic ${k}`).toBeLessThan(1e-4);
        }
        expect(splats[o + SPLAT.RX]).toBeLessThanOrEqual(c.proj.radii[2 * g]);
        expect(splats[o + SPLAT.RY]).toBeLessThanOrEqual(c.proj.radii[2 * g + 1]);
      }
    }
  });
});

function oneGaussian(over: Partial<Gaussians> = {}): Gaussians {
  return {
    count: 1,
    means: Float32Array.of(0, 0, 2),
    scales: Float32Array.of(0.1, 0.1, 0.1),
    rotations: Float32Array.of(0, 0, 0, 1),
    harmonics: Float32Array.of(1, 0, -1),
    shCoefficients: 1,
    opacities: Float32Array.of(0.8),
    ...over,
  };
}
const CAM = { extrinsics: [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0], intrinsics: [20, 0, 8, 0, 20, 6, 0, 0, 1], width: 16, height: 12 };

describe('CPU rasterizer: behaviour and errors', () => {
  const raster = createCpuRasterizer();

  it('renders an empty scene as the background (depth 0)', async () => {
    const empty: Gaussians = { count: 0, means: new Float32Array(0), scales: new Float32Array(0), rotations: new Float32Array(0), harmonics: new Float32Array(0), shCoefficients: 1, opacities: new Float32Array(0) };
    const img = await raster.render(empty, CAM, { background: [0.1, 0.2, 0.3], renderMode: 'RGB+ED' });
    expect(img.rgb.length).toBe(16 * 12 * 3);
    expect([...img.rgb.slice(0, 3)].map((v) => +v.toFixed(6))).toEqual([0.1, 0.2, 0.3]);
    expect(img.alpha.every((a) => a === 0)).toBe(true);
    expect(img.depth?.every((d) => d === 0)).toBe(true);
  });

  it('one Gaussian: centre pixel colour = alpha·(SH + 0.5), depth = z', async () => {
    const img = await raster.render(oneGaussian(), { ...CAM, intrinsics: [20, 0, 8.5, 0, 20, 6.5, 0, 0, 1] }, { renderMode: 'RGB+ED' });
    const p = 6 * 16 + 8; // pixel centre (8.5, 6.5) = projected centre
    const a = img.alpha[p];
    expect(a).toBeCloseTo(0.8, 6); // sigma = 0 at the centre
    expect(img.rgb[3 * p]).toBeCloseTo(0.8 * (0.2820947917738781 + 0.5), 5);
    expect(img.rgb[3 * p + 2]).toBeCloseTo(0.8 * Math.max(0, -0.2820947917738781 + 0.5), 5);
    expect(img.depth?.[p]).toBeCloseTo(2, 5);
  });

  it('is deterministic and keeps no state between renders', async () => {
    const cases = await loadGsplatGoldens();
    const c = cases.find((x) => x.name === 'tiny-giant-view1') as GsplatGoldenCase;
    const a = await raster.render(c.gaussians, c.camera, c.options);
    await raster.render(cases[0].gaussians, cases[0].camera, cases[0].options);
    const b = await raster.render(c.gaussians, c.camera, c.options);
    expect(Buffer.from(b.rgb.buffer).equals(Buffer.from(a.rgb.buffer))).toBe(true);
    expect(Buffer.from(b.depth?.buffer as ArrayBuffer).equals(Buffer.from(a.depth?.buffer as ArrayBuffer))).toBe(true);
  });

  it('sorts by depth key (float32 bits), stably', () => {
    const n = 5000;
    const depths = Array.from({ length: n }, (_, g) => ((g * 7919) % 97) * 0.37 + 0.01 + (g % 3 === 0 ? 1e6 : 0));
    const keys = Uint32Array.from(depths, depthKey);
    const ids = Int32Array.from({ length: n }, (_, g) => g);
    radixSortPairs(keys, ids, n, createSortScratch());
    const want = [...Array(n).keys()].sort((a, b) => Math.fround(depths[a]) - Math.fround(depths[b]) || a - b);
    expect([...ids]).toEqual(want);
    expect([...keys]).toEqual(want.map((g) => depthKey(depths[g])));
  });

  it('shBasis has gsplat’s constants', () => {
    const b = shBasis(3, 0, 0, 1);
    expect(b[0]).toBeCloseTo(0.2820947917738781, 15);
    expect(b[2]).toBeCloseTo(0.48860251190292, 14);
    expect(b[6]).toBeCloseTo(0.9461746957575601 - 0.3153915652525201, 14);
    expect(b[12]).toBeCloseTo(1.865881662950577 - 1.119528997770346, 14);
    expect(GSPLAT_CONSTANTS.maxAlpha).toBe(0.999);
  });

  const bad: [string, () => Promise<unknown>, string][] = [
    ['zero width', () => raster.render(oneGaussian(), { ...CAM, width: 0 }), 'BAD_VALUE'],
    ['fractional height', () => raster.render(oneGaussian(), { ...CAM, height: 2.5 }), 'BAD_VALUE'],
    ['NaN in extrinsics', () => raster.render(oneGaussian(), { ...CAM, extrinsics: [1, 0, 0, Number.NaN, 0, 1, 0, 0, 0, 0, 1, 0] }), 'NON_FINITE'],
    ['Infinity in intrinsics', () => raster.render(oneGaussian(), { ...CAM, intrinsics: [Number.POSITIVE_INFINITY, 0, 8, 0, 20, 6, 0, 0, 1] }), 'NON_FINITE'],
    ['4×4 extrinsics', () => raster.render(oneGaussian(), { ...CAM, extrinsics: [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1] }), 'BAD_SHAPE'],
    ['zero focal length', () => raster.render(oneGaussian(), { ...CAM, intrinsics: [0, 0, 8, 0, 20, 6, 0, 0, 1] }), 'DEGENERATE'],
    ['singular rotation', () => raster.render(oneGaussian(), { ...CAM, extrinsics: [1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0] }), 'DEGENERATE'],
    ['short means', () => raster.render(oneGaussian({ means: Float32Array.of(0, 0) }), CAM), 'BAD_SHAPE'],
    ['wrong harmonics length', () => raster.render(oneGaussian({ harmonics: new Float32Array(4) }), CAM), 'BAD_SHAPE'],
    ['plain array', () => raster.render(oneGaussian({ opacities: [0.5] as unknown as Float32Array }), CAM), 'BAD_SHAPE'],
    ['negative count', () => raster.render(oneGaussian({ count: -1 }), CAM), 'BAD_VALUE'],
    ['SH degree above the coefficients', () => raster.render(oneGaussian(), CAM, { shDegree: 1 }), 'BAD_VALUE'],
    ['SH degree 4', () => raster.render(oneGaussian({ harmonics: new Float32Array(75), shCoefficients: 25 }), CAM), 'BAD_VALUE'],
    ['near ≥ far', () => raster.render(oneGaussian(), CAM, { near: 2, far: 1 }), 'BAD_VALUE'],
    ['NaN eps2d', () => raster.render(oneGaussian(), CAM, { eps2d: Number.NaN }), 'NON_FINITE'],
    ['bad render mode', () => raster.render(oneGaussian(), CAM, { renderMode: 'D' as 'RGB' }), 'BAD_VALUE'],
    ['short background', () => raster.render(oneGaussian(), CAM, { background: [0, 0] as unknown as [number, number, number] }), 'BAD_SHAPE'],
    ['aborted signal', () => raster.render(oneGaussian(), CAM, { signal: { aborted: true, reason: 'stop' } }), 'ABORTED'],
  ];
  for (const [what, call, code] of bad) {
    it(`rejects ${what} with ${code}`, async () => {
      const err = await call().then(
        () => null,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(Da3Error);
      expect((err as Da3Error).code).toBe(code);
    });
  }

  it('culls a Gaussian with NaN parameters instead of failing', async () => {
    const img = await raster.render(oneGaussian({ scales: Float32Array.of(Number.NaN, 0.1, 0.1) }), CAM);
    expect(img.alpha.every((a) => a === 0)).toBe(true);
  });

  it('rejects render after dispose', async () => {
    const r = createCpuRasterizer();
    await r.dispose();
    await expect(r.render(oneGaussian(), CAM)).rejects.toBeInstanceOf(Da3Error);
  });
});
