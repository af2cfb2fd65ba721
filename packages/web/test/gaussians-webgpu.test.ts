import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Gaussians, type RasterImage, type RasterizeOptions, type RenderCamera, createCpuRasterizer } from '@da3js/core';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type StaticServer, bundleForBrowser, launchChromium, requireChromium, startStaticServer } from '../../../test-utils/browser.js';
import { frontCamera, lookAtCamera, randomScene, surfaceScene } from '../../../test-utils/gaussian-scenes.js';
import { loadGsplatGoldens, maxAbsDiff } from '../../../test-utils/gsplat-goldens.js';

/**
 * `createWebGpuRasterizer` of @da3js/web in headless Chromium on WebGPU's software adapter
 * (SwiftShader): every gsplat golden render within 1e-3, and the same images as core's CPU
 * rasterizer on scenes beyond the goldens.
 */
const TOL = 1e-3;
let dir: string;
let server: StaticServer;
let browser: Browser | undefined;
let page: Page | undefined;

const b64 = (a: Float32Array): string => Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('base64');
const f32 = (s: string): Float32Array => {
  const b = Buffer.from(s, 'base64');
  return new Float32Array(b.buffer, b.byteOffset, b.byteLength / 4).slice();
};

interface Wire {
  g: { count: number; shCoefficients: number; means: string; scales: string; rotations: string; harmonics: string; opacities: string };
  camera: { extrinsics: number[]; intrinsics: number[]; width: number; height: number };
  options: Omit<RasterizeOptions, 'signal'>;
}

function wire(g: Gaussians, camera: RenderCamera, options: RasterizeOptions): Wire {
  return {
    g: { count: g.count, shCoefficients: g.shCoefficients, means: b64(g.means), scales: b64(g.scales), rotations: b64(g.rotations), harmonics: b64(g.harmonics), opacities: b64(g.opacities) },
    camera: { extrinsics: Array.from(camera.extrinsics), intrinsics: Array.from(camera.intrinsics), width: camera.width, height: camera.height },
    options,
  };
}

/** Renders each job in the page (one rasterizer, device from navigator.gpu); planes come back as base64. */
async function renderInPage(jobs: Wire[]): Promise<{ images: RasterImage[]; ms: number[]; name: string; fallback: boolean }> {
  const got = await page!.evaluate(async (jobs) => {
    const lib = (window as never as { lib: typeof import('@da3js/web') }).lib;
    const dec = (s: string) => {
      const bin = atob(s);
      const u8 = new Uint8Array(bin.length);
      for (let i = 0; i < bin.length; i++) u8[i] = bin.charCodeAt(i);
      return new Float32Array(u8.buffer);
    };
    const enc = (a: Float32Array) => {
      const u8 = new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
      let s = '';
      for (let i = 0; i < u8.length; i += 0x8000) s += String.fromCharCode(...u8.subarray(i, i + 0x8000));
      return btoa(s);
    };
    const adapter = await (navigator as never as { gpu: { requestAdapter(): Promise<{ info?: { isFallbackAdapter?: boolean }; isFallbackAdapter?: boolean }> } }).gpu.requestAdapter();
    const raster = await lib.createWebGpuRasterizer();
    const images = [];
    const ms = [];
    for (const j of jobs) {
      const g = { count: j.g.count, shCoefficients: j.g.shCoefficients, means: dec(j.g.means), scales: dec(j.g.scales), rotations: dec(j.g.rotations), harmonics: dec(j.g.harmonics), opacities: dec(j.g.opacities) };
      const t = performance.now();
      const img = await raster.render(g, j.camera, j.options);
      ms.push(performance.now() - t);
      images.push({ width: img.width, height: img.height, rgb: enc(img.rgb), alpha: enc(img.alpha), depth: img.depth ? enc(img.depth) : null });
    }
    await raster.dispose();
    return { images, ms, name: raster.name, fallback: Boolean(adapter?.info?.isFallbackAdapter ?? adapter?.isFallbackAdapter) };
  }, jobs);
  return {
    ...got,
    images: got.images.map((i) => ({ width: i.width, height: i.height, rgb: f32(i.rgb), alpha: f32(i.alpha), ...(i.depth ? { depth: f32(i.depth) } : {}) })),
  };
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'da3js-web-gs-'));
  await bundleForBrowser("export * from '@da3js/web';", dir, 'lib');
  writeFileSync(join(dir, 'index.html'), '<!doctype html><meta charset="utf-8"><script type="module">import * as lib from "./lib.js"; window.lib = lib; window.libReady = true;</script>');
  server = await startStaticServer({ mounts: { '/': dir } });
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function open(): Promise<void> {
  browser ??= await launchChromium({ webgpu: true });
  if (page) return;
  page = await browser.newPage();
  page.on('pageerror', (e) => console.warn(`page error: ${e.message}`));
  await page.goto(`${server.url}/`);
  await page.waitForFunction(() => (window as unknown as { libReady?: boolean }).libReady === true);
}

/**
 * Differences per plane (worst kept in `worst`). With `relativeDepth`, depth is compared as
 * |Δ| ≤ 1e-3·max(1, |z|): the expected depth Σwz/α divides by α, so where α is small two float32
 * implementations differ by more than their rgb does.
 */
