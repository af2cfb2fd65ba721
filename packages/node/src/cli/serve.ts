import { randomBytes } from 'node:crypto';
import { type FileHandle, mkdir, open, readFile, readdir, realpath, stat, writeFile } from 'node:fs/promises';
import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import { extname, isAbsolute, join, relative, resolve } from 'node:path';
import { DepthAnything3, defaultCacheDir } from '../model/depth-anything-3.js';
import { createInferenceService, serveInferenceService, untilStopSignal } from '../service/index.js';
import type { CliArgs } from './args.js';
import type { CliIo } from './main.js';

/**
 * The request target as a URL, or undefined when it is not one (`//`, `//[`, `http://a,b/`: the
 * WHATWG parser reads `//x` as a host, and throws on a bad one) — a 400, not a 500.
 */
function requestUrl(req: IncomingMessage): URL | undefined {
  try {
    return new URL(req.url ?? '/', 'http://localhost');
  } catch {
    return undefined;
  }
}

const TYPES: Record<string, string> = {
  '.glb': 'model/gltf-binary',
  '.jpg': 'image/jpeg',
  '.png': 'image/png',
  '.npz': 'application/octet-stream',
  '.ply': 'application/octet-stream',
  '.json': 'application/json',
  '.html': 'text/html; charset=utf-8',
};

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** The real path of `target` when it exists and lies inside `realBase` (symlinks resolved), else why not. */
async function containedRealPath(realBase: string, target: string): Promise<{ path: string } | { status: 403 | 404 }> {
  let real: string;
  try {
    real = await realpath(target);
  } catch {
    return { status: 404 };
  }
  const rel = relative(realBase, real);
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel)) ? { path: real } : { status: 403 };
}

/**
 * The `da3 gallery` server: lists the scenes under `root` (folders holding `scene.glb`) and serves
 * their files read-only. A path that leaves `root` — by `..` or through a symlink whose real path
 * is outside it — is refused (403); a file that cannot be read answers 403/500 for that request
 * only, and the server keeps serving.
 */
export function createGallery(root: string): Server {
  const base = resolve(root);
  const serveFile = async (target: string, res: ServerResponse) => {
    const realBase = await realpath(base).catch(() => base);
    const found = await containedRealPath(realBase, target);
    if ('status' in found) return send(res, found.status, { error: found.status === 403 ? 'outside the gallery' : 'not found' });
    if (!(await isFile(found.path))) return send(res, 404, { error: 'not found' }); // no FIFOs or devices: opening one could block
    let handle: FileHandle;
    try {
      handle = await open(found.path, 'r');
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      return send(res, code === 'EACCES' || code === 'EPERM' ? 403 : 404, { error: code === 'ENOENT' ? 'not found' : `cannot read this file (${code})` });
    }
    let size: number;
    try {
      const st = await handle.stat();
      if (!st.isFile()) {
        await handle.close();
        return send(res, 404, { error: 'not found' });
      }
      size = st.size;
    } catch (error) {
      await handle.close().catch(() => undefined);
      return send(res, 500, { error: `cannot read this file (${(error as NodeJS.ErrnoException).code ?? 'error'})` });
    }
    res.writeHead(200, { 'content-type': TYPES[extname(found.path)] ?? 'application/octet-stream', 'content-length': size });
    const stream = handle.createReadStream(); // closes the handle when done or destroyed
    stream.on('error', () => res.destroy()); // a read failing mid-file cuts this response only
    stream.pipe(res);
    res.on('close', () => stream.destroy());
  };
  return createServer((req, res) => {
    const handle = async () => {
      const url = requestUrl(req);
      let path: string;
      try {
        if (!url) throw new URIError('bad request target');
        path = decodeURIComponent(url.pathname);
      } catch {
        return send(res, 400, { error: 'bad path' });
      }
      if (path.includes('\0')) return send(res, 400, { error: 'bad path' });
      const target = resolve(base, `.${path}`);
      const rel = relative(base, target);
      if (rel.startsWith('..') || isAbsolute(rel) || resolve(base, rel) !== target) return send(res, 403, { error: 'outside the gallery' });
      if (path === '/' || path === '') {
        const entries = await readdir(base, { withFileTypes: true }).catch(() => []);
        const scenes: string[] = [];
        for (const d of entries) if (d.isDirectory() && (await isFile(join(base, d.name, 'scene.glb')))) scenes.push(d.name);
        scenes.sort();
        const items = await Promise.all(
          scenes.map(async (s) => `<li><a href="/${encodeURIComponent(s)}/scene.glb">${escapeHtml(s)}</a>${(await isFile(join(base, s, 'scene.jpg'))) ? ` <img src="/${encodeURIComponent(s)}/scene.jpg" height="80">` : ''}</li>`),
        );
        const html = `<!doctype html><meta charset="utf-8"><title>da3js gallery</title><h1>Scenes</h1><ul>${items.join('')}</ul>`;
        res.writeHead(200, { 'content-type': TYPES['.html'] });
        return res.end(html);
      }
      return serveFile(target, res);
    };
    handle().catch((error) => {
      if (!res.headersSent) send(res, 500, { error: (error as Error).message });
      else res.destroy();
    });
  });
}

