import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type StaticServer, bundleForBrowser, launchChromium, requireChromium, startStaticServer } from '../../../test-utils/browser.js';
import { FIXTURES, loadTensors } from '../../../test-utils/fixtures.js';

/**
 * @da3js/web in Debian's Chromium (headless, offline): decoding of every input kind against
 * sharp's pixels, EXIF handling, <video> sampling of an ffmpeg-made clip, the Cache API graph
 * cache across a page reload, and the capability errors (threads without cross-origin
 * isolation, WebGPU's software adapter).
 */
const REPO = 'test-org/da3-tiny';
let dir: string;
let server: StaticServer;
let plainServer: StaticServer;
let browser: Browser | undefined;
let context: BrowserContext | undefined;
let rgb: { data: Uint8Array; width: number; height: number };

const PAGE = '<!doctype html><meta charset="utf-8"><script type="module">import * as lib from "./lib.js"; window.lib = lib; window.libReady = true;</script>';

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'da3js-web-browser-'));
  await bundleForBrowser("export * from '@da3js/web';", dir, 'lib');
  writeFileSync(join(dir, 'index.html'), PAGE);
  const u8 = (await loadTensors('tiny/multi/inputs.safetensors')).image_u8;
  const [, H, W] = u8.shape;
  rgb = { data: (u8.data as Uint8Array).slice(0, H * W * 3), width: W, height: H };
  const raw = { raw: { width: W, height: H, channels: 3 as const } };
  writeFileSync(join(dir, 'view0.png'), await sharp(rgb.data, raw).png().toBuffer());
  // EXIF orientation 6 ("rotate 90° clockwise to view"): stored pixels stay W×H.
  writeFileSync(join(dir, 'rotated.jpg'), await sharp(rgb.data, raw).jpeg({ quality: 95 }).withMetadata({ orientation: 6 }).toBuffer());
  // A 10-frame, 10 fps clip whose frame k is a flat grey of 20·k.
  for (let k = 0; k < 10; k++) writeFileSync(join(dir, `f${k}.png`), await sharp({ create: { width: 64, height: 48, channels: 3, background: { r: 20 * k, g: 20 * k, b: 20 * k } } }).png().toBuffer());
  execFileSync('ffmpeg', ['-v', 'error', '-y', '-framerate', '10', '-i', join(dir, 'f%d.png'), '-c:v', 'libvpx', '-b:v', '2M', '-pix_fmt', 'yuv420p', join(dir, 'clip.webm')]);
  const hub = { [REPO]: join(FIXTURES, 'tiny') };
  server = await startStaticServer({ mounts: { '/': dir }, hub });
  plainServer = await startStaticServer({ mounts: { '/': dir }, hub, crossOriginIsolated: false });
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
  await plainServer?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function open(url: string, webgpu = false): Promise<Page> {
  browser ??= await launchChromium({ webgpu });
  // One context for all pages: its storage (the Cache API) survives from page to page.
  context ??= await browser.newContext();
  const page = await context.newPage();
  page.on('pageerror', (e) => console.warn(`page error: ${e.message}`));
  await page.goto(url);
  await page.waitForFunction(() => (window as unknown as { libReady?: boolean }).libReady === true);
  return page;
}

