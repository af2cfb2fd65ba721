/**
 * Node implementations of core's I/O seam (`ByteSource`, `Sink`, `ModelCache`) over files, for
 * the hub client and for anyone else in the package that reads or writes large files.
 */
import { createHash, randomBytes } from 'node:crypto';
import { closeSync, fstatSync, openSync, read as readCb } from 'node:fs';
import { mkdir, open, rename, rm, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { type ByteSource, Da3Error, type ModelCache, type Sink } from '@da3js/core';

/** A {@link ByteSource} over an open file; `close()` releases the descriptor (idempotent). */
export interface FileByteSource extends ByteSource {
  readonly path: string;
  close(): void;
}

function readAt(fd: number, buf: Uint8Array, offset: number, length: number, position: number): Promise<number> {
  return new Promise((ok, fail) => readCb(fd, buf, offset, length, position, (err, n) => (err ? fail(err) : ok(n))));
}

/**
 * Opens `path` for positional reads. The size is taken once, at open. Reads may run concurrently.
 * @throws {Da3Error} `IO` when the file cannot be opened, or a read runs past its end
 */
export function fileByteSource(path: string): FileByteSource {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (cause) {
    throw new Da3Error('IO', `fileByteSource: cannot open ${path}: ${(cause as Error).message}`, { cause });
  }
  const size = fstatSync(fd).size;
  let closed = false;
  return {
    path,
    size,
    async read(offset, length) {
      if (closed) throw new Da3Error('IO', `fileByteSource: ${path} is closed`);
      if (!Number.isInteger(offset) || !Number.isInteger(length) || offset < 0 || length < 0 || offset + length > size) {
        throw new Da3Error('OUT_OF_RANGE', `fileByteSource: read [${offset}, ${offset + length}) outside ${path} (${size} bytes)`);
      }
      const buf = new Uint8Array(length);
      let done = 0;
      while (done < length) {
        const n = await readAt(fd, buf, done, length - done, offset + done);
        if (n === 0) throw new Da3Error('IO', `fileByteSource: unexpected end of ${path} at byte ${offset + done}`);
        done += n;
      }
      return buf;
    },
    close() {
      if (closed) return;
      closed = true;
      closeSync(fd);
    },
  };
}

/** A unique temp name beside `path` (same folder, so the final rename is atomic). */
export function tempPathFor(path: string): string {
  return `${path}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
}

/**
 * A {@link Sink} that writes `<path>.tmp-<pid>-<random>` and renames it to `path` on `close()`
 * (atomic: readers see the old file or the whole new one). `abort()` deletes the temp file.
 * Parent folders are created. Writes are serialised, so callers may not await each one.
 */
export function fileSink(path: string): Sink & { readonly path: string } {
  const tmp = tempPathFor(path);
  let handle: Promise<import('node:fs/promises').FileHandle> | undefined;
  let chain: Promise<unknown> = Promise.resolve();
  let state: 'open' | 'closed' | 'aborted' = 'open';
  let failed: unknown;
  const fh = () => (handle ??= mkdir(dirname(path), { recursive: true }).then(() => open(tmp, 'w')));
  const check = (op: string) => {
    if (state !== 'open') throw new Da3Error('IO', `fileSink: ${op} after ${state === 'closed' ? 'close' : 'abort'} (${path})`);
  };
  return {
    path,
    write(chunk) {
      check('write');
      const p = chain.then(async () => {
        const h = await fh();
        let done = 0;
        while (done < chunk.byteLength) done += (await h.write(chunk, done, chunk.byteLength - done)).bytesWritten;
      });
      chain = p.catch((e) => {
        failed ??= e;
      });
      return p;
    },
    async close() {
      check('close');
      state = 'closed';
      await chain;
      if (failed !== undefined) {
        if (handle) await (await handle.catch(() => undefined))?.close().catch(() => undefined);
        await rm(tmp, { force: true });
        throw new Da3Error('IO', `fileSink: a write to ${path} failed: ${(failed as Error).message}`, { cause: failed });
      }
      const h = await fh();
      await h.close();
      try {
        await rename(tmp, path);
      } catch (cause) {
        await rm(tmp, { force: true });
        throw new Da3Error('IO', `fileSink: cannot move ${tmp} to ${path}: ${(cause as Error).message}`, { cause });
      }
    },
    async abort() {
      if (state !== 'open') return;
      state = 'aborted';
      await chain;
      if (handle) await (await handle.catch(() => undefined))?.close().catch(() => undefined);
      await rm(tmp, { force: true });
    },
  };
}

/** Writes a small file atomically (temp file + rename). */
export async function writeFileAtomic(path: string, data: string | Uint8Array): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const tmp = tempPathFor(path);
  try {
    await writeFile(tmp, data);
    await rename(tmp, path);
  } catch (cause) {
    await rm(tmp, { force: true });
    throw cause;
  }
}

/** Copies a ByteSource (or bytes) into a sink in chunks of `chunkBytes` (default 16 MiB). */
export async function pipeToSink(data: Uint8Array | ByteSource, sink: Sink, chunkBytes = 16 * 2 ** 20): Promise<void> {
  try {
    if (data instanceof Uint8Array) await sink.write(data);
    else for (let at = 0; at < data.size; at += chunkBytes) await sink.write(await data.read(at, Math.min(chunkBytes, data.size - at)));
    await sink.close?.();
  } catch (e) {
    await sink.abort?.(e);
    throw e;
  }
}

/**
 * Core's {@link ModelCache} over a directory: each key (usually a URL) is stored as one file named
 * `<sha256(key) first 32 hex>-<last path segment of the key, sanitised>`. `put` is atomic.
 * `match` returns a {@link FileByteSource}: call its `close()` when done with it.
 */
export class DirectoryModelCache implements ModelCache {
  readonly dir: string;

  constructor(dir: string) {
    this.dir = resolve(dir);
  }

  /** The file that holds `key`. */
  pathOf(key: string): string {
    const hash = createHash('sha256').update(key).digest('hex').slice(0, 32);
    const tail = basename(key.split(/[?#]/)[0] ?? '').replace(/[^A-Za-z0-9._-]/g, '_').slice(-64);
    return join(this.dir, tail ? `${hash}-${tail}` : hash);
  }

  async match(key: string): Promise<FileByteSource | undefined> {
    const path = this.pathOf(key);
    try {
      if (!(await stat(path)).isFile()) return undefined;
    } catch {
      return undefined;
    }
    return fileByteSource(path);
  }

  async put(key: string, data: Uint8Array | ByteSource): Promise<void> {
    await pipeToSink(data, fileSink(this.pathOf(key)));
  }

  /** Removes `key`; true when something was removed. */
  async delete(key: string): Promise<boolean> {
    const path = this.pathOf(key);
    try {
      await stat(path);
    } catch {
      return false;
    }
    await rm(path, { force: true });
    return true;
  }
}
