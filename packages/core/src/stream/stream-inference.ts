import { type AbortSignalLike, Da3Error, abortedError, isDa3Error } from '../errors.js';
import type { Da3Model } from '../pipeline/model.js';
import { type InferenceOptions, runInference } from '../pipeline/pipeline.js';
import type { Prediction } from '../prediction/prediction.js';
import type { ImageU8 } from '../preprocess/image.js';
import { type LoopChunkPair, type Sim3, type StreamAlignOptions, alignChunkOverlap, applySim3ToExtrinsics, composeSim3, identitySim3 } from './align/index.js';
import { type StreamLoopClosureOptions, type StreamLoopResult, type StreamLoopWindow, checkLoopClosure, resolveLoopFeatureLayer } from './loop-closure.js';
import { LoopStage, checkLoopFrames } from './loop-stage.js';
import { type StreamChunkRange, STREAM_DEFAULTS, checkChunking } from './plan.js';
import { type ChunkMaps, type StreamPointCloud, chunkPointCloud, chunkPointMaps } from './point-cloud.js';

/**
 * Runs the network on one chunk's frames and returns its {@link Prediction} (an any-view model:
 * `conf`, `extrinsics` and `intrinsics` are needed). The runtimes pass one that decodes their
 * inputs and picks the reference-view strategy.
 */
export type StreamChunkInference<Frame> = (
  frames: readonly Frame[],
  context: {
    /** The chunk; for a loop chunk `index` is the loop's and `start`/`end` are its windows' first and last frame + 1. */
    readonly chunk: StreamChunkRange;
    readonly signal?: AbortSignalLike;
    /** Set for a loop chunk (loop closure): the frames are window A's then window B's (the reference's `ref_view_strategy_loop` run). */
    readonly loop?: LoopChunkPair;
  },
) => Promise<Prediction>;

/** A finished frame, in the world frame of the first chunk. */
export interface StreamFrame {
  /** Index in the input sequence (0-based). */
  readonly index: number;
  /** The chunk whose prediction it comes from. */
  readonly chunk: number;
  readonly width: number;
  readonly height: number;
  /**
   * `[H, W]` z-depth in world units: the chunk's depth × its accumulated scale (the reference's
   * `depth *= s`). The first chunk's frames are the network's depth unchanged. `null` when
   * `include.depth` is false.
   */
  readonly depth: Float32Array | null;
  /** `[H, W]` confidence as the network returns it (≥ 1; the reference's files hold conf − 1). */
  readonly conf: Float32Array | null;
  /** `[H, W, 3]` the processed image. */
  readonly image: Uint8Array | null;
  /** `[3, 4]` world→camera, OpenCV axes, world = the first chunk's frame. */
  readonly extrinsics: Float32Array;
  /** `[3, 3]` pixels of the processed image. */
  readonly intrinsics: Float32Array;
}

/** A chunk that was run (or found finished in the store) and aligned. */
export interface StreamChunk extends StreamChunkRange {
  readonly width: number;
  readonly height: number;
  /** Chunk frame → world (the accumulated transforms; identity for the first chunk). */
  readonly toWorld: Sim3;
  /** Chunk frame → the previous chunk's frame, fitted on their overlap; `null` for the first chunk. */
  readonly relative: Sim3 | null;
  /** How the overlap fit went (`null` for the first chunk and resumed ones). */
  readonly alignment: StreamAlignmentInfo | null;
  /** Found finished in `options.store`: not run again, its frames not handed out again. */
  readonly resumed: boolean;
  /** Its share of the global point cloud (`null` when resumed or `pointCloud: false`). */
  readonly points: StreamPointCloud | null;
}

/** Diagnostics of a chunk's overlap alignment (`alignChunkOverlap`'s). */
export interface StreamAlignmentInfo {
  /** Pixels confident in both chunks, used in the fit. */
  readonly matchedPoints: number;
  /** The confidence threshold (conf − 1). */
  readonly confThreshold: number;
  /** Mean ‖prev − S(cur)‖ over those pixels, in the previous chunk's units. */
  readonly meanError: number;
  /** IRLS iterations run. */
  readonly iterations: number;
}

/**
 * What {@link streamInference} yields: each chunk once it is aligned, then the frames it hands
 * out, in frame order; with `loopClosure`, one `loops` event at the end carrying the corrected
 * transforms (apply them to what was handed out with `correctStreamFrame` / `correctStreamPoints`).
 */
