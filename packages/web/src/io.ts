import { type AbortSignalLike, type ByteSource, Da3Error, type Sink, throwIfAborted } from '@da3js/core';
import { fetchAbortable, responseBytes } from './abort.js';

/**
 * A {@link ByteSource} whose reads can be cancelled: `read(offset, length, signal)` rejects with
 * `ABORTED` when `signal` fires (an HTTP read stops its request).
 */
export interface AbortableByteSource extends ByteSource {
  read(offset: number, length: number, signal?: AbortSignalLike): Promise<Uint8Array>;
}

/** A {@link ByteSource} over HTTP, with what identifies the remote file's version. */
export interface HttpByteSource extends AbortableByteSource {
  readonly url: string;
  /** The hub's `X-Linked-Etag` (the LFS sha256) or the `ETag`, when the server sent one. */
  readonly etag?: string;
}

/**
 * A {@link ByteSource} over HTTP range requests: the safetensors reader asks for the header, then
 * each tensor, so multi-GB weights stream into the converter without being downloaded whole.
 * The size comes from a `Range: bytes=0-0` probe (`Content-Range`), falling back to
 * `Content-Length` of a HEAD request.
 */
export async function httpRangeByteSource(url: string, options: { headers?: Record<string, string>; signal?: AbortSignalLike } = {}): Promise<HttpByteSource> {
  const headers = options.headers ?? {};
  let size: number | undefined;
  const what = `download of ${url}`;
  const probe = await fetchAbortable(url, { headers: { ...headers, Range: 'bytes=0-0' } }, options.signal, what);
  if (probe.status === 206) {
    const m = /\/(\d+)\s*$/.exec(probe.headers.get('content-range') ?? '');
    if (m) size = Number(m[1]);
  } else if (probe.ok) {
    size = Number(probe.headers.get('content-length') ?? Number.NaN);
  } else {
    throw new Da3Error('IO', `httpRangeByteSource: ${url} answered HTTP ${probe.status}`);
  }
  const etag = probe.headers.get('x-linked-etag') ?? probe.headers.get('etag') ?? undefined;
  await responseBytes(probe, options.signal, what);
  if (size === undefined || !Number.isFinite(size)) throw new Da3Error('IO', `httpRangeByteSource: ${url} did not say its size (Content-Range / Content-Length)`);
  const total = size;
  return {
    size: total,
    url,
    etag,
    async read(offset, length, signal) {
      if (offset < 0 || length < 0 || offset + length > total) throw new Da3Error('OUT_OF_RANGE', `httpRangeByteSource: read [${offset}, ${offset + length}) outside ${total} bytes of ${url}`);
      if (length === 0) return new Uint8Array(0);
      const res = await fetchAbortable(url, { headers: { ...headers, Range: `bytes=${offset}-${offset + length - 1}` } }, signal, what);
      if (res.status !== 206 && !(res.status === 200 && offset === 0 && length === total)) {
        throw new Da3Error('IO', `httpRangeByteSource: ${url} answered HTTP ${res.status} to a range request (the server must support Range)`);
      }
      const bytes = await responseBytes(res, signal, what);
      if (bytes.byteLength !== length) throw new Da3Error('IO', `httpRangeByteSource: ${url} sent ${bytes.byteLength} bytes for a ${length}-byte range`);
      return bytes;
    },
  };
}

/**
 * Wraps a source so `onRead(loaded, total)` reports the bytes read so far (download progress of
 * range-streamed weights). The wrapper keeps the source's other fields (`url`, `etag`, `blob`).
 */
export function withReadProgress<S extends ByteSource>(source: S, onRead: (loaded: number, total: number) => void): S {
  let loaded = 0;
  return {
    ...source,
    async read(offset: number, length: number, signal?: AbortSignalLike) {
      const bytes = await (source as AbortableByteSource).read(offset, length, signal);
      loaded += bytes.byteLength;
      onRead(loaded, source.size);
      return bytes;
    },
  };
}

/**
 * `source` with every read bound to `signal`: reads reject with `ABORTED` once it fires (HTTP
 * requests in flight are cancelled; other sources are checked before and after each read).
 * `head` (the first bytes of the file, e.g. a safetensors header already read) is served from
 * memory, so re-opening a file over the bound source costs no request.
 */
export function withSignal(source: ByteSource, signal: AbortSignalLike | undefined, head?: Uint8Array, what = 'weights download'): ByteSource {
  if (!signal && !head) return source;
  return {
    size: source.size,
    async read(offset, length) {
      throwIfAborted(signal, what);
      if (head && offset + length <= head.byteLength) return head.slice(offset, offset + length);
      const bytes = await (source as AbortableByteSource).read(offset, length, signal);
      throwIfAborted(signal, what);
      return bytes;
    },
  };
}

/** A {@link ByteSource} that keeps its `Blob` (so caches and sessions can take the Blob whole). */
export interface BlobByteSource extends ByteSource {
  readonly blob: Blob;
}

/** A {@link ByteSource} over a `Blob`/`File` (`Blob.slice`: nothing is read until asked). */
export function blobByteSource(blob: Blob): BlobByteSource {
  return {
    blob,
    size: blob.size,
    async read(offset, length) {
      if (offset < 0 || length < 0 || offset + length > blob.size) throw new Da3Error('OUT_OF_RANGE', `blobByteSource: read [${offset}, ${offset + length}) outside ${blob.size} bytes`);
      return new Uint8Array(await blob.slice(offset, offset + length).arrayBuffer());
    },
  };
}

/** Bytes of copied chunks a {@link blobSink} holds before folding them into a Blob. */
const FOLD_BYTES = 32 * 2 ** 20;

/**
 * A {@link Sink} collecting chunks into a `Blob` (`blob()` after close; nothing kept after abort).
 * Chunks are folded into partial Blobs every 32 MiB, so a large output (a converted graph) is
 * never held twice in the JS heap: browsers keep big Blobs outside it (on disk when needed).
 */
export function blobSink(type = 'application/octet-stream'): Sink & { blob(): Blob } {
  let pending: Uint8Array<ArrayBuffer>[] = [];
  let pendingBytes = 0;
  let parts: Blob[] = [];
  let result: Blob | undefined;
  const fold = () => {
    if (pending.length) parts.push(new Blob(pending));
    pending = [];
    pendingBytes = 0;
  };
  return {
    write(chunk) {
      pending.push(chunk.slice());
      pendingBytes += chunk.byteLength;
      if (pendingBytes >= FOLD_BYTES) fold();
    },
    close() {
      fold();
      result = new Blob(parts, { type });
      parts = [];
    },
    abort() {
      pending = [];
      parts = [];
    },
    blob() {
      if (!result) throw new Da3Error('BAD_VALUE', 'blobSink: blob() before close()');
      return result;
    },
  };
}
