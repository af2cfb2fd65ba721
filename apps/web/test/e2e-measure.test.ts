import { existsSync } from 'node:fs';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHROMIUM, type StaticServer, requireChromium } from '../../../test-utils/browser.js';
import { appUrl, launchChromium, openPage, serveApp } from './helpers.js';

/**
 * The measure tool on a synthetic scene shown through `da3App.showPrediction`: one 4×3 view,
 * identity pose, fx = fy = 2, cx = 1.5, cy = 1, depth 2 + u/2 + v/4. Two pixels' world points are
 * clicked on the canvas (positions from `da3App.viewer.project`) and the reported distance must
 * equal the one computed here.
 */
const W = 4;
const H = 3;
const K = [2, 0, 1.5, 0, 2, 1, 0, 0, 1];
const depthAt = (u: number, v: number) => 2 + u / 2 + v / 4;
const world = (u: number, v: number): [number, number, number] => {
  const d = depthAt(u, v);
  return [((u - K[2]) / K[0]) * d, ((v - K[5]) / K[4]) * d, d];
};

function scene(isMetric: boolean) {
  const depth: number[] = [];
  const rgb: number[] = [];
  for (let v = 0; v < H; v++) {
    for (let u = 0; u < W; u++) {
      depth.push(depthAt(u, v));
      rgb.push(200, 40 + 50 * u, 60 + 60 * v);
    }
  }
  return { views: 1, height: H, width: W, depth, processedImages: rgb, intrinsics: K, extrinsics: [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0], isMetric };
}

let server: StaticServer;
let browser: Browser;
let page: Page;

async function clickWorld(p: [number, number, number]) {
  const at = await page.evaluate(([x, y, z]) => window.da3App.viewer.project(x, y, z), p);
  await page.mouse.click(at.x, at.y);
}

describe('measure tool (headless Chromium)', () => {
  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) return;
    server = await serveApp();
    browser = await launchChromium();
    ({ page } = await openPage(browser, appUrl(server, 'wasm')));
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it('two clicks give the distance between the picked world points (units)', async (ctx) => {
    if (!requireChromium(ctx)) return;
    await page.evaluate((s) => void window.da3App.showPrediction(s), scene(false));
    expect(await page.evaluate(() => window.da3App.viewer.pointsShown)).toBe(W * H);
    await page.click('#measure-toggle');
    const a = world(0, 0);
    const b = world(3, 2);
    await clickWorld(a);
    await clickWorld(b);
    const expected = Math.hypot(a[0] - b[0], a[1] - b[1], a[2] - b[2]);
    const got = await page.evaluate(() => window.da3App.measure.lastDistance);
    console.log(`measure: got ${got}, expected ${expected} (relative error ${Math.abs((got ?? 0) - expected) / expected})`);
    expect(got).not.toBeNull();
    expect(Math.abs((got as number) - expected) / expected).toBeLessThan(1e-6);
    expect(await page.locator('#measure-result').textContent()).toContain('units');
  });

  it('reports metres for a metric prediction, and a third click starts a new measurement', async (ctx) => {
    if (!requireChromium(ctx)) return;
    await page.evaluate((s) => void window.da3App.showPrediction(s), scene(true));
    expect(await page.evaluate(() => window.da3App.measure.lastDistance)).toBeNull();
    const a = world(1, 0);
    const b = world(2, 1);
    const c = world(3, 0);
    await clickWorld(a);
    await clickWorld(b);
    expect(await page.evaluate(() => window.da3App.measure.lastDistance)).toBeCloseTo(Math.hypot(a[0] - b[0], a[1] - b[1], a[2] - b[2]), 9);
    expect(await page.locator('#measure-result').textContent()).toMatch(/Distance: [\d.]+ (m|cm)$/);
    await clickWorld(c);
    await clickWorld(a);
    expect(await page.evaluate(() => window.da3App.measure.lastDistance)).toBeCloseTo(Math.hypot(a[0] - c[0], a[1] - c[1], a[2] - c[2]), 9);
  });
});