export type StreamEvent =
  | { readonly type: 'chunk'; readonly chunk: StreamChunk }
  | { readonly type: 'frame'; readonly frame: StreamFrame }
  | { readonly type: 'loops'; readonly loops: StreamLoopResult };

/** What {@link streamInference} returns when the sequence is done. */
export interface StreamSummary {
  readonly frames: number;
  readonly chunks: number;
  /** Chunks found finished in the store (not run again). */
  readonly resumedChunks: number;
  readonly width: number;
  readonly height: number;
  /** The loop stage's result, with `loopClosure` (also yielded as a `loops` event). */
  readonly loopClosure?: StreamLoopResult;
}

/** The last `overlap` frames of a chunk, chunk-local: what aligning the next chunk needs. */
export interface StreamChunkTail extends ChunkMaps {
  /** Global index of its first frame. */
  readonly start: number;
}

/** What a store keeps of a finished chunk (small: no maps). */
export interface StreamChunkRecord extends StreamChunkRange {
  readonly width: number;
  readonly height: number;
  readonly toWorld: Sim3;
  readonly relative: Sim3 | null;
  /** Frames `[start, emittedEnd)` were handed out (from this chunk). */
  readonly emittedEnd: number;
  /** The sequence ended with this chunk (everything handed out). */
  readonly last: boolean;
  /** World cameras of the frames it handed out: `[n, 3, 4]` w2c and `[n, 3, 3]` K. */
  readonly extrinsics: Float32Array;
  readonly intrinsics: Float32Array;
}

/**
 * Where finished chunks go, for resuming after a crash (node: files beside the outputs). Called
 * after a chunk's events were consumed, so a chunk in the store had its outputs handed on.
 */
export interface StreamStore {
  /** The record of chunk `index` when it finished in an earlier run. */
  finished(index: number): StreamChunkRecord | undefined | Promise<StreamChunkRecord | undefined>;
  /** The tail saved with chunk `index` (asked for only for a chunk `finished` returned, not `last`). */
  tail(index: number): Promise<StreamChunkTail>;
  /** Keeps a finished chunk; `tail` is `null` once the chunk is the last (nothing follows it). */
  save(record: StreamChunkRecord, tail: StreamChunkTail | null): void | Promise<void>;
  /**
   * Loop closure: keeps chunk `index`'s loop window (called before `save` of that chunk). Without
   * it the windows stay in memory, and chunks resumed from the store have none (a loop that needs
   * one fails with `BAD_CONFIG`).
   */
  saveLoopWindow?(index: number, window: StreamLoopWindow): void | Promise<void>;
  /** The window `saveLoopWindow` kept for chunk `index` (`undefined` when none). */
  loopWindow?(index: number): StreamLoopWindow | undefined | Promise<StreamLoopWindow | undefined>;
  /** A finished loop stage of an earlier run (reused instead of running the loop chunks again). */
  loopResult?(): StreamLoopResult | undefined | Promise<StreamLoopResult | undefined>;
  /** Keeps the loop stage's result (after the sequential pass and the loop stage finished). */
  saveLoopResult?(result: StreamLoopResult): void | Promise<void>;
}

/** A progress event, one or more per chunk. */
export interface StreamProgress {
  readonly status: 'stream';
  /**
   * `infer`: a chunk's network run starts; `resumed`: a chunk was found finished in the store;
   * `finished`: a chunk's outputs were handed on (and saved); `loop`: loop chunk `chunk` of
   * `loopsTotal` starts its network run (`start`/`end`: its windows' first and last frame + 1);
   * `optimize`: the pose graph runs; `done`: the sequence is complete.
   */
  readonly stage: 'infer' | 'resumed' | 'finished' | 'loop' | 'optimize' | 'done';
  readonly chunk: number;
  readonly start: number;
  readonly end: number;
  /** Frames read from the source so far. */
  readonly framesRead: number;
  /** Frames handed out so far (this run and, resumed, earlier ones). */
  readonly framesDone: number;
  /** Chunks finished so far. */
  readonly chunksDone: number;
  /** Planned chunks, when `expectedFrames` tells the length. */
  readonly chunksTotal?: number;
  /** Loop chunks to run (stages `loop`, `optimize`). */
  readonly loopsTotal?: number;
  readonly elapsedMs: number;
}

