/**
 * Read-only file serving shared by `da3 gallery` and `da3 app`: request-target parsing (a target
 * the URL parser refuses is a 400, not a 500), real-path containment (symlinks resolved), plain
 * files only (no FIFOs or devices: opening one could block), HEAD and single-range requests, and
 * per-request errors (a file that cannot be read fails its own request; the server keeps serving).
 */
import { type FileHandle, open, realpath, stat } from 'node:fs/promises';
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { extname, isAbsolute, relative, resolve } from 'node:path';

/** Content types by extension (lower case). Anything else is `application/octet-stream`. */
export const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.map': 'application/json',
  '.wasm': 'application/wasm',
  '.glb': 'model/gltf-binary',
  '.gltf': 'model/gltf+json',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
  '.ico': 'image/x-icon',
  '.webp': 'image/webp',
  '.txt': 'text/plain; charset=utf-8',
  '.woff2': 'font/woff2',
  '.webmanifest': 'application/manifest+json',
  '.npz': 'application/octet-stream',
  '.ply': 'application/octet-stream',
  '.spz': 'application/octet-stream',
  '.safetensors': 'application/octet-stream',
};

/** The content type of a file name. */
export function contentTypeOf(path: string): string {
  return CONTENT_TYPES[extname(path).toLowerCase()] ?? 'application/octet-stream';
}

/**
 * The request target's decoded path, or undefined when it is not one: `//`, `//[`, `http://a,b/`
 * (the WHATWG parser reads `//x` as a host, and throws on a bad one), a bad `%` escape, or a NUL.
 */
export function requestPath(req: IncomingMessage): { path: string; search: string } | undefined {
  let url: URL;
  try {
    url = new URL(req.url ?? '/', 'http://localhost');
  } catch {
    return undefined;
  }
  let path: string;
  try {
    path = decodeURIComponent(url.pathname);
  } catch {
    return undefined;
  }
  return path.includes('\0') ? undefined : { path, search: url.search };
}

/** `base/.path` when it stays inside `base` (lexically: `..` cannot leave it), else undefined. */
export function lexicallyInside(base: string, path: string): string | undefined {
  const target = resolve(base, `.${path}`);
  const rel = relative(base, target);
  return rel.startsWith('..') || isAbsolute(rel) || resolve(base, rel) !== target ? undefined : target;
}

/** The real path of `target` when it exists and lies inside `realBase` (symlinks resolved), else why not. */
export async function containedRealPath(realBase: string, target: string): Promise<{ path: string } | { status: 403 | 404 }> {
  let real: string;
  try {
    real = await realpath(target);
  } catch {
    return { status: 404 };
  }
  const rel = relative(realBase, real);
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel)) ? { path: real } : { status: 403 };
}

/** True for an existing plain file (following symlinks). */
export async function isFile(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}

/** True for an existing folder (following symlinks). */
export async function isDirectory(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory();
  } catch {
    return false;
  }
}

/** A JSON answer (errors: `{ error }`). */
export function sendJson(res: ServerResponse, status: number, body: unknown, headers: OutgoingHttpHeaders = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { ...headers, 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

/** A text/html answer. */
export function sendHtml(res: ServerResponse, req: IncomingMessage, html: string, headers: OutgoingHttpHeaders = {}): void {
  res.writeHead(200, { ...headers, 'content-type': CONTENT_TYPES['.html'], 'content-length': Buffer.byteLength(html) });
  res.end(req.method === 'HEAD' ? undefined : html);
}

/**
 * The byte range a `Range` header asks for: `{ start, end }` (inclusive), `'unsatisfiable'` (416),
 * or undefined to send the whole file (no header, another unit, several ranges, or a malformed one —
 * RFC 9110 lets a server ignore those).
 */
export function parseRange(header: string | undefined, size: number): { start: number; end: number } | 'unsatisfiable' | undefined {
  if (!header) return undefined;
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m || (m[1] === '' && m[2] === '')) return undefined;
  if (m[1] === '') {
    const suffix = Number(m[2]);
    if (!Number.isSafeInteger(suffix)) return undefined;
    if (suffix === 0 || size === 0) return 'unsatisfiable';
    return { start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(m[1]);
  const end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
  if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end)) return undefined;
  if (m[2] !== '' && Number(m[2]) < start) return undefined; // invalid: ignored
  if (start >= size) return 'unsatisfiable';
  return { start, end };
}

/**
 * Sends one file (already checked to be where it may be served from): 200, or 206/416 for a
 * `Range` request; HEAD sends the headers only. A file that cannot be opened answers 403
 * (permissions) or 404 for this request only; a read failing mid-file cuts this response only.
 */
export async function serveFile(req: IncomingMessage, res: ServerResponse, path: string, headers: OutgoingHttpHeaders = {}): Promise<void> {
  if (!(await isFile(path))) return sendJson(res, 404, { error: 'not found' }, headers); // no FIFOs or devices
  let handle: FileHandle;
  try {
    handle = await open(path, 'r');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    return sendJson(res, code === 'EACCES' || code === 'EPERM' ? 403 : 404, { error: code === 'ENOENT' ? 'not found' : `cannot read this file (${code})` }, headers);
  }
  let size: number;
  try {
    const st = await handle.stat();
    if (!st.isFile()) {
      await handle.close();
      return sendJson(res, 404, { error: 'not found' }, headers);
    }
    size = st.size;
  } catch (error) {
    await handle.close().catch(() => undefined);
    return sendJson(res, 500, { error: `cannot read this file (${(error as NodeJS.ErrnoException).code ?? 'error'})` }, headers);
  }
  const base: OutgoingHttpHeaders = { 'content-type': contentTypeOf(path), 'accept-ranges': 'bytes', ...headers };
  const range = parseRange(req.headers.range, size);
  if (range === 'unsatisfiable') {
    await handle.close();
    res.writeHead(416, { ...base, 'content-range': `bytes */${size}`, 'content-length': 0 });
    return void res.end();
  }
  const start = range?.start ?? 0;
  const end = range?.end ?? size - 1;
  const length = size === 0 ? 0 : end - start + 1;
  if (range) res.writeHead(206, { ...base, 'content-range': `bytes ${start}-${end}/${size}`, 'content-length': length });
  else res.writeHead(200, { ...base, 'content-length': size });
  if (req.method === 'HEAD' || length === 0) {
    await handle.close();
    return void res.end();
  }
  const stream = handle.createReadStream({ start, end }); // closes the handle when done or destroyed
  stream.on('error', () => res.destroy()); // a read failing mid-file cuts this response only
  stream.pipe(res);
  res.on('close', () => stream.destroy());
}
