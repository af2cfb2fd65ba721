/**
 * DA3-Streaming on Node: core's `streamInference` with this package's model (inputs decoded per
 * chunk, the reference-view strategy chosen), finished chunks spilled to a state folder and found
 * there after a crash, and {@link streamToDirectory}, which writes the reference's outputs.
 */
import { open, readFile, readdir, rm, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import {
  Da3Error,
  type InferenceOptions,
  type RefViewStrategy,
  type StreamChunk,
  type StreamEvent,
  type StreamLoopClosureOptions,
  type StreamLoopResult,
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
  correctStreamPoints,
  resolveLoopFeatureLayer,
  streamInference,
} from '@da3js/core';
import { readNpz, writeNpz } from '@da3js/exporters';
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
  const { stateDir, restart, inputKey, stateKey, onInferenceProgress, processRes, processResMethod, refViewStrategy, useRayPose, applyExifOrientation, maxPixels, loopClosure: loopOptions, ...stream } = options;
  const loopClosure = loopOptionsFor(model, loopOptions);
  const detectLayer = loopClosure?.detect && typeof loopClosure.detect === 'object' ? loopClosure.detect.featureLayer : undefined;
  const exportFeatLayers = detectLayer === undefined ? undefined : [detectLayer];
  return streamInference<NodeImageInput>(
    (chunkFrames, { signal }) =>
      model.inference(chunkFrames, { processRes, processResMethod, refViewStrategy, useRayPose, applyExifOrientation, maxPixels, exportFeatLayers, onProgress: onInferenceProgress ?? (() => {}), signal: signal as AbortSignal | undefined }),
    frames,
    { ...stream, ...(loopClosure ? { loopClosure } : {}), store },
  );
}

/** Loop options with detection's feature layer for this model (core's `resolveLoopFeatureLayer`). */
function loopOptionsFor(model: DepthAnything3, o: StreamLoopClosureOptions | undefined): StreamLoopClosureOptions | undefined {
  return resolveLoopFeatureLayer(model.config, o);
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
    // Only with loop closure, so states started before it existed still match.
    ...(o.loopClosure ? { loopClosure: loopOptionsFor(model, o.loopClosure) } : {}),
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
 *
 * With `loopClosure`, as the reference re-writes its outputs after the pose graph: the chunks'
 * clouds and per-frame files are first written into the state folder (`pcd/`, `frames/`), and once
 * the loop stage is done every output is written corrected (each file atomically, from those
 * uncorrected copies, so a crash in between is redone the same way on the rerun); the loop stage's
 * result is kept (`loops.json`), so a rerun neither recomputes chunks nor loop chunks.
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
  const loops = !!rest.loopClosure;
  // With loop closure, what is streamed goes to the state first and is corrected at the end.
  const rawPcd = loops ? join(stateDir, 'pcd') : pcd;
  const rawResults = loops ? join(stateDir, 'frames') : results;
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
          await writeFileAtomic(join(rawPcd, `${c.index}_pcd.ply`), bytes);
        }
        onChunk?.(c);
      } else if (e.type === 'frame' && saveDepthConf) {
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
          fileSink(join(rawResults, `frame_${f.index}.npz`)),
        );
      }
    }
  } finally {
    // A failed write stops here: close the stream so its source (ffmpeg) ends too.
    if (!summary && !shortInput) await gen.return(undefined as never).catch(() => {});
  }
  const loopResult = summary?.loopClosure ?? (loops ? await store.loopResult() : undefined);
  if (loopResult) await applyLoopResult(loopResult, { stateDir, rawPcd, pcd, rawResults, results, pointCloud: rest.pointCloud !== false });
  const files = await writeCameraFiles(dir, store, loopResult);
  if (rest.pointCloud !== false) files.push(await mergePointClouds(pcd, store.chunks().length));
  await store.dropTails();
  if (loopResult) await store.dropLoopWindows();
  if (shortInput) throw shortInput;
  return { ...summary!, dir, files, stateDir };
}

/**
 * Writes the outputs corrected by the loop stage from the uncorrected copies in the state: each
 * chunk's cloud moved by its correction (`pcd/<k>_pcd.ply`), each frame's depth × its chunk's
 * correction scale (`results_output/frame_<i>.npz`), every file atomically. Idempotent: a rerun
 * after a crash in the middle writes the same files again. The copies are removed at the end.
 */
async function applyLoopResult(
  r: StreamLoopResult,
  at: { stateDir: string; rawPcd: string; pcd: string; rawResults: string; results: string; pointCloud: boolean },
): Promise<void> {
  const done = join(at.stateDir, 'loops_applied');
  if (await stat(done).then(() => true, () => false)) return;
  if (at.pointCloud) {
    for (let k = 0; k < r.corrections.length; k++) {
      const from = join(at.rawPcd, `${k}_pcd.ply`);
      const bytes = new Uint8Array(await readFile(from).catch((e) => Promise.reject(ioError('read', from, e))));
      const { count, at: body } = plyBody(bytes, from);
      const view = new DataView(bytes.buffer, bytes.byteOffset + body, 15 * count);
      const positions = new Float32Array(3 * count);
      const colors = new Uint8Array(3 * count);
      for (let i = 0; i < count; i++) {
        for (let j = 0; j < 3; j++) {
          positions[3 * i + j] = view.getFloat32(15 * i + 4 * j, true);
          colors[3 * i + j] = view.getUint8(15 * i + 12 + j);
        }
      }
      const moved = correctStreamPoints({ count, positions, colors, confThreshold: 0, validPoints: count }, r.corrections[k]);
      const head = new TextEncoder().encode(pointCloudPlyHeader(count));
      const out = new Uint8Array(head.length + 15 * count);
      out.set(head);
      out.set(pointCloudPlyBody(moved.positions, colors), head.length);
      await writeFileAtomic(join(at.pcd, `${k}_pcd.ply`), out);
    }
  }
  const names = await readdir(at.rawResults).catch(() => [] as string[]);
  for (const name of names) {
    const m = /^frame_(\d+)\.npz$/.exec(name);
    if (!m) continue;
    const index = Number(m[1]);
    const from = join(at.rawResults, name);
    const arrays = readNpz(new Uint8Array(await readFile(from).catch((e) => Promise.reject(ioError('read', from, e)))));
    const s = r.corrections[r.frameChunks[index]]?.scale;
    if (s === undefined) throw new Da3Error('IO', `streamToDirectory: ${from} is not a frame of this stream's loop result`);
    const depth = Float32Array.from(arrays.depth.data as Float32Array);
    if (s !== 1) for (let i = 0; i < depth.length; i++) depth[i] *= s;
    await writeNpz(
      [
        ['image', arrays.image],
        ['depth', { ...arrays.depth, data: depth }],
        ['conf', arrays.conf],
        ['intrinsics', arrays.intrinsics],
      ],
      fileSink(join(at.results, name)),
    );
  }
  await writeFileAtomic(done, '');
  await rm(at.rawPcd, { recursive: true, force: true });
  await rm(at.rawResults, { recursive: true, force: true });
}

/**
 * Writes camera_poses.txt, intrinsic.txt and camera_poses.ply from the chunks' records, a line at
 * a time; with a loop result, its corrected cameras instead.
 */
async function writeCameraFiles(dir: string, store: FileStreamStore, loops?: StreamLoopResult): Promise<string[]> {
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
        const w2c = loops ? loops.extrinsics.subarray(12 * (r.start + i), 12 * (r.start + i + 1)) : r.extrinsics.subarray(12 * i, 12 * i + 12);
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
