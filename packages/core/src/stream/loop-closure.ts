/**
 * Loop closure inside DA3-Streaming (the reference's `da3_streaming.py` after its sequential pass):
 * the options of `streamInference`'s `loopClosure`, the loop windows kept while the stream runs,
 * the result handed to the caller, and the helpers that re-apply the corrected chunk transforms to
 * frames and points that were already handed out. The loop stage itself (loop-chunk inference,
 * alignment, pose graph) runs in `stream-inference.ts`, which owns the model and the store.
 */
import type { ModelConfig } from '../config/schema.js';
import { Da3Error } from '../errors.js';
import {
  type ChunkRange,
  type LoopChunkPair,
  type LoopClosure,
  type LoopConstraint,
  type LoopDetectionOptions,
  type PoseGraphOptions,
  type Sim3,
  type StreamAlignOptions,
  applySim3ToExtrinsics,
  applySim3ToPoints,
  composeSim3,
  getFrameRange,
  identitySim3,
  invertSim3,
} from './align/index.js';
import type { ChunkMaps, StreamPointCloud } from './point-cloud.js';

/** The reference's `Model.loop_chunk_size` (`configs/base_config.yaml`): 20 frames per loop window. */
export const STREAM_LOOP_DEFAULTS = Object.freeze({ loopChunkSize: 20 });

/**
 * Automatic loop detection — **ours, not the reference's**. The reference retrieves loop pairs
 * with SALAD descriptors (DINOv2 + SALAD aggregation), which da3js does not ship (see
 * docs/streaming-alignment.md). Here each frame's descriptor is `poolFrameDescriptors` over DA3's
 * own backbone feature `feat_<featureLayer>` (mean of the patch tokens, L2-normalised), taken from
 * the chunk that hands the frame out, and the pairs come from `findLoopClosures` (the reference's
 * retrieval step: top-k, threshold, minimum gap, NMS). Its similarity scale is not SALAD's: tune
 * `similarityThreshold` (default 0.85 as the reference) for your footage.
 *
 * The graph must export that layer (`exportFeatLayers`), and the layer must come before the
 * reference-view reorder (`layer < config.backbone.refViewSelectionLayer`, i.e. `altStart − 1`)
 * unless the graph's strategy is `first`: later layers are in the graph's working view order.
 */
export interface StreamLoopDetectOptions extends LoopDetectionOptions {
  /** Backbone block whose exported feature is pooled (default: the lowest one the prediction carries). */
  readonly featureLayer?: number;
}

/**
 * `streamInference`'s loop closure. After the sequential pass, frame pairs that show the same
 * place (given in `pairs` and/or found by `detect`) become loop constraints as in the reference:
 * `processLoopList` + `removeDuplicates` → for each pair a "loop chunk" of the frames of both
 * windows is run through the model → its first window aligned to chunk A, its second to chunk B
 * (`alignChunkOverlap`) → `computeSim3Ab` → `optimizeSim3PoseGraph` over the sequential
 * transforms and those constraints. The corrected transforms come back in a `loops` event and in
 * the summary ({@link StreamLoopResult}); frames and points handed out earlier are corrected with
 * {@link correctStreamFrame} / {@link correctStreamPoints}.
 *
 * Memory: with `pairs` only, each chunk keeps the chunk-local maps and input frames of the loop
 * windows it holds (`loopChunkSize` frames around each pair frame): bounded by the number of
 * pairs. With `detect`, every chunk's maps and every input frame are kept until the loop stage (in
 * the store when it has `saveLoopWindow`, else in memory): use it for sequences that fit.
 */
export interface StreamLoopClosureOptions {
  /** Frame index pairs `[a, b]` (0-based, in the input sequence) that show the same place. */
  readonly pairs?: readonly (readonly [number, number])[];
  /** Find pairs from DA3's own features (ours, see {@link StreamLoopDetectOptions}); default off. */
  readonly detect?: boolean | StreamLoopDetectOptions;
  /** `loop_chunk_size`: frames in each of the two windows of a loop chunk (default 20; ≥ 2, even). */
  readonly loopChunkSize?: number;
  /** How the loop chunk's halves are aligned to chunks A and B (default: `streamInference`'s `align`). */
  readonly align?: StreamAlignOptions;
  /** `Loop.SIM3_Optimizer` (max iterations 30, λ₀ 1e-6). */
  readonly poseGraph?: PoseGraphOptions;
}

/** One loop constraint, as the loop stage built it. */
export interface StreamLoop {
  /** The frame pair it came from (`[a, b]`, as given or detected: later frame first). */
  readonly frames: readonly [number, number];
  /** Chunks and frame windows (`processLoopList`). */
  readonly pair: LoopChunkPair;
  /** Loop chunk → chunk A (fitted on window A). */
  readonly toA: Sim3;
  /** Loop chunk → chunk B (fitted on window B). */
  readonly toB: Sim3;
  /** `{ i: chunkA, j: chunkB, sim: toB ∘ toA⁻¹ }`: chunk A's frame into chunk B's. */
  readonly constraint: LoopConstraint;
  /** Mean ‖chunk − S(loop)‖ of the two fits, in chunk A's and chunk B's units. */
  readonly meanErrorA: number;
  readonly meanErrorB: number;
}

