/**
 * The HTTP side of the hub client: file metadata (HEAD on the `resolve` URL), resumable verified
 * downloads into `blobs/<etag>.incomplete`, and a per-blob lock file.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { type FileHandle, link, open, readFile, rename, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { StallTimer, withStall } from '../net/stall-timer.js';
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
  return new HubError('ABORTED', 'ABORTED', `hub: download of ${ctx.repo}/${ctx.file} aborted`, { ...details(ctx, url), cause: ctx.signal?.reason });
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

function timeoutError(url: string, ctx: RequestContext, what: string): HubError {
  return new HubError(
    'IO',
    'TIMEOUT',
    `hub: ${url} for "${ctx.file}" of "${ctx.repo}" timed out: ${what}. Check the endpoint (HF_ENDPOINT) and the connection, or raise HF_HUB_ETAG_TIMEOUT / HF_HUB_DOWNLOAD_TIMEOUT (seconds).`,
    details(ctx, url),
  );
}

async function doFetch(url: string, init: RequestInit, ctx: RequestContext, stall: StallTimer): Promise<Response> {
  if (ctx.signal?.aborted) throw aborted(ctx, url);
  const signal = withStall(stall, ctx.signal);
  stall.arm();
  try {
    return await fetch(url, { ...init, signal });
  } catch (cause) {
    if (ctx.signal?.aborted) throw aborted(ctx, url);
    if (stall.fired) {
      const err = timeoutError(url, ctx, `no response within ${stall.ms / 1000} s`);
      throw new Retryable(err.message, err, { cause });
    }
    const why = (cause as { cause?: { code?: string; message?: string } }).cause;
    throw new Retryable(`${(cause as Error).message}${why ? ` (${why.code ?? why.message})` : ''}`, undefined, { cause });
  } finally {
    stall.disarm();
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

/** Retry and timeout policy shared by metadata and downloads. */
export interface RetryOptions {
  /** Extra tries after a network error, a timeout or a 408/429/5xx answer (default 3). Downloads resume where they stopped. */
  readonly retries?: number;
  /** First back-off delay in ms, doubled each time (default 500; 0 in tests). */
  readonly retryDelayMs?: number;
  /** How long a metadata (HEAD) request may wait for its answer, in ms (default `$HF_HUB_ETAG_TIMEOUT` seconds, else 10 s). */
  readonly etagTimeoutMs?: number;
  /**
   * How long a download may wait for the answer's headers, and at most between two body chunks,
   * in ms (default `$HF_HUB_DOWNLOAD_TIMEOUT` seconds, else 10 s) — huggingface_hub's defaults.
   */
  readonly downloadTimeoutMs?: number;
}

/** Seconds from an environment variable as ms, or the fallback when unset or not a positive number. */
function envSecondsMs(value: string | undefined, fallbackMs: number): number {
  const n = Number(value);
  return value !== undefined && value.trim() !== '' && Number.isFinite(n) && n > 0 ? n * 1000 : fallbackMs;
}

/** The metadata timeout in ms: the option, else `HF_HUB_ETAG_TIMEOUT` (seconds), else 10 s. */
export function etagTimeoutMs(opts: RetryOptions, env: NodeJS.ProcessEnv = process.env): number {
  return opts.etagTimeoutMs ?? envSecondsMs(env.HF_HUB_ETAG_TIMEOUT, 10_000);
}

/** The download stall timeout in ms: the option, else `HF_HUB_DOWNLOAD_TIMEOUT` (seconds), else 10 s. */
export function downloadTimeoutMs(opts: RetryOptions, env: NodeJS.ProcessEnv = process.env): number {
  return opts.downloadTimeoutMs ?? envSecondsMs(env.HF_HUB_DOWNLOAD_TIMEOUT, 10_000);
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
      const res = await doFetch(current, { method: 'HEAD', redirect: 'manual', headers: requestHeaders(current, ctx) }, ctx, new StallTimer(etagTimeoutMs(opts)));
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
  /** Asked before the blob is renamed into place: false → {@link LockLost} (another process owns the download now). */
  readonly lockHeld?: () => Promise<boolean>;
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
      const stall = new StallTimer(downloadTimeoutMs(opts));
      const res = await doFetch(url, { headers, redirect: 'follow' }, ctx, stall);
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
            stall.arm();
            try {
              r = await reader.read();
            } catch (cause) {
              if (ctx.signal?.aborted) throw aborted(ctx, url);
              if (stall.fired) {
                const err = timeoutError(url, ctx, `no bytes for ${stall.ms / 1000} s after ${loaded} bytes`);
                throw new Retryable(err.message, err, { cause });
              }
              const why = (cause as { cause?: { code?: string; message?: string } }).cause;
              throw new Retryable(`connection lost after ${loaded} bytes: ${(cause as Error).message}${why ? ` (${why.code ?? why.message})` : ''}`, undefined, { cause });
            } finally {
              stall.disarm();
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
      if (opts.lockHeld && !(await opts.lockHeld())) throw new LockLost(`the lock of ${blob} was taken over`);
      opts.onProgress?.(loaded, total ?? loaded, true);
      await rename(partial, blob);
      return { ok: true as const };
    });
    if (outcome.ok) return;
    if (integrityRetries-- > 0) continue;
    throw new HubError('IO', 'INTEGRITY', `hub: "${ctx.file}" of "${ctx.repo}" from ${url} is corrupt twice in a row (${outcome.why}); nothing was cached.`, details(ctx, url));
  }
}

