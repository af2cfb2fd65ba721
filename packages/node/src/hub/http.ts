/**
 * The HTTP side of the hub client: file metadata (HEAD on the `resolve` URL), resumable verified
 * downloads into `blobs/<etag>.incomplete`, and a per-blob lock file.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { type FileHandle, open, readFile, rename, rm, stat, utimes } from 'node:fs/promises';
import { hostname } from 'node:os';
import { HubError, type HubErrorDetails } from './errors.js';

/** What the hub says about one file before it is downloaded. */
export interface HubFileMetadata {
  /** The commit the revision resolved to (`X-Repo-Commit`), when the server says. */
  readonly commit?: string;
  /** `X-Linked-Etag` (sha256 of an LFS file) or `ETag` (git blob id), unquoted. */
  readonly etag?: string;
  /** `X-Linked-Size` or `Content-Length`. */
  readonly size?: number;
  /** Where the bytes are: a CDN URL for LFS files, else the resolve URL (after relative redirects). */
  readonly location: string;
}

/** Context of one request, for error messages. */
export interface RequestContext {
  readonly repo: string;
  readonly file: string;
  readonly revision: string;
  readonly endpoint: string;
  readonly token?: string;
  readonly signal?: AbortSignal;
}

const USER_AGENT = `da3js; node/${process.versions.node}`;

/** `{endpoint}/{repo}/resolve/{revision}/{file}` (the revision and each path segment URL-encoded). */
export function hubFileUrl(endpoint: string, repo: string, revision: string, file: string): string {
  return `${endpoint.replace(/\/+$/, '')}/${repo}/resolve/${encodeURIComponent(revision)}/${file.split('/').map(encodeURIComponent).join('/')}`;
}

/** Request headers: identity encoding (exact sizes and ranges), and the token only for the hub's own origin. */
export function requestHeaders(url: string, ctx: RequestContext, extra: Record<string, string> = {}): Record<string, string> {
  const headers: Record<string, string> = { 'accept-encoding': 'identity', 'user-agent': USER_AGENT, ...extra };
  if (ctx.token && new URL(url).origin === new URL(ctx.endpoint).origin) headers.authorization = `Bearer ${ctx.token}`;
  return headers;
}