/** What the loop stage gives the caller (a `loops` event and `StreamSummary.loopClosure`). */
export interface StreamLoopResult {
  /** Frames in the sequence. */
  readonly frames: number;
  /** The frame pairs handed to `processLoopList`: the given ones, then the detected ones. */
  readonly framePairs: readonly (readonly [number, number])[];
  /** Pairs found by detection (empty without `detect`). */
  readonly detected: readonly LoopClosure[];
  /** The constraints that survived `removeDuplicates`, in order. */
  readonly loops: readonly StreamLoop[];
  /** The pose graph's input: S_k maps chunk k+1 into chunk k (the streamed `relative`s). */
  readonly sequential: readonly Sim3[];
  /** Its output (equal to `sequential` when there is no constraint). */
  readonly optimized: readonly Sim3[];
  /** The optimiser's cost history and final cost (`null` without constraints). */
  readonly poseGraph: { readonly costHistory: readonly number[]; readonly finalCost: number; readonly iterations: number } | null;
  /** Corrected chunk → world (the first chunk's frame), per chunk. */
  readonly toWorld: readonly Sim3[];
  /**
   * Per chunk: world as streamed → corrected world (`toWorld_new ∘ toWorld_old⁻¹`; identity for
   * chunk 0 and when nothing changed). Apply it to what chunk k handed out.
   */
  readonly corrections: readonly Sim3[];
  /** `[frames, 3, 4]` corrected world→camera of every frame (OpenCV axes). */
  readonly extrinsics: Float32Array;
  /** `[frames, 3, 3]` intrinsics (pixels of the processed image), unchanged. */
  readonly intrinsics: Float32Array;
  /** `[frames]` the chunk each frame was handed out from (its correction). */
  readonly frameChunks: Int32Array;
}

/** A chunk's kept loop window: chunk-local maps of frames `[start, start + views)` and, with detection, descriptors. */
export interface StreamLoopWindow extends ChunkMaps {
  /** Global index of its first frame. */
  readonly start: number;
  /** `[views, dims]` unit descriptors of these frames (detection), else `null`. */
  readonly descriptors: Float32Array | null;
}

/** Validated loop options. @internal */
export interface LoopPlan {
  readonly pairs: readonly (readonly [number, number])[];
  readonly detect: StreamLoopDetectOptions | null;
  readonly halfWindow: number;
  readonly align: StreamAlignOptions | undefined;
  readonly poseGraph: PoseGraphOptions | undefined;
}

/**
 * Checks `loopClosure` before any frame is read.
 * @throws Da3Error `BAD_VALUE` for pairs that are not two non-negative integers, a frame paired
 *   with itself, a bad `loopChunkSize`, a bad `featureLayer`, or neither `pairs` nor `detect`
 */
export function checkLoopClosure(o: StreamLoopClosureOptions | undefined, align: StreamAlignOptions | undefined): LoopPlan | null {
  if (o === undefined) return null;
  const where = 'streamInference: loopClosure';
  if (typeof o !== 'object' || o === null) throw new Da3Error('BAD_VALUE', `${where} must be an object, got ${String(o)}`);
  const pairs = o.pairs ?? [];
  if (!Array.isArray(pairs)) throw new Da3Error('BAD_VALUE', `${where}.pairs must be an array of [a, b] frame index pairs`);
  pairs.forEach((p, k) => {
    if (!Array.isArray(p) || p.length !== 2 || !p.every((v) => Number.isSafeInteger(v) && v >= 0)) {
      throw new Da3Error('BAD_VALUE', `${where}.pairs[${k}] must be two non-negative integer frame indices, got ${JSON.stringify(p)}`);
    }
    if (p[0] === p[1]) throw new Da3Error('BAD_VALUE', `${where}.pairs[${k}] pairs frame ${p[0]} with itself`);
  });
  const detect = o.detect === true ? {} : o.detect ? o.detect : null;
  if (o.detect !== undefined && typeof o.detect !== 'boolean' && (typeof o.detect !== 'object' || o.detect === null)) {
    throw new Da3Error('BAD_VALUE', `${where}.detect must be a boolean or an options object`);
  }
  if (detect?.featureLayer !== undefined && !(Number.isSafeInteger(detect.featureLayer) && detect.featureLayer >= 0)) {
    throw new Da3Error('BAD_VALUE', `${where}.detect.featureLayer must be a non-negative integer, got ${String(detect.featureLayer)}`);
  }
  if (!pairs.length && !detect) throw new Da3Error('BAD_VALUE', `${where} needs pairs or detect`);
  const size = o.loopChunkSize ?? STREAM_LOOP_DEFAULTS.loopChunkSize;
  if (!Number.isSafeInteger(size) || size < 2 || size % 2) throw new Da3Error('BAD_VALUE', `${where}.loopChunkSize must be an even integer ≥ 2, got ${String(size)}`);
  return { pairs: pairs.map((p) => [p[0], p[1]] as const), detect, halfWindow: size / 2, align: o.align ?? align, poseGraph: o.poseGraph };
}

