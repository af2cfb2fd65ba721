import { closeSync, mkdirSync, openSync, readSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { type ByteSource, Da3Error, type Sink } from '@da3js/core';

/** A positional-read ByteSource over a file (closed with `close()`). */
export function fileByteSource(path: string): ByteSource & { close(): void } {
  const fd = openSync(path, 'r');
  const size = statSync(path).size;
  return {
    size,
    async read(offset, length) {
      const buf = new Uint8Array(length);
      let done = 0;
      while (done < length) {
        const n = readSync(fd, buf, done, length - done, offset + done);
        if (n === 0) throw new Da3Error('IO', `${path}: unexpected end of file at ${offset + done}`);
        done += n;
      }
      return buf;
    },
    close: () => closeSync(fd),
  };
}

/** A Sink into `<path>.partial`, renamed to `path` on close and deleted on abort. */
export function atomicFileSink(path: string): Sink {
  const tmp = `${path}.partial`;
  mkdirSync(dirname(path), { recursive: true });
  const fd = openSync(tmp, 'w');
  let open = true;
  return {
    write(chunk) {
      let done = 0;
      while (done < chunk.byteLength) done += writeSync(fd, chunk, done, chunk.byteLength - done);
    },
    close() {
      if (!open) return;
      open = false;
      closeSync(fd);
      renameSync(tmp, path);
    },
    abort() {
      if (open) closeSync(fd);
      open = false;
      rmSync(tmp, { force: true });
    },
  };
}

