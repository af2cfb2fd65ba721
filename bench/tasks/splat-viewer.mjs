// node splat-viewer.mjs [FRAMES] — the app viewer's splat renderer, measured: our WebGPU rasterizer
// (@da3js/web's createWebGpuRasterizer, software WebGPU) against Spark (@sparkjsdev/spark on three.js,
// software WebGL2), both SwiftShader in headless Chromium here (no GPU). Same Gaussians, same camera:
// the tiny-giant fixture's 7056 Gaussians (SH degree 2) from its view 0 at 6× (336×252), and the
// 169,344-Gaussian gs-scene (gs-scene.mjs) at 504×336. Each image is compared with core's CPU
// rasterizer (gsplat's maths, ~1e-6 from gsplat) on 8-bit values: PSNR (dB) and max |Δ| (/255),
// plus the share of pixels off by more than 8/255. Also: each renderer's minified bundle size
// (KiB, gzip -9; three.js not counted).
//
// Spark is not a dependency of the repository: install it in a scratch folder (default
// /tmp/splat-eval, or SPLAT_EVAL_DIR):
//   mkdir -p /tmp/splat-eval && cd /tmp/splat-eval && npm init -y && npm install @sparkjsdev/spark@2.2.0 three@0.187.0
// Without it the task reports `skipped`.
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { createCpuRasterizer } from '@da3js/core';
import { writeGaussiansPly } from '@da3js/exporters';
import { report } from './common.mjs';
import { makeScene, wanderCamera } from './gs-scene.mjs';
import { fixtureCamera, tinyGiantScene } from './gs-webgpu-frames.mjs';
import { loadTinyGiant } from './tiny-giant-gaussians.mjs';

const frames = Number(process.argv[2] ?? 8);
const here = dirname(fileURLToPath(import.meta.url));
const repo = join(here, '..', '..');
const SCRATCH = process.env.SPLAT_EVAL_DIR ?? '/tmp/splat-eval';
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const base = { task: 'splat-viewer' };

const sparkDir = join(SCRATCH, 'node_modules', '@sparkjsdev', 'spark');
const threeDir = join(SCRATCH, 'node_modules', 'three');
if (!existsSync(sparkDir) || !existsSync(threeDir)) {
  report({ ...base, skipped: `Spark not installed in ${SCRATCH} (npm install @sparkjsdev/spark@2.2.0 three@0.187.0 there, or set SPLAT_EVAL_DIR)` });
  process.exit(0);
}
if (!existsSync(CHROMIUM)) {
  report({ ...base, skipped: `no Chromium at ${CHROMIUM} (apt-get install chromium, or set CHROMIUM_PATH)` });
  process.exit(0);
}

/** A 3DGS PLY of the Gaussians (INRIA layout, SH kept up to degree 3) in memory. */
async function plyBytes(gaussians) {
  const chunks = [];
  await writeGaussiansPly(gaussians, { write: (c) => void chunks.push(c.slice()), close: async () => {} }, { layout: 'sh3' });
  return Buffer.concat(chunks);
}

/** PSNR (dB, peak 255), max |Δ| and the share of values off by more than 8 between two RGB byte images. */
function compare(a, b) {
  let se = 0;
  let max = 0;
  let off = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - b[i]);
    se += d * d;
    if (d > max) max = d;
    if (d > 8) off++;
  }
  const mse = se / a.length;
  return { psnrDb: mse === 0 ? Number.POSITIVE_INFINITY : +(10 * Math.log10((255 * 255) / mse)).toFixed(2), maxAbs: max, offOver8: +(off / a.length).toFixed(4) };
}

const bytesOf = (rgb) => {
  const out = new Uint8Array(rgb.length);
  for (let i = 0; i < rgb.length; i++) out[i] = Math.min(255, Math.max(0, Math.round(rgb[i] * 255)));
  return out;
};

