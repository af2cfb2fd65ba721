/**
 * `da3 app`: flags checked first; the built app found or a clear error; the model served in the
 * hub's HTTP layout (Range, X-Repo-Commit, ETag — the node hub client downloads and verifies from
 * it); COOP/COEP; the Host check; GET/HEAD only; containment; a clean SIGTERM. Runs on a temp app
 * folder; when apps/web is built (and Chromium is there), the real app also loads the local model
 * from it and reconstructs the example scene.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { launchChromium, requireChromium } from '../../../test-utils/browser.js';
import { FIXTURES, REPO_ROOT } from '../../../test-utils/fixtures.js';
import { findAppDir } from '../src/app/model.js';
import { fetchHubFile } from '../src/index.js';
import { DEFAULT_REPO, startFakeHub } from './helpers/fake-hub.js';

const BIN = join(REPO_ROOT, 'packages/node/dist/cli/bin.js');
const TINY = join(FIXTURES, 'tiny');
const work = mkdtempSync(join(tmpdir(), 'da3js-app-'));
const children: ChildProcess[] = [];
afterAll(() => {
  for (const c of children) c.kill('SIGKILL');
  rmSync(work, { recursive: true, force: true });
});

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/** A tiny "built app": index.html, a script, a folder, a symlink out of it, a secret beside it. */
function fakeApp(): string {
  const dir = join(work, 'app-dist');
  if (existsSync(dir)) return dir;
  mkdirSync(join(dir, 'assets'), { recursive: true });
  writeFileSync(join(dir, 'index.html'), '<!doctype html><title>app</title><script type="module" src="./assets/app.js"></script>');
  writeFileSync(join(dir, 'assets', 'app.js'), 'document.title = "ran";');
  writeFileSync(join(dir, 'assets', 'ort.wasm'), Buffer.from([0, 97, 115, 109]));
  writeFileSync(join(work, 'secret.txt'), 'secret');
  symlinkSync(join(work, 'secret.txt'), join(dir, 'assets', 'link.js'));
  symlinkSync(work, join(dir, 'up'));
  return dir;
}

/** Starts `da3 app …`; resolves with the printed URL once it listens. */
async function startApp(...args: string[]): Promise<{ child: ChildProcess; url: string; origin: string; log: () => string }> {
  const child = spawn(process.execPath, [BIN, 'app', '--port', '0', ...args], { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, DA3_CACHE: join(work, 'da3-cache'), HF_HUB_OFFLINE: '' } });
  children.push(child);
  let log = '';
  const url = await new Promise<string>((ok, fail) => {
    child.stderr!.on('data', (d) => {
      log += String(d);
      const m = /listening on (http:\/\/\S+)/.exec(log);
      if (m) ok(m[1]);
    });
    child.once('exit', (code) => fail(new Error(`da3 app exited with ${code}: ${log}`)));
  });
  return { child, url, origin: new URL(url).origin, log: () => log };
}

