import { existsSync } from 'node:fs';
import type { Browser, Page } from 'playwright-core';
import { PNG } from 'pngjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHROMIUM, type StaticServer, requireChromium } from '../../../test-utils/browser.js';
import { loadGsplatGoldens } from '../../../test-utils/gsplat-goldens.js';
import { fixturePrediction } from '../../../test-utils/prediction.js';
import { appUrl, launchChromium, plainPrediction, serveApp } from './helpers.js';

/**
 * Splat mode without WebGPU: `navigator.gpu` removed before the page loads, so the Splats checkbox
 * lazily loads Spark's chunk and draws the tiny-giant fixture's 7056 Gaussians with WebGL2 in the
 * viewer's own canvas (software WebGL, SwiftShader). The splats must cover the view's centre with
 * scene colours (not the background, not the point cloud's picture), and switching back shows the
 * point cloud again. The Spark chunk must not be part of the page's first load.
 */
let server: StaticServer;
let browser: Browser;
let page: Page;
let errors: string[];

describe('web app: splat mode without WebGPU (Spark on WebGL2, headless Chromium)', () => {
  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) return;
    server = await serveApp();
    browser = await launchChromium();
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    // WebGPU disabled: no navigator.gpu at all (as in browsers without WebGPU).
    await context.addInitScript(() => Object.defineProperty(Navigator.prototype, 'gpu', { get: () => undefined, configurable: true }));
    page = await context.newPage();
    errors = [];
    page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(`console: ${m.text()}`);
    });
    await page.goto(appUrl(server, 'wasm'));
    await page.evaluate(() => window.da3App.ready);
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it('draws the Gaussians with Spark where WebGPU is missing, and switches back to the point cloud', async (ctx) => {
    if (!requireChromium(ctx)) return;
    expect(await page.evaluate(() => (navigator as { gpu?: unknown }).gpu === undefined)).toBe(true);
    const p = await fixturePrediction('tiny-giant', 'multi');
    const g = (await loadGsplatGoldens()).find((c) => c.scene === 'tiny-giant')!.gaussians;
    const plain = plainPrediction(p);
    const gs = { count: g.count, shCoefficients: g.shCoefficients, means: Array.from(g.means), scales: Array.from(g.scales), rotations: Array.from(g.rotations), harmonics: Array.from(g.harmonics), opacities: Array.from(g.opacities) };
    await page.evaluate(
      ([pred, gauss]) => {
        const f = (a: number[]) => Float32Array.from(a);
        const gaussians = { count: gauss.count, shCoefficients: gauss.shCoefficients, means: f(gauss.means), scales: f(gauss.scales), rotations: f(gauss.rotations), harmonics: f(gauss.harmonics), opacities: f(gauss.opacities) };
        window.da3App.showPrediction({ ...pred, gaussians } as never);
      },
      [plain, gs] as const,
    );
    const toggle = page.locator('#show-splats');
    await page.waitForFunction(() => !(document.getElementById('show-splats') as HTMLInputElement).disabled);
    expect(await page.evaluate(() => window.da3App.viewer.splats.backend)).toBe('spark');
    expect(await toggle.getAttribute('title')).toContain('WebGL2, Spark');
    const viewer = page.locator('#viewer');
    const cloudShot = PNG.sync.read(await viewer.screenshot());
    const chunksBefore = await page.evaluate(() => performance.getEntriesByType('resource').map((e) => new URL(e.name).pathname));
    await toggle.check();
    // Spark draws once loaded, and again once its worker has sorted for the view.
    await page.waitForFunction(() => window.da3App.viewer.splats.frames >= 2, null, { timeout: 120_000, polling: 200 });
    await page.waitForTimeout(1500);
    const state = await page.evaluate(() => ({ ...window.da3App.viewer.splats }));
    expect(state).toMatchObject({ enabled: true, backend: 'spark' });
    // The Spark chunk came only now (lazy), not with the page.
    const chunksAfter = await page.evaluate(() => performance.getEntriesByType('resource').map((e) => new URL(e.name).pathname));
    const lazy = chunksAfter.filter((c) => !chunksBefore.includes(c) && c.endsWith('.js'));
    expect(lazy.some((c) => /spark-splats/.test(c))).toBe(true);
    expect(chunksBefore.some((c) => /spark-splats/.test(c))).toBe(false);
    // No WebGPU overlay: Spark draws in the viewer's canvas.
    expect(await page.locator('.splat-overlay').isHidden()).toBe(true);
    const splatShot = PNG.sync.read(await viewer.screenshot());
    const bg = [0x20, 0x21, 0x24];
    let lit = 0;
    let changed = 0;
    let samples = 0;
    const { width, height, data } = splatShot;
    for (let y = Math.floor(height * 0.3); y < height * 0.7; y += 4) {
      for (let x = Math.floor(width * 0.3); x < width * 0.7; x += 4) {
        const i = 4 * (y * width + x);
        samples++;
        if (Math.abs(data[i] - bg[0]) + Math.abs(data[i + 1] - bg[1]) + Math.abs(data[i + 2] - bg[2]) > 30) lit++;
        if (Math.abs(data[i] - cloudShot.data[i]) + Math.abs(data[i + 1] - cloudShot.data[i + 1]) + Math.abs(data[i + 2] - cloudShot.data[i + 2]) > 30) changed++;
      }
    }
    console.log(`splat mode (Spark, SwiftShader WebGL2): ${lit}/${samples} centre samples lit, ${changed} changed; last draw ${state.lastFrameMs.toFixed(0)} ms`);
    // the 7056 Gaussians fill the view's centre (as with the WebGPU rasterizer)
    expect(lit).toBeGreaterThan(samples / 2);
    expect(changed).toBeGreaterThan(20);
    await toggle.uncheck();
    await page.waitForTimeout(500);
    expect(await page.evaluate(() => window.da3App.viewer.splats.enabled)).toBe(false);
    const backShot = PNG.sync.read(await viewer.screenshot());
    // the point cloud is back: the picture equals the first one
    let diff = 0;
    for (let i = 0; i < backShot.data.length; i += 4) diff += Math.abs(backShot.data[i] - cloudShot.data[i]) > 2 ? 1 : 0;
    expect(diff / (backShot.data.length / 4)).toBeLessThan(0.001);
    expect(errors.filter((e) => !/W:onnxruntime|powerPreference/.test(e))).toEqual([]);
  }, 240_000);

  it('puts each Gaussian where the viewer shows its world point (OpenCV axes), in its colour', async (ctx) => {
    if (!requireChromium(ctx)) return;
    const p = await fixturePrediction('tiny-giant', 'multi');
    const g = (await loadGsplatGoldens()).find((c) => c.scene === 'tiny-giant')!.gaussians;
    // Two of the fixture's Gaussian centres (view 0, a third and two thirds across), one red, one blue.
    const W = p.width;
    const H = p.height;
    const at = (r: number, c: number) => Array.from(g.means.subarray(3 * (r * W + c), 3 * (r * W + c) + 3));
    const red = at(Math.round(H / 3), Math.round(W / 3));
    const blue = at(Math.round((2 * H) / 3), Math.round((2 * W) / 3));
    const size = 0.08 * Math.hypot(red[0] - blue[0], red[1] - blue[1], red[2] - blue[2]);
    const dc = (v: number) => (v - 0.5) / 0.28209479177387814;
    const plain = plainPrediction(p);
    const gs = {
      count: 2,
      shCoefficients: 1,
      means: [...red, ...blue],
      scales: [size, size, size, size, size, size],
      rotations: [0, 0, 0, 1, 0, 0, 0, 1],
      // [G, 3, 1]: red (1, 0, 0), blue (0, 0, 1)
      harmonics: [dc(1), dc(0), dc(0), dc(0), dc(0), dc(1)],
      opacities: [0.99, 0.99],
    };
    const toggle = page.locator('#show-splats');
    if (await toggle.isChecked()) await toggle.uncheck();
    await page.evaluate(
      ([pred, gauss]) => {
        const f = (a: number[]) => Float32Array.from(a);
        const gaussians = { count: gauss.count, shCoefficients: gauss.shCoefficients, means: f(gauss.means), scales: f(gauss.scales), rotations: f(gauss.rotations), harmonics: f(gauss.harmonics), opacities: f(gauss.opacities) };
        window.da3App.showPrediction({ ...pred, gaussians } as never);
      },
      [plain, gs] as const,
    );
    // No camera frustums in the picture.
    if (await page.locator('#show-cameras').isChecked()) await page.locator('#show-cameras').uncheck();
    await page.waitForFunction(() => !(document.getElementById('show-splats') as HTMLInputElement).disabled);
    const before = await page.evaluate(() => window.da3App.viewer.splats.frames);
    await toggle.check();
    await page.waitForFunction((n) => window.da3App.viewer.splats.frames >= n + 2, before, { timeout: 120_000, polling: 200 });
    await page.waitForTimeout(1500);
    const viewer = page.locator('#viewer');
    const box = (await viewer.boundingBox())!;
    const shot = PNG.sync.read(await viewer.screenshot());
    const colourAt = async (w: number[]) => {
      const q = await page.evaluate(([x, y, z]) => window.da3App.viewer.project(x, y, z), w as [number, number, number]);
      const sx = shot.width / box.width;
      const px = Math.round((q.x - box.x) * sx);
      const py = Math.round((q.y - box.y) * sx);
      expect(px).toBeGreaterThan(0);
      expect(py).toBeGreaterThan(0);
      expect(px).toBeLessThan(shot.width);
      expect(py).toBeLessThan(shot.height);
      const i = 4 * (py * shot.width + px);
      return [shot.data[i], shot.data[i + 1], shot.data[i + 2]];
    };
    const r = await colourAt(red);
    const b = await colourAt(blue);
    console.log(`Spark splats at the projected centres: red ${r}, blue ${b}`);
    // The centre of each splat: its own colour, nearly opaque (0.99), over the dark background.
    expect(r[0]).toBeGreaterThan(200);
    expect(r[1] + r[2]).toBeLessThan(80);
    expect(b[2]).toBeGreaterThan(200);
    expect(b[0] + b[1]).toBeLessThan(80);
    expect(errors.filter((e) => !/W:onnxruntime|powerPreference/.test(e))).toEqual([]);
  }, 240_000);
});
