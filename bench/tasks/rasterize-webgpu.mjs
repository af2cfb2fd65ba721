// node rasterize-webgpu.mjs RUNTIME FRAMES — WebGPU Gaussian rasterizer frame times on the software
// adapter (SwiftShader; no GPU on the bench machine): RUNTIME 'chromium' runs @da3js/web's
// createWebGpuRasterizer in headless Chromium (--enable-unsafe-webgpu), 'dawn' runs core's
// createWebGpuRasterizer in Node on Dawn (the `webgpu` package) with Chromium's SwiftShader
// Vulkan driver. Scenes (gs-webgpu-frames.mjs): the tiny-giant fixture's 7056 Gaussians at 42×56
// and 252×336, and the 169,344-Gaussian gs-scene at 504×336; 'RGB+ED'. Reports median frame
// time per scene (the load average too: other processes slow the wall time down).
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createWebGpuRasterizer } from '@da3js/core';
import { report } from './common.mjs';
import { timeWebGpuFrames } from './gs-webgpu-frames.mjs';
import { loadTinyGiant } from './tiny-giant-gaussians.mjs';

const [runtime = 'chromium', framesArg = '10'] = process.argv.slice(2);
const frames = Number(framesArg);
const here = dirname(fileURLToPath(import.meta.url));
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const ICD = process.env.SWIFTSHADER_ICD ?? '/usr/lib/chromium/vk_swiftshader_icd.json';
const base = { task: 'rasterize', runtime: runtime === 'dawn' ? 'node-webgpu-dawn (SwiftShader)' : 'chromium-webgpu (SwiftShader)' };

async function onDawn(tiny) {
  if (!process.env.VK_ICD_FILENAMES && existsSync(ICD)) process.env.VK_ICD_FILENAMES = ICD;
  const { create, globals } = createRequire(import.meta.url)('webgpu');
  Object.assign(globalThis, globals);
  const gpu = create([]);
  const adapter = await gpu.requestAdapter();
  if (!adapter) return { skipped: `Dawn found no adapter (VK_ICD_FILENAMES=${process.env.VK_ICD_FILENAMES ?? 'unset'})` };
  const device = await adapter.requestDevice({ requiredLimits: { maxStorageBufferBindingSize: adapter.limits.maxStorageBufferBindingSize, maxBufferSize: adapter.limits.maxBufferSize } });
  const raster = createWebGpuRasterizer({ device });
  try {
    return { results: await timeWebGpuFrames(raster, tiny, frames), adapter: adapter.info?.description || adapter.info?.device || 'SwiftShader' };
  } finally {
    await raster.dispose();
    device.destroy();
    void gpu;
  }
}

async function inChromium(tiny) {
  if (!existsSync(CHROMIUM)) return { skipped: `no Chromium at ${CHROMIUM} (apt-get install chromium, or set CHROMIUM_PATH)` };
  const require = createRequire(import.meta.url);
  const { build } = await import(require.resolve('esbuild'));
  const { chromium } = await import('playwright-core');
  const out = mkdtempSync(join(tmpdir(), 'da3js-bench-gs-'));
  const entry = `import { createWebGpuRasterizer } from '@da3js/web';\nimport { timeWebGpuFrames } from ${JSON.stringify(join(here, 'gs-webgpu-frames.mjs'))};\nglobalThis.gsbench = async (tiny, frames) => {\n  const raster = await createWebGpuRasterizer();\n  try { return await timeWebGpuFrames(raster, tiny, frames); } finally { await raster.dispose(); }\n};\n`;
  await build({ stdin: { contents: entry, resolveDir: join(here, '..', '..'), loader: 'js' }, bundle: true, platform: 'browser', format: 'esm', target: 'es2022', outfile: join(out, 'gs.js'), logLevel: 'error' });
  writeFileSync(join(out, 'index.html'), '<!doctype html><meta charset="utf-8"><script type="module" src="./gs.js"></script>');
  const server = createServer((req, res) => {
    const file = join(out, req.url === '/' ? 'index.html' : req.url.slice(1));
    if (!file.startsWith(out) || !existsSync(file)) return res.writeHead(404).end();
    res.writeHead(200, { 'content-type': file.endsWith('.js') ? 'text/javascript' : 'text/html' }).end(readFileSync(file));
  });
  await new Promise((ok) => server.listen(0, '127.0.0.1', ok));
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--enable-unsafe-webgpu', '--disable-dev-shm-usage'] });
  try {
    const page = await browser.newPage();
    await page.goto(`http://127.0.0.1:${server.address().port}/`);
    await page.waitForFunction(() => typeof globalThis.gsbench === 'function');
    const plain = Object.fromEntries(Object.entries(tiny).map(([k, v]) => [k, typeof v === 'number' ? v : Array.from(v)]));
    const results = await page.evaluate(
      async ([t, n]) => {
        const tinyScene = Object.fromEntries(Object.entries(t).map(([k, v]) => [k, typeof v === 'number' ? v : Float32Array.from(v)]));
        return globalThis.gsbench(tinyScene, n);
      },
      [plain, frames],
    );
    return { results, adapter: 'SwiftShader (Chromium fallback adapter)' };
  } finally {
    await browser.close();
    server.close();
    rmSync(out, { recursive: true, force: true });
  }
}

const load0 = loadavg()[0];
const tiny = await loadTinyGiant(join(here, '..', '..'));
const got = runtime === 'dawn' ? await onDawn(tiny) : await inChromium(tiny);
if (got.skipped) report({ ...base, skipped: got.skipped });
else report({ ...base, adapter: got.adapter, renderMode: 'RGB+ED', scenes: got.results, loadAvg1m: [+load0.toFixed(2), +loadavg()[0].toFixed(2)] });
process.exit(0);
