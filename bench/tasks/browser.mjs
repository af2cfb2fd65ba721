// node browser.mjs NAME REPO_DIR WIDTH HEIGHT PROCESS_RES THREADS RUNS [wasm|webgpu] — @da3js/web in
// headless Chromium, onnxruntime-web's WASM backend (default) or its WebGPU provider (Chromium's
// `--enable-unsafe-webgpu`: the SwiftShader software adapter on a machine without a GPU): the page
// fetches REPO_DIR (config.json + model.safetensors, served in the hub layout with Range), converts
// it to ONNX in the page and runs `model.inference` on one WIDTH×HEIGHT RGB image. The page is
// bundled here with esbuild (bench/browser/entry.mjs), onnxruntime-web's wasm files are served
// next to it, and the server sends COOP/COEP so the page is cross-origin isolated (WASM threads).
// One fresh browser per call: `ort.env.wasm.numThreads` is fixed after the first session.
import { copyFileSync, createReadStream, existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, extname, join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { median, report } from './common.mjs';

const [name, repoDir, width, height, processRes, threads, runs, device = 'wasm'] = process.argv.slice(2);
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const base = { task: 'infer', runtime: `chromium-${device}`, model: name, views: 1, width: Number(width), height: Number(height), processRes: Number(processRes), threads: Number(threads) };
if (!existsSync(CHROMIUM)) {
  report({ ...base, skipped: `no Chromium at ${CHROMIUM} (apt-get install chromium, or set CHROMIUM_PATH)` });
  process.exit(0);
}

const here = dirname(fileURLToPath(import.meta.url));
const page = join(here, '..', 'browser');
const out = mkdtempSync(join(tmpdir(), 'da3js-bench-page-'));
const require = createRequire(import.meta.url);
const { build } = await import(require.resolve('esbuild'));
const { chromium } = await import('playwright-core');

const types = { '.html': 'text/html', '.js': 'text/javascript', '.mjs': 'text/javascript', '.json': 'application/json', '.wasm': 'application/wasm' };
/** Static files of `root` at `/`, and `repo` at `/hub/<owner>/<name>/resolve/<rev>/`, with Range and COOP/COEP. */
let hubRequests = 0;
function serve(root, repo) {
  const server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url, 'http://x').pathname);
    const hub = /^\/hub\/[^/]+\/[^/]+\/resolve\/[^/]+\/(.+)$/.exec(path);
    if (hub) hubRequests++;
    const dir = resolve(hub ? repo : root);
    const file = resolve(dir, hub ? hub[1] : path.slice(1) || 'index.html');
    const headers = { 'cache-control': 'no-store', 'accept-ranges': 'bytes', 'cross-origin-opener-policy': 'same-origin', 'cross-origin-embedder-policy': 'require-corp', 'cross-origin-resource-policy': 'same-origin' };
    if (!file.startsWith(dir + sep) || !existsSync(file) || !statSync(file).isFile()) {
      if (path !== '/favicon.ico') console.error(`[server] 404 ${path}`);
      return res.writeHead(404, headers).end();
    }
    const size = statSync(file).size;
    headers['content-type'] = types[extname(file)] ?? 'application/octet-stream';
    const m = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? '');
    const [start, end] = m ? [Number(m[1]), Math.min(m[2] ? Number(m[2]) : size - 1, size - 1)] : [0, size - 1];
    if (m && (start >= size || end < start)) return res.writeHead(416, { ...headers, 'content-range': `bytes */${size}` }).end();
    if (m) headers['content-range'] = `bytes ${start}-${end}/${size}`;
    res.writeHead(m ? 206 : 200, { ...headers, 'content-length': String(end - start + 1) });
    if (req.method === 'HEAD' || size === 0) return res.end();
    createReadStream(file, { start, end }).pipe(res);
  });
  return new Promise((ok) => server.listen(0, '127.0.0.1', () => ok(server)));
}

/** Peak RSS (VmHWM) of the browser's renderer processes, MiB (the page's heap + WASM memory); null if unreadable. */
async function rendererPeakRssMiB(b) {
  try {
    const cdp = await b.newBrowserCDPSession();
    const { processInfo } = await cdp.send('SystemInfo.getProcessInfo');
    const kib = processInfo
      .filter((p) => p.type === 'renderer')
      .map((p) => Number(/VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${p.id}/status`, 'utf8'))?.[1] ?? 0));
    return kib.length ? Math.round(Math.max(...kib) / 1024) : null;
  } catch {
    return null;
  }
}

let browser;
let server;
try {
  await build({ entryPoints: [join(page, 'entry.mjs')], bundle: true, platform: 'browser', format: 'esm', target: 'es2022', outfile: join(out, 'bench.js'), logLevel: 'error' });
  copyFileSync(join(page, 'index.html'), join(out, 'index.html'));
  const ortDist = dirname(require.resolve('onnxruntime-web/ort-wasm-simd-threaded.wasm', { paths: [join(here, '..', '..', 'packages', 'web')] }));
  for (const f of ['ort-wasm-simd-threaded.jsep.mjs', 'ort-wasm-simd-threaded.jsep.wasm', 'ort-wasm-simd-threaded.mjs', 'ort-wasm-simd-threaded.wasm']) copyFileSync(join(ortDist, f), join(out, f));
  server = await serve(out, repoDir);
  const url = `http://127.0.0.1:${server.address().port}`;
  const args = ['--no-sandbox', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-dev-shm-usage', '--enable-precise-memory-info'];
  if (device === 'webgpu') args.push('--enable-unsafe-webgpu');
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args });
  const tab = await browser.newPage();
  tab.on('pageerror', (e) => console.error(`[page] ${e.message}`));
  tab.on('console', (m) => m.type() === 'error' && console.error(`[page] ${m.text()}`));
  await tab.goto(`${url}/index.html`);
  await tab.waitForFunction(() => typeof globalThis.da3bench === 'function');
  const options = { repo: 'bench/model', endpoint: `${url}/hub`, device, threads: Number(threads), width: Number(width), height: Number(height), processRes: Number(processRes), runs: Number(runs) };
  const r = await tab.evaluate((o) => globalThis.da3bench(o), options);
  const ms = (x) => Math.round(x);
  report({
    ...base,
    browser: browser.version(),
    ort: r.ortVersion,
    crossOriginIsolated: r.crossOriginIsolated,
    ortNumThreads: r.numThreads,
    providers: r.providers,
    adapter: r.adapter,
    precision: r.precision,
    processedSize: r.size,
    note: 'inference times are model.inference end to end (preprocess + onnxruntime-web run + postprocess); network* = the ORT run stage only; convert = in-page checkpoint → ONNX (Range reads included)',
    loadMs: ms(r.loadMs),
    convertMs: ms(r.convertMs),
    sessionCreateMs: ms(r.sessionCreateMs),
    firstRunMs: ms(r.firstRunMs),
    firstInferenceMs: ms(r.firstInferenceMs),
    firstCallMs: ms(r.firstCallMs),
    medianMs: ms(median(r.times)),
    minMs: ms(Math.min(...r.times)),
    medianNetworkMs: ms(median(r.network)),
    minNetworkMs: ms(Math.min(...r.network)),
    maxNetworkMs: ms(Math.max(...r.network)),
    runs: r.times.map(ms),
    outputsFinite: r.finite,
    hubRequests,
    jsHeap: r.heaps,
    rendererPeakRssMiB: await rendererPeakRssMiB(browser),
  });
} finally {
  await browser?.close();
  server?.close();
  rmSync(out, { recursive: true, force: true });
}
