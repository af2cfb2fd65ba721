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
let result: { depth: number[]; extrinsics: number[] } | undefined;

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

  it('runs tiny/multi on the WebGPU execution provider: a complete, finite prediction', async (ctx) => {
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
      return { depth: Array.from(p.depth), extrinsics: Array.from(p.extrinsics!), timings: window.da3App.timings, providers: window.da3App.providers };
    });
    expect(got.providers[0]).toBe('webgpu');
    expect(got.depth.length).toBe(c.depth.length);
    expect(got.depth.every(Number.isFinite)).toBe(true);
    expect(got.extrinsics.length).toBe(c.extrinsics.length);
    result = got;
    const depth = worstExcess(got.depth, c.depth, 1e-4);
    const hw = c.depth.length / 3;
    const perView = [0, 1, 2].map((v) => worstExcess(got.depth.slice(v * hw, (v + 1) * hw), c.depth.subarray(v * hw, (v + 1) * hw), 1e-4).maxAbs.toExponential(2));
    const outside = got.depth.filter((x, i) => Math.abs(x - c.depth[i]) > 1e-4 * (1 + Math.abs(c.depth[i]))).length;
    console.log(`WebGPU depth: per-view max |Δ| ${perView.join(', ')}; ${outside}/${c.depth.length} values outside 1e-4·(1+|b|); providers ${got.providers.join(', ')}`);
    const ext = worstExcess(got.extrinsics, c.extrinsics, 1e-5);
    console.log(`WebGPU: ${status} run ${seconds.toFixed(1)} s (load ${got.timings.load?.toFixed(0)} ms, inference ${got.timings.inference?.toFixed(0)} ms); max |Δdepth| ${depth.maxAbs.toExponential(2)} (excess over 1e-4·(1+|b|): ${depth.excess.toExponential(2)}), max |Δextrinsics| ${ext.maxAbs.toExponential(2)} (excess over 1e-5·(1+|b|): ${ext.excess.toExponential(2)})`);
    // onnxruntime's own warnings (node placement) arrive as console errors; anything else is a failure.
    expect(errors.filter((e) => !/W:onnxruntime|powerPreference/.test(e))).toEqual([]);
  });

  // The WebGPU provider runs with NCHW kernels (its NHWC layout transform broke DPT's
  // Conv → Transpose chains) and the pos-embed scales are one computed 4-vector (a Concat of
  // computed floats came out shuffled); with both, the tolerances are the WASM ones.
  it('equals the reference on WebGPU (depth 1e-4·(1+|b|), extrinsics 1e-5·(1+|b|))', async (ctx) => {
    if (!requireChromium(ctx)) return;
    if (!result) throw new Error('the WebGPU run did not complete');
    const c = await tinyMultiCase();
    expect(worstExcess(result.depth, c.depth, 1e-4).excess).toBeLessThanOrEqual(0);
    expect(worstExcess(result.extrinsics, c.extrinsics, 1e-5).excess).toBeLessThanOrEqual(0);
  });
});