describe('web library in Chromium', () => {
  it('decodes PNG files, bitmaps, canvases, ImageData, <img> and VideoFrames to the exact stored pixels', async (ctx) => {
    if (!requireChromium(ctx)) return;
    const page = await open(`${server.url}/`);
    const got = await page.evaluate(async () => {
      const lib = (window as never as { lib: typeof import('@da3js/web') }).lib;
      const blob = await (await fetch('./view0.png')).blob();
      const bitmap = await createImageBitmap(blob);
      const canvas = new OffscreenCanvas(bitmap.width, bitmap.height);
      canvas.getContext('2d')!.drawImage(bitmap, 0, 0);
      const img = new Image();
      img.src = './view0.png';
      await img.decode();
      const frame = new VideoFrame(bitmap, { timestamp: 0 });
      const inputs = { blob, file: new File([blob], 'view0.png', { type: 'image/png' }), url: './view0.png', bitmap, canvas, img, frame };
      const out: Record<string, { w: number; h: number; c: number; rgb: number[] }> = {};
      for (const [name, input] of Object.entries(inputs)) {
        const d = await lib.decodeImage(input as never);
        const px: number[] = [];
        for (let i = 0; i < d.width * d.height; i++) px.push(d.data[i * 4], d.data[i * 4 + 1], d.data[i * 4 + 2]);
        out[name] = { w: d.width, h: d.height, c: d.channels, rgb: px };
      }
      frame.close();
      const bad = await lib.decodeImage(new Blob([new Uint8Array([1, 2, 3])], { type: 'image/png' })).then(
        () => 'decoded',
        (e: { code: string }) => e.code,
      );
      return { out, bad };
    });
    for (const [name, d] of Object.entries(got.out)) {
      expect({ name, w: d.w, h: d.h, c: d.c }).toEqual({ name, w: rgb.width, h: rgb.height, c: 4 });
      expect(d.rgb.every((v, i) => v === rgb.data[i]), `${name} pixels`).toBe(true);
    }
    expect(got.bad).toBe('UNKNOWN_FORMAT');
  });

  it('keeps JPEG pixels as stored (EXIF orientation ignored) unless applyExifOrientation', async (ctx) => {
    if (!requireChromium(ctx)) return;
    const page = await open(`${server.url}/`);
    const got = await page.evaluate(async () => {
      const lib = (window as never as { lib: typeof import('@da3js/web') }).lib;
      const blob = await (await fetch('./rotated.jpg')).blob();
      const asStored = await lib.decodeImage(blob);
      const rotated = await lib.decodeImage(blob, { applyExifOrientation: true });
      return { stored: [asStored.width, asStored.height, Array.from(asStored.data)], rotated: [rotated.width, rotated.height] };
    });
    const [w, h, data] = got.stored as [number, number, number[]];
    expect([w, h]).toEqual([rgb.width, rgb.height]);
    expect(got.rotated).toEqual([rgb.height, rgb.width]);
    // Same JPEG decoded by libvips (sharp), orientation not applied: the decoders agree to ±2.
    const ref = await sharp(join(dir, 'rotated.jpg')).raw().toBuffer();
    let worst = 0;
    for (let i = 0; i < w * h; i++) for (let c = 0; c < 3; c++) worst = Math.max(worst, Math.abs(data[i * 4 + c] - ref[i * 3 + c]));
    expect(worst).toBeLessThanOrEqual(2);
  });

  it('samples a <video> at the reference frame indices', async (ctx) => {
    if (!requireChromium(ctx)) return;
    const page = await open(`${server.url}/`);
    const means = await page.evaluate(async () => {
      const lib = (window as never as { lib: typeof import('@da3js/web') }).lib;
      const blob = await (await fetch('./clip.webm')).blob();
      const frames = await lib.sampleVideo(blob, { fps: 5, videoFps: 10 });
      const byTime = await lib.sampleVideo('./clip.webm', { fps: 2, maxFrames: 2 });
      const mean = (f: { data: ArrayLike<number>; width: number; height: number }) => {
        let s = 0;
        for (let i = 0; i < f.width * f.height; i++) s += f.data[i * 4];
        return s / (f.width * f.height);
      };
      const bad = await lib.sampleVideo(new Blob([new Uint8Array(64)], { type: 'video/webm' })).then(
        () => 'played',
        (e: { code: string }) => e.code,
      );
      return { sampled: frames.map(mean), size: [frames[0].width, frames[0].height], byTime: byTime.map(mean), bad };
    });
    expect(means.size).toEqual([64, 48]);
    // every 2nd frame: 0, 2, 4, 6, 8 → grey 0, 40, 80, 120, 160 (lossy VP8: ±4)
    expect(means.sampled).toHaveLength(5);
    for (const [i, m] of means.sampled.entries()) expect(Math.abs(m - 40 * i)).toBeLessThanOrEqual(4);
    for (const [i, m] of means.byTime.entries()) expect(Math.abs(m - 100 * i)).toBeLessThanOrEqual(4);
    expect(means.bad).toBe('UNKNOWN_FORMAT');
  });

  it('streams a video File in chunks (DA3-Streaming in a tab): every sampled frame once, in one world frame; a broken video is a typed error', async (ctx) => {
    if (!requireChromium(ctx)) return;
    const page = await open(`${server.url}/`);
    const result = await page.evaluate(
      async ([endpoint, repo]) => {
        const lib = (window as never as { lib: typeof import('@da3js/web') }).lib;
        const model = await lib.DepthAnything3.fromPretrained(repo, { endpoint, device: 'wasm', threads: 2 });
        const file = new File([await (await fetch('./clip.webm')).blob()], 'clip.webm', { type: 'video/webm' });
        const progress: string[] = [];
        const frames: { index: number; chunk: number; width: number; finite: boolean }[] = [];
        const chunks: { index: number; scale: number }[] = [];
        for await (const e of model.streamInference(file, { video: { fps: 5, videoFps: 10 }, chunkSize: 3, overlap: 1, processRes: 56, onProgress: (p) => progress.push(`${p.stage}${p.chunk}/${p.chunksTotal}`) })) {
          if (e.type === 'chunk') chunks.push({ index: e.chunk.index, scale: e.chunk.toWorld.scale });
          else frames.push({ index: e.frame.index, chunk: e.frame.chunk, width: e.frame.width, finite: e.frame.depth!.every(Number.isFinite) && e.frame.extrinsics.every(Number.isFinite) });
        }
        const bad = await (async () => {
          try {
            for await (const _ of model.streamInference(new Blob([new Uint8Array(64)], { type: 'video/webm' }))) {
            }
            return 'played';
          } catch (e) {
            return (e as { code: string }).code;
          }
        })();
        await model.dispose();
        return { frames, chunks, progress, bad };
      },
      [server.hubEndpoint, REPO],
    );
    // 10 frames at 10 fps sampled at 5 fps: frames 0, 2, 4, 6, 8 → 5 frames; chunks of 3 every 2 frames.
    expect(result.frames.map((f) => f.index)).toEqual([0, 1, 2, 3, 4]);
    expect(result.frames.map((f) => f.chunk)).toEqual([0, 0, 1, 1, 1]);
    expect(result.frames.every((f) => f.finite && f.width === 56)).toBe(true);
    expect(result.chunks.map((c) => c.index)).toEqual([0, 1]);
    expect(result.chunks[0].scale).toBe(1);
    expect(result.progress).toEqual(['infer0/2', 'finished0/2', 'infer1/2', 'finished1/2', 'done1/2']);
    expect(result.bad).toBe('UNKNOWN_FORMAT');
  });

  it('caches the converted graph in the Cache API: after a reload nothing is converted and no tensor is fetched', async (ctx) => {
    if (!requireChromium(ctx)) return;
    const url = `${server.url}/`;
    const run = async () => {
      const page = await open(url);
      const result = await page.evaluate(
        async ([endpoint, repo]) => {
          const lib = (window as never as { lib: typeof import('@da3js/web') }).lib;
          const events: string[] = [];
          const model = await lib.DepthAnything3.fromPretrained(repo, { endpoint, device: 'wasm', threads: 2, progress: (e) => events.push(e.status === 'cache' ? `cache:${e.hit}` : e.status) });
          const img = { data: new Uint8Array(56 * 84 * 3).fill(128), width: 84, height: 56, channels: 3 as const };
          const p = await model.inference([img, img], { processRes: 84 });
          await model.dispose();
          return { events: [...new Set(events)], depth0: p.depth[0], coi: crossOriginIsolated };
        },
        [server.hubEndpoint, REPO],
      );
      await page.close();
      return result;
    };
    await open(url).then((p) => p.evaluate(() => caches.delete('da3js-graphs')).then(() => p.close()));
    const first = await run();
    expect(first.coi).toBe(true);
    expect(first.events).toContain('cache:false');
    expect(first.events).toContain('convert');
    const tensorReads = () => server.log.filter((r) => r.path.endsWith('model.safetensors')).length;
    const before = tensorReads();
    const second = await run();
    expect(second.events).toContain('cache:true');
    expect(second.events).not.toContain('convert');
    expect(second.depth0).toBe(first.depth0);
    // only the size probe and the safetensors header are read on the second load
    expect(tensorReads() - before).toBeLessThanOrEqual(3);
  });

  it('says which capability is missing: threads without cross-origin isolation', async (ctx) => {
    if (!requireChromium(ctx)) return;
    const page = await open(`${plainServer.url}/`);
    const err = await page.evaluate(async () => {
      const lib = (window as never as { lib: typeof import('@da3js/web') }).lib;
      return lib.configureWasm({ threads: 2 }).then(
        () => 'ok',
        (e: { code: string; message: string }) => `${e.code}: ${e.message}`,
      );
    });
    expect(err).toMatch(/^UNSUPPORTED: .*cross-origin-isolated.*Cross-Origin-Embedder-Policy/);
  });
});

