import { type ByteSource, Da3Error, type Sink } from '@da3js/core';

/**
 * A {@link ByteSource} over HTTP range requests: the safetensors reader asks for the header, then
 * each tensor, so multi-GB weights stream into the converter without being downloaded whole.
 * The size comes from a `Range: bytes=0-0` probe (`Content-Range`), falling back to
 * `Content-Length` of a HEAD request.
 */
export async function httpRangeByteSource(url: string, options: { headers?: Record<string, string> } = {}): Promise<ByteSource> {
  const headers = options.headers ?? {};
  let size: number | undefined;
  const probe = await fetch(url, { headers: { ...headers, Range: 'bytes=0-0' } });
  if (probe.status === 206) {
    const m = /\/(\d+)\s*$/.exec(probe.headers.get('content-range') ?? '');
    if (m) size = Number(m[1]);
  } else if (probe.ok) {
    size = Number(probe.headers.get('content-length') ?? Number.NaN);
  } else {
    throw new Da3Error('IO', `httpRangeByteSource: ${url} answered HTTP ${probe.status}`);
  }
  await probe.arrayBuffer();
  if (size === undefined || !Number.isFinite(size)) throw new Da3Error('IO', `httpRangeByteSource: ${url} did not say its size (Content-Range / Content-Length)`);
  const total = size;
  return {
    size: total,
    async read(offset, length) {
      if (offset < 0 || length < 0 || offset + length > total) throw new Da3Error('OUT_OF_RANGE', `httpRangeByteSource: read [${offset}, ${offset + length}) outside ${total} bytes of ${url}`);
      if (length === 0) return new Uint8Array(0);
      const res = await fetch(url, { headers: { ...headers, Range: `bytes=${offset}-${offset + length - 1}` } });
      if (res.status !== 206 && !(res.status === 200 && offset === 0 && length === total)) {
        throw new Da3Error('IO', `httpRangeByteSource: ${url} answered HTTP ${res.status} to a range request (the server must support Range)`);
      }
      const bytes = new Uint8Array(await res.arrayBuffer());
      if (bytes.byteLength !== length) throw new Da3Error('IO', `httpRangeByteSource: ${url} sent ${bytes.byteLength} bytes for a ${length}-byte range`);
      return bytes;
    },
  };
}

/** A {@link ByteSource} over a `Blob`/`File` (`Blob.slice`). */
export function blobByteSource(blob: Blob): ByteSource {
  return {
    size: blob.size,
    async read(offset, length) {
      if (offset < 0 || length < 0 || offset + length > blob.size) throw new Da3Error('OUT_OF_RANGE', `blobByteSource: read [${offset}, ${offset + length}) outside ${blob.size} bytes`);
      return new Uint8Array(await blob.slice(offset, offset + length).arrayBuffer());
    },
  };
}

/** A {@link Sink} collecting chunks into a `Blob` (`blob()` after close; nothing kept after abort). */
export function blobSink(type = 'application/octet-stream'): Sink & { blob(): Blob } {
  let parts: Uint8Array[] = [];
  let result: Blob | undefined;
  return {
    write(chunk) {
      parts.push(chunk.slice());
    },
    close() {
      result = new Blob(parts, { type });
      parts = [];
    },
    abort() {
      parts = [];
    },
    blob() {
      if (!result) throw new Da3Error('BAD_VALUE', 'blobSink: blob() before close()');
      return result;
    },
  };
}
