import { existsSync } from 'node:fs';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHROMIUM, type StaticServer, requireChromium } from '../../../test-utils/browser.js';
import { appUrl, launchChromium, openPage, serveApp, tinyMultiCase, waitForRun, worstExcess } from './helpers.js';

/** Device handling: a clear message without WebGPU, and WASM threads in the cross-origin-isolated page. */
let server: StaticServer;
let browser: Browser;

describe('devices (headless Chromium)', () => {
  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) return;
    server = await serveApp();
    browser = await launchChromium(); // no --enable-unsafe-webgpu: no adapter
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it('says so when WebGPU is asked for and missing', async (ctx) => {
    if (!requireChromium(ctx)) return;
    const { page, context } = await openPage(browser, appUrl(server, 'webgpu'));
    const c = await tinyMultiCase();
    await page.setInputFiles('#file-input', c.pngs);
    await page.click('#run');
    await expect(waitForRun(page)).rejects.toThrow(/WebGPU is not available.*WASM/);
    expect(await page.locator('#status').getAttribute('data-kind')).toBe('error');
    await context.close();
  });

  it('runs with 2 WASM threads (COOP/COEP page) and still equals the reference', async (ctx) => {
    if (!requireChromium(ctx)) return;
    const { page, context, errors } = await openPage(browser, appUrl(server, 'wasm').replace('threads=1', 'threads=2'));
    expect(await page.evaluate(() => crossOriginIsolated)).toBe(true);
    const c = await tinyMultiCase();
    await page.setInputFiles('#file-input', c.pngs);
    await page.click('#run');
    await waitForRun(page);
    const got = await page.evaluate(() => ({ depth: Array.from(window.da3App.prediction!.depth), ms: window.da3App.timings.inference }));
    const d = worstExcess(got.depth, c.depth, 1e-4);
    console.log(`WASM ×2 threads: inference ${got.ms?.toFixed(0)} ms, max |Δdepth| ${d.maxAbs.toExponential(2)}`);
    expect(d.excess).toBeLessThanOrEqual(0);
    expect(errors).toEqual([]);
    await context.close();
  });
});
