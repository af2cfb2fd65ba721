/**
 * The on-disk store of a stream (`streamInference`'s `stateDir`): finished chunks are spilled to
 * `<stateDir>` so a crashed or stopped run continues where it stopped and a finished chunk is not
 * computed again.
 *
 * - `state.json`: what the run was started with (chunking, alignment, point cloud, model, input);
 *   a rerun with other settings is refused rather than mixed in.
 * - `chunk_<k>.json`: chunk k's record (range, Sim(3)s, the world cameras of the frames it handed
 *   out), written once the chunk's outputs were handed on.
 * - `chunk_<k>.tail`: its last `overlap` frames, chunk-local (depth, conf, cameras, images): what
 *   aligning chunk k + 1 needs. Removed once a later chunk finished, or when the chunk is the last.
 * - loop closure: `loop_<k>.window` (+ `loop_<k>.desc`, descriptors with detection): chunk k's
 *   loop window (same layout as a tail); `loops.json`: the finished loop stage (reused by a rerun).
 *
 * Every file is written atomically (temp file + rename).
 * @internal
 */
import { readFile, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Da3Error, type StreamChunkRecord, type StreamChunkTail, type StreamLoopResult, type StreamLoopWindow, type StreamSim3, type StreamStore } from '@da3js/core';
import { ioError, writeFileAtomic } from '../hub/fs.js';

/** The settings a stream's state is tied to (compared as JSON). */
export type StreamFingerprint = Readonly<Record<string, unknown>>;

const STATE_VERSION = 1;
const TAIL_MAGIC = 0x54334144; // 'DA3T' little-endian

interface Sim3Json {
  scale: number;
  rotation: number[];
  translation: number[];
}

const sim3ToJson = (s: StreamSim3): Sim3Json => ({ scale: s.scale, rotation: Array.from(s.rotation), translation: Array.from(s.translation) });
const sim3FromJson = (s: Sim3Json): StreamSim3 => ({ scale: s.scale, rotation: Float64Array.from(s.rotation), translation: Float64Array.from(s.translation) });

/** Encodes a tail: magic, JSON header length, JSON {start, views, height, width}, padding, f32 maps, u8 images. */
export function encodeTail(tail: StreamChunkTail): Uint8Array {
  const json = new TextEncoder().encode(JSON.stringify({ start: tail.start, views: tail.views, height: tail.height, width: tail.width }));
  const head = 8 + json.length;
  const pad = (4 - (head % 4)) % 4;
  const floats = [tail.depth, tail.conf, tail.extrinsics, tail.intrinsics];
  const floatBytes = floats.reduce((n, a) => n + a.byteLength, 0);
  const out = new Uint8Array(head + pad + floatBytes + tail.images.byteLength);
  const view = new DataView(out.buffer);
  view.setUint32(0, TAIL_MAGIC, true);
  view.setUint32(4, json.length, true);
  out.set(json, 8);
  let at = head + pad;
  for (const a of floats) {
    out.set(new Uint8Array(a.buffer, a.byteOffset, a.byteLength), at);
    at += a.byteLength;
  }
  out.set(tail.images, at);
  return out;
}

/** Decodes {@link encodeTail}'s bytes. @throws Da3Error `UNKNOWN_FORMAT` for a damaged file */
export function decodeTail(bytes: Uint8Array, where: string): StreamChunkTail {
  const bad = (why: string) => new Da3Error('UNKNOWN_FORMAT', `${where}: not a stream tail file (${why}); remove the state folder to start over`);
  if (bytes.length < 8) throw bad('too short');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (view.getUint32(0, true) !== TAIL_MAGIC) throw bad('bad magic');
  const len = view.getUint32(4, true);
  if (8 + len > bytes.length) throw bad('header past the end');
  let meta: { start: number; views: number; height: number; width: number };
  try {
    meta = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + len)));
  } catch {
    throw bad('bad header');
  }
  const { start, views, height, width } = meta;
  if (![start, views, height, width].every((v) => Number.isSafeInteger(v) && v >= 0)) throw bad('bad sizes');
  const n = views * height * width;
  let at = 8 + len + ((4 - ((8 + len) % 4)) % 4);
  const need = at + 4 * (2 * n + 12 * views + 9 * views) + 3 * n;
  if (bytes.length !== need) throw bad(`${bytes.length} bytes, expected ${need}`);
  // Copies: the file's buffer may not be 4-aligned at `at`.
  const f32 = (count: number) => {
    const a = new Float32Array(count);
    new Uint8Array(a.buffer).set(bytes.subarray(at, at + 4 * count));
    at += 4 * count;
    return a;
  };
  const depth = f32(n);
  const conf = f32(n);
  const extrinsics = f32(12 * views);
  const intrinsics = f32(9 * views);
  const images = bytes.slice(at, at + 3 * n);
  return { start, views, height, width, depth, conf, extrinsics, intrinsics, images };
}