/** Options of {@link streamInference} (the reference's `base_config.yaml` names in camelCase). */
export interface StreamOptions {
  /** Frames per chunk (default 120). */
  readonly chunkSize?: number;
  /** Frames two consecutive chunks share, aligned on (default 60; `1 ≤ overlap < chunkSize`). */
  readonly overlap?: number;
  /**
   * The overlap alignment (`method` sim3 | se3 | scale+se3, IRLS settings; the reference's
   * defaults). Confidences are passed as the network gives them (`confShift` 1 subtracts the 1).
   */
  readonly align?: StreamAlignOptions;
  /** Build each chunk's share of the point cloud (default true). */
  readonly pointCloud?: boolean;
  /** Share of the confident pixels kept in the point cloud (default 0.015). */
  readonly sampleRatio?: number;
  /** Confidence threshold = mean(conf − 1) × this, per chunk (default 0.75). */
  readonly confThresholdCoef?: number;
  /** Seed of the point-cloud subsampling (default 42; chunk k uses a seed derived from it and k). */
  readonly seed?: number;
  /** Which maps frames carry (default all); cameras always. Leave out what you do not keep. */
  readonly include?: { readonly depth?: boolean; readonly conf?: boolean; readonly image?: boolean };
  /**
   * How many frames the source should give (a video's frame count). When it ends earlier, the
   * frames that came are finished and then a {@link StreamError} `IO` says so.
   */
  readonly expectedFrames?: number;
  /** Finished chunks are kept here and, on a rerun, found instead of recomputed. */
  readonly store?: StreamStore;
  /** Inference options for a {@link Da3Model} (processRes, …); ignored with an inference function. */
  readonly inference?: Omit<InferenceOptions, 'signal' | 'extrinsics' | 'intrinsics'>;
  /**
   * Loop closure after the sequential pass (user-given pairs and/or detection on DA3's own
   * features — ours, not the reference's SALAD); see {@link StreamLoopClosureOptions}. Off by
   * default: without it the outputs are exactly those of the sequential pass.
   */
  readonly loopClosure?: StreamLoopClosureOptions;
  readonly onProgress?: (event: StreamProgress) => void;
  /** Stops between frames and chunks (`ABORTED`); finished chunks stay in the store. */
  readonly signal?: AbortSignalLike;
}

/**
 * A failure in the middle of a stream. Chunks that finished were handed on (and saved in the
 * store, when there is one): a rerun with the same store continues after them. `code` is the
 * cause's (`IO` for a source that failed or ended early, `ABORTED`, …).
 */
export class StreamError extends Da3Error {
  /** Frames read from the source. */
  readonly framesRead: number;
  /** Frames handed out (this run and resumed ones). */
  readonly framesDone: number;
  /** Chunks finished (this run and resumed ones). */
  readonly chunksDone: number;
  /** Every frame read was handed out (the source ended early, after the rest was finished). */
  readonly finalized: boolean;

  constructor(code: Da3Error['code'], message: string, details: { framesRead: number; framesDone: number; chunksDone: number; finalized: boolean }, options?: { cause?: unknown }) {
    super(code, message, options);
    this.name = 'StreamError';
    this.framesRead = details.framesRead;
    this.framesDone = details.framesDone;
    this.chunksDone = details.chunksDone;
    this.finalized = details.finalized;
  }
}

function checkNumber(name: string, v: number, ok: (v: number) => boolean, want: string): void {
  if (typeof v !== 'number' || !ok(v)) throw new Da3Error('BAD_VALUE', `streamInference: ${name} must be ${want}, got ${String(v)}`);
}

function slice(a: Float32Array, per: number, from: number, to: number): Float32Array {
  return a.slice(from * per, to * per);
}

/** Chunk-local maps of views `[from, to)` (copies: the chunk's prediction can be dropped). */
function mapsOf(p: ChunkMaps, from: number, to: number): ChunkMaps {
  const n = p.height * p.width;
  return {
    views: to - from,
    height: p.height,
    width: p.width,
    depth: slice(p.depth, n, from, to),
    conf: slice(p.conf, n, from, to),
    extrinsics: slice(p.extrinsics, 12, from, to),
    intrinsics: slice(p.intrinsics, 9, from, to),
    images: p.images.slice(from * n * 3, to * n * 3),
  };
}

