/**
 * The loop stage of `streamInference` (the reference's `process_long_sequence` after its chunk
 * loop): what it keeps of each chunk while the stream runs (range, transforms, emitted cameras, the
 * loop windows' chunk-local maps and input frames), then the loop list, the loop chunks' network
 * runs and fits, the constraints, the pose graph and the corrected transforms and cameras.
 * @internal
 */
import { type AbortSignalLike, Da3Error, abortedError } from '../errors.js';
import type { Prediction } from '../prediction/prediction.js';
import {
  type ChunkRange,
  type LoopClosure,
  type LoopConstraint,
  type Sim3,
  alignChunkOverlap,
  cloneSim3,
  computeSim3Ab,
  findChunkIndex,
  findLoopClosures,
  optimizeSim3PoseGraph,
  poolFrameDescriptors,
  processLoopList,
  removeDuplicates,
} from './align/index.js';
import {
  type LoopPlan,
  type StreamLoop,
  type StreamLoopResult,
  type StreamLoopWindow,
  chainToWorld,
  correctExtrinsics,
  loopCorrections,
  loopWindowRange,
} from './loop-closure.js';
import type { StreamChunkRange } from './plan.js';
import { type ChunkMaps, chunkPointMaps } from './point-cloud.js';
import type { StreamChunkInference, StreamStore } from './stream-inference.js';

/** What a finished (or resumed) chunk leaves for the loop stage. */
export interface LoopChunkNote {
  readonly range: StreamChunkRange;
  readonly toWorld: Sim3;
  readonly relative: Sim3 | null;
  /** World cameras of the frames it handed out, from `range.start`. */
  readonly extrinsics: Float32Array;
  readonly intrinsics: Float32Array;
}

/** @internal */
export class LoopStage<Frame> {
  private readonly ranges: ChunkRange[] = [];
  private readonly relatives: Sim3[] = [];
  private readonly toWorlds: Sim3[] = [];
  private readonly chunkPoses = new Map<number, { start: number; extrinsics: Float32Array; intrinsics: Float32Array }>();
  private readonly windows = new Map<number, StreamLoopWindow>();
  private readonly loopFrames = new Map<number, Frame>();
  private readonly pairFrames: Set<number>;

  constructor(
    private readonly plan: LoopPlan,
    private readonly infer: StreamChunkInference<Frame>,
    private readonly store: StreamStore | undefined,
    private readonly signal: AbortSignalLike | undefined,
    private readonly progress: (stage: 'loop' | 'optimize', k: number, start: number, end: number, total: number) => void,
  ) {
    this.pairFrames = new Set(plan.pairs.flat());
  }

  private checkAbort(): void {
    if (this.signal?.aborted) throw abortedError(this.signal, 'streamInference');
  }

  private windowRange(range: StreamChunkRange): ChunkRange | null {
    return loopWindowRange([range.start, range.end], this.pairFrames, this.plan.halfWindow, !!this.plan.detect);
  }

  /**
   * Keeps what the loop stage needs of a chunk (again each time its emitted cameras grow) and,
   * with its input frames, those of its loop windows.
   */
  noteChunk(p: LoopChunkNote, chunkFrames: readonly Frame[] | null): void {
    const k = p.range.index;
    this.ranges[k] = [p.range.start, p.range.end];
    this.toWorlds[k] = p.toWorld;
    if (k > 0) this.relatives[k - 1] = p.relative!;
    this.chunkPoses.set(k, { start: p.range.start, extrinsics: p.extrinsics, intrinsics: p.intrinsics });
    if (!chunkFrames) return;
    const w = this.windowRange(p.range);
    if (w) for (let f = w[0]; f < w[1]; f++) this.loopFrames.set(f, chunkFrames[f - p.range.start]);
  }

  /**
   * A run chunk's loop window: chunk-local maps around its pair frames (`mapsOf(from, to)`, views
   * of the chunk), the whole chunk and its descriptors with detection; into the store when it
   * keeps windows, else in memory.
   */
  async keepWindow(range: StreamChunkRange, mapsOf: (from: number, to: number) => ChunkMaps, prediction: Prediction, views: number): Promise<void> {
    const w = this.windowRange(range);
    if (!w) return;
    const detect = this.plan.detect;
    let descriptors: Float32Array | null = null;
    if (detect) {
      const layers = Object.values(prediction.aux).map((f) => f.layer).sort((a, b) => a - b);
      const layer = detect.featureLayer ?? layers[0];
      const feat = layer === undefined ? undefined : prediction.aux[`feat_layer_${layer}`];
      if (!feat) {
        throw new Da3Error('BAD_CONFIG', `streamInference: loop detection pools the backbone feature feat_${detect.featureLayer ?? '<layer>'}, which this model's graph does not export (build it with exportFeatLayers [${detect.featureLayer ?? 'a layer before the reference-view choice'}]); exported: [${layers}]`);
      }
      if (feat.data.length !== views * feat.height * feat.width * feat.channels) {
        throw new Da3Error('BAD_SHAPE', `streamInference: feat_layer_${layer} holds ${feat.data.length} numbers for ${views} frames of ${feat.height}×${feat.width}×${feat.channels}`);
      }
      descriptors = poolFrameDescriptors(feat.data, views, feat.height * feat.width, feat.channels);
    }
    const from = w[0] - range.start;
    const to = w[1] - range.start;
    const dims = descriptors ? descriptors.length / views : 0;
    const kept: StreamLoopWindow = { start: w[0], ...mapsOf(from, to), descriptors: descriptors ? descriptors.slice(from * dims, to * dims) : null };
    if (this.store?.saveLoopWindow) await this.store.saveLoopWindow(range.index, kept);
    else this.windows.set(range.index, kept);
  }