/** JSON with typed arrays kept exactly (float64 numbers round-trip through JSON text). */
function typedReplacer(_key: string, v: unknown): unknown {
  if (v instanceof Float64Array) return { $f64: Array.from(v) };
  if (v instanceof Float32Array) return { $f32: Array.from(v) };
  if (v instanceof Int32Array) return { $i32: Array.from(v) };
  return v;
}
function typedReviver(_key: string, v: unknown): unknown {
  if (v && typeof v === 'object' && !Array.isArray(v)) {
    const o = v as Record<string, number[]>;
    if (o.$f64) return Float64Array.from(o.$f64);
    if (o.$f32) return Float32Array.from(o.$f32);
    if (o.$i32) return Int32Array.from(o.$i32);
  }
  return v;
}

/** A {@link StreamStore} over a folder, tied to `fingerprint`. */
export class FileStreamStore implements StreamStore {
  private constructor(
    readonly dir: string,
    private readonly records: Map<number, StreamChunkRecord>,
  ) {}

  /**
   * Opens (or starts) the state in `dir`. With `restart` an earlier state is discarded.
   * @throws Da3Error `BAD_CONFIG` when `dir` holds the state of a run with other settings, `IO`
   */
  static async open(dir: string, fingerprint: StreamFingerprint, options: { readonly restart?: boolean } = {}): Promise<FileStreamStore> {
    const want = { version: STATE_VERSION, ...fingerprint };
    const statePath = join(dir, 'state.json');
    if (options.restart) await rm(dir, { recursive: true, force: true }).catch((e) => Promise.reject(ioError('remove', dir, e)));
    let state: Record<string, unknown> | undefined;
    try {
      state = JSON.parse(await readFile(statePath, 'utf8'));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw new Da3Error('IO', `streamInference: cannot read ${statePath} (${(e as Error).message}); remove it to start over`, { cause: e });
    }
    const records = new Map<number, StreamChunkRecord>();
    if (state) {
      const differs = Object.keys({ ...want, ...state }).filter((k) => JSON.stringify(state![k]) !== JSON.stringify((want as Record<string, unknown>)[k]));
      if (differs.length) {
        const show = (v: unknown) => (v === undefined ? 'unset' : JSON.stringify(v));
        const what = differs.map((k) => `${k} ${show(state![k])} → ${show((want as Record<string, unknown>)[k])}`).join(', ');
        throw new Da3Error('BAD_CONFIG', `streamInference: ${dir} holds a stream started with other settings (${what}); restart it (--restart) or use another folder`);
      }
      for (const name of await readdir(dir)) {
        const m = /^chunk_(\d+)\.json$/.exec(name);
        if (!m) continue;
        const r = JSON.parse(await readFile(join(dir, name), 'utf8'));
        records.set(Number(m[1]), {
          ...r,
          toWorld: sim3FromJson(r.toWorld),
          relative: r.relative ? sim3FromJson(r.relative) : null,
          extrinsics: Float32Array.from(r.extrinsics),
          intrinsics: Float32Array.from(r.intrinsics),
        });
      }
    } else {
      await writeFileAtomic(statePath, `${JSON.stringify(want, null, 1)}\n`);
    }
    return new FileStreamStore(dir, records);
  }

