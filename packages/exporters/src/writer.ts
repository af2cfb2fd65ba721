import type { Sink } from '@da3js/core';

/**
 * Buffers small writes into chunks of `chunkSize` bytes before handing them to a {@link Sink},
 * with little-endian typed helpers — the shared plumbing of every streamed exporter.
 *
 * Usage:
 * ```ts
 * const out = new ChunkWriter(sink);
 * out.ascii('ply\n'); out.f32(1.5); out.u8(255);
 * await out.flushIfFull(); …; await out.close();
 * ```
 */
export class ChunkWriter {
  private buf: Uint8Array;
  private view: DataView;
  private at = 0;
  /** Bytes handed to the sink so far plus those buffered. */
  written = 0;

  constructor(
    readonly sink: Sink,
    readonly chunkSize = 1 << 20,
  ) {
    this.buf = new Uint8Array(chunkSize);
    this.view = new DataView(this.buf.buffer);
  }

  private room(n: number): void {
    if (this.at + n > this.buf.length) {
      // Grow for an oversized single write; flushIfFull() hands full chunks to the sink.
      const next = new Uint8Array(Math.max(this.buf.length * 2, this.at + n));
      next.set(this.buf.subarray(0, this.at));
      this.buf = next;
      this.view = new DataView(this.buf.buffer);
    }
  }

  u8(v: number): void {
    this.room(1);
    this.buf[this.at++] = v;
    this.written++;
  }

  u32(v: number): void {
    this.room(4);
    this.view.setUint32(this.at, v, true);
    this.at += 4;
    this.written += 4;
  }

  i32(v: number): void {
    this.room(4);
    this.view.setInt32(this.at, v, true);
    this.at += 4;
    this.written += 4;
  }

  u64(v: number): void {
    this.room(8);
    this.view.setBigUint64(this.at, BigInt(v), true);
    this.at += 8;
    this.written += 8;
  }

  i64(v: number): void {
    this.room(8);
    this.view.setBigInt64(this.at, BigInt(v), true);
    this.at += 8;
    this.written += 8;
  }

  f32(v: number): void {
    this.room(4);
    this.view.setFloat32(this.at, v, true);
    this.at += 4;
    this.written += 4;
  }

  f64(v: number): void {
    this.room(8);
    this.view.setFloat64(this.at, v, true);
    this.at += 8;
    this.written += 8;
  }

  bytes(b: Uint8Array): void {
    this.room(b.byteLength);
    this.buf.set(b, this.at);
    this.at += b.byteLength;
    this.written += b.byteLength;
  }

  /** UTF-8 text (ASCII headers, COLMAP text lines). */
  text(s: string): void {
    this.bytes(new TextEncoder().encode(s));
  }

  /** Hands the buffered bytes to the sink when at least one chunk is buffered. */
  async flushIfFull(): Promise<void> {
    if (this.at >= this.chunkSize) await this.flush();
  }

  /** Hands every buffered byte to the sink. */
  async flush(): Promise<void> {
    if (this.at === 0) return;
    const chunk = this.buf.slice(0, this.at);
    this.at = 0;
    await this.sink.write(chunk);
  }

  /** Flushes and closes the sink. */
  async close(): Promise<void> {
    await this.flush();
    await this.sink.close?.();
  }
}

/**
 * Runs `write` against `sink`, aborting the sink (so no partial file is left) when it throws.
 */
export async function withSink<T>(sink: Sink, write: (out: ChunkWriter) => Promise<T>): Promise<T> {
  const out = new ChunkWriter(sink);
  try {
    const result = await write(out);
    await out.close();
    return result;
  } catch (error) {
    await sink.abort?.(error);
    throw error;
  }
}

/** A sink that collects everything in memory: `bytes()` joins it, `blob(type)` makes a Blob (web). */
export function memorySink(): Sink & { readonly chunks: Uint8Array[]; bytes(): Uint8Array; closed: boolean } {
  const chunks: Uint8Array[] = [];
  const sink = {
    chunks,
    closed: false,
    write(chunk: Uint8Array) {
      chunks.push(chunk);
    },
    close() {
      sink.closed = true;
    },
    abort() {
      chunks.length = 0;
    },
    bytes() {
      const out = new Uint8Array(chunks.reduce((a, c) => a + c.byteLength, 0));
      let at = 0;
      for (const c of chunks) {
        out.set(c, at);
        at += c.byteLength;
      }
      return out;
    },
  };
  return sink;
}