interface Previous {
  readonly range: StreamChunkRange;
  readonly toWorld: Sim3;
  readonly relative: Sim3 | null;
  width: number;
  height: number;
  /** Loaded lazily for a resumed chunk. */
  tail: StreamChunkTail | null;
  emittedEnd: number;
  last: boolean;
  extrinsics: Float32Array;
  intrinsics: Float32Array;
}

/**
 * DA3-Streaming (the reference's `da3_streaming.py`, after VGGT-Long) in bounded memory: frames
 * arrive from an (async) iterable — a video decoder, a camera, a folder — and are run in chunks of
 * `chunkSize` frames, each starting `chunkSize − overlap` frames after the previous one. Every
 * chunk is aligned to the previous one by `alignChunkOverlap` on the overlap frames' point maps
 * (conf − 1 as weights, as the reference), the transforms are accumulated into chunk → world
 * (the first chunk's frame), and each frame is handed out once, from the latest chunk that
 * starts at or before it: depth × the chunk's scale, confidence, image, and the camera in the
 * world frame. Each chunk's share of the point cloud is subsampled by `sampleRatio` above
 * `confThresholdCoef × mean(conf − 1)`.
 *
 * Memory: at most `chunkSize` input frames, one chunk's prediction and the previous chunk's
 * `overlap` tail are held; whatever the caller keeps of the yielded events is the caller's.
 * With `chunkSize ≥` the number of frames there is one chunk, and the frames equal one
 * `inference` over all of them exactly.
 *
 * Loop closure (`loopClosure`) runs after the sequential pass, when every chunk is known: the
 * reference's loop list, loop chunks, Sim(3) constraints and pose graph. Frames were handed out
 * before it; the corrected chunk transforms and cameras come in a final `loops` event (and
 * `StreamSummary.loopClosure`), with `correctStreamFrame` / `correctStreamPoints` to re-apply them.
 *
 * @param model a {@link Da3Model} (frames are `ImageU8`, run with {@link runInference}) or an
 *   inference function over any frame type (the runtimes: paths, files, video frames)
 * @throws Da3Error `BAD_VALUE` for bad options (`overlap ≥ chunkSize`, …), before any frame is
 *   read; {@link StreamError} for failures after that (source, decoding, network, store,
 *   `ABORTED`, a source that ends before `expectedFrames`), `EMPTY_INPUT` for no frames
 */
