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
 * the frame size and 24 fps; the progress row shows every frame rendered, then every frame
 * encoded, in order; Cancel during the render stops it in the worker and the next export works.
 */
const REPO = 'test-org/da3-tiny-giant';

/**
 * Records every caption the progress row shows from now on (in `window.captions`); with
 * `cancelAt`, clicks Cancel in the page as soon as a caption starts with it.
 */
async function recordCaptions(page: Page, cancelAt?: string): Promise<void> {
  await page.evaluate((cancelAt) => {
    const w = window as unknown as { captions: string[]; captionObserver?: MutationObserver };
    w.captionObserver?.disconnect();
    w.captions = [];
    const el = document.getElementById('progress-text') as HTMLElement;
    w.captionObserver = new MutationObserver(() => {
      const text = el.textContent ?? '';
      w.captions.push(text);
      if (cancelAt && text.startsWith(cancelAt)) (document.getElementById('cancel') as HTMLButtonElement).click();
    });
    w.captionObserver.observe(el, { childList: true, characterData: true, subtree: true });
  }, cancelAt);
}

const captions = (page: Page) => page.evaluate(() => (window as unknown as { captions: string[] }).captions);

/** The frame captions as `render 3/47` / `encode 3/47`, in the order shown. */
function parseFrameCaptions(all: readonly string[]): string[] {
  return all.flatMap((c) => {
    const m = /^(Rendering|Encoding) video frame (\d+) of (\d+)$/.exec(c);
    return m ? [`${m[1] === 'Rendering' ? 'render' : 'encode'} ${m[2]}/${m[3]}`] : [];
  });
}
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
    await recordCaptions(page);
    const [download] = await Promise.all([page.waitForEvent('download', { timeout: 120_000 }), page.click('#download-gs_video')]);
    expect(download.suggestedFilename()).toBe('gs_video_0000_interpolate.mp4');
    const file = join(work, 'video.mp4');
    await download.saveAs(file);
    const out = execFileSync('ffprobe', ['-v', 'error', '-count_frames', '-select_streams', 'v:0', '-show_entries', 'stream=nb_read_frames,width,height,r_frame_rate,codec_name', '-of', 'json', file], { encoding: 'utf8' });
    const s = JSON.parse(out).streams[0];
    expect({ frames: Number(s.nb_read_frames), width: s.width, height: s.height, fps: s.r_frame_rate, codec: s.codec_name }).toEqual({ frames: 47, width: 92, height: 56, fps: '24/1', codec: 'h264' });
    // Frame-by-frame progress from the worker: every frame rendered, in order, then every frame encoded.
    const frames = parseFrameCaptions(await captions(page));
    const upTo47 = Array.from({ length: 47 }, (_, i) => `${i + 1}/47`);
    expect(frames).toEqual([...upTo47.map((f) => `render ${f}`), ...upTo47.map((f) => `encode ${f}`)]);
    expect(await page.evaluate(() => window.da3App.status())).toBe('Exported gs_video: gs_video_0000_interpolate.mp4');
    expect(await page.isDisabled('#cancel')).toBe(true);
    expect(errors).toEqual([]);
  }, 240_000);

  it('Cancel during the render stops the gs_video in the worker (no download), and the next export works', async (ctx) => {
    if (!requireChromium(ctx)) return;
    expect(await page.isDisabled('#download-gs_video')).toBe(false);
    // Cancel as soon as the page shows frame 2 (clicked from the page, so no round trip races the render).
    await recordCaptions(page, 'Rendering video frame 2 of');
    let downloads = 0;
    page.on('download', () => downloads++);
    await page.click('#download-gs_video');
    await page.waitForFunction(() => document.getElementById('status')?.dataset.kind !== 'busy', null, { timeout: 120_000, polling: 100 });
    expect(await page.evaluate(() => window.da3App.status())).toBe('Cancelled the gs_video export. Ready for the next run.');
    const frames = parseFrameCaptions(await captions(page));
    expect(frames.slice(0, 2)).toEqual(['render 1/47', 'render 2/47']);
    // stopped during the render: no encoded frame, not every frame rendered, the worker kept
    expect(frames.some((f) => f.startsWith('encode'))).toBe(false);
    expect(frames.length).toBeLessThan(47);
    expect(await page.evaluate(() => window.da3App.workerTerminations)).toBe(0);
    expect(await page.isDisabled('#download-gs_video')).toBe(false);
    expect(await page.isDisabled('#run')).toBe(false);
    await recordCaptions(page);
    const [download] = await Promise.all([page.waitForEvent('download', { timeout: 120_000 }), page.click('#download-gs_video')]);
    expect(download.suggestedFilename()).toBe('gs_video_0000_interpolate.mp4');
    expect(parseFrameCaptions(await captions(page)).at(-1)).toBe('encode 47/47');
    expect(downloads).toBe(1);
    expect(errors).toEqual([]);
  }, 240_000);
});
