import {
  Da3Error,
  type ImageU8,
  type LoopChunkPair,
  type Prediction,
  type StreamChunk,
  type StreamChunkRecord,
  type StreamChunkTail,
  StreamError,
  type StreamEvent,
  type StreamFrame,
  type StreamLoopResult,
  type StreamLoopWindow,
  type StreamOptions,
  type StreamSim3,
  type StreamStore,
  type StreamSummary,
  applyStreamSim3ToExtrinsics as applySim3ToExtrinsics,
  composeSim3,
  correctStreamFrame,
  correctStreamPoints,
  createPrediction,
  invertSim3,
  optimizeSim3PoseGraph,
  streamInference,
} from '@da3js/core';
import { describe, expect, it } from 'vitest';
// @ts-expect-error plain .mjs script without types
import { cameraPath, renderView } from '../../../../scripts/render-example-scene.mjs';
import { fixtureModel } from '../../../../test-utils/ort-model.js';
type Sim3 = StreamSim3;

interface Rendered extends ImageU8 {
  readonly depth: Float32Array;
  readonly w2c: Float64Array;
  readonly K: Float64Array;
}

/** A closed path: out along the scene's camera arc and back, so frame N−1 sees what frame 0 saw. */
function loopPath(n: number, width = 28, height = 14): Rendered[] {
  const half = Math.ceil(n / 2);
  const arc = cameraPath(half) as { eye: number[]; target: number[] }[];
  const order = Array.from({ length: n }, (_, i) => (i < half ? i : n - 1 - i));
  return order.map((k) => renderView(arc[k].eye, arc[k].target, width, height) as Rendered);
}

function rotation(ax: number, ay: number, az: number): Float64Array {
  const [ca, sa, cb, sb, cc, sc] = [Math.cos(ax), Math.sin(ax), Math.cos(ay), Math.sin(ay), Math.cos(az), Math.sin(az)];
  return Float64Array.of(cc * cb, cc * sb * sa - sc * ca, cc * sb * ca + sc * sa, sc * cb, sc * sb * sa + cc * ca, sc * sb * ca - cc * sa, -sb, cb * sa, cb * ca);
}
const sim3 = (scale: number, r: Float64Array, t: number[]): Sim3 => ({ scale, rotation: r, translation: Float64Array.from(t) });
const gauge = (k: number) => sim3(1 + 0.1 * k, rotation(0.1 * k, -0.05 * k, 0.02 * k), [0.3 * k, -0.1 * k, 0.2 * k]);
const LOOP_GAUGE = sim3(0.8, rotation(0.3, 0.2, -0.1), [1, 2, 3]);
/** The error injected into chunk 2's overlap with chunk 1: its alignment is off by this Sim(3). */
const ERROR = sim3(1.15, rotation(0.12, -0.08, 0.1), [0.3, -0.2, 0.25]);

interface Ctx {
  readonly chunk: { index: number };
  readonly loop?: LoopChunkPair;
}

/**
 * Ground-truth inference: chunk k's prediction is the rendered depth and cameras in a chunk frame
 * `G_k(world)`; a loop chunk's in `LOOP_GAUGE`. With `corrupt`, chunk 2's first `overlap` views
 * are in `G_2 ∘ ERROR` instead, so its alignment to chunk 1, and every later chunk, is off.
 */
function groundTruth(options: { corrupt?: number; calls?: string[] } = {}) {
  return async (frames: readonly Rendered[], ctx: Ctx): Promise<Prediction> => {
    options.calls?.push(ctx.loop ? `loop${ctx.chunk.index}` : `chunk${ctx.chunk.index}`);
    const { width: W, height: H } = frames[0];
    const n = W * H;
    const depth = new Float32Array(frames.length * n);
    const extrinsics = new Float32Array(frames.length * 12);
    const intrinsics = new Float32Array(frames.length * 9);
    const images = new Uint8Array(frames.length * n * 3);
    frames.forEach((f, v) => {
      let g = ctx.loop ? LOOP_GAUGE : gauge(ctx.chunk.index);
      if (!ctx.loop && options.corrupt && ctx.chunk.index === 2 && v < options.corrupt) g = composeSim3(g, ERROR);
      for (let i = 0; i < n; i++) depth[v * n + i] = f.depth[i] * g.scale;
      extrinsics.set(applySim3ToExtrinsics(g, f.w2c), 12 * v);
      intrinsics.set(f.K, 9 * v);
      images.set(f.data, 3 * v * n);
    });
    return createPrediction({ views: frames.length, height: H, width: W, depth, conf: new Float32Array(frames.length * n).fill(2), extrinsics, intrinsics, processedImages: images });
  };
}