/** A download lock held by this process. */
export interface HeldLock {
  /** True while the lock file is still this holder's (false once another process took it over). */
  held(): Promise<boolean>;
  /** Stops the heartbeat and removes the lock file if it is still this holder's. */
  release(): Promise<void>;
}

/** Thrown by a download that finds its lock taken over before it could commit the blob. */
export class LockLost extends Error {}

const STALE_MS = 30_000;
const HEARTBEAT_MS = 5_000;

async function readLockText(lockPath: string): Promise<{ text: string; mtimeMs: number } | undefined> {
  try {
    const [st, text] = await Promise.all([stat(lockPath), readFile(lockPath, 'utf8')]);
    return { text, mtimeMs: st.mtimeMs };
  } catch {
    return undefined;
  }
}

/** Untouched for 30 s, or its owner (same host) is no longer running. */
function lockIsStale(seen: { text: string; mtimeMs: number }): boolean {
  if (Date.now() - seen.mtimeMs > STALE_MS) return true;
  const [host, pid] = seen.text.split('\n');
  if (host === hostname() && pid && Number(pid) !== process.pid) {
    try {
      process.kill(Number(pid), 0);
    } catch (e) {
      return (e as NodeJS.ErrnoException).code === 'ESRCH';
    }
  }
  return false;
}

/** One name per lock generation (its content), for the takeover marker of that generation. */
function generationOf(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 16);
}

async function createExclusive(path: string, data: string): Promise<boolean> {
  try {
    await writeFile(path, data, { flag: 'wx' });
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw e;
  }
}

/**
 * Takes `<lockPath>` (holding `<hostname>\n<pid>\n<nonce>`; its mtime refreshed every 5 s),
 * waiting while another download holds it. Every step is one atomic file operation:
 * - a free lock is taken by hard-linking a fully written draft into place (fails if one exists);
 * - a stale lock (its owner died on this host, or it was untouched for 30 s) is taken over only by
 *   the one waiter that creates `<lockPath>.takeover-<generation>` exclusively; that waiter checks
 *   the lock still is that generation and renames its draft over it (an atomic replace). Other
 *   waiters of the same generation find the marker and wait, so two of them can never both win.
 * The marker is removed when the new holder releases the lock.
 */
export async function acquireLock(lockPath: string, ctx: RequestContext): Promise<HeldLock> {
  const mine = `${hostname()}\n${process.pid}\n${randomBytes(12).toString('hex')}\n`;
  const draft = `${lockPath}.new-${randomBytes(6).toString('hex')}`;
  let marker: string | undefined;
  await writeFile(draft, mine);
  try {
    for (;;) {
      if (ctx.signal?.aborted) throw aborted(ctx);
      try {
        await link(draft, lockPath);
        break;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      }
      const seen = await readLockText(lockPath);
      if (seen && lockIsStale(seen)) {
        const m = `${lockPath}.takeover-${generationOf(seen.text)}`;
        if (await createExclusive(m, mine)) {
          if ((await readFile(lockPath, 'utf8').catch(() => undefined)) === seen.text) {
            await rename(draft, lockPath);
            marker = m;
            break;
          }
          await rm(m, { force: true }); // changed meanwhile (its owner released it): try again
          continue;
        }
        // Another waiter is taking this generation over; a marker whose taker died is cleared after 30 s.
        const ms = await readLockText(m);
        if (ms && Date.now() - ms.mtimeMs > STALE_MS) await rm(m, { force: true });
      }
      await sleep(100, ctx.signal);
    }
  } finally {
    await rm(draft, { force: true });
  }
  const timer = setInterval(() => {
    const now = new Date();
    utimes(lockPath, now, now).catch(() => undefined);
  }, HEARTBEAT_MS);
  timer.unref();
  const held = async () => (await readFile(lockPath, 'utf8').catch(() => '')) === mine;
  return {
    held,
    async release() {
      clearInterval(timer);
      if (await held()) await rm(lockPath, { force: true });
      if (marker) await rm(marker, { force: true });
    },
  };
}
