// Shared helpers of the benchmark tasks: each task runs in its own process so its peak RSS is its own.
import { createWriteStream, openSync, closeSync, readSync, fstatSync, renameSync, rmSync } from 'node:fs';

/** A ByteSource over a file descriptor (positional reads). */
export function fileByteSource(path) {
  const fd = openSync(path, 'r');
  const size = fstatSync(fd).size;
  return {
    size,
    async read(offset, length) {
      const buf = Buffer.allocUnsafe(length);
      let done = 0;
      while (done < length) done += readSync(fd, buf, done, length - done, offset + done);
      return new Uint8Array(buf.buffer, buf.byteOffset, length);
    },
    close: () => closeSync(fd),
  };
}

/** A Sink writing to `path` through a temp file renamed on close. */
export function fileSink(path) {
  const tmp = `${path}.tmp`;
  const stream = createWriteStream(tmp);
  let failure = null;
  stream.on('error', (e) => {
    failure = e;
  });
  return {
    write: (chunk) =>
      new Promise((resolve, reject) => {
        if (failure) return reject(failure);
        if (stream.write(chunk)) resolve();
        else stream.once('drain', () => (failure ? reject(failure) : resolve()));
      }),
    close: () =>
      new Promise((resolve, reject) =>
        stream.end((err) => {
          if (err) return reject(err);
          renameSync(tmp, path);
          resolve();
        }),
      ),
    abort: () => {
      stream.destroy();
      rmSync(tmp, { force: true });
    },
  };
}

/** Peak resident set size of this process so far, MiB. */
export const peakRssMiB = () => Math.round(process.resourceUsage().maxRSS / 1024);

/** Median of numbers. */
export function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Prints the task's result as the last stdout line (read by bench/run.mjs). */
export function report(result) {
  process.stdout.write(`${JSON.stringify(result)}\n`);
}