/**
 * The frames `[lo, hi)` of a chunk that its loop windows cover: the union of
 * `getFrameRange(chunk, f, halfWindow)` over the pair frames it holds (`start ≤ f ≤ end`, as
 * `findChunkIndex`), or the whole chunk with detection; `null` when none. @internal
 */
export function loopWindowRange(range: ChunkRange, frames: Iterable<number>, halfWindow: number, whole: boolean): ChunkRange | null {
  if (whole) return range;
  let lo = Number.POSITIVE_INFINITY;
  let hi = Number.NEGATIVE_INFINITY;
  for (const f of frames) {
    if (f < range[0] || f > range[1]) continue;
    const [a, b] = getFrameRange(range, f, halfWindow);
    lo = Math.min(lo, a);
    hi = Math.max(hi, b);
  }
  return lo < hi ? [lo, hi] : null;
}

/** Per chunk: streamed world → corrected world. @internal */
export function loopCorrections(before: readonly Sim3[], after: readonly Sim3[], changed: boolean): Sim3[] {
  return before.map((b, k) => (k === 0 || !changed ? identitySim3() : composeSim3(after[k], invertSim3(b))));
}

/** Chunk → world from the sequential transforms (chunk 0 is the world). @internal */
export function chainToWorld(sequential: readonly Sim3[]): Sim3[] {
  const out: Sim3[] = [identitySim3()];
  for (const s of sequential) out.push(composeSim3(out[out.length - 1], s));
  return out;
}

/**
 * A frame handed out before the loop stage, corrected: its camera from `result.extrinsics`, its
 * depth × its chunk's correction scale (depth is in world units). Confidence, image and
 * intrinsics are unchanged. Returns a new frame (maps copied when scaled).
 * @throws Da3Error `OUT_OF_RANGE` for a frame the result does not cover
 */
export function correctStreamFrame<F extends { readonly index: number; readonly chunk: number; readonly depth: Float32Array | null; readonly extrinsics: Float32Array }>(frame: F, result: StreamLoopResult): F {
  if (!Number.isSafeInteger(frame.index) || frame.index < 0 || frame.index >= result.frames || result.frameChunks[frame.index] !== frame.chunk) {
    throw new Da3Error('OUT_OF_RANGE', `correctStreamFrame: frame ${frame.index} (chunk ${frame.chunk}) is not one this loop result covers`);
  }
  const s = result.corrections[frame.chunk].scale;
  let depth = frame.depth;
  if (depth && s !== 1) {
    depth = depth.slice();
    for (let i = 0; i < depth.length; i++) depth[i] *= s;
  }
  return { ...frame, depth, extrinsics: result.extrinsics.slice(12 * frame.index, 12 * frame.index + 12) };
}

/**
 * A chunk's share of the point cloud (world frame, as streamed) moved by `correction` (the
 * chunk's entry of {@link StreamLoopResult.corrections}): `p' = s·R·p + t`, float64 maths stored
 * as float32. Colours and counts are unchanged.
 */
export function correctStreamPoints(points: StreamPointCloud, correction: Sim3): StreamPointCloud {
  return { ...points, positions: applySim3ToPoints(correction, points.positions) };
}

/** A streamed world→camera moved by a world correction. @internal */
export function correctExtrinsics(correction: Sim3, w2c: ArrayLike<number>): Float32Array {
  return Float32Array.from(applySim3ToExtrinsics(correction, w2c));
}

/**
 * Loop options with detection's feature layer made explicit for a model, so a runtime knows which
 * `exportFeatLayers` to request: by default the last backbone block before the reference-view
 * choice (`refViewSelectionLayer − 1`; the last block when there is none), whose exported features
 * are in the input's frame order. Options without detection come back unchanged.
 * @throws Da3Error `BAD_VALUE` for a layer at or after the reference-view choice (its views are in
 *   the graph's working order) or past the backbone's depth
 */
export function resolveLoopFeatureLayer(config: ModelConfig, o: StreamLoopClosureOptions | undefined): StreamLoopClosureOptions | undefined {
  if (!o?.detect) return o;
  const detect = o.detect === true ? {} : o.detect;
  const net = config.kind === 'NestedDepthAnything3Net' ? config.anyview : config;
  const limit = net.backbone.refViewSelectionLayer ?? net.backbone.depth;
  const layer = detect.featureLayer ?? Math.max(0, limit - 1);
  if (Number.isSafeInteger(layer) && layer >= limit) {
    throw new Da3Error('BAD_VALUE', `streamInference: loopClosure.detect.featureLayer ${layer} is at or after block ${limit}${net.backbone.refViewSelectionLayer === null ? ' (the backbone\'s depth)' : ', where the reference view is chosen and views are reordered'}; use a layer below ${limit}`);
  }
  return { ...o, detect: { ...detect, featureLayer: layer } };
}
