import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { frontCamera, gaussians, lookAtCamera, randomScene } from '../../../../test-utils/gaussian-scenes.js';
import { loadGsplatGoldens, maxAbsDiff } from '../../../../test-utils/gsplat-goldens.js';
import { referenceRender } from '../../../../test-utils/gsplat-reference.js';
import { requireTool } from '../../../../test-utils/tools.js';
import { isDa3Error } from '../../src/errors.js';
import type { GaussianRasterizer } from '../../src/gaussians/index.js';
import { createWebGpuRasterizer } from '../../src/gaussians/index.js';

/**
 * The WebGPU rasterizer in Node, on Dawn (the `webgpu` package). This machine has no GPU and no
 * system Vulkan driver; Debian's Chromium ships SwiftShader's Vulkan ICD, which Dawn loads when
 * `VK_ICD_FILENAMES` points at it — the same software rasterizer Chromium's WebGPU uses here.
 */
const SWIFTSHADER_ICD = process.env.SWIFTSHADER_ICD ?? '/usr/lib/chromium/vk_swiftshader_icd.json';
const NO_ADAPTER = `no Vulkan driver for Dawn: install chromium (its SwiftShader ICD, ${SWIFTSHADER_ICD}) or set VK_ICD_FILENAMES`;

interface DawnGpu {
  requestAdapter(): Promise<{ requestDevice(): Promise<GPUDevice>; info?: { description?: string; device?: string } } | null>;
}
let gpu: DawnGpu | undefined;
let device: GPUDevice | undefined;
let raster: GaussianRasterizer | undefined;

beforeAll(async () => {
  if (!process.env.VK_ICD_FILENAMES && existsSync(SWIFTSHADER_ICD)) process.env.VK_ICD_FILENAMES = SWIFTSHADER_ICD;
  if (!process.env.VK_ICD_FILENAMES) return;
  const { create, globals } = createRequire(import.meta.url)('webgpu') as { create(flags: string[]): DawnGpu; globals: object };
  Object.assign(globalThis, globals);
  gpu = create([]);
  const adapter = await gpu.requestAdapter();
  device = await adapter?.requestDevice();
  if (device) raster = createWebGpuRasterizer({ device });
});

afterAll(async () => {
  await raster?.dispose();
  device?.destroy();
  gpu = undefined;
});

function ready(ctx: { skip: (note?: string) => void }): boolean {
  return requireTool(ctx, raster !== undefined, NO_ADAPTER);
}

