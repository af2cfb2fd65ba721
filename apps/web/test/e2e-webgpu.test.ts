import { existsSync } from 'node:fs';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHROMIUM, type StaticServer, requireChromium } from '../../../test-utils/browser.js';
import { appUrl, launchChromium, openPage, runTinyMulti, serveApp, tinyMultiCase, worstExcess } from './helpers.js';

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

  // The WebGPU provider runs with NCHW kernels (its NHWC layout transform broke DPT's
  // Conv → Transpose chains), RoPE cos/sin come from float32 tables (GPU Sin/Cos are ~2^-11
  // accurate) and the pos-embed scales are one computed vector; the tolerances are the WASM ones.
  it('runs tiny/multi on the WebGPU execution provider and equals the reference (depth 1e-4, extrinsics 1e-5)', async (ctx) => {
    if (!requireChromium(ctx)) return;
    const c = await tinyMultiCase();
    const got = await runTinyMulti(page, c.pngs);
    expect(got.providers[0]).toBe('webgpu');
    expect([got.views, got.height, got.width]).toEqual([3, 56, 84]);
    const depth = worstExcess(got.depth, c.depth, 1e-4);
    const ext = worstExcess(got.extrinsics, c.extrinsics, 1e-5);
    console.log(`WebGPU: ${got.status} run ${got.seconds.toFixed(1)} s (load ${got.timings.load?.toFixed(0)} ms, inference ${got.timings.inference?.toFixed(0)} ms); max |Δdepth| ${depth.maxAbs.toExponential(2)}, max |Δextrinsics| ${ext.maxAbs.toExponential(2)}`);
    expect(depth.excess).toBeLessThanOrEqual(0);
    expect(ext.excess).toBeLessThanOrEqual(0);
    // onnxruntime's own warnings (node placement) arrive as console errors; anything else is a failure.
    expect(errors.filter((e) => !/W:onnxruntime|powerPreference/.test(e))).toEqual([]);
  });
});