async function collect(gen: AsyncGenerator<StreamEvent, StreamSummary>) {
  const chunks: StreamChunk[] = [];
  const frames: StreamFrame[] = [];
  const loops: StreamLoopResult[] = [];
  let summary: StreamSummary | undefined;
  let error: unknown;
  try {
    for (;;) {
      const next = await gen.next();
      if (next.done) {
        summary = next.value;
        break;
      }
      const e = next.value;
      if (e.type === 'chunk') chunks.push(e.chunk);
      else if (e.type === 'frame') frames.push(e.frame);
      else loops.push(e.loops);
    }
  } catch (e) {
    error = e;
  }
  return { chunks, frames, loops, summary, error };
}

function memoryStore() {
  const records = new Map<number, StreamChunkRecord>();
  const tails = new Map<number, StreamChunkTail>();
  const windows = new Map<number, StreamLoopWindow>();
  let loops: StreamLoopResult | undefined;
  const store: StreamStore = {
    finished: (i) => records.get(i),
    tail: async (i) => tails.get(i)!,
    save(record, tail) {
      records.set(record.index, record);
      if (tail) tails.set(record.index, tail);
    },
    saveLoopWindow: (i, w) => void windows.set(i, w),
    loopWindow: (i) => windows.get(i),
    loopResult: () => loops,
    saveLoopResult: (r) => {
      loops = r;
    },
  };
  return { store, windows };
}

/** Camera centre −Rᵀt of a w2c. */
function centre(w2c: ArrayLike<number>): number[] {
  return [0, 1, 2].map((j) => -(w2c[j] * w2c[3] + w2c[4 + j] * w2c[7] + w2c[8 + j] * w2c[11]));
}
/** Mean camera-centre distance to the ground truth (world = chunk 0's frame = the renderer's: G_0 = I). */
function trajectoryError(extrinsics: (i: number) => ArrayLike<number>, truth: Rendered[]): number {
  let sum = 0;
  truth.forEach((t, i) => {
    const a = centre(extrinsics(i));
    const b = centre(t.w2c);
    sum += Math.hypot(a[0] - b[0], a[1] - b[1], a[2] - b[2]);
  });
  return sum / truth.length;
}
const maxDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
};

const CHUNKING = { chunkSize: 6, overlap: 3 } as const;

