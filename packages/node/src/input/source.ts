/**
 * Reading the bytes of an image input: a file path, a `file:` URL or an http(s) URL.
 * @internal
 */
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { Da3Error } from '@da3js/core';
import { StallTimer, withStall } from '../net/stall-timer.js';

/** Default stall limit of an image fetched from a URL: a server silent for 30 s (before the headers or between chunks) fails the read. */
export const DEFAULT_STALL_MS = 30_000;

/** Default download limit of an image fetched from a URL (`decodeImage`): 256 MiB. */
export const DEFAULT_MAX_BYTES = 256 * 1024 * 1024;

/** True for strings that name a URL this package reads (`http:`, `https:`, `file:`). */
export function isUrlString(s: string): boolean {
  return /^(https?|file):/i.test(s);
}

/** Turns an `fs` error into a typed `IO` error that names the file. */
export function fsError(fn: string, path: string, error: unknown): Da3Error {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  const why =
    code === 'ENOENT'
      ? 'no such file or directory'
      : code === 'EISDIR'
        ? 'is a directory, not a file'
        : code === 'EACCES' || code === 'EPERM'
          ? 'permission denied'
          : code === 'ENOTDIR'
            ? 'a component of the path is not a directory'
            : String((error as Error | undefined)?.message ?? error);
  return new Da3Error('IO', `${fn}: cannot read '${path}': ${why}`, { cause: error });
}

/** Reads a whole file; `IO` errors name the path. An aborted `signal` rejects with its reason. */
export async function readFileBytes(fn: string, path: string, signal?: AbortSignal): Promise<Uint8Array> {
  signal?.throwIfAborted();
  try {
    const buf = await readFile(path, { signal });
    return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
  } catch (e) {
    if (signal?.aborted) throw signal.reason;
    throw fsError(fn, path, e);
  }
}

/**
 * Reads a URL: `file:` from disk, `http:`/`https:` with `fetch`, refusing bodies over `maxBytes`
 * (checked against Content-Length first, then while streaming) and servers silent for `timeoutMs`.
 * @throws Da3Error `IO` (network failure, HTTP status ≥ 400, unsupported scheme) or
 *   `OUT_OF_RANGE` (body larger than `maxBytes`)
 */
export async function readUrlBytes(fn: string, url: URL, maxBytes: number, signal?: AbortSignal, timeoutMs = DEFAULT_STALL_MS): Promise<Uint8Array> {
  if (url.protocol === 'file:') return readFileBytes(fn, fileURLToPath(url), signal);
  const shown = url.href;
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new Da3Error('IO', `${fn}: unsupported URL scheme '${url.protocol}' in ${shown} (use http:, https: or file:)`);
  }
  signal?.throwIfAborted();
  const stall = new StallTimer(timeoutMs);
  const stalled = (what: string) => new Da3Error('IO', `${fn}: ${shown} timed out: ${what} for ${timeoutMs / 1000} s`);
  let res: Response;
  stall.arm();
  try {
    res = await fetch(url, { signal: withStall(stall, signal), redirect: 'follow' });
  } catch (e) {
    if (signal?.aborted) throw signal.reason;
    if (stall.fired) throw stalled('no response');
    const cause = (e as { cause?: { code?: string; message?: string } }).cause;
    throw new Da3Error('IO', `${fn}: cannot fetch ${shown}: ${cause?.code ?? cause?.message ?? (e as Error).message}`, { cause: e });
  } finally {
    stall.disarm();
  }
  if (!res.ok) {
    await res.body?.cancel().catch(() => {});
    throw new Da3Error('IO', `${fn}: cannot fetch ${shown}: HTTP ${res.status} ${res.statusText}`.trimEnd());
  }
  const declared = Number(res.headers.get('content-length'));
  const tooBig = (n: number) =>
    new Da3Error('OUT_OF_RANGE', `${fn}: ${shown} is larger than maxBytes = ${maxBytes} bytes (${n} bytes${n === declared ? ' declared' : ' so far'})`);
  if (Number.isFinite(declared) && declared > maxBytes) {
    await res.body?.cancel().catch(() => {});
    throw tooBig(declared);
  }
  if (!res.body) return new Uint8Array(0);
  const chunks: Uint8Array[] = [];
  let total = 0;
  const reader = res.body.getReader();
  try {
    for (;;) {
      stall.arm();
      const { done, value } = await reader.read().finally(() => stall.disarm());
      if (done) break;
      total += value.byteLength;
      if (total > maxBytes) {
        await reader.cancel().catch(() => {});
        throw tooBig(total);
      }
      chunks.push(value);
    }
  } catch (e) {
    if (e instanceof Da3Error) throw e;
    if (signal?.aborted) throw signal.reason;
    if (stall.fired) throw stalled(`no bytes after ${total} bytes`);
    throw new Da3Error('IO', `${fn}: download of ${shown} failed after ${total} bytes: ${(e as Error).message}`, { cause: e });
  }
  if (chunks.length === 1) return chunks[0];
  const out = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.byteLength;
  }
  return out;
}
