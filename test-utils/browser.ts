/**
 * Browser test helpers: Debian's Chromium driven by playwright-core (no browser download), and a
 * static file server on 127.0.0.1 that also serves fixture models in the Hugging Face hub's layout
 * (`/hub/{owner}/{name}/resolve/{revision}/{file}`, with HTTP Range support) from the same origin,
 * so a cross-origin-isolated page (COOP/COEP, needed for WASM threads) can fetch them.
 */
import { copyFileSync, existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { type IncomingMessage, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, normalize, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Browser, chromium } from 'playwright-core';
import { requireTool } from './tools.js';

/** The Chromium binary (override with $CHROMIUM_PATH). `.ci/run` installs Debian's `chromium`. */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const NO_CHROMIUM = `'${CHROMIUM}' not found: apt-get install -y chromium (or set CHROMIUM_PATH)`;

/** True when Chromium is there; otherwise fails under CI and skips (saying why) elsewhere. */
export function requireChromium(ctx: { skip: (note?: string) => void }): boolean {
  return requireTool(ctx, existsSync(CHROMIUM), NO_CHROMIUM);
}

/**
 * Launches headless Chromium. `webgpu` adds `--enable-unsafe-webgpu`, which gives a (software,
 * SwiftShader) WebGPU adapter on machines without a GPU.
 */
export async function launchChromium(options: { webgpu?: boolean } = {}): Promise<Browser> {
  const args = ['--no-sandbox', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-dev-shm-usage'];
  if (options.webgpu) args.push('--enable-unsafe-webgpu');
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args });
}

/** One request the static server answered. */
export interface ServedRequest {
  readonly method: string;
  readonly path: string;
  readonly range?: string;
  status: number;
}

/** A running {@link startStaticServer}. */
export interface StaticServer {
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  /** `<url>/hub`: pass as the hub endpoint. */
  readonly hubEndpoint: string;
  readonly log: ServedRequest[];
  close(): Promise<void>;
}

/** Options of {@link startStaticServer}. */
export interface StaticServerOptions {
  /** URL prefix (`/`, `/app`) → folder served under it. */
  readonly mounts?: Record<string, string>;
  /** Hub repos (`owner/name` → folder holding config.json, model.safetensors, …) under `/hub`. */
  readonly hub?: Record<string, string>;
  /** Send COOP/COEP so the page is cross-origin isolated (default true). */
  readonly crossOriginIsolated?: boolean;
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.wasm': 'application/wasm',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.svg': 'image/svg+xml',
  '.map': 'application/json',
};

/** Serves folders (and fixture repos in the hub layout) with Range support on 127.0.0.1. */
export async function startStaticServer(options: StaticServerOptions = {}): Promise<StaticServer> {
  const log: ServedRequest[] = [];
  const mounts = Object.entries(options.mounts ?? {}).sort((a, b) => b[0].length - a[0].length);
  const coi = options.crossOriginIsolated ?? true;

  function locate(path: string): string | undefined {
    const hub = /^\/hub\/([^/]+\/[^/]+)\/resolve\/[^/]+\/(.+)$/.exec(path);
    if (hub) {
      const dir = options.hub?.[hub[1]];
      return dir ? inside(dir, hub[2]) : undefined;
    }
    for (const [prefix, dir] of mounts) {
      const p = prefix.endsWith('/') ? prefix : `${prefix}/`;
      if (path === prefix || path.startsWith(p)) {
        const rest = path.slice(p.length - 1).replace(/^\/+/, '') || 'index.html';
        return inside(dir, rest);
      }
    }
    return undefined;
  }

  function handle(req: IncomingMessage, res: ServerResponse) {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    const entry: ServedRequest = { method: req.method ?? 'GET', path, range: req.headers.range, status: 0 };
    log.push(entry);
    const headers: Record<string, string> = { 'cache-control': 'no-store', 'accept-ranges': 'bytes', 'access-control-allow-origin': '*', 'access-control-expose-headers': 'content-range, content-length' };
    if (coi) Object.assign(headers, { 'cross-origin-opener-policy': 'same-origin', 'cross-origin-embedder-policy': 'require-corp', 'cross-origin-resource-policy': 'cross-origin' });
    const file = locate(path);
    if (!file || !existsSync(file) || !statSync(file).isFile()) {
      entry.status = 404;
      res.writeHead(404, { ...headers, 'content-type': 'text/plain' }).end(`not found: ${path}`);
      return;
    }
    const body = readFileSync(file);
    headers['content-type'] = TYPES[extname(file)] ?? 'application/octet-stream';
    const m = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? '');
    if (m) {
      const start = Number(m[1]);
      const end = Math.min(m[2] ? Number(m[2]) : body.length - 1, body.length - 1);
      if (start >= body.length || end < start) {
        entry.status = 416;
        res.writeHead(416, { ...headers, 'content-range': `bytes */${body.length}` }).end();
        return;
      }
      entry.status = 206;
      res.writeHead(206, { ...headers, 'content-range': `bytes ${start}-${end}/${body.length}`, 'content-length': String(end - start + 1) });
      res.end(req.method === 'HEAD' ? undefined : body.subarray(start, end + 1));
      return;
    }
    entry.status = 200;
    res.writeHead(200, { ...headers, 'content-length': String(body.length) });
    res.end(req.method === 'HEAD' ? undefined : body);
  }

  const server = createServer(handle);
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    hubEndpoint: `${url}/hub`,
    log,
    close: () => new Promise<void>((ok) => server.close(() => ok())),
  };
}

/** `dir/rel` when it stays inside `dir`, else undefined. */
function inside(dir: string, rel: string): string | undefined {
  const root = resolve(dir);
  const target = resolve(root, normalize(rel));
  return target === root || target.startsWith(root + sep) ? target : undefined;
}


/**
 * Bundles an ES module (source text, resolved from the repo root so workspace packages and
 * onnxruntime-web resolve) for the browser into `outDir/<name>.js`, and copies onnxruntime-web's
 * `.wasm`/`.mjs` runtime files beside it so nothing is fetched from a CDN. Uses esbuild (a
 * dependency of tsup and vite).
 */
export async function bundleForBrowser(source: string, outDir: string, name = 'bundle'): Promise<string> {
  const { build } = await import('esbuild');
  const root = resolve(fileURLToPath(new URL('..', import.meta.url)));
  await build({
    stdin: { contents: source, resolveDir: root, loader: 'ts' },
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    outfile: join(outDir, `${name}.js`),
    logLevel: 'error',
  });
  const ortDist = join(root, 'node_modules/onnxruntime-web/dist');
  for (const f of readdirSync(ortDist)) if (/^ort-wasm.*\.(wasm|mjs)$/.test(f)) copyFileSync(join(ortDist, f), join(outDir, f));
  return join(outDir, `${name}.js`);
}