function diffs(name: string, got: RasterImage, want: { rgb: ArrayLike<number>; alpha: ArrayLike<number>; depth?: ArrayLike<number> }, worst: Record<string, number>, relativeDepth = false): string[] {
  const errs: string[] = [];
  for (const [plane, g, w] of [
    ['rgb', got.rgb, want.rgb],
    ['alpha', got.alpha, want.alpha],
    ['depth', got.depth, want.depth],
  ] as const) {
    if (!w) continue;
    if (!g) {
      errs.push(`${name}: no ${plane}`);
      continue;
    }
    const scale = relativeDepth && plane === 'depth' ? Float32Array.from(w, (z) => Math.max(1, Math.abs(z))) : null;
    const d = scale ? maxAbsDiff(Float32Array.from(g, (v, i) => v / scale[i]), Float32Array.from(w, (v, i) => v / scale[i])) : maxAbsDiff(g, w);
    worst[plane] = Math.max(worst[plane] ?? 0, d.max);
    if (!(d.max <= TOL)) errs.push(`${name} ${plane}: max ${scale ? 'relative' : 'abs'} ${d.max} at ${d.at} (got ${g[d.at]}, want ${w[d.at]})`);
  }
  return errs;
}

const fmt = (worst: Record<string, number>): string =>
  Object.entries(worst)
    .map(([k, v]) => `${k} ${v.toExponential(2)}`)
    .join(', ');

describe('WebGPU Gaussian rasterizer in Chromium (software adapter)', () => {
  it('matches every gsplat golden render within 1e-3 (rgb, alpha, expected depth)', async (ctx) => {
    if (!requireChromium(ctx)) return;
    await open();
    const cases = await loadGsplatGoldens();
    const got = await renderInPage(cases.map((c) => wire(c.gaussians, c.camera, c.options)));
    expect(got.name).toBe('webgpu');
    expect(got.fallback).toBe(true);
    const worst: Record<string, number> = {};
    const errs = cases.flatMap((c, i) => {
      expect(got.images[i].depth === undefined).toBe(c.depth === undefined);
      return diffs(c.name, got.images[i], c, worst);
    });
    const tg = cases.findIndex((c) => c.name === 'tiny-giant-view1');
    console.log(`WebGPU (Chromium SwiftShader) vs gsplat goldens, max abs error: ${fmt(worst)}; tiny-giant-view1 (7056 Gaussians, 42×56) ${got.ms[tg].toFixed(1)} ms`);
    expect(errs).toEqual([]);
  });

  it('renders like core’s CPU rasterizer beyond the goldens (random SH-3 scenes, a 20k-Gaussian surface, backgrounds)', async (ctx) => {
    if (!requireChromium(ctx)) return;
    await open();
    const jobs: [Gaussians, RenderCamera, RasterizeOptions][] = [
      [randomScene(2000, 11, 3), frontCamera(128, 96), { renderMode: 'RGB+ED' }],
      [randomScene(800, 12, 2), lookAtCamera([0.8, -0.4, -1], [0, 0, 3], 97, 61), { renderMode: 'RGB+ED', background: [0.3, 0.6, 0.1] }],
      [surfaceScene(168, 120), frontCamera(168, 120), { renderMode: 'RGB+ED' }],
      [surfaceScene(168, 120), lookAtCamera([1, -0.5, 0.5], [0, 0, 3], 160, 120), { shDegree: 1 }],
    ];
    const got = await renderInPage(jobs.map(([g, c, o]) => wire(g, c, o)));
    const cpu = createCpuRasterizer();
    const worst: Record<string, number> = {};
    const errs: string[] = [];
    for (let i = 0; i < jobs.length; i++) {
      const want = await cpu.render(...jobs[i]);
      errs.push(...diffs(`scene ${i}`, got.images[i], want, worst, true));
    }
    console.log(`WebGPU (Chromium SwiftShader) vs CPU rasterizer, max error (depth relative): ${fmt(worst)}; frames ${got.ms.map((m) => m.toFixed(0)).join(', ')} ms`);
    expect(errs).toEqual([]);
  });

  it('says UNSUPPORTED without WebGPU, and renders on a device the caller passes', async (ctx) => {
    if (!requireChromium(ctx)) return;
    await open();
    const got = await page!.evaluate(async () => {
      const lib = (window as never as { lib: typeof import('@da3js/web') }).lib;
      const nav = navigator as never as { gpu: { requestAdapter(): Promise<{ requestDevice(): Promise<{ destroy(): void; lost: Promise<unknown> }> }> } };
      const device = await (await nav.gpu.requestAdapter()).requestDevice();
      const raster = await lib.createWebGpuRasterizer({ device: device as never });
      const one = { count: 1, shCoefficients: 1, means: Float32Array.of(0, 0, 2), scales: Float32Array.of(0.1, 0.1, 0.1), rotations: Float32Array.of(0, 0, 0, 1), harmonics: Float32Array.of(1, 1, 1), opacities: Float32Array.of(0.9) };
      const img = await raster.render(one, { extrinsics: [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0], intrinsics: [20, 0, 8, 0, 20, 8, 0, 0, 1], width: 16, height: 16 });
      await raster.dispose();
      // the caller's device survives dispose(): it still makes buffers without a validation error
      device.createBuffer({ size: 16, usage: 0x8 } as never);
      const saved = Object.getOwnPropertyDescriptor(Navigator.prototype, 'gpu');
      Object.defineProperty(Navigator.prototype, 'gpu', { value: undefined, configurable: true });
      const code = await lib.createWebGpuRasterizer().then(
        () => 'no error',
        (e: { code: string }) => e.code,
      );
      if (saved) Object.defineProperty(Navigator.prototype, 'gpu', saved);
      return { centre: img.alpha[8 * 16 + 8], code };
    });
    expect(got.centre).toBeGreaterThan(0.5);
    expect(got.code).toBe('UNSUPPORTED');
  });
});
