import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHROMIUM, type StaticServer, requireChromium } from '../../../test-utils/browser.js';
import { REPO_ROOT } from '../../../test-utils/fixtures.js';
import { appUrl, decodePng, launchChromium, serveApp, waitForRun } from './helpers.js';

/**
 * The app as a product, in headless Chromium on WASM with the tiny fixture model: the bundled
 * example runs with one click; the page's main thread stays responsive while the worker converts
 * and runs (requestAnimationFrame gaps and 'longtask' entries measured during the run); Cancel
 * stops a run — by abort while converting, by terminating the worker while a session runs — and
 * the next run succeeds; the layout is reachable by keyboard. Screenshots of each state go to a
 * temp folder, or to apps/web/docs/screenshots with DA3_UPDATE_SCREENSHOTS=1 (the README's).
 */
const SHOTS = process.env.DA3_UPDATE_SCREENSHOTS === '1' ? join(REPO_ROOT, 'apps', 'web', 'docs', 'screenshots') : mkdtempSync(join(tmpdir(), 'da3-app-shots-'));
let server: StaticServer;
let browser: Browser;
let context: BrowserContext;
let page: Page;
const errors: string[] = [];

async function shot(name: string, target: Page | ReturnType<Page['locator']> = page): Promise<Buffer> {
  mkdirSync(SHOTS, { recursive: true });
  await page.evaluate(() => window.scrollTo(0, 0));
  const png = await target.screenshot({ animations: 'disabled' } as never);
  writeFileSync(join(SHOTS, name), png);
  return png;
}

/** Installs a requestAnimationFrame gap probe and a long-task observer in the page. */
async function startProbe(): Promise<void> {
  await page.evaluate(() => {
    const w = window as never as { probe: { gaps: { at: number; gap: number }[]; long: { at: number; ms: number }[]; stop: boolean } };
    w.probe = { gaps: [], long: [], stop: false };
    let last = performance.now();
    const frame = (t: number) => {
      w.probe.gaps.push({ at: t, gap: t - last });
      last = t;
      if (!w.probe.stop) requestAnimationFrame(frame);
    };
    requestAnimationFrame(frame);
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) w.probe.long.push({ at: e.startTime, ms: e.duration });
    }).observe({ type: 'longtask', buffered: false });
  });
}

async function stopProbe(): Promise<{ gaps: { at: number; gap: number }[]; long: { at: number; ms: number }[] }> {
  return page.evaluate(() => {
    const w = window as never as { probe: { gaps: { at: number; gap: number }[]; long: { at: number; ms: number }[]; stop: boolean } };
    w.probe.stop = true;
    return { gaps: w.probe.gaps, long: w.probe.long };
  });
}

const progressText = () => page.locator('#progress-text').textContent();

async function waitForProgress(pattern: RegExp, timeout = 120_000): Promise<void> {
  await page.waitForFunction((src) => new RegExp(src).test(document.getElementById('progress-text')?.textContent ?? ''), pattern.source, { timeout, polling: 20 });
}

