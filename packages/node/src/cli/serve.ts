import { randomUUID } from 'node:crypto';
import { type FileHandle, open, readdir, realpath, stat } from 'node:fs/promises';
import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import { extname, isAbsolute, join, relative, resolve } from 'node:path';
import { Da3Error, isDa3Error } from '@da3js/core';
import { DepthAnything3 } from '../model/depth-anything-3.js';
import type { CliArgs } from './args.js';
import type { CliIo } from './main.js';

/** Limits of the backend service. */
export interface BackendLimits {
  /** Largest accepted request body (default 256 MiB). */
  readonly maxBodyBytes: number;
  /** Tasks waiting or running at most (default 8); more → 503. */
  readonly maxQueue: number;
  /** Finished tasks kept for `GET /task/:id` (default 100). */
  readonly keepTasks: number;
}

const DEFAULT_LIMITS: BackendLimits = { maxBodyBytes: 256 * 2 ** 20, maxQueue: 8, keepTasks: 100 };

interface Task {
  id: string;
  status: 'queued' | 'running' | 'done' | 'error';
  created: number;
  result?: Record<string, unknown>;
  error?: { code: string; message: string };
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

async function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > limit) throw new Da3Error('BAD_VALUE', `request body of ${declared} bytes exceeds the ${limit}-byte limit`);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) throw new Da3Error('BAD_VALUE', `request body exceeds the ${limit}-byte limit`);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

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

/**
 * The `da3 backend` service: keeps one model resident and runs inference tasks one at a time.
 * - `POST /inference` JSON `{ images: [base64 image bytes…], exportFormat?, options? }` → 202 `{ taskId }`
 *   (413 over the body limit, 503 when the queue is full, 400 for bad JSON).
 * - `GET /task/:id` → `{ status: queued|running|done|error, result?, error? }`.
 * - `GET /status` → model, device, queue.
 * Results are written under `<exportDir>/<taskId>/`.
 */
export function createBackend(model: DepthAnything3, exportDir: string, limits: Partial<BackendLimits> = {}): Server {
  const lim = { ...DEFAULT_LIMITS, ...limits };
  const tasks = new Map<string, Task>();
  let chain: Promise<void> = Promise.resolve();
  let active = 0;
  const prune = () => {
    const done = [...tasks.values()].filter((t) => t.status === 'done' || t.status === 'error');
    for (const t of done.slice(0, Math.max(0, done.length - lim.keepTasks))) tasks.delete(t.id);
  };
  return createServer(async (req, res) => {
    try {
      const url = requestUrl(req);
      if (!url) return send(res, 400, { error: 'bad request target' });
      if (req.method === 'GET' && url.pathname === '/status') {
        return send(res, 200, { model: model.kind, device: model.device?.device ?? null, queue: { active, limit: lim.maxQueue }, tasks: tasks.size });
      }
      const m = /^\/task\/([\w-]+)$/.exec(url.pathname);
      if (req.method === 'GET' && m) {
        const t = tasks.get(m[1]);
        return t ? send(res, 200, t) : send(res, 404, { error: `no task ${m[1]}` });
      }
      if (req.method === 'POST' && url.pathname === '/inference') {
        if (active >= lim.maxQueue) return send(res, 503, { error: `queue full (${lim.maxQueue} tasks); retry later` });
        let body: { images?: unknown; exportFormat?: unknown; options?: Record<string, unknown> };
        try {
          body = JSON.parse((await readBody(req, lim.maxBodyBytes)).toString('utf8'));
        } catch (error) {
          if (isDa3Error(error)) return send(res, 413, { error: error.message });
          return send(res, 400, { error: 'body must be JSON: { images: [base64…], exportFormat?, options? }' });
        }
        if (!Array.isArray(body.images) || body.images.length === 0 || !body.images.every((i) => typeof i === 'string')) {
          return send(res, 400, { error: 'images must be a non-empty array of base64-encoded image files' });
        }
        const images = (body.images as string[]).map((b) => new Uint8Array(Buffer.from(b, 'base64')));
        const format = typeof body.exportFormat === 'string' ? body.exportFormat : 'mini_npz';
        const task: Task = { id: randomUUID(), status: 'queued', created: Date.now() };
        tasks.set(task.id, task);
        active++;
        chain = chain.then(async () => {
          task.status = 'running';
          try {
            const opts = body.options ?? {};
            const pred = await model.inference(images, {
              processRes: typeof opts.processRes === 'number' ? opts.processRes : undefined,
              processResMethod: typeof opts.processResMethod === 'string' ? (opts.processResMethod as never) : undefined,
              refViewStrategy: typeof opts.refViewStrategy === 'string' ? (opts.refViewStrategy as never) : undefined,
              useRayPose: opts.useRayPose === true,
            });
            const files = await pred.export({ dir: join(exportDir, task.id), formats: format });
            task.result = { views: pred.views, width: pred.width, height: pred.height, files: files.map((f) => relative(exportDir, f)) };
            task.status = 'done';
          } catch (error) {
            task.status = 'error';
            task.error = { code: isDa3Error(error) ? error.code : 'IO', message: (error as Error).message };
          } finally {
            active--;
            prune();
          }
        });
        return send(res, 202, { taskId: task.id });
      }
      send(res, 404, { error: `no route ${req.method} ${url.pathname}` });
    } catch (error) {
      send(res, 500, { error: (error as Error).message });
    }
  });
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

/** Runs `da3 backend` / `da3 gallery` until the process is stopped. */
export async function serveCommand(args: CliArgs, io: CliIo): Promise<number> {
  let server: Server;
  if (args.command === 'gallery') {
    server = createGallery(args.input ?? args.exportDir);
  } else {
    const model = await DepthAnything3.fromPretrained(args.modelDir, { device: args.device, dtype: args.dtype, cacheDir: args.cacheDir, revision: args.revision, localFilesOnly: args.localFilesOnly });
    server = createBackend(model, resolve(args.exportDir));
  }
  await new Promise<void>((ok) => server.listen(args.port, args.host, ok));
  io.stderr.write(`da3 ${args.command} listening on http://${args.host}:${args.port}\n`);
  await new Promise<void>((ok) => {
    const stop = () => server.close(() => ok());
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  return 0;
}
