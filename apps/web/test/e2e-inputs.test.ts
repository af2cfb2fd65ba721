import { execFileSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import type { Browser } from 'playwright-core';
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHROMIUM, type StaticServer, requireChromium } from '../../../test-utils/browser.js';
import { FIXTURES } from '../../../test-utils/fixtures.js';
import { requireTool } from '../../../test-utils/tools.js';
import { appUrl, launchChromium, openPage, serveApp, tinyMultiCase, waitForRun, worstExcess } from './helpers.js';

/** The other input paths: a model from local files, and a video sampled at a chosen FPS. */
const FFMPEG = process.env.FFMPEG_PATH ?? '/usr/bin/ffmpeg';
let server: StaticServer;
let browser: Browser;

describe('inputs (headless Chromium)', () => {
  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) return;
    server = await serveApp();
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it('loads the model from local files (config.json + model.safetensors) and equals the reference', async (ctx) => {
    if (!requireChromium(ctx)) return;
    const { page, context, errors } = await openPage(browser, `${server.url}/?device=wasm&threads=1&processRes=84`);
    await page.selectOption('#model-select', 'local');
    await page.setInputFiles('#local-config', join(FIXTURES, 'tiny', 'config.json'));
    await page.setInputFiles('#local-weights', join(FIXTURES, 'tiny', 'model.safetensors'));
    const c = await tinyMultiCase();
    await page.setInputFiles('#file-input', c.pngs);
    await page.click('#run');
    await waitForRun(page);
    const depth = await page.evaluate(() => Array.from(window.da3App.prediction!.depth));
    const d = worstExcess(depth, c.depth, 1e-4);
    console.log(`local files: max |Δdepth| ${d.maxAbs.toExponential(2)}`);
    expect(d.excess).toBeLessThanOrEqual(0);
    // Nothing came from the hub.
    expect(server.log.filter((r) => r.path.startsWith('/hub/'))).toEqual([]);
    expect(errors).toEqual([]);
    await context.close();
  });

  it('samples an uploaded video at the chosen FPS (3 s at 1 fps → 3 views)', async (ctx) => {
    if (!requireChromium(ctx)) return;
    if (!requireTool(ctx, existsSync(FFMPEG), `no ffmpeg at ${FFMPEG} to make the test video (apt-get install ffmpeg)`)) return;
    const c = await tinyMultiCase();
    const video = join(dirname(c.pngs[0]), 'clip.webm');
    // One second per fixture image, VP8 (every Chromium build decodes it).
    execFileSync(FFMPEG, ['-loglevel', 'error', '-y', '-framerate', '1', '-i', join(dirname(c.pngs[0]), 'view%02d.png'), '-r', '10', '-c:v', 'libvpx', '-b:v', '1M', '-pix_fmt', 'yuv420p', video]);
    const { page, context, errors } = await openPage(browser, appUrl(server, 'wasm'));
    await page.setInputFiles('#file-input', video);
    expect(await page.locator('#video-options').isVisible()).toBe(true);
    await page.locator('#video-fps').fill('1');
    await page.click('#run');
    await waitForRun(page);
    const got = await page.evaluate(() => {
      const p = window.da3App.prediction!;
      return { views: p.views, height: p.height, width: p.width };
    });
    expect(got).toEqual({ views: 3, height: 56, width: 84 });
    expect(errors).toEqual([]);
    await context.close();
  });
});
