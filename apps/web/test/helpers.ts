/**
 * E2E helpers: the built app served with the fixture hub, a Chromium page on it, the fixture
 * images written as lossless PNGs, and PNG decoding of screenshots.
 */
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Prediction } from '@da3js/core';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { PNG } from 'pngjs';
import { type StaticServer, launchChromium, startStaticServer } from '../../../test-utils/browser.js';
import { FIXTURES, REPO_ROOT, loadTensors } from '../../../test-utils/fixtures.js';

/** The built site (`npm run build -w @da3js/web-app`, or `npx turbo run build`). */
export const DIST = join(REPO_ROOT, 'apps', 'web', 'dist');
/** Hub id under which the tiny fixture model is served. */
export const TINY_REPO = 'test-org/da3-tiny';

/** Throws a clear message when the app has not been built. */
export function requireDist(): void {
  if (!existsSync(join(DIST, 'index.html'))) throw new Error(`${DIST}/index.html missing: run \`npx turbo run build\` (or npm run build -w @da3js/web-app) first`);
}

/** Serves dist/ at `/` and the tiny model at `/hub/test-org/da3-tiny`. */
export function serveApp(): Promise<StaticServer> {
  requireDist();
  return startStaticServer({ mounts: { '/': DIST }, hub: { [TINY_REPO]: join(FIXTURES, 'tiny') } });
}

/** The app URL for the tiny model (process resolution 84 unless `extra` says otherwise). */
export function appUrl(server: StaticServer, device: 'wasm' | 'webgpu', extra = ''): string {
  return `${server.url}/?endpoint=${encodeURIComponent(server.hubEndpoint)}&model=${TINY_REPO}&device=${device}&threads=1&processRes=84${extra}`;
}

/** A page with downloads allowed; console errors and page errors are collected in `errors`. */
export async function openPage(browser: Browser, url: string): Promise<{ context: BrowserContext; page: Page; errors: string[] }> {
  const context = await browser.newContext({ acceptDownloads: true, viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(`console: ${m.text()}`);
  });
  await page.goto(url);
  await page.evaluate(() => window.da3App.ready);
  return { context, page, errors };
}

/** Waits until the status says done or error, and returns its text (throws on error). */
export async function waitForRun(page: Page, timeout = 170_000): Promise<string> {
  await page.waitForFunction(() => ['done', 'error'].includes(document.getElementById('status')?.dataset.kind ?? ''), null, { timeout, polling: 250 });
  const kind = await page.locator('#status').getAttribute('data-kind');
  const text = await page.evaluate(() => window.da3App.status());
  if (kind !== 'done') throw new Error(`the app reported: ${text}`);
  return text;
}

/** Writes `[S, H, W, 3]` uint8 images as lossless PNGs in a temp folder; returns their paths. */
export function writePngs(u8: { data: unknown; shape: number[] }, prefix = 'view'): string[] {
  const [S, H, W] = u8.shape;
  const rgb = u8.data as Uint8Array;
  const dir = mkdtempSync(join(tmpdir(), 'da3-app-'));
  return Array.from({ length: S }, (_, s) => {
    const png = new PNG({ width: W, height: H });
    for (let i = 0; i < H * W; i++) {
      png.data[4 * i] = rgb[(s * H * W + i) * 3];
      png.data[4 * i + 1] = rgb[(s * H * W + i) * 3 + 1];
      png.data[4 * i + 2] = rgb[(s * H * W + i) * 3 + 2];
      png.data[4 * i + 3] = 255;
    }
    const path = join(dir, `${prefix}${String(s).padStart(2, '0')}.png`);
    writeFileSync(path, PNG.sync.write(png));
    return path;
  });
}

/** The tiny/multi case's inputs (as PNG files) and expected outputs. */
export async function tinyMultiCase(): Promise<{ pngs: string[]; depth: Float32Array; extrinsics: Float32Array }> {
  const inputs = await loadTensors('tiny/multi/inputs.safetensors');
  const outputs = await loadTensors('tiny/multi/outputs.safetensors');
  return { pngs: writePngs(inputs.image_u8), depth: (outputs['pred.depth'] ?? outputs['out.depth']).data as Float32Array, extrinsics: outputs['pred.extrinsics'].data as Float32Array };
}

/** Decoded RGBA pixels of a PNG. */
export function decodePng(bytes: Uint8Array): { width: number; height: number; data: Uint8Array } {
  const png = PNG.sync.read(Buffer.from(bytes));
  return { width: png.width, height: png.height, data: new Uint8Array(png.data) };
}

/** max_i (|a_i − b_i| − tol·(1 + |b_i|)): ≤ 0 means within tolerance; also the plain max |a − b|. */
export function worstExcess(got: ArrayLike<number>, want: ArrayLike<number>, tol: number): { excess: number; maxAbs: number } {
  if (got.length !== want.length) throw new Error(`length ${got.length} ≠ ${want.length}`);
  let excess = Number.NEGATIVE_INFINITY;
  let maxAbs = 0;
  for (let i = 0; i < want.length; i++) {
    const d = Math.abs(got[i] - want[i]);
    maxAbs = Math.max(maxAbs, Number.isNaN(d) ? Number.POSITIVE_INFINITY : d);
    excess = Math.max(excess, Number.isNaN(d) ? Number.POSITIVE_INFINITY : d - tol * (1 + Math.abs(want[i])));
  }
  return { excess, maxAbs };
}

export { launchChromium };

/** What {@link runTinyMulti} read back from the page. */
export interface TinyMultiRun {
  readonly status: string;
  readonly seconds: number;
  readonly views: number;
  readonly height: number;
  readonly width: number;
  readonly depth: number[];
  readonly extrinsics: number[];
  readonly providers: readonly string[];
  readonly timings: { load?: number; inference?: number };
}

/** Uploads the tiny/multi PNGs through the file input, runs at process res 84, reads the prediction back. */
export async function runTinyMulti(page: Page, pngs: readonly string[]): Promise<TinyMultiRun> {
  await page.setInputFiles('#file-input', [...pngs]);
  const t0 = Date.now();
  await page.click('#run');
  const status = await waitForRun(page);
  const seconds = (Date.now() - t0) / 1000;
  const got = await page.evaluate(() => {
    const p = window.da3App.prediction!;
    return { views: p.views, height: p.height, width: p.width, depth: Array.from(p.depth), extrinsics: Array.from(p.extrinsics!), timings: window.da3App.timings, providers: window.da3App.providers };
  });
  return { status, seconds, ...got };
}

/** A Prediction's fields as plain arrays, to pass into `page.evaluate` (typed arrays do not survive it). */
export interface PlainPrediction {
  views: number;
  height: number;
  width: number;
  depth: number[];
  conf: number[];
  extrinsics: number[];
  intrinsics: number[];
  processedImages: number[];
}

/** Plain-array copy of a fixture prediction (see {@link PlainPrediction}). */
export function plainPrediction(p: Prediction): PlainPrediction {
  return {
    views: p.views,
    height: p.height,
    width: p.width,
    depth: Array.from(p.depth),
    conf: Array.from(p.conf!),
    extrinsics: Array.from(p.extrinsics!),
    intrinsics: Array.from(p.intrinsics!),
    processedImages: Array.from(p.processedImages),
  };
}