describe('WebGPU rasterizer on Dawn (node, SwiftShader)', () => {
  it('matches every gsplat golden render within 1e-3 (rgb, alpha, depth)', async (ctx) => {
    if (!ready(ctx)) return;
    const errs: string[] = [];
    let worst = 0;
    for (const c of await loadGsplatGoldens()) {
      const img = await raster!.render(c.gaussians, c.camera, c.options);
      const planes: [string, ArrayLike<number> | undefined, ArrayLike<number> | undefined][] = [
        ['rgb', img.rgb, c.rgb],
        ['alpha', img.alpha, c.alpha],
        ['depth', img.depth, c.depth],
      ];
      for (const [plane, got, want] of planes) {
        if (!want) continue;
        const d = got ? maxAbsDiff(got, want) : { max: Number.POSITIVE_INFINITY, at: -1 };
        worst = Math.max(worst, d.max);
        if (!(d.max <= 1e-3)) errs.push(`${c.name} ${plane}: max abs ${d.max} at ${d.at} (got ${got?.[d.at]}, gsplat ${want[d.at]})`);
      }
      if (!c.depth) expect(img.depth).toBeUndefined();
    }
    console.log(`WebGPU (Dawn, SwiftShader) vs gsplat goldens: max abs error ${worst.toExponential(2)}`);
    expect(errs).toEqual([]);
  });

  it('renders one Gaussian like the analytic formula', async (ctx) => {
    if (!ready(ctx)) return;
    // An isotropic Gaussian straight ahead: σ = 0.05 at z = 2, f = 40 → 1 px (+ eps2d 0.3 px²).
    const g = gaussians({ means: [0, 0, 2], scales: [0.05, 0.05, 0.05], rotations: [0, 0, 0, 1], opacities: [0.8], harmonics: [1, 0, -1], shCoefficients: 1 });
    const cam = { ...frontCamera(32, 24, 40), intrinsics: [40, 0, 16, 0, 40, 12, 0, 0, 1] };
    const img = await raster!.render(g, cam, { renderMode: 'RGB+ED' });
    const v = 1 + 0.3;
    const color = [1 * 0.2820947917738781 + 0.5, 0.5, Math.max(0, -0.2820947917738781 + 0.5)];
    let worst = 0;
    for (let y = 0; y < 24; y++) {
      for (let x = 0; x < 32; x++) {
        const d2 = (x + 0.5 - 16) ** 2 + (y + 0.5 - 12) ** 2;
        let a = 0.8 * Math.exp(-0.5 * (d2 / v));
        if (a < 1 / 255) a = 0;
        const p = y * 32 + x;
        worst = Math.max(worst, Math.abs(img.alpha[p] - a));
        for (let c = 0; c < 3; c++) worst = Math.max(worst, Math.abs(img.rgb[3 * p + c] - a * color[c]));
        if (a > 0) worst = Math.max(worst, Math.abs(img.depth![p] - 2));
      }
    }
    expect(worst).toBeLessThan(1e-5);
  });

  it('matches the naive float64 reference on random scenes (SH 0–3, RGB+ED, background)', async (ctx) => {
    if (!ready(ctx)) return;
    const cases = [
      { scene: randomScene(300, 1, 3), cam: frontCamera(64, 48), opts: { renderMode: 'RGB+ED' as const } },
      { scene: randomScene(500, 2, 2), cam: lookAtCamera([0.5, -0.3, -0.5], [0, 0, 3], 70, 45), opts: { renderMode: 'RGB+ED' as const, background: [0.2, 0.4, 0.9] as [number, number, number] } },
      { scene: randomScene(400, 3, 3), cam: frontCamera(50, 37), opts: { shDegree: 1 } },
      { scene: randomScene(200, 4, 0), cam: frontCamera(33, 17), opts: { near: 2, far: 4.5, eps2d: 0.1 } },
    ];
    for (const { scene, cam, opts } of cases) {
      const got = await raster!.render(scene, cam, opts);
      const want = referenceRender(scene, cam, opts);
      expect(maxAbsDiff(got.rgb, want.rgb).max).toBeLessThan(1e-4);
      expect(maxAbsDiff(got.alpha, want.alpha).max).toBeLessThan(1e-4);
      if (want.depth) expect(maxAbsDiff(got.depth!, want.depth).max).toBeLessThan(1e-4);
      else expect(got.depth).toBeUndefined();
    }
  });

  it('composites Gaussians of equal depth in index order (a stable sort)', async (ctx) => {
    if (!ready(ctx)) return;
    // Three overlapping Gaussians at exactly z = 2, red, green, blue; opacity 0.9 each.
    const means = [0, 0, 2, 0.01, 0, 2, -0.01, 0, 2];
    const harm = [2, 0, 0, 0, 2, 0, 0, 0, 2];
    const base = { scales: Array(9).fill(0.1), rotations: [0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1], opacities: [0.9, 0.9, 0.9], shCoefficients: 1 };
    const cam = frontCamera(16, 16, 20);
    const abc = await raster!.render(gaussians({ ...base, means, harmonics: harm }), cam);
    const p = 8 * 16 + 8;
    const [r, g, b] = abc.rgb.subarray(3 * p, 3 * p + 3);
    expect(r).toBeGreaterThan(g);
    expect(g).toBeGreaterThan(b);
    // Swapping the order of the first two swaps the dominant colour.
    const swapped = await raster!.render(gaussians({ ...base, means: [...means.slice(3, 6), ...means.slice(0, 3), ...means.slice(6)], harmonics: [0, 2, 0, 2, 0, 0, 0, 0, 2] }), cam);
    const [r2, g2] = swapped.rgb.subarray(3 * p, 3 * p + 2);
    expect(g2).toBeGreaterThan(r2);
  });

  it('handles many tiles, dense overlap (early stop) and sizes that need multi-level scans', async (ctx) => {
    if (!ready(ctx)) return;
    const scene = randomScene(3000, 9, 1, 0.6);
    const cam = frontCamera(160, 120);
    const got = await raster!.render(scene, cam, { renderMode: 'RGB+ED' });
    const want = referenceRender(scene, cam, { renderMode: 'RGB+ED' });
    expect(maxAbsDiff(got.rgb, want.rgb).max).toBeLessThan(1e-4);
    expect(maxAbsDiff(got.alpha, want.alpha).max).toBeLessThan(1e-4);
    expect(maxAbsDiff(got.depth!, want.depth!).max).toBeLessThan(1e-3);
  });

  it('renders an empty scene, or one all culled, as the background', async (ctx) => {
    if (!ready(ctx)) return;
    const empty = gaussians({ means: [], scales: [], rotations: [], opacities: [], harmonics: [], shCoefficients: 1 });
    const img = await raster!.render(empty, frontCamera(20, 10), { background: [0.1, 0.2, 0.3] });
    expect(Array.from(img.rgb.subarray(0, 3)).map((v) => +v.toFixed(6))).toEqual([0.1, 0.2, 0.3]);
    expect(img.alpha.every((a) => a === 0)).toBe(true);
    const behind = gaussians({ means: [0, 0, -1], scales: [1, 1, 1], rotations: [0, 0, 0, 1], opacities: [1], harmonics: [1, 1, 1], shCoefficients: 1 });
    expect((await raster!.render(behind, frontCamera(20, 10))).rgb.every((v) => v === 0)).toBe(true);
  });

  it('rejects bad inputs with Da3Error codes, and an aborted signal with ABORTED', async (ctx) => {
    if (!ready(ctx)) return;
    const scene = randomScene(10, 1, 1);
    const code = (p: Promise<unknown>) => p.then(() => 'no error', (e) => (isDa3Error(e) ? e.code : String(e)));
    expect(await code(raster!.render({ ...scene, means: scene.means.subarray(0, 3) }, frontCamera(8, 8)))).toBe('BAD_SHAPE');
    expect(await code(raster!.render(scene, frontCamera(8, 8), { shDegree: 2 }))).toBe('BAD_VALUE');
    expect(await code(raster!.render(scene, frontCamera(0, 8)))).toBe('BAD_VALUE');
    expect(await code(raster!.render(scene, frontCamera(8, 8), { near: 2, far: 1 }))).toBe('BAD_VALUE');
    expect(await code(raster!.render(scene, { ...frontCamera(8, 8), extrinsics: [Number.NaN, ...Array(11).fill(0)] }))).toBe('NON_FINITE');
    expect(await code(raster!.render(scene, frontCamera(8, 8), { signal: { aborted: true } }))).toBe('ABORTED');
    // still usable
    expect((await raster!.render(scene, frontCamera(8, 8))).rgb.length).toBe(8 * 8 * 3);
    expect(() => createWebGpuRasterizer({ device: {} as never })).toThrow(/GPUDevice/);
  });
});
