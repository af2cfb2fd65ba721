/**
 * Node implementations of core's I/O seam (`ByteSource`, `Sink`, `ModelCache`) over files, for
 * the hub client and for anyone else in the package that reads or writes large files.
 */
import { createHash, randomBytes } from 'node:crypto';
import { closeSync, fstatSync, openSync, read as readCb } from 'node:fs';
import { lstat, mkdir, open, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
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

/**
 * A filesystem failure as core's typed error: `Da3Error('IO')` naming the operation and the path,
 * with the system error (`ENOSPC`, `ENOTDIR`, `EACCES`, …) as `cause` and in the message.
 */
export function ioError(op: string, path: string, cause: unknown): Da3Error {
  if (cause instanceof Da3Error) return cause;
  const code = (cause as NodeJS.ErrnoException)?.code;
  const why = code ? `${code}: ${describeErrno(code, cause as Error)}` : (cause as Error)?.message ?? String(cause);
  return new Da3Error('IO', `cannot ${op} ${path} (${why})`, { cause });
}

function describeErrno(code: string, error: Error): string {
  const known: Record<string, string> = {
    ENOSPC: 'no space left on the device',
    EDQUOT: 'disk quota exceeded',
    ENOTDIR: 'a part of the path is a file, not a folder',
    EISDIR: 'it is a folder',
    ENOENT: 'no such file or folder',
    EACCES: 'permission denied',
    EPERM: 'operation not permitted',
    EROFS: 'read-only file system',
    EEXIST: 'it already exists',
    EMFILE: 'too many open files',
  };
  return known[code] ?? error.message;
}

const TEMP_SUFFIX = /\.tmp-(\d+)-[0-9a-f]{8}$/;

/** A unique temp name beside `path` (same folder, so the final rename is atomic): `<path>.tmp-<pid>-<8 hex>`. */
export function tempPathFor(path: string): string {
  return `${path}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
}

/** True when process `pid` runs on this machine (or cannot be probed). */
export function processAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}

/**
 * Removes temp files (`*.tmp-<pid>-<hex>`, from {@link tempPathFor}) and staging folders
 * (`.da3-staging-<pid>-<hex>`) under `dir` whose writing process is gone and that were not
 * touched for `minAgeMs` (default 5 s) — what `kill -9` or a power cut leaves behind. Walks at most
 * `maxDepth` folders deep (default 3) and `maxEntries` entries (default 20,000); never follows links.
 * @returns the paths removed
 */
export async function sweepStaleTemps(dir: string, options: { maxDepth?: number; maxEntries?: number; minAgeMs?: number } = {}): Promise<string[]> {
  const maxDepth = options.maxDepth ?? 3;
  let budget = options.maxEntries ?? 20_000;
  const minAge = options.minAgeMs ?? 5_000;
  const removed: string[] = [];
  const stale = async (path: string, pid: number) => {
    if (processAlive(pid)) return false;
    try {
      return Date.now() - (await lstat(path)).mtimeMs >= minAge;
    } catch {
      return false;
    }
  };
  const walk = async (folder: string, depth: number): Promise<void> => {
    let entries: import('node:fs').Dirent[];
    try {
      entries = await readdir(folder, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      if (--budget < 0) return;
      const path = join(folder, e.name);
      const staging = STAGING_NAME.exec(e.name);
      const temp = TEMP_SUFFIX.exec(e.name);
      if (e.isDirectory() && staging && (await stale(path, Number(staging[1])))) {
        await rm(path, { recursive: true, force: true });
        removed.push(path);
      } else if (e.isFile() && temp && (await stale(path, Number(temp[1])))) {
        await rm(path, { force: true });
        removed.push(path);
      } else if (e.isDirectory() && !staging && depth < maxDepth) {
        await walk(path, depth + 1);
      }
    }
  };
  await walk(resolve(dir), 0);
  return removed;
}

/** Name of an export's staging folder: `.da3-staging-<pid>-<8 hex>`. */
export const STAGING_NAME = /^\.da3-staging-(\d+)-[0-9a-f]{8}$/;

/** A fresh staging folder name for this process (see {@link sweepStaleTemps}). */
export function stagingName(): string {
  return `.da3-staging-${process.pid}-${randomBytes(4).toString('hex')}`;
}

/**
 * A {@link Sink} that writes `<path>.tmp-<pid>-<random>` and renames it to `path` on `close()`
 * (atomic: readers see the old file or the whole new one). `abort()` deletes the temp file.
 * Parent folders are created. Writes are serialised, so callers may not await each one.
 * Filesystem failures (`ENOSPC`, `ENOTDIR`, …) reject as `Da3Error('IO')` naming `path` (or
 * `options.reportAs`, the path the user knows when `path` is a staging place); the temp file is removed.
 */
export function fileSink(path: string, options: { readonly reportAs?: string } = {}): Sink & { readonly path: string } {
  const tmp = tempPathFor(path);
  const shown = options.reportAs ?? path;
  let handle: Promise<import('node:fs/promises').FileHandle> | undefined;
  let chain: Promise<unknown> = Promise.resolve();
  let state: 'open' | 'closed' | 'aborted' = 'open';
  let failed: Da3Error | undefined;
  const fh = () =>
    (handle ??= mkdir(dirname(path), { recursive: true })
      .then(() => open(tmp, 'w'))
      .catch((e) => {
        throw ioError('write', shown, e);
      }));
  const check = (op: string) => {
    if (state !== 'open') throw new Da3Error('IO', `fileSink: ${op} after ${state === 'closed' ? 'close' : 'abort'} (${shown})`);
  };
  const dispose = async () => {
    if (handle) await (await handle.catch(() => undefined))?.close().catch(() => undefined);
    await rm(tmp, { force: true });
  };
  return {
    path,
    write(chunk) {
      check('write');
      const p = chain.then(async () => {
        if (failed) throw failed;
        const h = await fh();
        let done = 0;
        try {
          while (done < chunk.byteLength) done += (await h.write(chunk, done, chunk.byteLength - done)).bytesWritten;
        } catch (e) {
          throw ioError('write', shown, e);
        }
      });
      chain = p.catch((e) => {
        failed ??= ioError('write', shown, e);
      });
      return p;
    },
    async close() {
      check('close');
      state = 'closed';
      await chain;
      if (failed !== undefined) {
        await dispose();
        throw failed;
      }
      try {
        await (await fh()).close();
        await rename(tmp, path);
      } catch (cause) {
        await rm(tmp, { force: true });
        throw ioError('write', shown, cause);
      }
    },
    async abort() {
      if (state !== 'open') return;
      state = 'aborted';
      await chain;
      await dispose();
    },
  };
}

/** Writes a small file atomically (temp file + rename); failures are `Da3Error('IO')` naming `path`. */
export async function writeFileAtomic(path: string, data: string | Uint8Array): Promise<void> {
  const tmp = tempPathFor(path);
  try {
    await mkdir(dirname(path), { recursive: true });
    await writeFile(tmp, data);
    await rename(tmp, path);
  } catch (cause) {
    await rm(tmp, { force: true });
    throw ioError('write', path, cause);
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