const require = createRequire(import.meta.url);
const { build } = await import(require.resolve('esbuild'));
const alias = { '@sparkjsdev/spark': join(sparkDir, 'dist', 'spark.module.js') };
/** Every `three` import (ours and Spark's) from the scratch folder: one copy of three.js. */
const scratchThree = {
  name: 'scratch-three',
  setup(b) {
    b.onResolve({ filter: /^three(\/|$)/ }, async (args) => {
      if (args.pluginData === 'scratch') return undefined;
      const r = await b.resolve(args.path, { kind: args.kind, resolveDir: SCRATCH, pluginData: 'scratch' });
      return r.errors.length ? { errors: r.errors } : { path: r.path };
    });
  },
};

/** Minified, gzipped size (KiB) of what `contents` pulls in, three.js left out. */
async function bundleKiB(contents) {
  const r = await build({ stdin: { contents, resolveDir: repo, loader: 'js' }, bundle: true, minify: true, write: false, platform: 'browser', format: 'esm', target: 'es2022', external: ['three', 'three/*'], alias, logLevel: 'error' });
  const bytes = r.outputFiles[0].contents;
  return { minKiB: +(bytes.length / 1024).toFixed(0), gzKiB: +(gzipSync(bytes, { level: 9 }).length / 1024).toFixed(0) };
}

const sizes = {
  ours: await bundleKiB("export { createWebGpuRasterizer } from '@da3js/web';"),
  spark: await bundleKiB("export { SparkRenderer, SplatMesh } from '@sparkjsdev/spark';"),
};

const out = mkdtempSync(join(tmpdir(), 'da3js-bench-splat-'));
await build({ entryPoints: [join(here, 'splat-viewer-page.mjs')], bundle: true, platform: 'browser', format: 'esm', target: 'es2022', outfile: join(out, 'page.js'), alias, plugins: [scratchThree], logLevel: 'error' });
writeFileSync(join(out, 'index.html'), '<!doctype html><meta charset="utf-8"><body style="margin:0"><script type="module" src="./page.js"></script>');
const server = createServer((req, res) => {
  const file = join(out, req.url === '/' ? 'index.html' : req.url.slice(1));
  if (!file.startsWith(out) || !existsSync(file)) return res.writeHead(404).end();
  const type = file.endsWith('.js') ? 'text/javascript' : file.endsWith('.html') ? 'text/html' : 'application/octet-stream';
  res.writeHead(200, { 'content-type': type }).end(readFileSync(file));
});
await new Promise((ok) => server.listen(0, '127.0.0.1', ok));

