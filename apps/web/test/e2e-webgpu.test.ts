import { existsSync } from 'node:fs';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHROMIUM, type StaticServer, requireChromium } from '../../../test-utils/browser.js';
import { appUrl, launchChromium, openPage, serveApp, tinyMultiCase, waitForRun, worstExcess } from './helpers.js';

/**
 * The same upload-and-compare run on the WebGPU execution provider (`--enable-unsafe-webgpu`:
 * SwiftShader's software adapter on machines without a GPU — slow, fine for the tiny model).
 */
let server: StaticServer;
let browser: Browser;
let page: Page;
let errors: string[];

describe('web app on WebGPU (headless Chromium)', () => {
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

  it('runs tiny/multi on the WebGPU EP and equals the reference (depth 1e-4, extrinsics 1e-5)', async (ctx) => {
    if (!requireChromium(ctx)) return;
    const c = await tinyMultiCase();
    await page.setInputFiles('#file-input', c.pngs);
    await page.fill('#process-res', '84');
    const t0 = Date.now();
    await page.click('#run');
    const status = await waitForRun(page);
    const seconds = (Date.now() - t0) / 1000;
    const got = await page.evaluate(() => {
      const p = window.da3App.prediction!;
      return { depth: Array.from(p.depth), extrinsics: Array.from(p.extrinsics!), timings: window.da3App.timings, progress: document.getElementById('progress-text')?.textContent };
    });
    const depth = worstExcess(got.depth, c.depth, 1e-4);
    const ext = worstExcess(got.extrinsics, c.extrinsics, 1e-5);
    console.log(`WebGPU: ${status} run ${seconds.toFixed(1)} s (load ${got.timings.load?.toFixed(0)} ms, inference ${got.timings.inference?.toFixed(0)} ms); max |Δdepth| ${depth.maxAbs.toExponential(2)} (excess over 1e-4·(1+|b|): ${depth.excess.toExponential(2)}), max |Δextrinsics| ${ext.maxAbs.toExponential(2)} (excess over 1e-5·(1+|b|): ${ext.excess.toExponential(2)})`);
    expect(depth.excess).toBeLessThanOrEqual(0);
    expect(ext.excess).toBeLessThanOrEqual(0);
    expect(errors.filter((e) => !/powerPreference/i.test(e))).toEqual([]);
  });
});
