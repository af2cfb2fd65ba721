import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type StaticServer, bundleForBrowser, launchChromium, requireChromium, startStaticServer } from '../../../test-utils/browser.js';
import { loadTestdataTensors } from '../../../test-utils/testdata.js';

/**
 * gs_video in Debian's Chromium: `exportToFiles(prediction, 'gs_video')` renders with core's CPU
 * rasterizer and encodes with WebCodecs (H.264, muxed into MP4 by muxMp4) — ffprobe reads the
 * file back with the frame count, size and 24 fps — or, asked for, MediaRecorder (WebM).
 */
let dir: string;
let server: StaticServer | undefined;
let browser: Browser | undefined;
let page: Page;
let cameras: { extrinsics: number[]; intrinsics: number[] };

const PAGE = '<!doctype html><meta charset="utf-8"><script type="module">import * as lib from "./lib.js"; window.lib = lib; window.libReady = true;</script>';

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'da3js-web-gsvideo-'));
  await bundleForBrowser("export * from '@da3js/web'; export { createPrediction } from '@da3js/core';", dir, 'lib');
  writeFileSync(join(dir, 'index.html'), PAGE);
  const T = await loadTestdataTensors('gs-video/goldens.safetensors');
  cameras = { extrinsics: [...(T['scene/giant3/extrinsics'].data as Float32Array)], intrinsics: [...(T['scene/giant3/intrinsics'].data as Float32Array)] };
  server = await startStaticServer({ mounts: { '/': dir } });
});
afterAll(async () => {
  await browser?.close();
  await server?.close();
  rmSync(dir, { recursive: true, force: true });
});

async function exportVideo(prefer: 'webcodecs' | 'mediarecorder', trajectory: string): Promise<{ name: string; type: string; bytes: Buffer }> {
  const r = await page.evaluate(
    async ({ cameras, prefer, trajectory }) => {
      const lib = (window as never as { lib: typeof import('@da3js/web') & { createPrediction: typeof import('@da3js/core').createPrediction } }).lib;
      const n = 64;
      const means = new Float32Array(n * 3);
      const harmonics = new Float32Array(n * 3);
      const rotations = new Float32Array(n * 4);
      for (let i = 0; i < n; i++) {
        means.set([((i % 8) - 3.5) * 0.1, (Math.floor(i / 8) - 3.5) * 0.1, 1.5], i * 3);
        harmonics.set([(i % 3) - 1, ((i + 1) % 3) - 1, ((i + 2) % 3) - 1], i * 3);
        rotations[i * 4 + 3] = 1;
      }
      const [views, h, w] = [3, 56, 42];
      const prediction = lib.createPrediction({
        views,
        height: h,
        width: w,
        depth: new Float32Array(views * h * w),
        processedImages: new Uint8Array(views * h * w * 3),
        extrinsics: Float32Array.from(cameras.extrinsics),
        intrinsics: Float32Array.from(cameras.intrinsics),
        gaussians: { count: n, means, scales: new Float32Array(n * 3).fill(0.05), rotations, harmonics, shCoefficients: 1, opacities: new Float32Array(n).fill(0.8) },
      });
      const encoder = await lib.createWebVideoEncoder({ prefer });
      const [file] = await lib.exportToFiles(prediction, 'gs_video', { gsVideo: { trajectory: trajectory as 'original', quality: 'low', encoder } });
      const bytes = new Uint8Array(await file.arrayBuffer());
      let s = '';
      for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
      return { name: file.name, type: file.type, b64: btoa(s) };
    },
    { cameras, prefer, trajectory },
  );
  return { name: r.name, type: r.type, bytes: Buffer.from(r.b64, 'base64') };
}

function probe(path: string) {
  const out = execFileSync('ffprobe', ['-v', 'error', '-count_frames', '-select_streams', 'v:0', '-show_entries', 'stream=nb_read_frames,width,height,r_frame_rate,codec_name', '-of', 'json', path], { encoding: 'utf8', timeout: 60_000 });
  const s = JSON.parse(out).streams[0];
  return { frames: Number(s.nb_read_frames), width: s.width, height: s.height, fps: s.r_frame_rate, codec: s.codec_name };
}

describe('gs_video in the browser', () => {
  it('WebCodecs H.264 → gs_video/0000_interpolate.mp4: 47 frames of 92×56 at 24 fps', async (ctx) => {
    if (!requireChromium(ctx)) return;
    browser = await launchChromium();
    page = await browser.newPage();
    await page.goto(`${server!.url}/`);
    await page.waitForFunction(() => (window as never as { libReady?: boolean }).libReady === true);
    const v = await exportVideo('webcodecs', 'interpolate');
    expect([v.name, v.type]).toEqual(['gs_video/0000_interpolate.mp4', 'video/mp4']);
    const file = join(dir, 'webcodecs.mp4');
    writeFileSync(file, v.bytes);
    expect(probe(file)).toEqual({ frames: 47, width: 92, height: 56, fps: '24/1', codec: 'h264' });
  }, 120_000);

  it('MediaRecorder fallback → gs_video/0000_original.webm that ffprobe decodes', async (ctx) => {
    if (!requireChromium(ctx) || !browser) return;
    const v = await exportVideo('mediarecorder', 'original');
    expect([v.name, v.type]).toEqual(['gs_video/0000_original.webm', 'video/webm']);
    const file = join(dir, 'recorder.webm');
    writeFileSync(file, v.bytes);
    const p = probe(file);
    expect([p.width, p.height]).toEqual([92, 56]);
    expect(['vp8', 'vp9']).toContain(p.codec);
    expect(p.frames).toBeGreaterThanOrEqual(1);
  }, 120_000);
});
