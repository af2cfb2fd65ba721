import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { type Plugin, defaultClientConditions, defineConfig } from 'vite';

/**
 * The app is a static site (relative base, so dist/ can be served from any folder). onnxruntime-web
 * is resolved to its "extern wasm" build (the `onnxruntime-web-use-extern-wasm` export condition),
 * which loads its WebAssembly runtime (`ort-wasm-simd-threaded.jsep.mjs` + `.wasm`, the build with
 * the WebGPU and WASM execution providers; and `ort-wasm-simd-threaded.mjs` + `.wasm`, the
 * WASM-only build @da3js/web runs when WebGPU is not used) at run time from
 * `ort.env.wasm.wasmPaths`: this plugin serves those files under `ort/` in dev and copies them
 * into `dist/ort/` at build, and the app
 * points `wasmPaths` there (src/ort-setup.ts) — no CDN, works offline, and the `.mjs` is a
 * standalone module that WASM threads can start their workers from.
 */
/** COOP/COEP: a cross-origin-isolated page can use WASM threads (SharedArrayBuffer). */
const isolation = { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' };

/** See the file's first comment. */
function ortRuntimeFiles(): Plugin {
  const require = createRequire(import.meta.url);
  // The package's main entry lives in dist/, next to the runtime files.
  const dir = dirname(require.resolve('onnxruntime-web'));
  const files = readdirSync(dir).filter((f) => /^ort-wasm-simd-threaded(\.jsep)?\.(mjs|wasm)$/.test(f));
  return {
    name: 'da3js-ort-runtime-files',
    configureServer(server) {
      server.middlewares.use((req, res, next) => {
        const m = /\/ort\/([^/?]+)/.exec(req.url ?? '');
        if (!m || !files.includes(m[1])) return next();
        res.setHeader('content-type', m[1].endsWith('.wasm') ? 'application/wasm' : 'text/javascript');
        for (const [k, v] of Object.entries(isolation)) res.setHeader(k, v);
        res.end(readFileSync(join(dir, m[1])));
      });
    },
    writeBundle(options) {
      const out = join(options.dir ?? 'dist', 'ort');
      if (!existsSync(out)) mkdirSync(out, { recursive: true });
      for (const f of files) copyFileSync(join(dir, f), join(out, f));
    },
  };
}

export default defineConfig({
  base: './',
  plugins: [ortRuntimeFiles()],
  resolve: { conditions: ['onnxruntime-web-use-extern-wasm', ...defaultClientConditions] },
  build: { target: 'es2022', outDir: 'dist', chunkSizeWarningLimit: 4096 },
  worker: { format: 'es' },
  optimizeDeps: { exclude: ['onnxruntime-web'] },
  server: { headers: isolation },
  preview: { headers: isolation },
});