describe('the app as a product (headless Chromium, WASM)', () => {
  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) return;
    server = await serveApp();
    browser = await launchChromium();
    context = await browser.newContext({ acceptDownloads: true, viewport: { width: 1360, height: 940 } });
    page = await context.newPage();
    page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(`console: ${m.text()}`);
    });
    // The default process resolution (504): the tiny model then takes seconds, long enough to
    // measure responsiveness and to cancel in each phase.
    await page.goto(appUrl(server, 'wasm', '&processRes=504').replace('&processRes=84', ''));
    await page.evaluate(() => window.da3App.ready);
    console.log(`screenshots: ${SHOTS}`);
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it('starts in a clear empty state: examples offered, Run enabled, Cancel disabled, expert settings folded away', async (ctx) => {
    if (!requireChromium(ctx)) return;
    expect(await page.locator('#viewer-empty').isVisible()).toBe(true);
    expect(await page.locator('#depth-empty').isVisible()).toBe(true);
    expect(await page.locator('#run').isEnabled()).toBe(true);
    expect(await page.locator('#cancel').isDisabled()).toBe(true);
    expect(await page.locator('#advanced').getAttribute('open')).toBeNull();
    expect(await page.locator('#endpoint').isVisible()).toBe(false);
    expect(await page.locator('#process-res').inputValue()).toBe('504');
    expect(await page.locator('.example').count()).toBe(2);
    expect(await page.locator('#status').textContent()).toMatch(/try an example/);
    await page.waitForFunction(() => Array.from(document.querySelectorAll<HTMLImageElement>('.example img')).every((i) => i.complete && i.naturalWidth > 0));
    await shot('app-empty.png');
  });

  it('is keyboard friendly: Tab reaches the inputs, examples, settings and Run; Enter opens "Advanced"; focus is visible', async (ctx) => {
    if (!requireChromium(ctx)) return;
    await page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
    const seen: string[] = [];
    for (let i = 0; i < 16; i++) {
      await page.keyboard.press('Tab');
      seen.push(await page.evaluate(() => {
        const el = document.activeElement as HTMLElement | null;
        return el ? el.id || (el.tagName === 'SUMMARY' ? 'advanced-summary' : el.className) : '';
      }));
    }
    for (const id of ['file-input', 'example-room-4', 'example-room-1', 'model-select', 'advanced-summary', 'run']) expect(seen, seen.join(' → ')).toContain(id);
    // Cancel is disabled while idle, so Tab skips it.
    expect(seen).not.toContain('cancel');
    await page.focus('#advanced summary');
    const outline = await page.evaluate(() => getComputedStyle(document.activeElement!).outlineStyle);
    expect(outline).toBe('solid');
    await page.keyboard.press('Enter');
    expect(await page.locator('#advanced').getAttribute('open')).toBe('');
    expect(await page.locator('#endpoint').isVisible()).toBe(true);
    await page.keyboard.press('Enter');
    expect(await page.locator('#advanced').getAttribute('open')).toBeNull();
  });

  it('runs the bundled 4-view example with one click; the page stays responsive (no main-thread task over 200 ms, frames keep coming) while the worker converts and runs', async (ctx) => {
    if (!requireChromium(ctx)) return;
    await startProbe();
    const t0 = Date.now();
    await page.click('#example-room-4');
    await waitForProgress(/Preparing the network/);
    // The window measured: from the worker's first conversion step to the result.
    const windowStart = await page.evaluate(() => performance.now());
    await waitForProgress(/Running the network/);
    const text = await waitForRun(page);
    const seconds = (Date.now() - t0) / 1000;
    const probe = await stopProbe();
    const marks = await page.evaluate(() => ({
      resultAt: performance.getEntriesByName('da3:result').at(-1)?.startTime ?? Number.NaN,
      show: Object.fromEntries(['validate', 'cloud', 'depth', 'show'].map((n) => [n, Math.round(performance.getEntriesByName(`da3:${n}`).at(-1)?.duration ?? Number.NaN)])),
    }));
    const resultAt = marks.resultAt;
    expect(resultAt).toBeGreaterThan(0);
    const got = await page.evaluate(() => {
      const p = window.da3App.prediction!;
      return { views: p.views, width: p.width, height: p.height, finite: p.depth.every(Number.isFinite), timings: window.da3App.timings, points: window.da3App.viewer.pointsShown };
    });
    // Gaps until the result arrived (the worker's time); the result's own drawing is reported apart.
    const during = probe.gaps.filter((g) => g.at >= windowStart && g.at <= resultAt);
    const maxGap = Math.max(...during.map((g) => g.gap));
    // Long tasks that started before the result arrived (the result's message task starts a few ms before the mark).
    const longDuring = probe.long.filter((l) => l.at >= windowStart && l.at < resultAt - 50);
    const longest = Math.max(0, ...longDuring.map((l) => l.ms));
    console.log(`example run: ${text} (${seconds.toFixed(1)} s wall; load ${got.timings.load?.toFixed(0)} ms, decode ${got.timings.decode?.toFixed(0)} ms, inference ${got.timings.inference?.toFixed(0)} ms); ${during.length} frames, max main-thread frame gap ${maxGap.toFixed(0)} ms, ${probe.long.length} long tasks (longest ${longest.toFixed(0)} ms); showing the result took ${JSON.stringify(marks.show)} ms`);
    const slow = probe.gaps.filter((g) => g.gap > 100).map((g) => `${g.gap.toFixed(0)} ms gap ending ${(g.at - resultAt).toFixed(0)} ms from the result`);
    if (slow.length) console.log(`frame gaps over 100 ms: ${slow.join('; ')}; long tasks ${probe.long.map((l) => `${l.ms.toFixed(0)} ms at ${(l.at - resultAt).toFixed(0)}`).join(', ')}`);
    expect(got).toMatchObject({ views: 4, width: 504, height: 378, finite: true });
    expect(got.points).toBeGreaterThan(10_000);
    expect(await page.locator('#input-summary').textContent()).toMatch(/^4 images: view0\.png/);
    expect(during.length).toBeGreaterThan(20);
    // The main thread never blocks for 200 ms while the worker works (on the main thread the
    // conversion and the session run were one multi-second task each)...
    expect(longest).toBeLessThan(200);
    // ...and frames keep coming. A frame gap without a long task is CPU starvation (2 cores shared
    // by the worker, the GPU process and the test), not a blocked page: bounded, not at 200 ms.
    expect(maxGap).toBeLessThan(1500);
    expect(await page.locator('#viewer-empty').isVisible()).toBe(false);
    expect(await page.locator('#viewer-busy').isVisible()).toBe(false);
    expect(await page.locator('#cancel').isDisabled()).toBe(true);
    // The legend: colour bar with numbers at both ends and the unit (the tiny model is not metric).
    expect(await page.locator('#legend').isVisible()).toBe(true);
    expect(await page.locator('#legend').getAttribute('data-unit')).toBe('relative');
    expect(await page.locator('#legend-caption').textContent()).toMatch(/^Relative depth/);
    const [min, max] = [Number(await page.locator('#colour-bar-min').textContent()), Number(await page.locator('#colour-bar-max').textContent())];
    expect(min).toBeGreaterThan(0);
    expect(max).toBeGreaterThan(min);
    await page.waitForTimeout(300);
    const full = decodePng(await shot('app-result.png'));
    expect(full.width).toBe(1360);
    await shot('app-depth.png', page.locator('#depth-view'));
    expect(errors).toEqual([]);
  });

  it('shows the network time estimate on the second run of the same model and size', async (ctx) => {
    if (!requireChromium(ctx)) return;
    await page.click('#run');
    await waitForProgress(/Running the network/);
    const eta = await page.locator('#progress-eta').textContent();
    await shot('app-running.png');
    await waitForRun(page);
    console.log(`second run: ETA caption "${eta}"`);
    expect(eta).toMatch(/about \d+ s left|almost done/);
  });

  it('Cancel while a session runs terminates the worker within the grace period; the UI returns to ready and the next run succeeds', async (ctx) => {
    if (!requireChromium(ctx)) return;
    const terminationsBefore = await page.evaluate(() => window.da3App.workerTerminations);
    await page.click('#run');
    await waitForProgress(/Running the network/);
    await page.waitForTimeout(150);
    expect(await page.locator('#cancel').isEnabled()).toBe(true);
    const t0 = Date.now();
    await page.click('#cancel');
    await page.waitForFunction(() => document.body.dataset.state === 'ready' && !window.da3App.busy, null, { timeout: 5_000, polling: 10 });
    const ms = Date.now() - t0;
    const status = await page.evaluate(() => window.da3App.status());
    const terminations = (await page.evaluate(() => window.da3App.workerTerminations)) - terminationsBefore;
    console.log(`cancel during the network: ready after ${ms} ms, "${status}", worker terminations ${terminations}`);
    expect(status).toMatch(/^Cancelled .*Ready for the next run\./);
    expect(terminations).toBe(1);
    expect(ms).toBeLessThan(1_500);
    expect(await page.locator('#run').isEnabled()).toBe(true);
    expect(await page.locator('#cancel').isDisabled()).toBe(true);
    expect(await page.locator('#viewer-busy').isVisible()).toBe(false);
    // A fresh worker: the model is loaded again and the converted graph comes from the cache.
    const t1 = Date.now();
    await page.click('#run');
    await waitForRun(page);
    const views = await page.evaluate(() => window.da3App.prediction!.views);
    console.log(`run after cancel: ${((Date.now() - t1) / 1000).toFixed(1)} s`);
    expect(views).toBe(4);
  });

  it('Cancel while the model is being converted aborts in the worker (no termination); the next run succeeds', async (ctx) => {
    if (!requireChromium(ctx)) return;
    // Another cache setting is another model: it converts again (and keeps nothing).
    await page.locator('#advanced summary').click();
    await page.uncheck('#use-cache');
    const terminationsBefore = await page.evaluate(() => window.da3App.workerTerminations);
    await page.click('#example-room-1');
    await waitForProgress(/Preparing the network .*: [1-9]\d* of/);
    const t0 = Date.now();
    await page.keyboard.press('Escape');
    await page.waitForFunction(() => document.body.dataset.state === 'ready' && !window.da3App.busy, null, { timeout: 5_000, polling: 10 });
    const ms = Date.now() - t0;
    const status = await page.evaluate(() => window.da3App.status());
    const terminations = (await page.evaluate(() => window.da3App.workerTerminations)) - terminationsBefore;
    console.log(`cancel (Escape) during conversion: ready after ${ms} ms, "${status}", worker terminations ${terminations}`);
    expect(status).toBe('Cancelled. Ready for the next run.');
    expect(terminations).toBe(0);
    expect(ms).toBeLessThan(1_000);
    await page.click('#run');
    await waitForRun(page);
    expect(await page.evaluate(() => window.da3App.prediction!.views)).toBe(1);
    expect(await progressText()).not.toBe('');
  });

  it('fits a phone screen (390 px): one column, nothing wider than the viewport', async (ctx) => {
    if (!requireChromium(ctx)) return;
    if ((await page.locator('#advanced').getAttribute('open')) !== null) await page.locator('#advanced summary').click();
    await page.setViewportSize({ width: 390, height: 844 });
    await page.waitForTimeout(300);
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    expect(overflow).toBeLessThanOrEqual(0);
    await shot('app-phone.png');
  });
});