  private async windowOf(chunk: number): Promise<StreamLoopWindow> {
    const w = this.windows.get(chunk) ?? (await this.store?.loopWindow?.(chunk));
    if (!w) {
      throw new Da3Error('BAD_CONFIG', `streamInference: chunk ${chunk} was resumed from a store that keeps no loop windows (saveLoopWindow/loopWindow), or was run without this loopClosure: start a new store`);
    }
    return w;
  }

  /** Per-frame descriptors `[frames, dims]` from the windows of the chunks that hand each frame out. */
  private async descriptors(frameCount: number): Promise<{ all: Float32Array; dims: number }> {
    let dims = 0;
    let all: Float32Array | null = null;
    let win: StreamLoopWindow | null = null;
    let windowChunk = -1;
    for (let f = 0; f < frameCount; f++) {
      const c = findChunkIndex(this.ranges, f);
      if (!win || windowChunk !== c) {
        win = await this.windowOf(c);
        windowChunk = c;
      }
      const d = win.descriptors;
      if (!d) throw new Da3Error('BAD_CONFIG', `streamInference: the loop window of chunk ${c} has no descriptors (the store was started without detection): start a new store`);
      dims ||= d.length / win.views;
      all ??= new Float32Array(frameCount * dims);
      all.set(d.subarray((f - win.start) * dims, (f - win.start + 1) * dims), f * dims);
    }
    return { all: all!, dims };
  }