describe('cancellation in Chromium (Cache API, fetch)', () => {
  it('aborts a download, a conversion (between tensors and in a stalled tensor request), an inference and an export: ABORTED, no Cache API entry, and the next call works', async (ctx) => {
    if (!requireChromium(ctx)) return;
    const page = await open(`${server.url}/`);
    // Requests of the weights hang (never answered) while `stall` is on.
    let stall = false;
    let stalled = 0;
    await page.route('**/model.safetensors', async (route) => {
      if (stall) {
        stalled++;
        return;
      }
      await route.continue();
    });
    await page.evaluate(() => caches.delete('da3js-graphs'));
    const waitStalled = async (n: number) => {
      const deadline = Date.now() + 10_000;
      while (stalled < n && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      expect(stalled).toBeGreaterThanOrEqual(n);
    };
    const REPO_ARGS = [server.hubEndpoint, REPO] as const;

    // 1. fromPretrained while the weights' size probe hangs.
    stall = true;
    await page.evaluate(([endpoint, repo]) => {
      const w = window as never as { lib: typeof import('@da3js/web'); ac: AbortController; pending: Promise<string> };
      w.ac = new AbortController();
      w.pending = w.lib.DepthAnything3.fromPretrained(repo, { endpoint, device: 'wasm', threads: 1, signal: w.ac.signal }).then(
        () => 'loaded',
        (e: { code: string }) => e.code,
      );
    }, REPO_ARGS);
    await waitStalled(1);
    const download = await page.evaluate(async () => {
      const w = window as never as { ac: AbortController; pending: Promise<string> };
      const t0 = performance.now();
      w.ac.abort();
      const code = await w.pending;
      return { code, ms: performance.now() - t0 };
    });
    stall = false;

    // 2. conversion aborted between tensors, 3. in a stalled tensor request, 4. inference, 5. export.
    const got = await page.evaluate(async ([endpoint, repo]) => {
      const lib = (window as never as { lib: typeof import('@da3js/web') }).lib;
      const keys = async () => (await (await caches.open('da3js-graphs')).keys()).length;
      const code = (p: Promise<unknown>) => p.then(
        () => 'ok',
        (e: { code: string }) => e.code,
      );
      const img = { data: new Uint8Array(56 * 84 * 3).map((_, i) => (i * 7) % 251), width: 84, height: 56, channels: 3 as const };
      const ac = new AbortController();
      const model = await lib.DepthAnything3.fromPretrained(repo, {
        endpoint,
        device: 'wasm',
        threads: 1,
        progress: (e) => {
          if (e.status === 'convert' && e.done === 3) ac.abort();
        },
      });
      const conversion = await code(model.inference([img, img], { processRes: 84, signal: ac.signal }));
      const keysAfterConversion = await keys();
      (window as never as { model: unknown }).model = model;
      return { conversion, keysAfterConversion };
    }, REPO_ARGS);

    stall = true;
    const stalledBefore = stalled;
    await page.evaluate(() => {
      const w = window as never as { model: import('@da3js/web').DepthAnything3; ac: AbortController; pending: Promise<string> };
      const img = { data: new Uint8Array(56 * 84 * 3).map((_, i) => (i * 7) % 251), width: 84, height: 56, channels: 3 as const };
      w.ac = new AbortController();
      w.pending = w.model.inference([img, img], { processRes: 84, signal: w.ac.signal }).then(
        () => 'ok',
        (e: { code: string }) => e.code,
      );
    });
    await waitStalled(stalledBefore + 1);
    const stalledConversion = await page.evaluate(async () => {
      const w = window as never as { ac: AbortController; pending: Promise<string> };
      const t0 = performance.now();
      w.ac.abort();
      const code = await w.pending;
      return { code, ms: performance.now() - t0, keys: (await (await caches.open('da3js-graphs')).keys()).length };
    });
    stall = false;

    const rest = await page.evaluate(async () => {
      const w = window as never as { model: import('@da3js/web').DepthAnything3 };
      const model = w.model;
      const code = (p: Promise<unknown>) => p.then(
        () => 'ok',
        (e: { code: string }) => e.code,
      );
      const img = { data: new Uint8Array(56 * 84 * 3).map((_, i) => (i * 7) % 251), width: 84, height: 56, channels: 3 as const };
      const first = await model.inference([img, img], { processRes: 84 });
      const keysAfterRun = (await (await caches.open('da3js-graphs')).keys()).map((r) => decodeURIComponent(r.url));
      const stages: string[] = [];
      for (const stage of ['decode', 'preprocess', 'network', 'postprocess']) {
        const ac = new AbortController();
        const c = await code(
          model.inference([img, img], {
            processRes: 84,
            signal: ac.signal,
            onProgress: (e) => {
              if ((e.status === 'decode' ? 'decode' : e.stage) === stage) ac.abort();
            },
          }),
        );
        stages.push(`${stage}:${c}`);
      }
      const again = await model.inference([img, img], { processRes: 84 });
      const same = again.depth.every((v, i) => v === first.depth[i]);
      const ac = new AbortController();
      const t0 = performance.now();
      setTimeout(() => ac.abort(), 5);
      const exportCode = await code(first.export('glb-ply-mini_npz-depth_vis-glb-ply', { signal: ac.signal }));
      const exportMs = performance.now() - t0;
      const files = await first.export('glb-depth_vis');
      await model.dispose();
      return { keysAfterRun, stages, same, exportCode, exportMs, files: files.map((f) => `${f.name}:${f.size > 0}`) };
    });
    console.log(`Chromium abort latencies: download ${download.ms.toFixed(1)} ms, stalled conversion ${stalledConversion.ms.toFixed(1)} ms, export (abort after 5 ms) settled after ${rest.exportMs.toFixed(1)} ms`);
    expect(download.code).toBe('ABORTED');
    expect(download.ms).toBeLessThan(100);
    expect(got).toEqual({ conversion: 'ABORTED', keysAfterConversion: 0 });
    expect(stalledConversion.code).toBe('ABORTED');
    expect(stalledConversion.ms).toBeLessThan(100);
    expect(stalledConversion.keys).toBe(0);
    expect(rest.keysAfterRun).toHaveLength(1);
    expect(rest.keysAfterRun[0]).toMatch(/net-unposed-fp32-saddle_balanced-norays\.onnx$/);
    expect(rest.stages).toEqual(['decode:ABORTED', 'preprocess:ABORTED', 'network:ABORTED', 'postprocess:ABORTED']);
    expect(rest.same).toBe(true);
    expect(rest.exportCode).toBe('ABORTED');
    expect(rest.files.filter((f) => /^(scene\.glb|depth_vis\/000[01]\.jpg):true$/.test(f)), rest.files.join(', ')).toHaveLength(3);
    expect(rest.exportMs).toBeLessThan(1000);
    await page.close();
  });
});

describe('web library on WebGPU (software adapter)', () => {
  let gpuBrowser: Browser | undefined;
  afterAll(async () => gpuBrowser?.close());

  it('finds the SwiftShader adapter and runs the tiny model on it like on WASM', async (ctx) => {
    if (!requireChromium(ctx)) return;
    gpuBrowser = await launchChromium({ webgpu: true });
    const page = await gpuBrowser.newPage();
    await page.goto(`${server.url}/`);
    await page.waitForFunction(() => (window as unknown as { libReady?: boolean }).libReady === true);
    const got = await page.evaluate(
      async ([endpoint, repo]) => {
        const lib = (window as never as { lib: typeof import('@da3js/web') }).lib;
        const caps = await lib.webCapabilities();
        const img = { data: new Uint8Array(56 * 84 * 3).map((_, i) => (i * 7) % 251), width: 84, height: 56, channels: 3 as const };
        const depth: Record<string, number[]> = {};
        const providers: Record<string, readonly string[]> = {};
        for (const device of ['webgpu', 'wasm'] as const) {
          const model = await lib.DepthAnything3.fromPretrained(repo, { endpoint, device, cache: false, progress: (e) => e.status === 'ready' && (providers[device] = e.providers) });
          depth[device] = Array.from((await model.inference([img, img], { processRes: 84 })).depth);
          await model.dispose();
        }
        const fp16 = await lib.resolvePrecision('fp16', ['webgpu', 'wasm']).then(
          (p) => p,
          (e: { code: string; message: string }) => `${e.code}: ${e.message}`,
        );
        return { caps, depth, providers, fp16 };
      },
      [server.hubEndpoint, REPO],
    );
    expect(got.caps).toMatchObject({ webgpu: true, fallbackAdapter: true });
    expect(got.providers.webgpu).toEqual(['webgpu', 'wasm']);
    let worst = 0;
    for (let i = 0; i < got.depth.wasm.length; i++) worst = Math.max(worst, Math.abs(got.depth.webgpu[i] - got.depth.wasm[i]) / (1 + Math.abs(got.depth.wasm[i])));
    console.log(`WebGPU vs WASM tiny depth: max relative difference ${worst.toExponential(2)}`);
    expect(worst).toBeLessThanOrEqual(1e-4);
    if (got.caps.shaderF16) expect(got.fp16).toBe('float16');
    else expect(got.fp16).toMatch(/^UNSUPPORTED: .*shader-f16/);
  });
});
