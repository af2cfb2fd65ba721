import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHROMIUM, type StaticServer, requireChromium, startStaticServer } from '../../../test-utils/browser.js';
import { FIXTURES, loadTensors } from '../../../test-utils/fixtures.js';
import { DIST, launchChromium, openPage, requireDist, waitForRun, writePngs } from './helpers.js';

/**
 * The app's "render video": the tiny-giant model (a GS head) from the fixture hub, "3D Gaussians"
 * on, then the gs_video download — rendered in the worker with core's CPU rasterizer, encoded
 * with WebCodecs H.264 into MP4 — which ffprobe reads back with the trajectory's frame count,
 * the frame size and 24 fps.
 */
const REPO = 'test-org/da3-tiny-giant';
let server: StaticServer;
let browser: Browser;
let page: Page;
let errors: string[];
const work = mkdtempSync(join(tmpdir(), 'da3js-app-gsvideo-'));

describe('web app gs_video download (headless Chromium, WASM)', () => {
  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) return;
    requireDist();
    server = await startStaticServer({ mounts: { '/': DIST }, hub: { [REPO]: join(FIXTURES, 'tiny-giant') } });
    browser = await launchChromium();
    ({ page, errors } = await openPage(browser, `${server.url}/?endpoint=${encodeURIComponent(server.hubEndpoint)}&model=${REPO}&device=wasm&threads=1&processRes=56`));
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
    rmSync(work, { recursive: true, force: true });
  });

  it('runs with 3D Gaussians and downloads gs_video/0000_interpolate.mp4 (47 frames, 92×56, 24 fps)', async (ctx) => {
    if (!requireChromium(ctx)) return;
    const pngs = writePngs((await loadTensors('tiny-giant/multi/inputs.safetensors')).image_u8 as never, 'giant');
    await page.setInputFiles('#file-input', pngs);
    // The first run loads the model; its GS head enables "3D Gaussians".
    await page.click('#run');
    await waitForRun(page);
    expect(await page.isDisabled('#download-gs_video')).toBe(true);
    // "3D Gaussians" sits in the folded expert settings.
    await page.evaluate(() => {
      const details = document.getElementById('infer-gs')?.closest('details');
      if (details) details.open = true;
    });
    expect(await page.isDisabled('#infer-gs')).toBe(false);
    await page.check('#infer-gs');
    await page.click('#run');
    await waitForRun(page);
    expect(await page.isDisabled('#download-gs_video')).toBe(false);
    await page.selectOption('#gs-trajectory', 'interpolate');
    await page.selectOption('#gs-quality', 'low');
    const [download] = await Promise.all([page.waitForEvent('download', { timeout: 120_000 }), page.click('#download-gs_video')]);
    expect(download.suggestedFilename()).toBe('gs_video_0000_interpolate.mp4');
    const file = join(work, 'video.mp4');
    await download.saveAs(file);
    const out = execFileSync('ffprobe', ['-v', 'error', '-count_frames', '-select_streams', 'v:0', '-show_entries', 'stream=nb_read_frames,width,height,r_frame_rate,codec_name', '-of', 'json', file], { encoding: 'utf8' });
    const s = JSON.parse(out).streams[0];
    expect({ frames: Number(s.nb_read_frames), width: s.width, height: s.height, fps: s.r_frame_rate, codec: s.codec_name }).toEqual({ frames: 47, width: 92, height: 56, fps: '24/1', codec: 'h264' });
    expect(errors).toEqual([]);
  }, 240_000);
});