  /**
   * Runs the loop stage over the `frameCount` frames (a stored result is reused), saves its result
   * in the store and returns it. `size` is the chunks' processed size.
   * @throws Da3Error `BAD_VALUE` for a pair past the frames, `BAD_CONFIG`/`BAD_SHAPE` for a model or
   *   store that cannot serve it, `ABORTED`
   */
  async run(frameCount: number, size: { width: number; height: number } | null): Promise<StreamLoopResult> {
    const plan = this.plan;
    const chunkCount = this.ranges.length;
    const cached = await this.store?.loopResult?.();
    if (cached && cached.frames === frameCount && cached.toWorld.length === chunkCount) return cached;
    checkLoopFrames(plan.pairs, frameCount);
    let detected: LoopClosure[] = [];
    if (plan.detect) {
      const { all, dims } = await this.descriptors(frameCount);
      const { featureLayer: _, ...retrieval } = plan.detect;
      detected = findLoopClosures(all, dims, retrieval);
    }
    const framePairs = [...plan.pairs, ...detected.map((d) => [d.frameA, d.frameB] as const)];
    // The reference's loop list: process_loop_list, then remove_duplicates (kept with its frame pair).
    const items = framePairs.flatMap((fp) => processLoopList(this.ranges, [fp], plan.halfWindow).map((pair) => ({ fp, pair })));
    const kept = new Set(removeDuplicates(items.map((i) => i.pair)));
    const todo = items.filter((i) => kept.has(i.pair));
    const loops: StreamLoop[] = [];
    for (const [k, { fp, pair }] of todo.entries()) {
      this.checkAbort();
      const { chunkA, rangeA, chunkB, rangeB } = pair;
      const input = [...span(rangeA), ...span(rangeB)].map((f) => {
        const frame = this.loopFrames.get(f);
        if (frame === undefined) throw new Da3Error('BAD_CONFIG', `streamInference: frame ${f} of loop window ${rangeA}/${rangeB} was not kept`);
        return frame;
      });
      this.progress('loop', k, rangeA[0], rangeB[1], todo.length);
      this.checkAbort();
      const prediction = await this.infer(input, { chunk: { index: k, start: rangeA[0], end: rangeB[1] }, signal: this.signal, loop: pair });
      this.checkAbort();
      if (prediction.views !== input.length) throw new Da3Error('BAD_SHAPE', `streamInference: loop chunk ${k} gave ${prediction.views} views for ${input.length} frames`);
      if (!prediction.conf || !prediction.extrinsics || !prediction.intrinsics) throw new Da3Error('BAD_CONFIG', 'streamInference: loop closure needs an any-view model (depth, confidence and cameras)');
      if (size && (size.width !== prediction.width || size.height !== prediction.height)) {
        throw new Da3Error('BAD_SHAPE', `streamInference: loop chunk ${k} was processed at ${prediction.width}×${prediction.height}, the chunks at ${size.width}×${size.height}`);
      }
      const loopMaps: ChunkMaps = { views: input.length, height: prediction.height, width: prediction.width, depth: prediction.depth, conf: prediction.conf, extrinsics: prediction.extrinsics, intrinsics: prediction.intrinsics, images: prediction.processedImages };
      const n = loopMaps.height * loopMaps.width;
      // Loop chunk views [from, to) → the chunk's own maps of `range` (align_2pcds(chunk, loop)).
      const fit = (chunkWindow: StreamLoopWindow, range: ChunkRange, from: number, to: number) => {
        const a = range[0] - chunkWindow.start;
        const b = range[1] - chunkWindow.start;
        return alignChunkOverlap(
          { points: chunkPointMaps(chunkWindow, a, b), conf: chunkWindow.conf.subarray(a * n, b * n), depth: chunkWindow.depth.subarray(a * n, b * n) },
          { points: chunkPointMaps(loopMaps, from, to), conf: loopMaps.conf.subarray(from * n, to * n), depth: loopMaps.depth.subarray(from * n, to * n) },
          plan.align,
        );
      };
      const lenA = rangeA[1] - rangeA[0];
      const fitA = fit(await this.windowOf(chunkA), rangeA, 0, lenA);
      const fitB = fit(await this.windowOf(chunkB), rangeB, lenA, input.length);
      const toA: Sim3 = { scale: fitA.scale, rotation: fitA.rotation, translation: fitA.translation };
      const toB: Sim3 = { scale: fitB.scale, rotation: fitB.rotation, translation: fitB.translation };
      const constraint: LoopConstraint = { i: chunkA, j: chunkB, sim: computeSim3Ab(toA, toB) };
      loops.push({ frames: [fp[0], fp[1]], pair, toA, toB, constraint, meanErrorA: fitA.meanError, meanErrorB: fitB.meanError });
    }
    this.checkAbort();
    const sequential = this.relatives.slice(0, chunkCount - 1);
    let optimized = sequential.map(cloneSim3);
    let poseGraph: StreamLoopResult['poseGraph'] = null;
    if (loops.length) {
      this.progress('optimize', loops.length, 0, frameCount, loops.length);
      const r = optimizeSim3PoseGraph(sequential, loops.map((l) => l.constraint), plan.poseGraph);
      optimized = r.transforms;
      poseGraph = { costHistory: r.costHistory, finalCost: r.finalCost, iterations: r.iterations };
    }
    const toWorld = loops.length ? chainToWorld(optimized) : this.toWorlds.map(cloneSim3);
    const corrections = loopCorrections(this.toWorlds, toWorld, loops.length > 0);
    const extrinsics = new Float32Array(12 * frameCount);
    const intrinsics = new Float32Array(9 * frameCount);
    const frameChunks = new Int32Array(frameCount).fill(-1);
    for (const [k, p] of this.chunkPoses) {
      const count = p.intrinsics.length / 9;
      for (let i = 0; i < count; i++) {
        const w2c = p.extrinsics.subarray(12 * i, 12 * i + 12);
        extrinsics.set(loops.length && k > 0 ? correctExtrinsics(corrections[k], w2c) : w2c, 12 * (p.start + i));
        frameChunks[p.start + i] = k;
      }
      intrinsics.set(p.intrinsics, 9 * p.start);
    }
    const result: StreamLoopResult = { frames: frameCount, framePairs, detected, loops, sequential, optimized, poseGraph, toWorld, corrections, extrinsics, intrinsics, frameChunks };
    await this.store?.saveLoopResult?.(result);
    return result;
  }
}

/**
 * Loop pair frames must be frames of the sequence.
 * @throws Da3Error `BAD_VALUE` naming the pair
 */
export function checkLoopFrames(pairs: readonly (readonly [number, number])[], frames: number): void {
  pairs.forEach((p, k) => {
    if (p[0] >= frames || p[1] >= frames) throw new Da3Error('BAD_VALUE', `streamInference: loopClosure.pairs[${k}] = [${p}] names a frame past the sequence's ${frames} frames`);
  });
}

/** `[start, end)` as indices. */
function span(r: ChunkRange): number[] {
  return Array.from({ length: r[1] - r[0] }, (_, i) => r[0] + i);
}
