/**
 * A fake Hugging Face hub on 127.0.0.1 (random port) for the hub client's tests. It serves
 * `/{repo}/resolve/{revision}/{file}` from fixture folders the way huggingface.co does:
 *
 * - LFS files (`model.safetensors`, `*.onnx`): `X-Linked-Etag: "<sha256>"`, `X-Linked-Size`,
 *   `X-Repo-Commit`, an `ETag` that is NOT the sha256 (the client must prefer X-Linked-Etag); with
 *   `redirect` on, a 302 to a second server (another origin, the "CDN") that serves the bytes with
 *   an S3-like ETag and never needs the token.
 * - Other files (`config.json`): `ETag: "<git blob sha1>"`, `Content-Length`, `X-Repo-Commit`.
 * - Errors with `X-Error-Code` (`RepoNotFound`, `RevisionNotFound`, `EntryNotFound`) and
 *   `X-Error-Message`; 401 when a token is required and missing or wrong.
 * - `Range: bytes=a-[b]` → 206 + `Content-Range`; unsatisfiable → 416 (`ignoreRange`: 200, whole file).
 * - Switches: `cutAfter` (send N bytes of the next body(ies) of a file, then drop the connection),
 *   `corruptNext` (flip one byte of the next body(ies) of a file), `stallHeaders` (never answer
 *   the next request(s) of a file), `stallAfter` (send N body bytes, then stay silent with the
 *   connection open), a request `log`; `commitHeader` replaces X-Repo-Commit (a hostile mirror).
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { FIXTURES } from '../../../../test-utils/fixtures.js';

export interface LoggedRequest {
  readonly server: 'hub' | 'cdn';
  readonly method: string;
  readonly path: string;
  readonly range?: string;
  readonly authorization?: string;
  status: number;
}

export interface FakeRepo {
  /** Folder the files are read from. */
  readonly dir: string;
  readonly files: readonly string[];
  /** Commit hash `main` resolves to (default: sha1 of the repo name). */
  readonly commit?: string;
}

export interface FakeHubOptions {
  /** Repos served (default `test-org/da3-tiny` → fixtures/tiny config.json + model.safetensors). */
  readonly repos?: Record<string, FakeRepo>;
  /** When set, hub requests need `Authorization: Bearer <token>`. */
  token?: string;
  /** LFS files answer 302 to the CDN server (another origin). */
  redirect?: boolean;
  /** Don't send X-Repo-Commit (a plain mirror). */
  noCommitHeader?: boolean;
  /** Answer Range requests with the whole file (200), as some servers do. */
  ignoreRange?: boolean;
  /** Sent verbatim as X-Repo-Commit instead of the commit (a hostile mirror). */
  commitHeader?: string;
}

export interface FakeHub {
  /** `http://127.0.0.1:<port>` — pass as `endpoint`. */
  readonly endpoint: string;
  readonly cdnEndpoint: string;
  readonly options: FakeHubOptions;
  readonly log: LoggedRequest[];
  /** The next `times` bodies (default 1) of `file` stop after `bytes` bytes and the socket is destroyed. */
  cutAfter(file: string, bytes: number, times?: number): void;
  /** The next `times` bodies (default 1) of `file` have one byte flipped (same length). */
  corruptNext(file: string, times?: number): void;
  /** The next `times` requests (default 1) of `file` (only `method` ones when given) get no answer at all (the socket stays open). */
  stallHeaders(file: string, times?: number, method?: 'GET' | 'HEAD'): void;
  /** The next `times` bodies (default 1) of `file` stop after `bytes` bytes, the connection left open and silent. */
  stallAfter(file: string, bytes: number, times?: number): void;
  /** Requests whose path ends with `file` (optionally only GETs). */
  requestsFor(file: string, method?: string): LoggedRequest[];
  /** Commit hash of a repo's `main`. */
  commitOf(repo: string): string;
  sha256(repo: string, file: string): string;
  bytes(repo: string, file: string): Buffer;
  close(): Promise<void>;
}

const DEFAULT_REPO = 'test-org/da3-tiny';
const isLfs = (file: string) => /\.(safetensors|onnx|onnx_data|bin)$/.test(file);
const sha1 = (s: string | Buffer) => createHash('sha1').update(s).digest('hex');

export { DEFAULT_REPO };