/** A raw request (node:http sends the target and Host as given). */
function raw(origin: string, path: string, headers: Record<string, string> = {}, method = 'GET'): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: Buffer }> {
  const { port } = new URL(origin);
  return new Promise((ok, fail) => {
    const req = httpRequest({ host: '127.0.0.1', port, path, method, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => ok({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', fail);
    req.end();
  });
}

async function stop(child: ChildProcess): Promise<number | null> {
  const exited = new Promise<number | null>((ok) => child.once('exit', ok));
  child.kill('SIGTERM');
  return exited;
}

describe('da3 app: flags and the app folder', () => {
  it('bad flags exit 2 before anything; a missing app build is one clear line, exit 1', () => {
    const run = (...args: string[]) => spawnSync(process.execPath, [BIN, 'app', ...args], { encoding: 'utf8', env: { ...process.env, DA3_CACHE: join(work, 'never') } });
    for (const args of [['--port', 'x'], ['--port', '70000'], ['extra-arg'], ['--bogus']]) {
      const r = run(...args);
      expect(r.status, args.join(' ')).toBe(2);
      expect(r.stderr).toMatch(/^da3: error: /);
    }
    const empty = join(work, 'empty');
    mkdirSync(empty, { recursive: true });
    // The app folder is checked before the model (which here does not exist).
    const r = run('--app-dir', empty, '--model-dir', 'nobody/nothing', '--local-files-only');
    expect(r.status).toBe(1);
    expect(r.stderr.trim().split('\n')).toEqual([
      `da3: error: --app-dir ${empty} holds no index.html. da3 app needs the built web app: run \`npm run build -w @da3js/web-app\` or pass --app-dir [IO]`,
    ]);
    expect(existsSync(join(work, 'never'))).toBe(false);
    expect(spawnSync(process.execPath, [BIN, '--help'], { encoding: 'utf8' }).stdout).toMatch(/^ {2}app {15}the in-browser app/m);
  });

  it('without --app-dir: @da3js/web-app’s dist/ when built, else the same clear error', () => {
    const pkg = join(work, 'web-app-pkg');
    mkdirSync(pkg, { recursive: true });
    writeFileSync(join(pkg, 'package.json'), '{"name":"@da3js/web-app"}');
    const resolver = () => join(pkg, 'package.json');
    expect(() => findAppDir(undefined, resolver)).toThrow(/da3 app needs the built web app: run `npm run build -w @da3js\/web-app` or pass --app-dir \(.*dist\/index.html is missing\)/);
    expect(() =>
      findAppDir(undefined, () => {
        throw new Error('Cannot find module');
      }),
    ).toThrow(/needs the built web app.*not installed/);
    mkdirSync(join(pkg, 'dist'));
    writeFileSync(join(pkg, 'dist', 'index.html'), '<!doctype html>');
    expect(findAppDir(undefined, resolver)).toBe(join(pkg, 'dist'));
    // In this workspace the real package resolves (its dist/ exists once apps/web is built).
    const real = join(REPO_ROOT, 'apps/web/dist');
    if (existsSync(join(real, 'index.html'))) expect(findAppDir(undefined)).toBe(real);
    else expect(() => findAppDir(undefined)).toThrow(/needs the built web app/);
  });
});

describe('da3 app: serving', () => {
  it('serves the app (COOP/COEP) and a local folder model in the hub layout; Host check, 404s, containment, GET/HEAD only; SIGTERM → 0', async () => {
    const app = fakeApp();
    const { child, url, origin } = await startApp('--app-dir', app, '--model-dir', TINY);
    const repo = 'local/tiny';
    expect(url).toBe(`${origin}/?endpoint=${encodeURIComponent(origin)}&model=${encodeURIComponent(repo)}`);

    // `/` sends the browser to the app with the local endpoint and model.
    const home = await fetch(`${origin}/`, { redirect: 'manual' });
    expect(home.status).toBe(302);
    expect(home.headers.get('location')).toBe(new URL(url).pathname + new URL(url).search);
    const page = await fetch(url);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    for (const r of [page, home]) {
      expect(r.headers.get('cross-origin-opener-policy')).toBe('same-origin');
      expect(r.headers.get('cross-origin-embedder-policy')).toBe('require-corp');
      expect(r.headers.get('cross-origin-resource-policy')).toBe('same-origin');
    }
    expect(await page.text()).toContain('./assets/app.js');
    const js = await fetch(`${origin}/assets/app.js`);
    expect([js.status, js.headers.get('content-type'), js.headers.get('cross-origin-embedder-policy')]).toEqual([200, 'text/javascript; charset=utf-8', 'require-corp']);
    expect((await fetch(`${origin}/assets/ort.wasm`)).headers.get('content-type')).toBe('application/wasm');

    // The model in the hub's layout.
    const weights = readFileSync(join(TINY, 'model.safetensors'));
    const config = readFileSync(join(TINY, 'config.json'));
    const head = await fetch(`${origin}/${repo}/resolve/main/model.safetensors`, { method: 'HEAD' });
    expect(head.status).toBe(200);
    const commit = head.headers.get('x-repo-commit')!;
    expect(commit).toMatch(/^[0-9a-f]{40}$/);
    expect(head.headers.get('etag')).toMatch(/^"[0-9a-f]{40}"$/);
    expect(head.headers.get('x-linked-size')).toBe(String(weights.length));
    expect(head.headers.get('content-length')).toBe(String(weights.length));
    expect(head.headers.get('accept-ranges')).toBe('bytes');
    const range = await fetch(`${origin}/${repo}/resolve/main/model.safetensors`, { headers: { range: 'bytes=8-1031' } });
    expect(range.status).toBe(206);
    expect(range.headers.get('content-range')).toBe(`bytes 8-1031/${weights.length}`);
    expect(range.headers.get('x-repo-commit')).toBe(commit);
    expect(Buffer.from(await range.arrayBuffer()).equals(weights.subarray(8, 1032))).toBe(true);
    const suffix = await fetch(`${origin}/${repo}/resolve/main/model.safetensors`, { headers: { range: 'bytes=-16' } });
    expect([suffix.status, suffix.headers.get('content-range')]).toEqual([206, `bytes ${weights.length - 16}-${weights.length - 1}/${weights.length}`]);
    const past = await fetch(`${origin}/${repo}/resolve/main/model.safetensors`, { headers: { range: `bytes=${weights.length}-` } });
    expect([past.status, past.headers.get('content-range')]).toEqual([416, `bytes */${weights.length}`]);
    const byCommit = await fetch(`${origin}/${repo}/resolve/${commit}/config.json`);
    expect(byCommit.status).toBe(200);
    expect(Buffer.from(await byCommit.arrayBuffer()).equals(config)).toBe(true);
    expect(byCommit.headers.get('x-linked-etag')).toBe(null); // not an LFS file
    // What the hub says for what is not here.
    const missing = [
      [`/other/repo/resolve/main/config.json`, 'RepoNotFound'],
      [`/${repo}/resolve/v2/config.json`, 'RevisionNotFound'],
      [`/${repo}/resolve/main/model.onnx`, 'EntryNotFound'],
      [`/${repo}/resolve/main/../config.json`, undefined], // normalised to /local/tiny/resolve/config.json
    ] as const;
    for (const [path, code] of missing) {
      const r = await raw(origin, path, { host: new URL(origin).host });
      expect(r.status, path).toBe(404);
      if (code) expect(r.headers['x-error-code'], path).toBe(code);
    }

    // The node hub client takes this server as its endpoint: download, commit and cache layout.
    const cache = join(work, 'hub-from-app');
    const got = await fetchHubFile({ endpoint: origin, repo, file: 'model.safetensors', cacheDir: cache });
    expect(got.commit).toBe(commit);
    expect(sha256(readFileSync(got.path))).toBe(sha256(weights));

    // Host check (DNS rebinding), cross-site fetches, methods, containment, no listings.
    const host = new URL(origin).host;
    const port = new URL(origin).port;
    expect((await raw(origin, '/assets/app.js', { host: 'evil.example' })).status).toBe(403);
    expect((await raw(origin, '/assets/app.js', { host: `evil.example:${port}` })).status).toBe(403);
    expect((await raw(origin, `/${repo}/resolve/main/config.json`, { host: 'attacker.test' })).status).toBe(403);
    for (const h of [host, `localhost:${port}`, `[::1]:${port}`, 'localhost']) expect((await raw(origin, '/assets/app.js', { host: h })).status, h).toBe(200);
    expect((await raw(origin, '/assets/app.js', { host, 'sec-fetch-site': 'cross-site', 'sec-fetch-mode': 'cors' })).status).toBe(403);
    expect((await raw(origin, '/', { host, 'sec-fetch-site': 'cross-site', 'sec-fetch-mode': 'navigate' })).status).toBe(302); // a link from elsewhere still opens the app
    for (const method of ['POST', 'PUT', 'DELETE', 'OPTIONS']) {
      const r = await raw(origin, '/index.html', { host }, method);
      expect([r.status, r.headers.allow], method).toEqual([405, 'GET, HEAD']);
    }
    const head2 = await raw(origin, '/index.html', { host }, 'HEAD');
    expect([head2.status, head2.body.length, Number(head2.headers['content-length'])]).toEqual([200, 0, readFileSync(join(app, 'index.html')).length]);
    expect((await raw(origin, '/assets/link.js', { host })).status).toBe(403); // symlink out of the app
    expect((await raw(origin, '/up/secret.txt', { host })).status).toBe(403);
    expect((await raw(origin, '/..%2fsecret.txt', { host })).status).toBe(403);
    expect((await raw(origin, '/%2e%2e/secret.txt', { host })).status).toBe(404); // the URL parser drops `%2e%2e` like `..`: /secret.txt, not in the app
    expect((await raw(origin, '/assets/', { host })).status).toBe(404); // no listing
    expect((await raw(origin, '/assets', { host })).status).toBe(404);
    expect((await raw(origin, '/nope.js', { host })).status).toBe(404);
    for (const target of ['//', '//[', '/%zz', '/a%00b']) expect((await raw(origin, target, { host })).status, target).toBe(400);
    expect(readdirSync(app).sort()).toEqual(['assets', 'index.html', 'up']);

    expect(await stop(child)).toBe(0);
  });

  it('a hub id from the cache, offline: the hub etag (sha256) and commit are served, and verified by a client', async () => {
    // Fill a cache from a fake hub (sha256 X-Linked-Etag, a commit), as a first online run would.
    const hub = await startFakeHub();
    const cache = join(work, 'hub-cache');
    try {
      for (const file of ['config.json', 'model.safetensors']) await fetchHubFile({ endpoint: hub.endpoint, repo: DEFAULT_REPO, file, cacheDir: cache });
    } finally {
      await hub.close();
    }
    const { child, origin, url, log } = await startApp('--app-dir', fakeApp(), '--model-dir', DEFAULT_REPO, '--cache-dir', cache, '--local-files-only');
    expect(url).toContain(`model=${encodeURIComponent(DEFAULT_REPO)}`);
    expect(log()).toContain(`model: ${DEFAULT_REPO}`);
    const weights = readFileSync(join(TINY, 'model.safetensors'));
    const head = await fetch(`${origin}/${DEFAULT_REPO}/resolve/main/model.safetensors`, { method: 'HEAD' });
    expect(head.headers.get('x-linked-etag')).toBe(`"${sha256(weights)}"`);
    expect(head.headers.get('x-repo-commit')).toBe(hub.commitOf(DEFAULT_REPO));
    // A client downloading from `da3 app` checks the bytes against that sha256.
    const again = await fetchHubFile({ endpoint: origin, repo: DEFAULT_REPO, file: 'model.safetensors', cacheDir: join(work, 'hub-cache-2') });
    expect(again.commit).toBe(hub.commitOf(DEFAULT_REPO));
    expect(readdirSync(join(work, 'hub-cache-2', 'models--test-org--da3-tiny', 'blobs'))).toContain(sha256(weights));
    expect(await stop(child)).toBe(0);

    // Not cached and offline: one line naming the repo, exit 1.
    const r = spawnSync(process.execPath, [BIN, 'app', '--app-dir', fakeApp(), '--model-dir', 'test-org/not-here', '--cache-dir', cache, '--local-files-only', '--port', '0'], { encoding: 'utf8' });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/^da3: error: .*not-here.*not in the cache/m);
  });
});

describe('da3 app with the real web app (apps/web/dist)', () => {
  it('the built app loads the local model through its hub code and reconstructs the example scene', async (ctx) => {
    if (!existsSync(join(REPO_ROOT, 'apps/web/dist/index.html'))) return ctx.skip('apps/web is not built (npm run build -w @da3js/web-app)');
    if (!requireChromium(ctx)) return;
    // No --app-dir: the @da3js/web-app workspace package's dist/ is found at run time.
    const { child, url, origin, log } = await startApp('--model-dir', TINY);
    expect(log()).toContain(`app: ${join(REPO_ROOT, 'apps/web/dist')}`);
    const browser = await launchChromium();
    try {
      const page = await browser.newPage();
      // Requests of the page and of its Web Worker (the app loads and runs the model in a worker).
      const requested: string[] = [];
      page.context().on('request', (r) => requested.push(r.url()));
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
      page.on('console', (m) => {
        if (m.type() === 'error') errors.push(`console: ${m.text()}`);
      });
      const t0 = Date.now();
      await page.goto(`${origin}/`); // redirected to ?endpoint=<origin>&model=local/tiny
      expect(page.url()).toBe(url);
      await page.evaluate(() => (window as unknown as { da3App: { ready: Promise<void> } }).da3App.ready);
      const loadMs = Date.now() - t0;
      expect(await page.evaluate(() => crossOriginIsolated)).toBe(true);
      expect(await page.inputValue('#endpoint')).toBe(origin);
      // The processing size is an expert setting (folded under "Advanced"): set it by URL, as a link would.
      await page.goto(`${url}&processRes=84`);
      await page.evaluate(() => (window as unknown as { da3App: { ready: Promise<void> } }).da3App.ready);
      expect(await page.locator('#process-res').inputValue()).toBe('84');
      const pngs = readdirSync(join(REPO_ROOT, 'examples/scene')).filter((f) => f.endsWith('.png')).map((f) => join(REPO_ROOT, 'examples/scene', f));
      await page.setInputFiles('#file-input', pngs);
      const t1 = Date.now();
      await page.click('#run');
      await page.waitForFunction(() => ['done', 'error'].includes(document.getElementById('status')?.dataset.kind ?? ''), null, { timeout: 120_000, polling: 250 });
      const status = await page.locator('#status').textContent();
      expect(await page.locator('#status').getAttribute('data-kind'), status ?? '').toBe('done');
      const runMs = Date.now() - t1;
      const views = await page.evaluate(() => (window as unknown as { da3App: { prediction: { views: number } } }).da3App.prediction.views);
      expect(views).toBe(pngs.length);
      // The weights came from this server, range by range.
      const fetched = requested;
      expect(fetched.filter((u) => u === `${origin}/local/tiny/resolve/main/model.safetensors`).length).toBeGreaterThan(1);
      expect(fetched).toContain(`${origin}/local/tiny/resolve/main/config.json`);
      expect(errors).toEqual([]);
      console.log(`da3 app + apps/web: page ready ${loadMs} ms, load + convert + run ${pngs.length} views at 84 px ${runMs} ms (crossOriginIsolated)`);
    } finally {
      await browser.close();
    }
    expect(await stop(child)).toBe(0);
  }, 180_000);
});