  /** Finished chunks, in order. */
  chunks(): StreamChunkRecord[] {
    return [...this.records.values()].sort((a, b) => a.index - b.index);
  }

  finished(index: number): StreamChunkRecord | undefined {
    return this.records.get(index);
  }

  async tail(index: number): Promise<StreamChunkTail> {
    const path = join(this.dir, `chunk_${index}.tail`);
    let bytes: Uint8Array;
    try {
      bytes = new Uint8Array(await readFile(path));
    } catch (e) {
      throw ioError('read', path, e);
    }
    return decodeTail(bytes, path);
  }

  async save(record: StreamChunkRecord, tail: StreamChunkTail | null): Promise<void> {
    const tailPath = join(this.dir, `chunk_${record.index}.tail`);
    if (tail) await writeFileAtomic(tailPath, encodeTail(tail));
    const json = {
      ...record,
      toWorld: sim3ToJson(record.toWorld),
      relative: record.relative ? sim3ToJson(record.relative) : null,
      extrinsics: Array.from(record.extrinsics),
      intrinsics: Array.from(record.intrinsics),
    };
    await writeFileAtomic(join(this.dir, `chunk_${record.index}.json`), `${JSON.stringify(json)}\n`);
    this.records.set(record.index, record);
    // Only the newest tail is ever needed again (aligning the next chunk, or the end).
    if (!tail) await rm(tailPath, { force: true });
    if (record.index > 0) await rm(join(this.dir, `chunk_${record.index - 1}.tail`), { force: true });
  }

  async saveLoopWindow(index: number, window: StreamLoopWindow): Promise<void> {
    const desc = join(this.dir, `loop_${index}.desc`);
    if (window.descriptors) {
      const d = window.descriptors;
      await writeFileAtomic(desc, new Uint8Array(d.buffer, d.byteOffset, d.byteLength));
    } else await rm(desc, { force: true });
    await writeFileAtomic(join(this.dir, `loop_${index}.window`), encodeTail(window));
  }

  async loopWindow(index: number): Promise<StreamLoopWindow | undefined> {
    const path = join(this.dir, `loop_${index}.window`);
    let bytes: Uint8Array;
    try {
      bytes = new Uint8Array(await readFile(path));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw ioError('read', path, e);
    }
    const maps = decodeTail(bytes, path);
    let descriptors: Float32Array | null = null;
    const desc = join(this.dir, `loop_${index}.desc`);
    try {
      const raw = new Uint8Array(await readFile(desc));
      descriptors = new Float32Array(raw.length / 4);
      new Uint8Array(descriptors.buffer).set(raw.subarray(0, descriptors.length * 4));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw ioError('read', desc, e);
    }
    return { ...maps, descriptors };
  }

  async loopResult(): Promise<StreamLoopResult | undefined> {
    const path = join(this.dir, 'loops.json');
    try {
      return JSON.parse(await readFile(path, 'utf8'), typedReviver) as StreamLoopResult;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw new Da3Error('IO', `streamInference: cannot read ${path} (${(e as Error).message}); remove it to run the loop stage again`, { cause: e });
    }
  }

  async saveLoopResult(result: StreamLoopResult): Promise<void> {
    await writeFileAtomic(join(this.dir, 'loops.json'), `${JSON.stringify(result, typedReplacer)}\n`);
  }

  /** Removes the loop windows (once the loop stage's result is saved, nothing reads them again). */
  async dropLoopWindows(): Promise<void> {
    for (const name of await readdir(this.dir).catch(() => [] as string[])) if (/^loop_\d+\.(window|desc)$/.test(name)) await rm(join(this.dir, name), { force: true });
  }

  /** Removes the spilled tails (the records stay: they mark the chunks finished). */
  async dropTails(): Promise<void> {
    for (const name of await readdir(this.dir).catch(() => [] as string[])) if (name.endsWith('.tail')) await rm(join(this.dir, name), { force: true });
  }
}