export async function* streamInference<Frame = ImageU8>(
  model: Da3Model | StreamChunkInference<Frame>,
  frames: AsyncIterable<Frame> | Iterable<Frame>,
  options: StreamOptions = {},
): AsyncGenerator<StreamEvent, StreamSummary, undefined> {
  const chunkSize = options.chunkSize ?? STREAM_DEFAULTS.chunkSize;
  const overlap = options.overlap ?? STREAM_DEFAULTS.overlap;
  checkChunking(chunkSize, overlap);
  const sampleRatio = options.sampleRatio ?? STREAM_DEFAULTS.sampleRatio;
  const coef = options.confThresholdCoef ?? STREAM_DEFAULTS.confThresholdCoef;
  const seed = options.seed ?? STREAM_DEFAULTS.seed;
  checkNumber('sampleRatio', sampleRatio, (v) => v > 0 && v <= 1, 'in (0, 1]');
  checkNumber('confThresholdCoef', coef, (v) => Number.isFinite(v) && v >= 0, 'a finite number ≥ 0');
  checkNumber('seed', seed, Number.isSafeInteger, 'an integer');
  if (options.expectedFrames !== undefined) checkNumber('expectedFrames', options.expectedFrames, (v) => Number.isSafeInteger(v) && v >= 1, 'a positive integer');
  if (!frames || (typeof (frames as AsyncIterable<Frame>)[Symbol.asyncIterator] !== 'function' && typeof (frames as Iterable<Frame>)[Symbol.iterator] !== 'function')) {
    throw new Da3Error('BAD_VALUE', 'streamInference: frames must be an iterable or an async iterable');
  }
  // With a Da3Model the config is at hand: detection's layer is checked (and defaulted) here.
  const loopPlan = checkLoopClosure(typeof model === 'function' ? options.loopClosure : resolveLoopFeatureLayer(model.config, options.loopClosure), options.align);
  if (loopPlan && options.expectedFrames !== undefined) checkLoopFrames(loopPlan.pairs, options.expectedFrames);
  const include = { depth: options.include?.depth ?? true, conf: options.include?.conf ?? true, image: options.include?.image ?? true };
  const { store, signal } = options;
  const infer: StreamChunkInference<Frame> =
    typeof model === 'function'
      ? model
      : (chunkFrames) => runInference(model, chunkFrames as unknown as ImageU8[], { ...options.inference, signal: options.signal });
  const step = chunkSize - overlap;
  const started = Date.now();
  const chunksTotal = options.expectedFrames === undefined ? undefined : options.expectedFrames <= chunkSize ? 1 : Math.ceil((options.expectedFrames - overlap) / step);

  let framesRead = 0;
  let framesDone = 0;
  let chunksDone = 0;
  let resumedChunks = 0;
  let size: { width: number; height: number } | null = null;
  let prev: Previous | null = null;
  let buffer: Frame[] = [];
  let bufferStart = 0;
  // Loop closure: what each chunk leaves for the loop stage after the sequential pass.
  const loopStage = loopPlan
    ? new LoopStage<Frame>(loopPlan, infer, store, signal, (stage, k, start, end, loopsTotal) =>
        options.onProgress?.({ status: 'stream', stage, chunk: k, start, end, framesRead, framesDone, chunksDone, ...(chunksTotal ? { chunksTotal } : {}), loopsTotal, elapsedMs: Date.now() - started }),
      )
    : null;

  const progress = (stage: StreamProgress['stage'], range: StreamChunkRange) =>
    options.onProgress?.({ status: 'stream', stage, chunk: range.index, start: range.start, end: range.end, framesRead, framesDone, chunksDone, ...(chunksTotal ? { chunksTotal } : {}), elapsedMs: Date.now() - started });
  const fail = (error: unknown, finalized = false): StreamError => {
    if (error instanceof StreamError) return error;
    const code = isDa3Error(error) ? error.code : 'IO';
    const why = error instanceof Error ? error.message : String(error);
    const kept = chunksDone ? `; ${chunksDone} finished chunk(s) (${framesDone} frames) were kept${store ? ' and a rerun continues after them' : ''}` : '';
    return new StreamError(code, `streamInference: stopped after ${framesRead} frame(s) read: ${why}${kept}`, { framesRead, framesDone, chunksDone, finalized }, { cause: error });
  };
  const checkAbort = () => {
    if (signal?.aborted) throw abortedError(signal, 'streamInference');
  };

  /** A frame's world outputs from chunk-local maps (view `v`). */
  const frameOf = (index: number, chunk: number, maps: ChunkMaps, v: number, toWorld: Sim3): StreamFrame => {
    const n = maps.height * maps.width;
    const identity = chunk === 0;
    let depth: Float32Array | null = null;
    if (include.depth) {
      depth = maps.depth.slice(v * n, (v + 1) * n);
      if (!identity) for (let i = 0; i < n; i++) depth[i] *= toWorld.scale;
    }
    const w2c = maps.extrinsics.subarray(12 * v, 12 * v + 12);
    return {
      index,
      chunk,
      width: maps.width,
      height: maps.height,
      depth,
      conf: include.conf ? maps.conf.slice(v * n, (v + 1) * n) : null,
      image: include.image ? maps.images.slice(3 * v * n, 3 * (v + 1) * n) : null,
      extrinsics: identity ? w2c.slice() : Float32Array.from(applySim3ToExtrinsics(toWorld, w2c)),
      intrinsics: maps.intrinsics.slice(9 * v, 9 * v + 9),
    };
  };

  const record = (p: Previous): StreamChunkRecord => ({ ...p.range, width: p.width, height: p.height, toWorld: p.toWorld, relative: p.relative, emittedEnd: p.emittedEnd, last: p.last, extrinsics: p.extrinsics, intrinsics: p.intrinsics });
  const appendPoses = (p: Previous, emitted: StreamFrame[]) => {
    const e = new Float32Array(p.extrinsics.length + 12 * emitted.length);
    const k = new Float32Array(p.intrinsics.length + 9 * emitted.length);
    e.set(p.extrinsics);
    k.set(p.intrinsics);
    emitted.forEach((f, i) => {
      e.set(f.extrinsics, p.extrinsics.length + 12 * i);
      k.set(f.intrinsics, p.intrinsics.length + 9 * i);
    });
    p.extrinsics = e;
    p.intrinsics = k;
  };

  /** Runs (or resumes) one chunk and yields its events; `last` when the source has ended. */
  async function* runChunk(range: StreamChunkRange, chunkFrames: readonly Frame[], last: boolean): AsyncGenerator<StreamEvent, void, undefined> {
    const found = store ? await store.finished(range.index) : undefined;
    if (found) {
      if (found.start !== range.start || found.end !== range.end) {
        throw new Da3Error('BAD_CONFIG', `streamInference: the store's chunk ${range.index} covers frames [${found.start}, ${found.end}), this input gives [${range.start}, ${range.end}): the input or the chunking changed; start a new store`);
      }
      resumedChunks++;
      chunksDone++;
      framesDone = found.emittedEnd;
      size = { width: found.width, height: found.height };
      prev = { range, toWorld: found.toWorld, relative: found.relative, width: found.width, height: found.height, tail: null, emittedEnd: found.emittedEnd, last: found.last, extrinsics: found.extrinsics, intrinsics: found.intrinsics };
      loopStage?.noteChunk(prev, chunkFrames);
      progress('resumed', range);
      yield { type: 'chunk', chunk: { ...range, width: found.width, height: found.height, toWorld: found.toWorld, relative: found.relative, alignment: null, resumed: true, points: null } };
      return;
    }
    checkAbort();
    progress('infer', range);
    const prediction = await infer(chunkFrames, { chunk: range, signal });
    checkAbort();
    const views = range.end - range.start;
    if (prediction.views !== views) throw new Da3Error('BAD_SHAPE', `streamInference: chunk ${range.index} gave ${prediction.views} views for ${views} frames`);
    if (!prediction.conf || !prediction.extrinsics || !prediction.intrinsics) {
      throw new Da3Error('BAD_CONFIG', 'streamInference: streaming needs an any-view model (depth, confidence and cameras); this one predicts depth only');
    }
    if (size && (size.width !== prediction.width || size.height !== prediction.height)) {
      throw new Da3Error('BAD_SHAPE', `streamInference: chunk ${range.index} was processed at ${prediction.width}×${prediction.height}, earlier chunks at ${size.width}×${size.height}: every frame must have the same size`);
    }
    size = { width: prediction.width, height: prediction.height };
    const maps: ChunkMaps = { views, height: prediction.height, width: prediction.width, depth: prediction.depth, conf: prediction.conf, extrinsics: prediction.extrinsics, intrinsics: prediction.intrinsics, images: prediction.processedImages };
    let relative: Sim3 | null = null;
    let alignment: StreamAlignmentInfo | null = null;
    // The first chunk's frame is the world frame.
    let toWorld = identitySim3();
    const before = prev as Previous | null;
    if (before) {
      const tail = before.tail ?? (before.tail = await store!.tail(before.range.index));
      if (tail.views !== overlap || tail.width !== maps.width || tail.height !== maps.height) {
        throw new Da3Error('BAD_SHAPE', `streamInference: the saved tail of chunk ${before.range.index} is ${tail.views}×${tail.width}×${tail.height}, expected ${overlap}×${maps.width}×${maps.height}`);
      }
      const fit = alignChunkOverlap(
        { points: chunkPointMaps(tail, 0, overlap), conf: tail.conf, depth: tail.depth },
        { points: chunkPointMaps(maps, 0, overlap), conf: maps.conf.subarray(0, overlap * maps.height * maps.width), depth: maps.depth.subarray(0, overlap * maps.height * maps.width) },
        options.align,
      );
      relative = { scale: fit.scale, rotation: fit.rotation, translation: fit.translation };
      alignment = { matchedPoints: fit.matchedPoints, confThreshold: fit.confThreshold, meanError: fit.meanError, iterations: fit.iterations };
      toWorld = composeSim3(before.toWorld, relative);
    }
    const points =
      options.pointCloud === false
        ? null
        : chunkPointCloud(maps, range.index === 0 ? null : toWorld, { sampleRatio, confThresholdCoef: coef, seed: (seed ^ Math.imul(range.index + 1, 0x9e3779b1)) >>> 0 });
    yield { type: 'chunk', chunk: { ...range, width: maps.width, height: maps.height, toWorld, relative, alignment, resumed: false, points } };
    const ownedEnd = last ? range.end : range.end - overlap;
    const current: Previous = { range, toWorld, relative, width: maps.width, height: maps.height, tail: null, emittedEnd: range.start, last, extrinsics: new Float32Array(0), intrinsics: new Float32Array(0) };
    const emitted: StreamFrame[] = [];
    for (let g = range.start; g < ownedEnd; g++) {
      const frame = frameOf(g, range.index, maps, g - range.start, toWorld);
      emitted.push({ ...frame, depth: null, conf: null, image: null });
      yield { type: 'frame', frame };
      framesDone = g + 1;
    }
    appendPoses(current, emitted);
    current.emittedEnd = ownedEnd;
    current.tail = last ? null : { start: range.end - overlap, ...mapsOf(maps, views - overlap, views) };
    await loopStage?.keepWindow(range, (from, to) => mapsOf(maps, from, to), prediction, views);
    loopStage?.noteChunk(current, chunkFrames);
    await store?.save(record(current), current.tail);
    prev = current;
    chunksDone++;
    progress('finished', range);
  }

  /** The source ended right after a full chunk: that chunk is the last, hand out its overlap. */
  async function* finishPrevious(p: Previous): AsyncGenerator<StreamEvent, void, undefined> {
    if (p.last) return;
    const tail = p.tail ?? (p.tail = await store!.tail(p.range.index));
    const emitted: StreamFrame[] = [];
    for (let g = p.emittedEnd; g < p.range.end; g++) {
      const frame = frameOf(g, p.range.index, tail, g - tail.start, p.toWorld);
      emitted.push({ ...frame, depth: null, conf: null, image: null });
      yield { type: 'frame', frame };
      framesDone = g + 1;
    }
    appendPoses(p, emitted);
    p.emittedEnd = p.range.end;
    p.last = true;
    loopStage?.noteChunk(p, null);
    await store?.save(record(p), null);
    // No second `finished` event for the chunk: `done` follows.
  }

  let chunkIndex = 0;
  let loopClosure: StreamLoopResult | undefined;
  try {
    const iterator = Symbol.asyncIterator in (frames as object) ? (frames as AsyncIterable<Frame>)[Symbol.asyncIterator]() : (frames as Iterable<Frame>)[Symbol.iterator]();
    try {
      for (;;) {
        checkAbort();
        let next: IteratorResult<Frame>;
        try {
          next = await iterator.next();
        } catch (error) {
          if (signal?.aborted) throw abortedError(signal, 'streamInference');
          throw new Da3Error(isDa3Error(error) ? error.code : 'IO', `frame ${framesRead} could not be read: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
        }
        if (next.done) break;
        const ended = prev as Previous | null;
        if (ended?.last && buffer.length >= overlap) {
          throw new Da3Error('BAD_CONFIG', `streamInference: the store says the input ended at frame ${ended.range.end}, but this input goes on: start a new store`);
        }
        buffer.push(next.value);
        framesRead++;
        if (buffer.length === chunkSize) {
          const range = { index: chunkIndex++, start: bufferStart, end: bufferStart + chunkSize };
          yield* runChunk(range, buffer, false);
          buffer = buffer.slice(step);
          bufferStart += step;
        }
      }
    } finally {
      // Stops a video decoder when we stop early.
      await (iterator as AsyncIterator<Frame>).return?.();
    }
    if (framesRead === 0) throw new Da3Error('EMPTY_INPUT', 'streamInference: the source gave no frames');
    const p = prev as Previous | null;
    if (p && buffer.length <= overlap) yield* finishPrevious(p);
    else {
      const range = { index: chunkIndex++, start: bufferStart, end: bufferStart + buffer.length };
      yield* runChunk(range, buffer, true);
      const last = prev as Previous | null;
      // A resumed final chunk that had not yet been marked last.
      if (last && !last.last) yield* finishPrevious(last);
    }
    buffer = [];
    if (loopStage && prev) {
      loopClosure = await loopStage.run(framesRead, size);
      yield { type: 'loops', loops: loopClosure };
    }
    const end = prev as Previous | null;
    if (end) progress('done', end.range);
  } catch (error) {
    throw fail(error);
  }
  if (options.expectedFrames !== undefined && framesRead < options.expectedFrames) {
    throw new StreamError(
      'IO',
      `streamInference: the source ended after ${framesRead} of ${options.expectedFrames} expected frames; the ${framesRead} frames that came were finished`,
      { framesRead, framesDone, chunksDone, finalized: true },
    );
  }
  return { frames: framesRead, chunks: chunksDone, resumedChunks, width: size!.width, height: size!.height, ...(loopClosure ? { loopClosure } : {}) };
}
