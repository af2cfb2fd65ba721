import { existsSync } from 'node:fs';
import type { Browser, Page } from 'playwright-core';
import { PNG } from 'pngjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHROMIUM, type StaticServer, requireChromium } from '../../../test-utils/browser.js';
import { loadGsplatGoldens } from '../../../test-utils/gsplat-goldens.js';
import { fixturePrediction } from '../../../test-utils/prediction.js';
import { appUrl, launchChromium, plainPrediction, openPage, serveApp } from './helpers.js';

/**
 * Splat mode of the 3D viewer on WebGPU's software adapter: the tiny-giant fixture's prediction
 * with its 7056 Gaussians shown with `showPrediction`, the Splats checkbox switching from the point
 * cloud to WebGPU-rendered splats and back, a new frame after an orbit.
 */
let server: StaticServer;
let browser: Browser;
let page: Page;
let errors: string[];

describe('web app: splat mode (WebGPU, headless Chromium)', () => {
  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) return;
    server = await serveApp();
    browser = await launchChromium({ webgpu: true });
    ({ page, errors } = await openPage(browser, appUrl(server, 'webgpu')));
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it('switches between the point cloud and WebGPU splats of the prediction’s Gaussians', async (ctx) => {
    if (!requireChromium(ctx)) return;
    const p = await fixturePrediction('tiny-giant', 'multi');
    const g = (await loadGsplatGoldens()).find((c) => c.scene === 'tiny-giant')!.gaussians;
    const plain = plainPrediction(p);
    const gs = { count: g.count, shCoefficients: g.shCoefficients, means: Array.from(g.means), scales: Array.from(g.scales), rotations: Array.from(g.rotations), harmonics: Array.from(g.harmonics), opacities: Array.from(g.opacities) };
    const toggle = page.locator('#show-splats');
    expect(await toggle.isDisabled()).toBe(true);
    await page.evaluate(
      ([pred, gauss]) => {
        const f = (a: number[]) => Float32Array.from(a);
        const gaussians = { count: gauss.count, shCoefficients: gauss.shCoefficients, means: f(gauss.means), scales: f(gauss.scales), rotations: f(gauss.rotations), harmonics: f(gauss.harmonics), opacities: f(gauss.opacities) };
        window.da3App.showPrediction({ ...pred, gaussians } as never);
      },
      [plain, gs] as const,
    );
    await page.waitForFunction(() => !(document.getElementById('show-splats') as HTMLInputElement).disabled);
    const viewer = page.locator('#viewer');
    const cloudShot = PNG.sync.read(await viewer.screenshot());
    await toggle.check();
    await page.waitForFunction(() => window.da3App.viewer.splats.frames >= 1, null, { timeout: 60_000 });
    const first = await page.evaluate(() => ({ ...window.da3App.viewer.splats }));
    expect(first.enabled).toBe(true);
    expect(first.backend).toBe('webgpu');
    const splatShot = PNG.sync.read(await viewer.screenshot());
    // the splats cover the view's centre with scene colours, different from the point cloud's picture
    const bg = [0x20, 0x21, 0x24];
    let lit = 0;
    let changed = 0;
    const { width, height, data } = splatShot;
    for (let y = Math.floor(height * 0.3); y < height * 0.7; y += 4) {
      for (let x = Math.floor(width * 0.3); x < width * 0.7; x += 4) {
        const i = 4 * (y * width + x);
        if (Math.abs(data[i] - bg[0]) + Math.abs(data[i + 1] - bg[1]) + Math.abs(data[i + 2] - bg[2]) > 30) lit++;
        if (Math.abs(data[i] - cloudShot.data[i]) + Math.abs(data[i + 1] - cloudShot.data[i + 1]) + Math.abs(data[i + 2] - cloudShot.data[i + 2]) > 30) changed++;
      }
    }
    expect(lit).toBeGreaterThan(50);
    expect(changed).toBeGreaterThan(20);
    // orbit: one more frame
    const box = (await viewer.boundingBox())!;
    await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
    await page.mouse.down();
    await page.mouse.move(box.x + box.width / 2 + 60, box.y + box.height / 2, { steps: 4 });
    await page.mouse.up();
    await page.waitForFunction((n) => window.da3App.viewer.splats.frames > n, first.frames, { timeout: 60_000 });
    console.log(`splat mode: 7056 Gaussians, first frame ${first.lastFrameMs.toFixed(0)} ms on SwiftShader`);
    await toggle.uncheck();
    expect(await page.evaluate(() => window.da3App.viewer.splats.enabled)).toBe(false);
    expect(await page.locator('.splat-overlay').isHidden()).toBe(true);
    expect(errors.filter((e) => !/W:onnxruntime|powerPreference/.test(e))).toEqual([]);
  });
});