const { chromium } = await import('playwright-core');
// Software WebGPU (--enable-unsafe-webgpu) and software WebGL2 (SwiftShader through ANGLE).
const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--enable-unsafe-webgpu', '--enable-unsafe-swiftshader', '--use-angle=swiftshader', '--disable-dev-shm-usage'] });
const load0 = loadavg()[0];
const tiny = await loadTinyGiant(repo);
const scenes = [
  { scene: 'tiny-giant view 0 ×6', gaussians: tinyGiantScene(tiny), camera: fixtureCamera(tiny, 0, 6) },
  { scene: 'gs-scene 504×336', gaussians: makeScene(), camera: wanderCamera(0.1) },
];
// gsplat (DA3's gs_video) is 'classic': a 0.3 px² dilation without opacity compensation, z-depth
// order, 3.33σ extent, alpha ≥ 1/255. Spark's closest settings, and its defaults for comparison.
const SPARK_GSPLAT = { preBlurAmount: 0.3, blurAmount: 0, sortRadial: false, maxStdDev: 3.33, minAlpha: 1 / 255 };
/** Spark 2.2.0's defaults (SparkRenderer.d.ts), set back explicitly since one renderer serves both. */
const SPARK_DEFAULTS = { preBlurAmount: 0, blurAmount: 0.3, sortRadial: true, maxStdDev: Math.sqrt(8), minAlpha: 0.5 / 255 };
const results = [];
try {
  const page = await browser.newPage();
  page.on('console', (m) => (m.type() === 'error' || process.env.SPLAT_EVAL_DEBUG) && console.error(`page: ${m.text()}`));
  await page.goto(`http://127.0.0.1:${server.address().port}/`);
  await page.waitForFunction(() => globalThis.splatPageReady === true);
  for (const s of scenes.filter((x) => !process.env.SPLAT_EVAL_SCENE || x.scene.startsWith(process.env.SPLAT_EVAL_SCENE))) {
    const cpu = createCpuRasterizer();
    const t = performance.now();
    const ref = await cpu.render(s.gaussians, s.camera, { background: [0, 0, 0] });
    const cpuMs = performance.now() - t;
    await cpu.dispose();
    const refBytes = bytesOf(ref.rgb);
    const spec = s.scene.startsWith('gs-scene') ? { kind: 'gs-scene' } : { kind: 'arrays', gaussians: Object.fromEntries(Object.entries(s.gaussians).map(([k, v]) => [k, typeof v === 'number' ? v : Array.from(v)])) };
    const row = { scene: s.scene, gaussians: s.gaussians.count, width: s.camera.width, height: s.camera.height, frames, cpuReferenceMs: +cpuMs.toFixed(0) };
    const gpu = await page.evaluate(
      async ([g, cam, n]) => globalThis.renderWebGpu(g, cam, n),
      [spec, s.camera, frames],
    );
    if (gpu.skipped) row.ours = { skipped: gpu.skipped };
    else {
      const b = Buffer.from(gpu.rgbFloat, 'base64');
      const rgb = new Float32Array(b.buffer, b.byteOffset, b.byteLength / 4);
      let maxFloat = 0;
      for (let i = 0; i < ref.rgb.length; i++) maxFloat = Math.max(maxFloat, Math.abs(rgb[i] - ref.rgb[i]));
      row.ours = { renderer: 'da3js WebGPU rasterizer', medianMs: +gpu.medianMs.toFixed(1), minMs: +gpu.minMs.toFixed(1), ...compare(bytesOf(rgb), refBytes), maxAbsFloat: +maxFloat.toExponential(2) };
    }
    writeFileSync(join(out, 'scene.ply'), await plyBytes(s.gaussians));
    const loaded = await page.evaluate(async ([url, cam]) => globalThis.sparkLoad(url, cam), ['./scene.ply', s.camera]);
    for (const [name, opts] of [
      ['spark (gsplat-like settings)', SPARK_GSPLAT],
      ['spark (defaults)', SPARK_DEFAULTS],
    ]) {
      const sp = await page.evaluate(async ([n, o]) => globalThis.sparkRender(n, o), [frames, opts]);
      const rgb = new Uint8Array(Buffer.from(sp.rgb, 'base64'));
      row[name] = { options: opts, medianMs: +sp.medianMs.toFixed(1), minMs: +sp.minMs.toFixed(1), loadMs: +loaded.loadMs.toFixed(0), ...compare(rgb, refBytes), gl: loaded.glRenderer };
      if (process.env.SPLAT_EVAL_PNG) writeFileSync(join(process.env.SPLAT_EVAL_PNG, `${s.scene.replace(/\W+/g, '_')}_${name.replace(/\W+/g, '_')}.rgb`), rgb);
    }
    await page.evaluate(() => globalThis.sparkDispose());
    if (process.env.SPLAT_EVAL_PNG) writeFileSync(join(process.env.SPLAT_EVAL_PNG, `${s.scene.replace(/\W+/g, '_')}_cpu.rgb`), refBytes);
    console.error(JSON.stringify(row));
    results.push(row);
  }
} finally {
  await browser.close();
  server.close();
  rmSync(out, { recursive: true, force: true });
}
report({ ...base, spark: JSON.parse(readFileSync(join(sparkDir, 'package.json'), 'utf8')).version, bundle: sizes, scenes: results, loadAvg1m: [+load0.toFixed(2), +loadavg()[0].toFixed(2)] });
process.exit(0);