function normalizeEtag(value: string | null): string | undefined {
  if (!value) return undefined;
  const v = value.trim().replace(/^W\//, '').replace(/^"(.*)"$/, '$1');
  return v || undefined;
}

function parseSize(value: string | null): number | undefined {
  if (value === null || !/^\d+$/.test(value.trim())) return undefined;
  return Number(value.trim());
}

export function aborted(ctx: RequestContext, url?: string): HubError {
  return new HubError('IO', 'ABORTED', `hub: download of ${ctx.repo}/${ctx.file} aborted`, { ...details(ctx, url), cause: ctx.signal?.reason });
}

function details(ctx: RequestContext, url?: string, status?: number): HubErrorDetails {
  return { url, repo: ctx.repo, file: ctx.file, revision: ctx.revision, status };
}

/** A typed error for an HTTP error answer of the hub (uses `X-Error-Code` / `X-Error-Message` when present). */
export function httpError(res: Response, url: string, ctx: RequestContext): HubError {
  const code = res.headers.get('x-error-code') ?? '';
  const serverMsg = res.headers.get('x-error-message');
  const said = serverMsg ? ` The server said: "${serverMsg}".` : '';
  const d = details(ctx, url, res.status);
  const where = `${url} (HTTP ${res.status})`;
  const tokenHint = ctx.token
    ? 'The token that was sent (HF_TOKEN or the token option) may lack access.'
    : 'If it is private or gated, set HF_TOKEN or pass the token option.';
  if (code === 'RepoNotFound') {
    return new HubError('IO', 'REPO_NOT_FOUND', `hub: repository "${ctx.repo}" not found: ${where}. Check the repo id (owner/name). ${tokenHint}${said}`, d);
  }
  if (code === 'RevisionNotFound') {
    return new HubError('IO', 'REVISION_NOT_FOUND', `hub: revision "${ctx.revision}" not found in "${ctx.repo}": ${where}. Use an existing branch, tag or full commit hash.${said}`, d);
  }
  if (code === 'EntryNotFound') {
    return new HubError('IO', 'FILE_NOT_FOUND', `hub: file "${ctx.file}" not found in "${ctx.repo}" at revision "${ctx.revision}": ${where}. Check the file name and the revision.${said}`, d);
  }
  if (code === 'GatedRepo' || res.status === 403) {
    return new HubError(
      'IO',
      'FORBIDDEN',
      `hub: access to "${ctx.repo}" is forbidden: ${where}. If the model is gated, accept its terms at ${ctx.endpoint.replace(/\/+$/, '')}/${ctx.repo} and use a token (HF_TOKEN or the token option) of that account with read access.${said}`,
      d,
    );
  }
  if (res.status === 401) {
    const msg = ctx.token
      ? `hub: the token was rejected for "${ctx.repo}": ${where}. Check HF_TOKEN / the token option (a read token of an account with access).`
      : `hub: "${ctx.repo}" needs authentication: ${where}. Set HF_TOKEN or pass the token option (the repo may also not exist).`;
    return new HubError('IO', 'UNAUTHORIZED', msg + said, d);
  }
  if (res.status === 404) {
    return new HubError(
      'IO',
      'FILE_NOT_FOUND',
      `hub: not found: "${ctx.file}" in "${ctx.repo}" at revision "${ctx.revision}": ${where}. Check the repo id, the file name and the revision. ${tokenHint}${said}`,
      d,
    );
  }
  return new HubError('IO', 'HTTP', `hub: ${where} for "${ctx.file}" of "${ctx.repo}".${said}`, d);
}

/** Statuses worth another try. */
function retryableStatus(status: number): boolean {
  return status === 408 || status === 429 || status >= 500;
}

class Retryable extends Error {
  constructor(
    message: string,
    readonly error: HubError | undefined,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

async function doFetch(url: string, init: RequestInit, ctx: RequestContext): Promise<Response> {
  if (ctx.signal?.aborted) throw aborted(ctx, url);
  try {
    return await fetch(url, { ...init, signal: ctx.signal });
  } catch (cause) {
    if (ctx.signal?.aborted) throw aborted(ctx, url);
    const why = (cause as { cause?: { code?: string; message?: string } }).cause;
    throw new Retryable(`${(cause as Error).message}${why ? ` (${why.code ?? why.message})` : ''}`, undefined, { cause });
  }
}

function networkError(url: string, ctx: RequestContext, what: string, cause: unknown): HubError {
  return new HubError(
    'IO',
    'NETWORK',
    `hub: cannot download "${ctx.file}" of "${ctx.repo}" from ${url}: ${what}. Check the connection and the endpoint (HF_ENDPOINT), or use localFilesOnly with a filled cache.`,
    { ...details(ctx, url), cause },
  );
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((ok) => {
    if (ms <= 0) return ok();
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      ok();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}

/** Retry policy shared by metadata and downloads. */
export interface RetryOptions {
  /** Extra tries after a network error or a 408/429/5xx answer (default 3). Downloads resume where they stopped. */
  readonly retries?: number;
  /** First back-off delay in ms, doubled each time (default 500; 0 in tests). */
  readonly retryDelayMs?: number;
}

async function withRetries<T>(url: string, ctx: RequestContext, opts: RetryOptions, fn: (attempt: number) => Promise<T>): Promise<T> {
  const retries = opts.retries ?? 3;
  const base = opts.retryDelayMs ?? 500;
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn(attempt);
    } catch (e) {
      if (ctx.signal?.aborted) throw aborted(ctx, url);
      if (!(e instanceof Retryable)) throw e;
      if (attempt >= retries) throw e.error ?? networkError(url, ctx, e.message, e.cause);
      await sleep(base * 2 ** attempt, ctx.signal);
    }
  }
}

/**
 * HEAD on the resolve URL without following the CDN redirect (its headers carry the metadata);
 * relative redirects (renamed repos) are followed.
 * @throws {HubError} typed HTTP errors, `NETWORK`, `ABORTED`
 */
export async function fetchMetadata(url: string, ctx: RequestContext, opts: RetryOptions = {}): Promise<HubFileMetadata> {
  return withRetries(url, ctx, opts, async () => {
    let current = url;
    for (let hop = 0; hop < 10; hop++) {
      const res = await doFetch(current, { method: 'HEAD', redirect: 'manual', headers: requestHeaders(current, ctx) }, ctx);
      const h = res.headers;
      if (res.status >= 300 && res.status < 400) {
        const loc = h.get('location');
        if (!loc) throw new HubError('IO', 'BAD_RESPONSE', `hub: redirect without Location from ${current}`, details(ctx, current, res.status));
        const target = new URL(loc, current).toString();
        if (!/^([a-z][a-z0-9+.-]*:|\/\/)/i.test(loc)) {
          current = target; // relative: the repo moved; ask again there
          continue;
        }
        return metadataFrom(h, target);
      }
      if (res.ok) return metadataFrom(h, current);
      const err = httpError(res, current, ctx);
      if (retryableStatus(res.status)) throw new Retryable(err.message, err);
      throw err;
    }
    throw new HubError('IO', 'BAD_RESPONSE', `hub: too many redirects from ${url}`, details(ctx, url));
  });
}

function metadataFrom(h: Headers, location: string): HubFileMetadata {
  return {
    commit: h.get('x-repo-commit')?.trim() || undefined,
    etag: normalizeEtag(h.get('x-linked-etag')) ?? normalizeEtag(h.get('etag')),
    size: parseSize(h.get('x-linked-size')) ?? parseSize(h.get('content-length')),
    location,
  };
}

/** Options of {@link downloadBlob}. */
export interface DownloadOptions extends RetryOptions {
  readonly url: string;
  readonly blob: string;
  readonly expectedSize?: number;
  /** Lower-case hex sha256 the bytes must have. */
  readonly expectedSha256?: string;
  /** Called with the bytes on disk and the total (when known) — throttle it yourself. */
  readonly onProgress?: (loaded: number, total: number | undefined, final: boolean) => void;
}

async function sizeOf(path: string): Promise<number> {
  try {
    return (await stat(path)).size;
  } catch {
    return 0;
  }
}

async function hashFilePrefix(path: string, bytes: number, signal?: AbortSignal): Promise<import('node:crypto').Hash> {
  const hash = createHash('sha256');
  if (bytes === 0) return hash;
  for await (const chunk of createReadStream(path, { start: 0, end: bytes - 1, highWaterMark: 4 * 2 ** 20, signal })) hash.update(chunk as Buffer);
  return hash;
}

/** sha256 (hex) of a whole file. */
export async function sha256File(path: string, signal?: AbortSignal): Promise<string> {
  return (await hashFilePrefix(path, await sizeOf(path), signal)).digest('hex');
}

/**
 * Downloads `url` into `<blob>.incomplete`, resuming from its current length with
 * `Range: bytes=<have>-` (a 206 for that offset is appended to; a 200 restarts from zero), checks
 * the size and the sha256, then renames it to `blob`. A sha256 mismatch deletes the partial file
 * and downloads once more from zero. On abort or after the last retry the `.incomplete` file is
 * kept, so the next call resumes.
 * @throws {HubError} `NETWORK`, `INTEGRITY`, `BAD_RESPONSE`, `ABORTED`, typed HTTP errors
 */
export async function downloadBlob(opts: DownloadOptions, ctx: RequestContext): Promise<void> {
  const { url, blob, expectedSize, expectedSha256 } = opts;
  const partial = `${blob}.incomplete`;
  let integrityRetries = 1;
  for (;;) {
    const outcome = await withRetries(url, ctx, opts, async () => {
      let have = await sizeOf(partial);
      if (expectedSize !== undefined && have > expectedSize) {
        await rm(partial, { force: true });
        have = 0;
      }
      const headers = requestHeaders(url, ctx, have > 0 ? { range: `bytes=${have}-` } : {});
      const res = await doFetch(url, { headers, redirect: 'follow' }, ctx);
      if (res.status === 416 && have > 0) {
        await res.body?.cancel().catch(() => undefined);
        await rm(partial, { force: true });
        throw new Retryable(`the server refused to resume at byte ${have}`, undefined);
      }
      if (!res.ok) {
        await res.body?.cancel().catch(() => undefined);
        const err = httpError(res, url, ctx);
        if (retryableStatus(res.status)) throw new Retryable(err.message, err);
        throw err;
      }
      let append = false;
      let total = expectedSize;
      if (res.status === 206) {
        const m = /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(res.headers.get('content-range')?.trim() ?? '');
        if (have === 0 || !m || Number(m[1]) !== have) {
          // A range we did not ask for: start over without one.
          await res.body?.cancel().catch(() => undefined);
          await rm(partial, { force: true });
          const err = new HubError('IO', 'BAD_RESPONSE', `hub: ${url} answered 206 with Content-Range "${res.headers.get('content-range')}" to "Range: bytes=${have}-"`, details(ctx, url, 206));
          throw new Retryable(err.message, err);
        }
        append = true;
        if (m[3] !== '*') total ??= Number(m[3]);
      } else {
        have = 0; // a 200 is the whole file: restart
        total ??= parseSize(res.headers.get('content-length'));
      }
      const hash = append ? await hashFilePrefix(partial, have, ctx.signal) : createHash('sha256');
      let fh: FileHandle | undefined;
      let loaded = have;
      try {
        fh = await open(partial, append ? 'a' : 'w');
        opts.onProgress?.(loaded, total, false);
        if (res.body) {
          const reader = res.body.getReader();
          for (;;) {
            let r: Awaited<ReturnType<typeof reader.read>>;
            try {
              r = await reader.read();
            } catch (cause) {
              if (ctx.signal?.aborted) throw aborted(ctx, url);
              const why = (cause as { cause?: { code?: string; message?: string } }).cause;
              throw new Retryable(`connection lost after ${loaded} bytes: ${(cause as Error).message}${why ? ` (${why.code ?? why.message})` : ''}`, undefined, { cause });
            }
            if (r.done) break;
            const chunk = r.value;
            let off = 0;
            while (off < chunk.byteLength) off += (await fh.write(chunk, off, chunk.byteLength - off)).bytesWritten;
            hash.update(chunk);
            loaded += chunk.byteLength;
            if (expectedSize !== undefined && loaded > expectedSize) {
              await reader.cancel().catch(() => undefined);
              break;
            }
            opts.onProgress?.(loaded, total, false);
          }
        }
      } finally {
        await fh?.close();
      }
      if (expectedSize !== undefined && loaded < expectedSize) {
        throw new Retryable(`the connection ended after ${loaded} of ${expectedSize} bytes`, undefined);
      }
      if (expectedSize !== undefined && loaded > expectedSize) {
        await rm(partial, { force: true });
        return { ok: false as const, why: `more bytes than the announced ${expectedSize}` };
      }
      const sha = hash.digest('hex');
      if (expectedSha256 !== undefined && sha !== expectedSha256) {
        await rm(partial, { force: true });
        return { ok: false as const, why: `sha256 ${sha} instead of ${expectedSha256}` };
      }
      opts.onProgress?.(loaded, total ?? loaded, true);
      await rename(partial, blob);
      return { ok: true as const };
    });
    if (outcome.ok) return;
    if (integrityRetries-- > 0) continue;
    throw new HubError('IO', 'INTEGRITY', `hub: "${ctx.file}" of "${ctx.repo}" from ${url} is corrupt twice in a row (${outcome.why}); nothing was cached.`, details(ctx, url));
  }
}

/** A lock held by this process: call to release. */
export type ReleaseLock = () => Promise<void>;

const STALE_MS = 30_000;
const HEARTBEAT_MS = 5_000;

async function lockIsStale(lockPath: string): Promise<boolean> {
  try {
    const st = await stat(lockPath);
    if (Date.now() - st.mtimeMs > STALE_MS) return true;
    const [host, pid] = (await readFile(lockPath, 'utf8')).split('\n');
    if (host === hostname() && pid && Number(pid) !== process.pid) {
      try {
        process.kill(Number(pid), 0);
      } catch (e) {
        return (e as NodeJS.ErrnoException).code === 'ESRCH';
      }
    }
    return false;
  } catch {
    return false;
  }
}

/**
 * Takes `<lockPath>` (created exclusively; holds `<hostname>\n<pid>`, its mtime refreshed every 5 s).
 * A lock whose owner died on this host, or untouched for 30 s, is taken over. Waits while another
 * download holds it.
 */
export async function acquireLock(lockPath: string, ctx: RequestContext): Promise<ReleaseLock> {
  for (;;) {
    if (ctx.signal?.aborted) throw aborted(ctx);
    try {
      const h = await open(lockPath, 'wx');
      await h.writeFile(`${hostname()}\n${process.pid}\n`);
      await h.close();
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      if (await lockIsStale(lockPath)) {
        await rm(lockPath, { force: true });
        continue;
      }
      await sleep(100, ctx.signal);
    }
  }
  const timer = setInterval(() => {
    const now = new Date();
    utimes(lockPath, now, now).catch(() => undefined);
  }, HEARTBEAT_MS);
  timer.unref();
  return async () => {
    clearInterval(timer);
    await rm(lockPath, { force: true });
  };
}