describe('streamInference loop closure', () => {
  it('leaves every output bit-identical when no loop survives (pairs inside one chunk), and reports identity corrections', async () => {
    const frames = loopPath(21);
    const plain = await collect(streamInference(groundTruth({ corrupt: 3 }), frames, CHUNKING));
    const withLoops = await collect(streamInference(groundTruth({ corrupt: 3 }), frames, { ...CHUNKING, loopClosure: { pairs: [[0, 2]], loopChunkSize: 4 } }));
    expect(plain.error).toBeUndefined();
    expect(withLoops.error).toBeUndefined();
    expect(plain.loops).toEqual([]);
    expect(plain.summary!.loopClosure).toBeUndefined();
    expect(withLoops.frames).toEqual(plain.frames);
    expect(withLoops.chunks).toEqual(plain.chunks);
    const r = withLoops.loops[0];
    expect(withLoops.summary!.loopClosure).toBe(r);
    expect(r.loops).toEqual([]);
    expect(r.poseGraph).toBeNull();
    expect(r.corrections.every((c) => c.scale === 1 && c.translation.every((v) => v === 0))).toBe(true);
    expect(Array.from(r.extrinsics)).toEqual(plain.frames.flatMap((f) => Array.from(f.extrinsics)));
    expect(Array.from(r.frameChunks)).toEqual(plain.frames.map((f) => f.chunk));
    for (const f of plain.frames) expect(correctStreamFrame(f, r)).toEqual(f);
  });

  it('a user-given loop pair pulls a drifted trajectory back toward the ground truth (error injected in one chunk’s alignment)', async () => {
    const frames = loopPath(21);
    const calls: string[] = [];
    const progress: string[] = [];
    const run = await collect(
      streamInference(groundTruth({ corrupt: 3, calls }), frames, {
        ...CHUNKING,
        loopClosure: { pairs: [[20, 1]], loopChunkSize: 4 },
        onProgress: (e) => progress.push(`${e.stage}${e.chunk}${e.loopsTotal ? `/${e.loopsTotal}` : ''}`),
      }),
    );
    expect(run.error).toBeUndefined();
    expect(calls).toEqual(['chunk0', 'chunk1', 'chunk2', 'chunk3', 'chunk4', 'chunk5', 'loop0']);
    expect(progress.slice(-3)).toEqual(['loop0/1', 'optimize1/1', 'done5']);
    const r = run.summary!.loopClosure!;
    expect(r.loops).toHaveLength(1);
    const [loop] = r.loops;
    // The reference's windows: frame 20 in chunk 5 [15, 21) → [17, 21); frame 1 in chunk 0 → [0, 4).
    expect(loop.pair).toEqual({ chunkA: 5, rangeA: [17, 21], chunkB: 0, rangeB: [0, 4] });
    // Both halves of the loop chunk fit exactly, so the constraint is the true chunk 5 → chunk 0 map G_0 ∘ G_5⁻¹.
    const truth = invertSim3(gauge(5));
    expect(Math.abs(loop.constraint.sim.scale - truth.scale)).toBeLessThan(1e-5);
    expect(maxDiff(loop.constraint.sim.rotation, truth.rotation)).toBeLessThan(1e-5);
    expect(maxDiff(loop.constraint.sim.translation, truth.translation)).toBeLessThan(1e-5);
    expect(loop.meanErrorA).toBeLessThan(1e-4);
    expect(loop.meanErrorB).toBeLessThan(1e-4);

    const before = trajectoryError((i) => run.frames[i].extrinsics, frames);
    const after = trajectoryError((i) => r.extrinsics.subarray(12 * i, 12 * i + 12), frames);
    // Frames 9… (chunks 3–5) were off by ERROR⁻¹; the pose graph shares the misclosure over the cycle.
    // The chain + one loop is least squares over the six cycle edges (equal weights, as the
    // reference): measured 0.2720 → 0.1647 mean centre error, cost 5.20e-3 → 6.83e-4.
    expect(before).toBeGreaterThan(0.25);
    expect(before).toBeLessThan(0.3);
    expect(after).toBeLessThan(0.62 * before);
    expect(r.poseGraph!.finalCost).toBeLessThan(0.15 * r.poseGraph!.costHistory[0]);
    // Chunks 0–2 (before the injected error) barely move; the last chunk moves most.
    expect(maxDiff(r.corrections[1].translation, [0, 0, 0]) + Math.abs(r.corrections[1].scale - 1)).toBeLessThan(
      maxDiff(r.corrections[5].translation, [0, 0, 0]) + Math.abs(r.corrections[5].scale - 1),
    );
    // The corrected frames and points are what the helpers give from the streamed ones.
    for (const f of run.frames) {
      const c = correctStreamFrame(f, r);
      expect(c.extrinsics).toEqual(r.extrinsics.subarray(12 * f.index, 12 * f.index + 12));
      const s = r.corrections[f.chunk].scale;
      expect(maxDiff(c.depth!, Float32Array.from(f.depth!, (d) => d * s))).toBe(0);
    }
    const moved = correctStreamPoints(run.chunks[5].points!, r.corrections[5]);
    expect(moved.count).toBe(run.chunks[5].points!.count);
    expect(maxDiff(moved.positions, run.chunks[5].points!.positions)).toBeGreaterThan(0.01);
    console.log(`loop closure: mean camera-centre error ${before.toFixed(4)} → ${after.toFixed(4)} (scene units), cost ${r.poseGraph!.costHistory[0].toExponential(3)} → ${r.poseGraph!.finalCost.toExponential(3)}`);
  });

  it('hands the pose graph the streamed relatives and the loop constraints, and returns exactly what optimizeSim3PoseGraph gives', async () => {
    const frames = loopPath(21);
    const run = await collect(streamInference(groundTruth({ corrupt: 3 }), frames, { ...CHUNKING, loopClosure: { pairs: [[20, 1], [17, 2], [19, 5]], loopChunkSize: 4, poseGraph: { maxIterations: 20 } } }));
    expect(run.error).toBeUndefined();
    const r = run.summary!.loopClosure!;
    // [19, 5] is chunk 5 ↔ chunk 1; [17, 2] repeats chunk 5 ↔ chunk 0 and is dropped (removeDuplicates).
    expect(r.loops.map((l) => [l.pair.chunkA, l.pair.chunkB])).toEqual([
      [5, 0],
      [5, 1],
    ]);
    expect(r.sequential).toEqual(run.chunks.slice(1).map((c) => c.relative));
    const direct = optimizeSim3PoseGraph(r.sequential, r.loops.map((l) => l.constraint), { maxIterations: 20 });
    expect(r.optimized).toEqual(direct.transforms);
    expect(r.poseGraph!.costHistory).toEqual(direct.costHistory);
    // Chunk → world is the chain of the optimised transforms; the corrections map streamed → corrected.
    let chain = run.chunks[0].toWorld;
    for (let k = 1; k < run.chunks.length; k++) {
      chain = composeSim3(chain, direct.transforms[k - 1]);
      expect(r.toWorld[k]).toEqual(chain);
      const c = composeSim3(r.corrections[k], run.chunks[k].toWorld);
      expect(maxDiff(c.translation, chain.translation)).toBeLessThan(1e-12);
    }
  });

  it.each([
    [{ pairs: [[1.5, 3]] }, /pairs\[0\] must be two non-negative integer frame indices/],
    [{ pairs: [[-1, 3]] }, /pairs\[0\] must be two non-negative integer/],
    [{ pairs: [[3, 3]] }, /pairs frame 3 with itself/],
    [{ pairs: [[0, 1, 2]] }, /pairs\[0\] must be two/],
    [{ pairs: [[0, 30]] }, /pairs\[0\] = \[0,30\] names a frame past the sequence's 21 frames/],
    [{}, /needs pairs or detect/],
    [{ pairs: [[0, 9]], loopChunkSize: 3 }, /loopChunkSize must be an even integer ≥ 2/],
    [{ detect: { featureLayer: -1 } }, /featureLayer must be a non-negative integer/],
  ] as [StreamOptions['loopClosure'], RegExp][])('refuses bad loop options %o with BAD_VALUE before reading a frame', async (loopClosure, message) => {
    let read = 0;
    const source = (function* () {
      read++;
      yield* loopPath(21);
    })();
    const error = await streamInference(groundTruth(), source, { ...CHUNKING, expectedFrames: 21, loopClosure }).next().catch((e) => e);
    expect(error).toBeInstanceOf(Da3Error);
    expect(error).not.toBeInstanceOf(StreamError);
    expect(error).toMatchObject({ code: 'BAD_VALUE', message: expect.stringMatching(message) });
    expect(read).toBe(0);
  });

  it('types the failures found only at the end: a pair past the frames (no expectedFrames), detection without features', async () => {
    const frames = loopPath(9);
    const past = await collect(streamInference(groundTruth(), frames, { ...CHUNKING, loopClosure: { pairs: [[12, 0]], loopChunkSize: 4 } }));
    expect(past.error).toBeInstanceOf(StreamError);
    expect(past.error).toMatchObject({ code: 'BAD_VALUE', message: expect.stringMatching(/names a frame past the sequence's 9 frames/) });
    expect(past.frames).toHaveLength(9);
    const noFeat = await collect(streamInference(groundTruth(), frames, { ...CHUNKING, loopClosure: { detect: true } }));
    expect(noFeat.error).toMatchObject({ code: 'BAD_CONFIG', message: expect.stringMatching(/does not export/) });
  });

  it('stops in the loop stage on abort (ABORTED) without running the loop chunk; a rerun with the store finishes it', async () => {
    const frames = loopPath(21);
    const { store } = memoryStore();
    const controller = new AbortController();
    const calls: string[] = [];
    const options = { ...CHUNKING, loopClosure: { pairs: [[20, 1]] as [number, number][], loopChunkSize: 4 }, store };
    const first = await collect(
      streamInference(groundTruth({ corrupt: 3, calls }), frames, { ...options, signal: controller.signal, onProgress: (e) => e.stage === 'loop' && controller.abort() }),
    );
    expect(first.error).toBeInstanceOf(StreamError);
    expect(first.error).toMatchObject({ code: 'ABORTED', chunksDone: 6, framesDone: 21 });
    expect(calls).not.toContain('loop0');
    expect(first.loops).toEqual([]);
    calls.length = 0;
    const second = await collect(streamInference(groundTruth({ corrupt: 3, calls }), frames, options));
    expect(second.error).toBeUndefined();
    expect(calls).toEqual(['loop0']);
    expect(second.summary!.loopClosure!.loops).toHaveLength(1);
  });

  it('resumes after a crash without recomputing finished chunks (windows kept in the store), then reuses the stored loop result', async () => {
    const frames = loopPath(21);
    const options = { ...CHUNKING, loopClosure: { pairs: [[20, 1]] as [number, number][], loopChunkSize: 4 } };
    const clean = await collect(streamInference(groundTruth({ corrupt: 3 }), frames, options));
    const { store, windows } = memoryStore();
    const calls: string[] = [];
    const inner = groundTruth({ corrupt: 3, calls });
    const crashing = async (f: readonly Rendered[], ctx: Ctx) => {
      if (ctx.chunk.index === 3 && !ctx.loop) throw new Error('simulated crash');
      return inner(f, ctx);
    };
    const first = await collect(streamInference(crashing, frames, { ...options, store }));
    expect(first.error).toMatchObject({ code: 'IO', chunksDone: 3 });
    // Only chunk 0 holds a pair frame so far: its window [0, 4) is kept.
    expect([...windows.keys()]).toEqual([0]);
    expect(windows.get(0)).toMatchObject({ start: 0, views: 4 });
    calls.length = 0;
    const second = await collect(streamInference(inner, frames, { ...options, store }));
    expect(second.error).toBeUndefined();
    expect(calls).toEqual(['chunk3', 'chunk4', 'chunk5', 'loop0']);
    expect(second.summary!.loopClosure).toEqual(clean.summary!.loopClosure);
    calls.length = 0;
    const third = await collect(streamInference(inner, frames, { ...options, store }));
    expect(calls).toEqual([]);
    expect(third.loops).toEqual([clean.summary!.loopClosure]);
  });

  it('runs with the tiny model: detection on its own layer-0 features, loop chunks through the network, finite corrections', async () => {
    const model = await fixtureModel('anyview', { exportFeatLayers: [0] });
    try {
      const frames = loopPath(12, 56, 28);
      const run = await collect(
        streamInference(model, frames, {
          chunkSize: 4,
          overlap: 2,
          inference: { processRes: 56 },
          loopClosure: { detect: { similarityThreshold: 0.5, minFrameGap: 4, nmsThreshold: 2 }, pairs: [[11, 0]], loopChunkSize: 2 },
        }),
      );
      expect(run.error).toBeUndefined();
      const r = run.summary!.loopClosure!;
      expect(r.framePairs[0]).toEqual([11, 0]);
      expect(r.detected.every((d) => d.frameA - d.frameB > 4 && d.similarity > 0.5)).toBe(true);
      expect(r.loops.length).toBeGreaterThanOrEqual(1);
      expect(r.loops[0].pair).toMatchObject({ chunkA: 4, chunkB: 0 });
      expect(r.extrinsics.every(Number.isFinite)).toBe(true);
      expect(r.toWorld.every((s) => s.scale > 0 && Number.isFinite(s.scale))).toBe(true);
      // Layer 1 is where the tiny backbone reorders views (altStart 2 − 1): refused before any frame is read.
      const late = await streamInference(model, frames, { chunkSize: 4, overlap: 2, loopClosure: { detect: { featureLayer: 1 } } }).next().catch((e) => e);
      expect(late).toMatchObject({ code: 'BAD_VALUE', message: expect.stringMatching(/featureLayer 1 is at or after block 1/) });
    } finally {
      await model.dispose();
    }
  });
});