async function isFile(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}

/** The token `da3 backend` uses: `--token`, else `$DA3_TOKEN`, else a new random one kept in `<stateDir>/token` (mode 600). */
async function backendToken(args: CliArgs, stateDir: string): Promise<{ token: string; source: string }> {
  if (args.token) return { token: args.token, source: '--token' };
  if (process.env.DA3_TOKEN) return { token: process.env.DA3_TOKEN, source: 'DA3_TOKEN' };
  const file = join(stateDir, 'token');
  try {
    const saved = (await readFile(file, 'utf8')).trim();
    if (saved.length >= 16) return { token: saved, source: file };
  } catch {
    // none yet
  }
  const token = randomBytes(24).toString('base64url');
  await mkdir(stateDir, { recursive: true });
  await writeFile(file, `${token}\n`, { mode: 0o600 });
  return { token, source: file };
}

/** Runs `da3 backend` / `da3 gallery` until the process is stopped (SIGTERM/SIGINT: graceful). */
export async function serveCommand(args: CliArgs, io: CliIo): Promise<number> {
  if (args.command === 'gallery') {
    const server = createGallery(args.input ?? args.exportDir);
    await new Promise<void>((ok) => server.listen(args.port, args.host, ok));
    io.stderr.write(`da3 gallery listening on http://${args.host}:${args.port}\n`);
    await untilStopSignal();
    await new Promise<void>((ok) => server.close(() => ok()));
    return 0;
  }
  const stateDir = resolve(args.stateDir ?? join(args.cacheDir ?? defaultCacheDir(), 'backend'));
  const { token, source } = await backendToken(args, stateDir);
  let model: DepthAnything3 | undefined;
  const loading = (async () => {
    model = await DepthAnything3.fromPretrained(args.modelDir, { device: args.device, dtype: args.dtype, cacheDir: args.cacheDir, revision: args.revision, localFilesOnly: args.localFilesOnly, strict: args.strict });
    return createInferenceService(model, {
      token,
      stateDir,
      host: args.host,
      maxQueue: args.maxQueue,
      allowedHosts: args.allowedHosts,
      allowedOrigins: args.allowedOrigins,
      webhookSecret: process.env.DA3_WEBHOOK_SECRET || undefined,
    });
  })();
  // The port opens at once (health checks answer); the API answers 503 until the model is loaded.
  const serving = await serveInferenceService(loading, { host: args.host, port: args.port });
  io.stderr.write(`da3 backend (job protocol v1) listening on ${serving.url} — token from ${source}; state in ${stateDir}; loading ${args.modelDir}…\n`);
  const stop = untilStopSignal();
  let outcome: 'ready' | NodeJS.Signals;
  try {
    outcome = await Promise.race([serving.ready.then(() => 'ready' as const), stop.then((signal) => signal)]);
  } catch (error) {
    await serving.close(0);
    throw error; // the model could not be loaded: one error line, exit 1
  }
  if (outcome === 'ready') io.stderr.write(`da3 backend: ready on ${model?.device?.device ?? 'cpu'}\n`);
  const signal = outcome === 'ready' ? await stop : outcome;
  io.stderr.write(`da3 backend: ${signal}, finishing the running job (queued jobs stay queued)\n`);
  await serving.close();
  await model?.dispose();
  return 0;
}
