/**
 * `da3 gallery` end to end: a real export of the tiny model (`da3 auto … --export-format
 * glb-depth_vis`), served by the built CLI, opened in headless Chromium: the index (thumbnail,
 * counts, downloads), a click into the scene, and the three.js viewer loading the GLB — its point
 * and camera counts equal the GLB's, the controls work, it draws, with no console error and no
 * Content-Security-Policy violation (and the CSP is enforced: an inline script is refused).
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, requireChromium } from '../../../test-utils/browser.js';
import { FIXTURES, REPO_ROOT } from '../../../test-utils/fixtures.js';
import { createGallery } from '../src/index.js';

const BIN = join(REPO_ROOT, 'packages/node/dist/cli/bin.js');
const VIEWER = join(REPO_ROOT, 'packages/node/dist/gallery/viewer.js');
const work = mkdtempSync(join(tmpdir(), 'da3js-gallery-'));
const root = join(work, 'gallery');
let child: ChildProcess | undefined;
let base = '';
let browser: Browser | undefined;

/** Points (POINTS primitives' POSITION count) and cameras (LINES meshes) of a GLB, read here independently. */
function glbCounts(path: string): { points: number; cameras: number } {
  const b = readFileSync(path);
  expect(b.toString('latin1', 0, 4)).toBe('glTF');
  const json = JSON.parse(b.toString('utf8', 20, 20 + b.readUInt32LE(12)));
  let points = 0;
  let cameras = 0;
  for (const mesh of json.meshes ?? []) {
    for (const p of mesh.primitives) if (p.mode === 0) points += json.accessors[p.attributes.POSITION].count;
    if (mesh.primitives.every((p: { mode: number }) => p.mode === 1)) cameras++;
  }
  return { points, cameras };
}

beforeAll(async () => {
  if (!existsSync(VIEWER)) throw new Error(`${VIEWER} missing: run \`npx turbo run build\` first`);
  // A real export of the tiny model: scene.glb, scene.jpg, depth_vis/0000…0003.jpg.
  const r = spawnSync(
    process.execPath,
    [BIN, 'auto', join(REPO_ROOT, 'examples/scene'), '--model-dir', join(FIXTURES, 'tiny'), '--process-res', '112', '--export-format', 'glb-depth_vis', '--export-dir', join(root, 'tiny scene')],
    { encoding: 'utf8', env: { ...process.env, DA3_CACHE: join(work, 'cache') } },
  );
  expect(r.status, r.stderr).toBe(0);
  // A second scene with only the GLB (no thumbnail, no depth images), and a folder that is no scene.
  mkdirSync(join(root, 'bare'));
  cpSync(join(root, 'tiny scene', 'scene.glb'), join(root, 'bare', 'scene.glb'));
  mkdirSync(join(root, 'not-a-scene'));
  child = spawn(process.execPath, [BIN, 'gallery', root, '--port', '0'], { stdio: ['ignore', 'ignore', 'pipe'] });
  base = await new Promise<string>((ok, fail) => {
    let log = '';
    child!.stderr!.on('data', (d) => {
      log += String(d);
      const m = /listening on (http:\/\/\S+)/.exec(log);
      if (m) ok(m[1]);
    });
    child!.once('exit', (code) => fail(new Error(`da3 gallery exited with ${code}: ${log}`)));
  });
}, 60_000);

afterAll(async () => {
  await browser?.close();
  child?.kill('SIGKILL');
  rmSync(work, { recursive: true, force: true });
});

