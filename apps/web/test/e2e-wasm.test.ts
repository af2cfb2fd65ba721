import { existsSync } from 'node:fs';
import validator from 'gltf-validator';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHROMIUM, type StaticServer, requireChromium } from '../../../test-utils/browser.js';
import { appUrl, decodePng, launchChromium, openPage, runTinyMulti, serveApp, tinyMultiCase, worstExcess } from './helpers.js';

/**
 * The built app in headless Chromium on the WASM backend: the tiny model from the fixture hub,
 * the tiny/multi images uploaded through the real file input, and every part of the result
 * checked with numbers.
 */
let server: StaticServer;
let browser: Browser;
let page: Page;
let errors: string[];

describe('web app on WASM (headless Chromium)', () => {
  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) return; // each test then skips (or fails under CI) via requireChromium
    server = await serveApp();
    browser = await launchChromium();
    ({ page, errors } = await openPage(browser, appUrl(server, 'wasm')));
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it('uploads the tiny/multi images, runs, and equals the reference (depth 1e-4, extrinsics 1e-5)', async (ctx) => {
    if (!requireChromium(ctx)) return;
    const c = await tinyMultiCase();
    const got = await runTinyMulti(page, c.pngs);
    const { status, seconds } = got;
    expect([got.views, got.height, got.width]).toEqual([3, 56, 84]);
    const depth = worstExcess(got.depth, c.depth, 1e-4);
    const ext = worstExcess(got.extrinsics, c.extrinsics, 1e-5);
    console.log(`WASM: ${status} run ${seconds.toFixed(1)} s (load ${got.timings.load?.toFixed(0)} ms, inference ${got.timings.inference?.toFixed(0)} ms); max |Δdepth| ${depth.maxAbs.toExponential(2)}, max |Δextrinsics| ${ext.maxAbs.toExponential(2)}`);
    expect(depth.excess).toBeLessThanOrEqual(0);
    expect(ext.excess).toBeLessThanOrEqual(0);
    // Weights were range-streamed from the hub.
    expect(server.log.filter((r) => r.path.endsWith('model.safetensors') && r.status === 206).length).toBeGreaterThan(10);
    expect(errors).toEqual([]);
  });

  it('draws the point cloud: the viewer screenshot is not just background', async (ctx) => {
    if (!requireChromium(ctx)) return;
    const shown = await page.evaluate(() => window.da3App.viewer.pointsShown);
    expect(shown).toBeGreaterThan(1000);
    await page.waitForTimeout(200);
    const png = decodePng(await page.locator('#viewer canvas[role="img"]').screenshot());
    const bg = [0x20, 0x21, 0x24];
    let differ = 0;
    const colours = new Set<number>();
    for (let i = 0; i < png.width * png.height; i++) {
      const [r, g, b] = [png.data[4 * i], png.data[4 * i + 1], png.data[4 * i + 2]];
      if (Math.abs(r - bg[0]) + Math.abs(g - bg[1]) + Math.abs(b - bg[2]) > 6) differ++;
      colours.add((r << 16) | (g << 8) | b);
    }
    const fraction = differ / (png.width * png.height);
    console.log(`viewer: ${shown} points, ${(100 * fraction).toFixed(2)}% non-background pixels, ${colours.size} colours`);
    expect(fraction).toBeGreaterThan(0.01);
    expect(colours.size).toBeGreaterThan(50);
  });

  it('the depth viewer pages through the views and labels its colour bar', async (ctx) => {
    if (!requireChromium(ctx)) return;
    expect(await page.locator('#depth-label').textContent()).toBe('view 1 / 3');
    const first = await page.locator('#depth-canvas').screenshot();
    await page.click('#depth-next');
    expect(await page.locator('#depth-label').textContent()).toBe('view 2 / 3');
    const second = await page.locator('#depth-canvas').screenshot();
    expect(Buffer.compare(first, second)).not.toBe(0);
    const [min, max] = [Number(await page.locator('#colour-bar-min').textContent()), Number(await page.locator('#colour-bar-max').textContent())];
    expect(min).toBeGreaterThan(0);
    expect(max).toBeGreaterThan(min);
  });

  it('downloads a GLB that passes gltf-validator', async (ctx) => {
    if (!requireChromium(ctx)) return;
    const [download] = await Promise.all([page.waitForEvent('download', (d) => d.suggestedFilename() === 'scene.glb'), page.click('#download-glb')]);
    const stream = await download.createReadStream();
    const chunks: Buffer[] = [];
    for await (const c of stream) chunks.push(c as Buffer);
    const bytes = new Uint8Array(Buffer.concat(chunks));
    expect(bytes.byteLength).toBeGreaterThan(1000);
    const report = await validator.validateBytes(bytes);
    console.log(`scene.glb: ${bytes.byteLength} bytes, ${report.issues.numErrors} errors, ${report.issues.numWarnings} warnings`);
    expect(report.issues.numErrors).toBe(0);
  });
});
