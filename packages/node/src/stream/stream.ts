/**
 * DA3-Streaming on Node: core's `streamInference` with this package's model (inputs decoded per
 * chunk, the reference-view strategy chosen), finished chunks spilled to a state folder and found
 * there after a crash, and {@link streamToDirectory}, which writes the reference's outputs.
 */
import { open, readFile, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import {
  Da3Error,
  type InferenceOptions,
  type RefViewStrategy,
  type StreamChunk,
  type StreamEvent,
  type StreamOptions,
  type StreamSummary,
  STREAM_DEFAULTS,
  StreamError,
  cameraPosesLine,
  cameraPosesPlyHeader,
  cameraPosesPlyLine,
  graphConfigDigest,
  intrinsicLine,
  pointCloudPlyBody,
  pointCloudPlyHeader,
  streamInference,
} from '@da3js/core';
import { writeNpz } from '@da3js/exporters';
import { fileSink, ioError, writeFileAtomic } from '../hub/fs.js';
import type { DepthAnything3, NodeImageInput } from '../model/depth-anything-3.js';
import { FileStreamStore } from './store.js';

/** Options of {@link streamFrames} / `DepthAnything3.streamInference`. */
export interface NodeStreamOptions extends Omit<StreamOptions, 'store' | 'inference' | 'signal'> {
  /** Longest side before the multiple-of-14 step (default 504). */
  readonly processRes?: number;
  readonly processResMethod?: InferenceOptions['processResMethod'];
  /** Reference view of each chunk (default `saddle_balanced`, the reference's `ref_view_strategy`). */
  readonly refViewStrategy?: RefViewStrategy;
  readonly useRayPose?: boolean;
  readonly applyExifOrientation?: boolean;
  readonly maxPixels?: number;
  /**
   * Spill finished chunks here (created when missing) and continue from them on a rerun: a chunk
   * that finished is not computed again. The state is tied to the settings and `inputKey`; a
   * rerun with others is refused (`BAD_CONFIG`) unless `restart`.
   */
  readonly stateDir?: string;
  /** Discard an earlier state in `stateDir` and start over. */
  readonly restart?: boolean;
  /** What identifies the input (path, size, mtime, …), part of the state's settings. */
  readonly inputKey?: string;
  /** Extra settings the state is tied to (the outputs a caller writes). */
  readonly stateKey?: Readonly<Record<string, unknown>>;
  /** Chunk-level network progress (core's inference events, with the chunk). */
  readonly onInferenceProgress?: InferenceOptions['onProgress'];
  readonly signal?: AbortSignal;
}

/**
 * Streams `frames` through `model` (core's `streamInference`; see it for the algorithm), each
 * chunk's inputs decoded just before its network run. Yields each chunk, then the frames it hands
 * out; with `stateDir`, finished chunks are spilled there and a rerun continues after them.
 */
export async function* streamFrames(
  model: DepthAnything3,
  frames: AsyncIterable<NodeImageInput> | Iterable<NodeImageInput>,
  options: NodeStreamOptions = {},
): AsyncGenerator<StreamEvent, StreamSummary, undefined> {
  const store = options.stateDir ? await FileStreamStore.open(resolve(options.stateDir), fingerprint(model, options), { restart: options.restart }) : undefined;
  return yield* streamWithStore(model, frames, options, store);
}

function streamWithStore(model: DepthAnything3, frames: AsyncIterable<NodeImageInput> | Iterable<NodeImageInput>, options: NodeStreamOptions, store: FileStreamStore | undefined) {
  const { stateDir, restart, inputKey, stateKey, onInferenceProgress, processRes, processResMethod, refViewStrategy, useRayPose, applyExifOrientation, maxPixels, ...stream } = options;
  return streamInference<NodeImageInput>(
    (chunkFrames, { signal }) =>
      model.inference(chunkFrames, { processRes, processResMethod, refViewStrategy, useRayPose, applyExifOrientation, maxPixels, onProgress: onInferenceProgress ?? (() => {}), signal: signal as AbortSignal | undefined }),
    frames,
    { ...stream, store },
  );
}

function fingerprint(model: DepthAnything3, o: NodeStreamOptions): Record<string, unknown> {
  return {
    model: graphConfigDigest(model.config),
    dtype: model.dtype,
    processRes: o.processRes ?? 504,
    processResMethod: o.processResMethod ?? 'upper_bound_resize',
    refViewStrategy: o.refViewStrategy ?? 'saddle_balanced',
    useRayPose: !!o.useRayPose,
    chunkSize: o.chunkSize ?? STREAM_DEFAULTS.chunkSize,
    overlap: o.overlap ?? STREAM_DEFAULTS.overlap,
    align: o.align ?? {},
    pointCloud: o.pointCloud ?? true,
    sampleRatio: o.sampleRatio ?? STREAM_DEFAULTS.sampleRatio,
    confThresholdCoef: o.confThresholdCoef ?? STREAM_DEFAULTS.confThresholdCoef,
    seed: o.seed ?? STREAM_DEFAULTS.seed,
    input: o.inputKey ?? null,
    ...o.stateKey,
  };
}

/** Options of {@link streamToDirectory}. */
export interface StreamToDirectoryOptions extends Omit<NodeStreamOptions, 'stateDir' | 'include' | 'stateKey'> {
  /** Output folder (created when missing). */
  readonly dir: string;
  /**
   * Write `results_output/frame_<i>.npz` per frame (the reference's `save_depth_conf_result`,
   * default true): `image` [H,W,3] uint8, `depth` [H,W] (world units), `conf` [H,W] (conf − 1,
   * as the reference), `intrinsics` [3,3].
   */
  readonly saveDepthConf?: boolean;
  /** Called for each chunk as it is aligned (after its point cloud part is written). */
  readonly onChunk?: (chunk: StreamChunk) => void;
}

/** What {@link streamToDirectory} wrote. */
export interface StreamToDirectoryResult extends StreamSummary {
  readonly dir: string;
  /** Output files (absolute paths): the camera files, the combined point cloud; per-frame files are under `results_output/`. */
  readonly files: string[];
  /** The state folder (kept: a rerun finds every chunk finished). */
  readonly stateDir: string;
}

/**
 * Streams `frames` and writes what DA3-Streaming writes, into `dir`:
 * - `camera_poses.txt` (one camera→world 4×4 per frame, 16 numbers), `intrinsic.txt`
 *   (`fx fy cx cy`), `camera_poses.ply` (camera centres, ASCII);
 * - `pcd/<k>_pcd.ply` per chunk as it finishes (binary, xyz + RGB) and `pcd/combined_pcd.ply`;
 * - `results_output/frame_<i>.npz` per frame (unless `saveDepthConf: false`).
 *
 * Finished chunks are spilled to `dir/.da3-stream` (state, records, the latest chunk's overlap
 * maps): after a crash or Ctrl-C the same call continues after the last finished chunk (with
 * `restart` it starts over). Memory stays at one chunk whatever the number of frames.
 * @throws core's `StreamError` (what finished is kept), `BAD_CONFIG` for a state started with
 *   other settings, `IO` for filesystem failures
 */
export async function streamToDirectory(
  model: DepthAnything3,
  frames: AsyncIterable<NodeImageInput> | Iterable<NodeImageInput>,
  options: StreamToDirectoryOptions,
): Promise<StreamToDirectoryResult> {
  const { dir: outDir, saveDepthConf = true, onChunk, ...rest } = options;
  const dir = resolve(outDir);
  const stateDir = join(dir, '.da3-stream');
  const pcd = join(dir, 'pcd');
  const results = join(dir, 'results_output');
  const streamOptions: NodeStreamOptions = {
    ...rest,
    stateDir,
    stateKey: { outputs: { saveDepthConf } },
    include: { depth: saveDepthConf, conf: saveDepthConf, image: saveDepthConf },
  };
  const store = await FileStreamStore.open(stateDir, fingerprint(model, streamOptions), { restart: rest.restart });
  const gen = streamWithStore(model, frames, streamOptions, store);
  let summary: StreamSummary | undefined;
  let shortInput: StreamError | undefined;
  try {
    for (;;) {
      let next: IteratorResult<StreamEvent, StreamSummary>;
      try {
        next = await gen.next();
      } catch (error) {
        // A source that ended early: every frame that came was finished; write the files, then say so.
        if (error instanceof StreamError && error.finalized) {
          shortInput = error;
          break;
        }
        throw error;
      }
      if (next.done) {
        summary = next.value;
        break;
      }
      const e = next.value;
      if (e.type === 'chunk') {
        const c = e.chunk;
        if (c.points) {
          const head = new TextEncoder().encode(pointCloudPlyHeader(c.points.count));
          const body = pointCloudPlyBody(c.points.positions, c.points.colors);
          const bytes = new Uint8Array(head.length + body.length);
          bytes.set(head);
          bytes.set(body, head.length);
          await writeFileAtomic(join(pcd, `${c.index}_pcd.ply`), bytes);
        }
        onChunk?.(c);
      } else if (saveDepthConf) {
        const f = e.frame;
        const conf = new Float32Array(f.conf!.length);
        for (let i = 0; i < conf.length; i++) conf[i] = f.conf![i] - 1;
        await writeNpz(
          [
            ['image', { dtype: 'uint8', shape: [f.height, f.width, 3], data: f.image! }],
            ['depth', { dtype: 'float32', shape: [f.height, f.width], data: f.depth! }],
            ['conf', { dtype: 'float32', shape: [f.height, f.width], data: conf }],
            ['intrinsics', { dtype: 'float32', shape: [3, 3], data: f.intrinsics }],
          ],
          fileSink(join(results, `frame_${f.index}.npz`)),
        );
      }
    }
  } finally {
    // A failed write stops here: close the stream so its source (ffmpeg) ends too.
    if (!summary && !shortInput) await gen.return(undefined as never).catch(() => {});
  }
  const files = await writeCameraFiles(dir, store);
  if (rest.pointCloud !== false) files.push(await mergePointClouds(pcd, store.chunks().length));
  await store.dropTails();
  if (shortInput) throw shortInput;
  return { ...summary!, dir, files, stateDir };
}

/** Writes camera_poses.txt, intrinsic.txt and camera_poses.ply from the chunks' records, a line at a time. */
async function writeCameraFiles(dir: string, store: FileStreamStore): Promise<string[]> {
  const names = ['camera_poses.txt', 'intrinsic.txt', 'camera_poses.ply'];
  const sinks = names.map((n) => fileSink(join(dir, n)));
  try {
    const records = store.chunks();
    const count = records.reduce((n, r) => n + (r.emittedEnd - r.start), 0);
    const enc = new TextEncoder();
    await sinks[2].write(enc.encode(cameraPosesPlyHeader(count)));
    let expected = 0;
    for (const r of records) {
      if (r.start !== expected) throw new Da3Error('IO', `streamToDirectory: the state has no chunk handing out frame ${expected}`);
      const n = r.emittedEnd - r.start;
      const poses: string[] = [];
      const ks: string[] = [];
      const centres: string[] = [];
      for (let i = 0; i < n; i++) {
        const w2c = r.extrinsics.subarray(12 * i, 12 * i + 12);
        poses.push(`${cameraPosesLine(w2c)}\n`);
        ks.push(`${intrinsicLine(r.intrinsics.subarray(9 * i, 9 * i + 9))}\n`);
        centres.push(`${cameraPosesPlyLine(w2c)}\n`);
      }
      await sinks[0].write(enc.encode(poses.join('')));
      await sinks[1].write(enc.encode(ks.join('')));
      await sinks[2].write(enc.encode(centres.join('')));
      expected = r.emittedEnd;
    }
    for (const s of sinks) await s.close!();
  } catch (error) {
    for (const s of sinks) await s.abort?.();
    throw error;
  }
  return names.map((n) => join(dir, n));
}

/** The vertex count and body offset of a point-cloud PLY written by {@link streamToDirectory}. */
function plyBody(bytes: Uint8Array, path: string): { count: number; at: number } {
  const text = new TextDecoder('latin1').decode(bytes.subarray(0, Math.min(bytes.length, 512)));
  const end = text.indexOf('end_header\n');
  const m = /element vertex (\d+)/.exec(text);
  if (end < 0 || !m) throw new Da3Error('UNKNOWN_FORMAT', `streamToDirectory: ${path} is not a point-cloud PLY`);
  return { count: Number(m[1]), at: end + 'end_header\n'.length };
}

/** `pcd/combined_pcd.ply`: every chunk's points, one chunk file in memory at a time (the reference's `merge_ply_files`). */
async function mergePointClouds(pcd: string, chunks: number): Promise<string> {
  const out = join(pcd, 'combined_pcd.ply');
  const files = Array.from({ length: chunks }, (_, k) => join(pcd, `${k}_pcd.ply`));
  let total = 0;
  for (const f of files) {
    const fh = await open(f, 'r').catch((e) => Promise.reject(ioError('read', f, e)));
    try {
      const head = new Uint8Array(512);
      const { bytesRead } = await fh.read(head, 0, 512, 0);
      total += plyBody(head.subarray(0, bytesRead), f).count;
    } finally {
      await fh.close();
    }
  }
  const sink = fileSink(out);
  try {
    await sink.write(new TextEncoder().encode(pointCloudPlyHeader(total)));
    for (const f of files) {
      const bytes = new Uint8Array(await readFile(f));
      await sink.write(bytes.subarray(plyBody(bytes, f).at));
    }
    await sink.close!();
  } catch (error) {
    await sink.abort?.();
    throw error;
  }
  return out;
}

/** An input key for files: each one's resolved path, size and modification time. */
export async function inputKeyOf(paths: readonly string[]): Promise<string> {
  const parts: string[] = [];
  for (const p of paths) {
    const s = await stat(p).catch((e) => Promise.reject(ioError('read', p, e)));
    parts.push(`${resolve(p)}:${s.size}:${Math.round(s.mtimeMs)}`);
  }
  const { createHash } = await import('node:crypto');
  return createHash('sha256').update(parts.join('\n')).digest('hex').slice(0, 32);
}