describe('da3 gallery in Chromium', () => {
  it('index → scene → the three.js viewer shows the GLB (points, cameras, controls), CSP respected', async (ctx) => {
    if (!requireChromium(ctx)) return;
    const expected = glbCounts(join(root, 'tiny scene', 'scene.glb'));
    expect(expected.points).toBeGreaterThan(1000);
    expect(expected.cameras).toBe(4);

    browser = await launchChromium();
    const page = await browser.newPage({ viewport: { width: 1200, height: 800 } });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(`console: ${m.text()}`);
    });
    page.on('requestfailed', (r) => errors.push(`request failed: ${r.url()}`));
    // CSP violations, recorded by a listener the CSP cannot block (added by the browser driver).
    await page.addInitScript(() => {
      (window as unknown as { cspViolations: string[] }).cspViolations = [];
      document.addEventListener('securitypolicyviolation', (e) => (window as unknown as { cspViolations: string[] }).cspViolations.push(`${e.violatedDirective} ${e.blockedURI}`));
    });

    // The index.
    let t = performance.now();
    const index = await page.goto(`${base}/`, { waitUntil: 'load' });
    const indexMs = performance.now() - t;
    const csp = index!.headers()['content-security-policy'];
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("default-src 'none'");
    expect(index!.headers()['x-content-type-options']).toBe('nosniff');
    const cards = await page.$$eval('article.scene', (els) => els.map((e) => (e as HTMLElement).dataset.scene));
    expect(cards).toEqual(['bare', 'tiny scene']); // sorted; `not-a-scene` has no scene.glb
    const card = page.locator('article.scene[data-scene="tiny scene"]');
    expect(await card.locator('.views').getAttribute('data-views')).toBe(String(expected.cameras));
    expect(await card.locator('.points').getAttribute('data-points')).toBe(String(expected.points));
    const files = ['depth_vis/0000.jpg', 'depth_vis/0001.jpg', 'depth_vis/0002.jpg', 'depth_vis/0003.jpg', 'scene.glb', 'scene.jpg'];
    const total = files.reduce((s, f) => s + statSync(join(root, 'tiny scene', f)).size, 0);
    expect(await card.locator('.bytes').getAttribute('data-bytes')).toBe(String(total));
    expect(await card.locator('ul.files a').evaluateAll((as) => as.map((a) => [a.textContent, a.getAttribute('href'), a.hasAttribute('download')]))).toEqual(
      files.map((f) => [f, `/tiny%20scene/${f}`, true]),
    );
    // The thumbnail (scene.jpg) loaded; the bare scene says it has no preview.
    expect(await card.locator('.thumb img').evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth > 0)).toBe(true);
    expect(await page.locator('article.scene[data-scene="bare"] .thumb').textContent()).toBe('no preview');
    const download = await page.request.get(`${base}/tiny%20scene/scene.glb`);
    expect(download.headers()['content-type']).toBe('model/gltf-binary');
    expect(Buffer.from(await download.body()).equals(readFileSync(join(root, 'tiny scene', 'scene.glb')))).toBe(true);

    // Click into the scene: the viewer loads the GLB.
    t = performance.now();
    await card.locator('a.open').click();
    await page.waitForFunction(() => document.body.dataset.state === 'ready' || document.body.dataset.state === 'error', null, { timeout: 30_000 });
    const viewerMs = performance.now() - t;
    expect(page.url()).toBe(`${base}/tiny%20scene/`);
    const state = await page.evaluate(() => ({ ...document.body.dataset, error: window.da3Gallery?.error }));
    expect(state).toMatchObject({ state: 'ready', points: String(expected.points), cameras: String(expected.cameras) });
    const hook = await page.evaluate(() => ({ points: window.da3Gallery!.points, cameras: window.da3Gallery!.cameras, loadMs: window.da3Gallery!.loadMs }));
    expect(hook).toMatchObject(expected);
    expect(await page.locator('#camera-select option').count()).toBe(expected.cameras + 1);
    // The depth images beside it, all loaded.
    expect(await page.locator('#views img').evaluateAll((imgs) => imgs.map((i) => (i as HTMLImageElement).naturalWidth > 0))).toEqual([true, true, true, true]);

    // It draws: the canvas is not all background.
    const drawn = async () => {
      const { data, info } = await sharp(await page.locator('#canvas').screenshot()).raw().toBuffer({ resolveWithObject: true });
      let lit = 0;
      for (let i = 0; i < data.length; i += info.channels) if (Math.abs(data[i] - 0x15) + Math.abs(data[i + 1] - 0x17) + Math.abs(data[i + 2] - 0x1c) > 24) lit++;
      return lit;
    };
    const litAt2 = await drawn();
    expect(litAt2).toBeGreaterThan(500);
    // Point size slider: bigger points light more pixels.
    await page.locator('#point-size').fill('8');
    expect(await page.evaluate(() => window.da3Gallery!.pointSize)).toBe(8);
    expect(await page.locator('#point-size-value').textContent()).toBe('8');
    await page.waitForTimeout(100);
    expect(await drawn()).toBeGreaterThan(litAt2 * 1.5);
    // View from a camera (the selector, and a click on a depth image), then fit view.
    await page.locator('#camera-select').selectOption('1');
    expect(await page.evaluate(() => window.da3Gallery!.viewing)).toBe(1);
    await page.locator('button.view[data-view="2"]').click();
    expect(await page.evaluate(() => window.da3Gallery!.viewing)).toBe(2);
    expect(await page.locator('#camera-select').inputValue()).toBe('2');
    await page.locator('#fit').click();
    expect(await page.evaluate(() => window.da3Gallery!.viewing)).toBe(-1);
    await page.waitForTimeout(100);
    expect(await drawn()).toBeGreaterThan(500);

    expect(errors).toEqual([]);
    expect(await page.evaluate(() => (window as unknown as { cspViolations: string[] }).cspViolations)).toEqual([]);
    // The CSP is enforced: an inline script injected into the page does not run.
    const ran = await page.evaluate(async () => {
      const s = document.createElement('script');
      s.textContent = 'window.inlineRan = true';
      document.body.append(s);
      await new Promise((r) => setTimeout(r, 50));
      return (window as unknown as { inlineRan?: boolean }).inlineRan === true;
    });
    expect(ran).toBe(false);
    expect(await page.evaluate(() => (window as unknown as { cspViolations: string[] }).cspViolations)).toEqual(['script-src-elem inline']);

    // The bare scene (no depth images) loads too.
    await page.goto(`${base}/bare/`);
    await page.waitForFunction(() => document.body.dataset.state === 'ready' || document.body.dataset.state === 'error', null, { timeout: 30_000 });
    expect(await page.evaluate(() => document.body.dataset.points)).toBe(String(expected.points));
    console.log(
      `gallery: index ${indexMs.toFixed(0)} ms; click → viewer ready ${viewerMs.toFixed(0)} ms (script start → first frame ${hook.loadMs} ms); ${expected.points} points, ${expected.cameras} cameras; viewer.js ${statSync(VIEWER).size} bytes`,
    );
  });

  it('the viewer page and redirects; a folder that is not a scene is not listed; the server stops cleanly', async () => {
    const page = await fetch(`${base}/tiny%20scene/`);
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain('<script type="module" src="/_da3/viewer.js"></script>');
    expect(html).not.toMatch(/<script>|<script type="(?!module)|style=/); // nothing inline
    const redirect = await fetch(`${base}/tiny%20scene`, { redirect: 'manual' });
    expect(redirect.status).toBe(301);
    expect(redirect.headers.get('location')).toBe('/tiny%20scene/');
    expect((await fetch(`${base}/not-a-scene/`)).status).toBe(404);
    expect((await fetch(`${base}/not-a-scene`)).status).toBe(404);
    const js = await fetch(`${base}/_da3/viewer.js`);
    expect(js.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect((await js.arrayBuffer()).byteLength).toBe(statSync(VIEWER).size);
    expect((await fetch(`${base}/_da3/../../package.json`)).status).toBe(404); // normalised to /package.json: not in the gallery
    expect((await fetch(`${base}/_da3/main.ts`)).status).toBe(404);
    const range = await fetch(`${base}/tiny%20scene/scene.glb`, { headers: { range: 'bytes=0-3' } });
    expect(range.status).toBe(206);
    expect(await range.text()).toBe('glTF');
    expect((await fetch(`${base}/`, { method: 'POST' })).status).toBe(405);
    // On 127.0.0.1 only localhost names are answered (DNS rebinding).
    const port = new URL(base).port;
    const withHost = (host: string) =>
      new Promise<number>((ok, fail) => {
        const req = httpRequest({ host: '127.0.0.1', port, path: '/tiny%20scene/scene.glb', headers: { host }, agent: false }, (res) => {
          res.resume();
          ok(res.statusCode!);
        });
        req.on('error', fail);
        req.end();
      });
    expect(await withHost('evil.example')).toBe(403);
    expect(await withHost(`rebound.attacker.test:${port}`)).toBe(403);
    expect(await withHost(`localhost:${port}`)).toBe(200);
    expect(await withHost(`[::1]:${port}`)).toBe(200);
    // Names are escaped in the pages and percent-encoded in links; a nested scene folder has its viewer too.
    const hostile = `a"<b>&'#?`;
    for (const dir of [hostile, 'group/inner']) {
      mkdirSync(join(root, dir), { recursive: true });
      cpSync(join(root, 'bare', 'scene.glb'), join(root, dir, 'scene.glb'));
    }
    const index = await (await fetch(`${base}/`)).text();
    expect(index).toContain('data-scene="a&#34;&#60;b&#62;&#38;&#39;#?"');
    expect(index).toContain('href="/a%22%3Cb%3E%26&#39;%23%3F/"');
    expect(index).not.toContain('<b>');
    const nested = await fetch(`${base}/group/inner/`);
    expect(nested.status).toBe(200);
    expect(await nested.text()).toContain('href="/group/inner/scene.glb" download');
    const head = await fetch(`${base}/tiny%20scene/scene.glb`, { method: 'HEAD' });
    expect(head.headers.get('content-length')).toBe(String(statSync(join(root, 'tiny scene', 'scene.glb')).size));
    child!.kill('SIGTERM');
    expect(await new Promise((ok) => child!.once('exit', ok))).toBe(0);
  });

  it('without a built viewer the page says so and lists the files', async () => {
    const empty = join(work, 'no-assets');
    mkdirSync(empty, { recursive: true });
    const server = createGallery(root, { assetsDir: empty });
    await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
    const url = `http://127.0.0.1:${(server.address() as import('node:net').AddressInfo).port}`;
    try {
      const html = await (await fetch(`${url}/bare/`)).text();
      expect(html).toContain('The 3D viewer is not built');
      expect(html).toContain('href="/bare/scene.glb" download');
      const js = await fetch(`${url}/_da3/viewer.js`);
      expect(js.status).toBe(404);
      expect(await js.json()).toEqual({ error: 'the gallery viewer is not built (npm run build -w @da3js/node)' });
    } finally {
      server.close();
    }
  });
});