export async function startFakeHub(options: FakeHubOptions = {}): Promise<FakeHub> {
  const repos = options.repos ?? { [DEFAULT_REPO]: { dir: join(FIXTURES, 'tiny'), files: ['config.json', 'model.safetensors'] } };
  const content = new Map<string, Buffer>();
  const shas = new Map<string, string>();
  for (const [name, r] of Object.entries(repos)) {
    for (const f of r.files) {
      const buf = readFileSync(join(r.dir, f));
      content.set(`${name}/${f}`, buf);
      shas.set(`${name}/${f}`, createHash('sha256').update(buf).digest('hex'));
    }
  }
  const commitOf = (repo: string) => repos[repo]?.commit ?? sha1(`commit:${repo}`);
  const log: LoggedRequest[] = [];
  const cuts = new Map<string, { bytes: number; times: number }>();
  const corrupt = new Map<string, number>();
  const stallsBefore = new Map<string, { times: number; method?: string }>();
  const stallsAfter = new Map<string, { bytes: number; times: number }>();
  const fileOf = (req: IncomingMessage) => decodeURIComponent((req.url ?? '').split('?')[0].split('/').pop() ?? '');
  /** True (and the request left hanging) when a stallHeaders switch applies. */
  const stalled = (req: IncomingMessage) => {
    const s = stallsBefore.get(fileOf(req));
    if (!s || s.times <= 0 || (s.method !== undefined && s.method !== req.method)) return false;
    s.times--;
    return true;
  };

  function record(server: 'hub' | 'cdn', req: IncomingMessage): LoggedRequest {
    const entry: LoggedRequest = {
      server,
      method: req.method ?? 'GET',
      path: decodeURI(req.url ?? ''),
      range: req.headers.range,
      authorization: req.headers.authorization,
      status: 0,
    };
    log.push(entry);
    return entry;
  }

  function fail(res: ServerResponse, entry: LoggedRequest, status: number, code: string | undefined, message: string) {
    entry.status = status;
    const headers: Record<string, string> = { 'content-type': 'text/plain', 'x-error-message': message };
    if (code) headers['x-error-code'] = code;
    res.writeHead(status, headers);
    res.end(message);
  }

  /** Writes the (range of the) body with the cut / corrupt switches applied. */
  function sendBody(req: IncomingMessage, res: ServerResponse, entry: LoggedRequest, key: string, file: string, headers: Record<string, string>) {
    let body = content.get(key)!;
    const size = body.length;
    let status = 200;
    const out: Record<string, string> = { ...headers, 'accept-ranges': 'bytes', 'content-type': 'application/octet-stream' };
    const range = options.ignoreRange ? undefined : req.headers.range;
    if (range) {
      const m = /^bytes=(\d+)-(\d*)$/.exec(range);
      const start = m ? Number(m[1]) : NaN;
      const end = m?.[2] ? Math.min(Number(m[2]), size - 1) : size - 1;
      if (!m || start >= size || start > end) {
        entry.status = 416;
        res.writeHead(416, { 'content-range': `bytes */${size}` });
        res.end();
        return;
      }
      status = 206;
      out['content-range'] = `bytes ${start}-${end}/${size}`;
      body = body.subarray(start, end + 1);
    }
    out['content-length'] = String(body.length);
    entry.status = status;
    res.writeHead(status, out);
    if (req.method === 'HEAD') {
      res.end();
      return;
    }
    const n = corrupt.get(file) ?? 0;
    if (n > 0) {
      corrupt.set(file, n - 1);
      body = Buffer.from(body);
      body[body.length >> 1] ^= 0xff;
    }
    const stall = stallsAfter.get(file);
    if (stall && stall.times > 0) {
      stall.times--;
      res.write(body.subarray(0, stall.bytes)); // then silence, connection open
      res.on('error', () => undefined);
      return;
    }
    const cut = cuts.get(file);
    if (cut && cut.times > 0) {
      cut.times--;
      res.write(body.subarray(0, cut.bytes), () => setTimeout(() => res.socket?.destroy(), 20));
      return;
    }
    // Chunked writes so a client sees several chunks (progress, abort mid-body).
    let at = 0;
    const pump = () => {
      while (at < body.length) {
        const chunk = body.subarray(at, at + 64 * 1024);
        at += chunk.length;
        if (!res.write(chunk)) return void res.once('drain', pump);
      }
      res.end();
    };
    res.on('error', () => undefined);
    pump();
  }

  let cdnOrigin = '';
  const hub = createServer((req, res) => {
    const entry = record('hub', req);
    if (stalled(req)) return;
    const url = new URL(req.url ?? '/', 'http://x');
    const m = /^\/(.+?)\/resolve\/([^/]+)\/(.+)$/.exec(url.pathname);
    if (!m || (req.method !== 'GET' && req.method !== 'HEAD')) return fail(res, entry, 404, undefined, 'Not Found');
    const repo = decodeURIComponent(m[1]);
    const revision = decodeURIComponent(m[2]);
    const file = m[3].split('/').map(decodeURIComponent).join('/');
    if (options.token !== undefined) {
      const auth = req.headers.authorization;
      if (auth !== `Bearer ${options.token}`) {
        return fail(res, entry, 401, undefined, auth ? 'Invalid credentials in Authorization header' : 'Access to this repository requires authentication');
      }
    }
    if (!repos[repo]) return fail(res, entry, 404, 'RepoNotFound', 'Repository not found');
    const commit = commitOf(repo);
    if (revision !== 'main' && revision !== commit) return fail(res, entry, 404, 'RevisionNotFound', `Invalid rev id: ${revision}`);
    const key = `${repo}/${file}`;
    if (!content.has(key)) return fail(res, entry, 404, 'EntryNotFound', 'Entry not found');
    const size = content.get(key)!.length;
    const headers: Record<string, string> = {};
    if (!options.noCommitHeader) headers['x-repo-commit'] = options.commitHeader ?? commit;
    if (isLfs(file)) {
      const sha = shas.get(key)!;
      headers['x-linked-etag'] = `"${sha}"`;
      headers['x-linked-size'] = String(size);
      headers.etag = `"${sha1(`pointer:${sha}`)}"`;
      if (options.redirect) {
        entry.status = 302;
        res.writeHead(302, { ...headers, location: `${cdnOrigin}/lfs/${encodeURIComponent(repo)}/${sha}/${encodeURIComponent(file)}?X-Amz-Signature=fake`, 'content-length': '0' });
        return res.end();
      }
    } else {
      headers.etag = `"${sha1(Buffer.concat([Buffer.from(`blob ${size}\0`), content.get(key)!]))}"`;
    }
    sendBody(req, res, entry, key, file, headers);
  });

  const cdn = createServer((req, res) => {
    const entry = record('cdn', req);
    if (stalled(req)) return;
    const url = new URL(req.url ?? '/', 'http://x');
    const m = /^\/lfs\/([^/]+)\/([0-9a-f]{64})\/([^/]+)$/.exec(url.pathname);
    const repo = m ? decodeURIComponent(m[1]) : '';
    const file = m ? decodeURIComponent(m[3]) : '';
    const key = `${repo}/${file}`;
    if (!m || shas.get(key) !== m[2] || !url.searchParams.has('X-Amz-Signature')) return fail(res, entry, 403, undefined, 'AccessDenied');
    sendBody(req, res, entry, key, file, { etag: `"${createHash('md5').update(content.get(key)!).digest('hex')}"` });
  });

  // Idle keep-alive sockets stay open longer than any client pool keeps them: a server closing one
  // (node's default 5 s) just as a client reuses it gives the client a spurious ECONNRESET.
  for (const s of [hub, cdn]) s.keepAliveTimeout = 120_000;
  const listen = (s: Server) => new Promise<number>((ok) => s.listen(0, '127.0.0.1', () => ok((s.address() as AddressInfo).port)));
  const [hubPort, cdnPort] = await Promise.all([listen(hub), listen(cdn)]);
  cdnOrigin = `http://127.0.0.1:${cdnPort}`;
  const close = (s: Server) =>
    new Promise<void>((ok) => {
      s.closeAllConnections();
      s.close(() => ok());
    });

  return {
    endpoint: `http://127.0.0.1:${hubPort}`,
    cdnEndpoint: cdnOrigin,
    options,
    log,
    cutAfter(file, bytes, times = 1) {
      cuts.set(file, { bytes, times });
    },
    corruptNext(file, times = 1) {
      corrupt.set(file, times);
    },
    stallHeaders(file, times = 1, method) {
      stallsBefore.set(file, { times, method });
    },
    stallAfter(file, bytes, times = 1) {
      stallsAfter.set(file, { bytes, times });
    },
    requestsFor(file, method) {
      return log.filter((r) => r.path.split('?')[0].endsWith(`/${file}`) && (method === undefined || r.method === method));
    },
    commitOf,
    sha256: (repo, file) => shas.get(`${repo}/${file}`)!,
    bytes: (repo, file) => content.get(`${repo}/${file}`)!,
    close: async () => {
      await Promise.all([close(hub), close(cdn)]);
    },
  };
}
