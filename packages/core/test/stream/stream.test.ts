import {
  Da3Error,
  type ImageU8,
  type Prediction,
  STREAM_DEFAULTS,
  type StreamChunk,
  type StreamChunkRecord,
  type StreamChunkTail,
  StreamError,
  type StreamEvent,
  type StreamFrame,
  type StreamOptions,
  type StreamSim3,
  type StreamStore,
  applyStreamSim3ToExtrinsics as applySim3ToExtrinsics,
  chunkPointCloud,
  composeSim3,
  createPrediction,
  invertSim3,
  numpyFloat32,
  ownedFrames,
  planChunks,
  pythonFloat,
  runInference,
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

/** `n` frames of the synthetic camera path, rendered small. */
function renderPath(n: number, width = 42, height = 28, total = n): Rendered[] {
  return (cameraPath(total) as { eye: number[]; target: number[] }[]).slice(0, n).map((c) => renderView(c.eye, c.target, width, height) as Rendered);
}

async function collect(gen: AsyncGenerator<StreamEvent, unknown>): Promise<{ chunks: StreamChunk[]; frames: StreamFrame[]; error?: unknown }> {
  const chunks: StreamChunk[] = [];
  const frames: StreamFrame[] = [];
  try {
    for await (const e of gen) {
      if (e.type === 'chunk') chunks.push(e.chunk);
      else frames.push(e.frame);
    }
  } catch (error) {
    return { chunks, frames, error };
  }
  return { chunks, frames };
}

function rotation(ax: number, ay: number, az: number): Float64Array {
  const [ca, sa, cb, sb, cc, sc] = [Math.cos(ax), Math.sin(ax), Math.cos(ay), Math.sin(ay), Math.cos(az), Math.sin(az)];
  // Rz·Ry·Rx
  return Float64Array.of(cc * cb, cc * sb * sa - sc * ca, cc * sb * ca + sc * sa, sc * cb, sc * sb * sa + cc * ca, sc * sb * ca - cc * sa, -sb, cb * sa, cb * ca);
}

const sim3 = (scale: number, r: Float64Array, t: number[]): Sim3 => ({ scale, rotation: r, translation: Float64Array.from(t) });

/**
 * An inference over ground truth: chunk k's prediction is the rendered depth and cameras expressed
 * in a chunk frame `G_k(world)` (depth × s_k), as a network with a per-chunk gauge would give.
 */
function groundTruthInference(gauges: (k: number) => Sim3, calls: number[] = []) {
  return async (frames: readonly Rendered[], { chunk }: { chunk: { index: number } }): Promise<Prediction> => {
    calls.push(chunk.index);
    const g = gauges(chunk.index);
    const { width: W, height: H } = frames[0];
    const n = W * H;
    const depth = new Float32Array(frames.length * n);
    const extrinsics = new Float32Array(frames.length * 12);
    const intrinsics = new Float32Array(frames.length * 9);
    const images = new Uint8Array(frames.length * n * 3);
    frames.forEach((f, v) => {
      for (let i = 0; i < n; i++) depth[v * n + i] = f.depth[i] * g.scale;
      extrinsics.set(applySim3ToExtrinsics(g, f.w2c), 12 * v);
      intrinsics.set(f.K, 9 * v);
      images.set(f.data, 3 * v * n);
    });
    return createPrediction({ views: frames.length, height: H, width: W, depth, conf: new Float32Array(frames.length * n).fill(2), extrinsics, intrinsics, processedImages: images });
  };
}

function memoryStore(): StreamStore & { records: Map<number, StreamChunkRecord>; tails: Map<number, StreamChunkTail> } {
  const records = new Map<number, StreamChunkRecord>();
  const tails = new Map<number, StreamChunkTail>();
  return {
    records,
    tails,
    finished: (i) => records.get(i),
    tail: async (i) => tails.get(i)!,
    save(record, tail) {
      records.set(record.index, record);
      if (tail) tails.set(record.index, tail);
      else tails.delete(record.index);
    },
  };
}

const maxDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
};

describe('chunk planning (the reference get_chunk_indices)', () => {
  it('plans chunks every chunkSize − overlap frames, the last one cut', () => {
    expect(planChunks(5, 8, 4)).toEqual([{ index: 0, start: 0, end: 5 }]);
    expect(planChunks(8, 8, 4)).toEqual([{ index: 0, start: 0, end: 8 }]);
    expect(planChunks(9, 8, 4)).toEqual([
      { index: 0, start: 0, end: 8 },
      { index: 1, start: 4, end: 9 },
    ]);
    expect(planChunks(600, 24, 12)).toHaveLength(49);
    expect(planChunks(100, 24, 12)).toHaveLength(8);
    expect(planChunks(300, 120, 60)).toEqual([0, 60, 120, 180].map((s, i) => ({ index: i, start: s, end: Math.min(s + 120, 300) })));
    expect(ownedFrames({ index: 1, start: 4, end: 12 }, false, 4)).toEqual({ start: 4, end: 8 });
    expect(ownedFrames({ index: 1, start: 4, end: 12 }, true, 4)).toEqual({ start: 4, end: 12 });
    expect(STREAM_DEFAULTS).toMatchObject({ chunkSize: 120, overlap: 60, sampleRatio: 0.015, confThresholdCoef: 0.75 });
  });

  it.each([
    [{ chunkSize: 4, overlap: 4 }, /overlap \(4\) must be less than chunkSize \(4\)/],
    [{ chunkSize: 4, overlap: 6 }, /overlap \(6\) must be less than chunkSize/],
    [{ chunkSize: 4, overlap: 0 }, /overlap must be an integer ≥ 1/],
    [{ chunkSize: 1.5, overlap: 1 }, /chunkSize must be an integer ≥ 2/],
    [{ sampleRatio: 0 }, /sampleRatio must be in \(0, 1\]/],
    [{ confThresholdCoef: Number.NaN }, /confThresholdCoef/],
    [{ expectedFrames: 0 }, /expectedFrames/],
  ] as [StreamOptions, RegExp][])('refuses options that make no sense (%o) with BAD_VALUE before reading a frame', async (options, message) => {
    let read = 0;
    const source = (function* () {
      read++;
      yield renderPath(1)[0];
    })();
    const gen = streamInference(groundTruthInference(() => sim3(1, rotation(0, 0, 0), [0, 0, 0])), source, options);
    const error = await gen.next().catch((e) => e);
    expect(error).toBeInstanceOf(Da3Error);
    expect(error).not.toBeInstanceOf(StreamError);
    expect(error).toMatchObject({ code: 'BAD_VALUE', message: expect.stringMatching(message) });
    expect(read).toBe(0);
  });

  it.each([1, 3, 8, 9, 12, 13, 21])('hands out each of %i frames once, in order, from the chunk the reference takes it from', async (n) => {
    const frames = renderPath(n, 14, 14);
    const { chunks, frames: out } = await collect(streamInference(groundTruthInference(() => sim3(1, rotation(0, 0, 0), [0, 0, 0])), frames, { chunkSize: 8, overlap: 4, pointCloud: false }));
    const plan = planChunks(n, 8, 4);
    expect(chunks.map((c) => [c.index, c.start, c.end])).toEqual(plan.map((c) => [c.index, c.start, c.end]));
    expect(out.map((f) => f.index)).toEqual(Array.from({ length: n }, (_, i) => i));
    const owner = (i: number) => plan.filter((c) => c.start <= i).pop()!.index;
    expect(out.map((f) => f.chunk)).toEqual(out.map((f) => owner(f.index)));
  });
});

describe('streamInference with the tiny model', () => {
  it('equals one-shot inference exactly when one chunk holds every frame (chunkSize > N and = N)', async () => {
    const model = await fixtureModel('anyview');
    try {
      const frames = renderPath(6, 84, 56);
      const oneShot = await runInference(model, frames, { processRes: 84 });
      for (const chunkSize of [8, 6]) {
        const events: string[] = [];
        const { chunks, frames: out, error } = await collect(
          streamInference(model, frames, { chunkSize, overlap: 2, inference: { processRes: 84 }, onProgress: (e) => events.push(`${e.stage}${e.chunk}`) }),
        );
        expect(error).toBeUndefined();
        expect(chunks).toHaveLength(1);
        expect(chunks[0].relative).toBeNull();
        expect(chunks[0].points!.count).toBeGreaterThan(0);
        expect(events).toEqual(['infer0', 'finished0', 'done0']);
        const n = oneShot.width * oneShot.height;
        expect(out.map((f) => f.index)).toEqual([0, 1, 2, 3, 4, 5]);
        for (const f of out) {
          const v = f.index;
          expect([f.width, f.height]).toEqual([oneShot.width, oneShot.height]);
          expect(f.depth).toEqual(oneShot.depth.subarray(v * n, (v + 1) * n));
          expect(f.conf).toEqual(oneShot.conf!.subarray(v * n, (v + 1) * n));
          expect(f.image).toEqual(oneShot.processedImages.subarray(3 * v * n, 3 * (v + 1) * n));
          expect(f.extrinsics).toEqual(oneShot.extrinsics!.subarray(12 * v, 12 * v + 12));
          expect(f.intrinsics).toEqual(oneShot.intrinsics!.subarray(9 * v, 9 * v + 9));
        }
      }
    } finally {
      await model.dispose();
    }
  });

  it('gives the same aligned trajectory and point cloud bit for bit on every run (chunks 4, overlap 2)', async () => {
    const model = await fixtureModel('anyview');
    try {
      const frames = renderPath(10, 84, 56, 300);
      const run = () => collect(streamInference(model, frames, { chunkSize: 4, overlap: 2, inference: { processRes: 84 }, include: { image: false } }));
      const a = await run();
      const b = await run();
      expect(a.error).toBeUndefined();
      expect(a.chunks).toHaveLength(4);
      expect(a.chunks.slice(1).every((c) => c.relative && Number.isFinite(c.relative.scale) && c.relative.scale > 0)).toBe(true);
      expect(b.frames.map((f) => Array.from(f.extrinsics))).toEqual(a.frames.map((f) => Array.from(f.extrinsics)));
      expect(b.frames.map((f) => Array.from(f.depth!))).toEqual(a.frames.map((f) => Array.from(f.depth!)));
      expect(b.chunks.map((c) => Array.from(c.points!.positions))).toEqual(a.chunks.map((c) => Array.from(c.points!.positions)));
      // Depth is the chunk's depth × its accumulated scale.
      expect(a.frames.every((f) => f.depth!.every(Number.isFinite))).toBe(true);
    } finally {
      await model.dispose();
    }
  });
});

describe('alignment of chunks on a ground-truth sequence', () => {
  it('recovers a known Sim(3) injected between chunks to 1e-5 and puts every camera in the first chunk’s frame', async () => {
    const gauges = [
      sim3(1, rotation(0, 0, 0), [0, 0, 0]),
      sim3(1.7, rotation(0.3, -0.5, 0.2), [0.4, -1.2, 2.5]),
      sim3(0.6, rotation(-0.8, 0.1, 1.1), [-3, 0.5, 0.25]),
      sim3(2.5, rotation(1.2, 0.7, -0.4), [1, 2, -1]),
    ];
    const frames = renderPath(14, 42, 28, 300);
    const { chunks, frames: out, error } = await collect(streamInference(groundTruthInference((k) => gauges[k]), frames, { chunkSize: 6, overlap: 3 }));
    expect(error).toBeUndefined();
    expect(chunks).toHaveLength(4);
    for (let k = 1; k < chunks.length; k++) {
      // cur → prev = G_{k−1} ∘ G_k⁻¹
      const want = composeSim3(gauges[k - 1], invertSim3(gauges[k]));
      const got = chunks[k].relative!;
      expect(Math.abs(got.scale - want.scale)).toBeLessThan(1e-5);
      expect(maxDiff(got.rotation, want.rotation)).toBeLessThan(1e-5);
      expect(maxDiff(got.translation, want.translation)).toBeLessThan(1e-5);
      const toWorld = invertSim3(gauges[k]);
      expect(Math.abs(chunks[k].toWorld.scale - toWorld.scale)).toBeLessThan(1e-5);
      expect(maxDiff(chunks[k].toWorld.translation, toWorld.translation)).toBeLessThan(1e-5);
    }
    // World = chunk 0's frame = the renderer's world (G_0 = identity): cameras and depth are the ground truth.
    for (const f of out) {
      expect(maxDiff(f.extrinsics, Float32Array.from(frames[f.index].w2c))).toBeLessThan(1e-5);
      expect(maxDiff(f.depth!, frames[f.index].depth) / 1e3).toBeLessThan(1e-5);
    }
  });
});

describe('resume and bad input', () => {
  const gauges = (k: number) => sim3(1 + 0.1 * k, rotation(0.1 * k, 0, 0), [k, 0, 0]);

  it('resumes after a crash without recomputing finished chunks, and ends with the same outputs', async () => {
    const frames = renderPath(13, 28, 14, 300);
    const clean = await collect(streamInference(groundTruthInference(gauges), frames, { chunkSize: 5, overlap: 2 }));
    const store = memoryStore();
    const calls: number[] = [];
    const inner = groundTruthInference(gauges, calls);
    const crashing = async (f: readonly Rendered[], ctx: { chunk: { index: number } }) => {
      if (ctx.chunk.index === 2) throw new Error('simulated crash');
      return inner(f, ctx);
    };
    const first = await collect(streamInference(crashing, frames, { chunkSize: 5, overlap: 2, store }));
    expect(first.error).toBeInstanceOf(StreamError);
    expect(first.error).toMatchObject({ code: 'IO', chunksDone: 2, framesDone: 6 });
    expect((first.error as Error).message).toMatch(/simulated crash; 2 finished chunk\(s\) \(6 frames\) were kept and a rerun continues after them/);
    expect(first.frames.map((f) => f.index)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(calls).toEqual([0, 1]);
    calls.length = 0;
    const progress: string[] = [];
    const second = await collect(streamInference(inner, frames, { chunkSize: 5, overlap: 2, store, onProgress: (e) => progress.push(`${e.stage}${e.chunk}`) }));
    expect(second.error).toBeUndefined();
    expect(calls).toEqual([2, 3]);
    expect(progress.slice(0, 3)).toEqual(['resumed0', 'resumed1', 'infer2']);
    expect(second.chunks.map((c) => c.resumed)).toEqual([true, true, false, false]);
    expect(second.frames.map((f) => f.index)).toEqual([6, 7, 8, 9, 10, 11, 12]);
    const all = [...first.frames, ...second.frames];
    expect(all.map((f) => Array.from(f.extrinsics))).toEqual(clean.frames.map((f) => Array.from(f.extrinsics)));
    expect(all.map((f) => Array.from(f.depth!))).toEqual(clean.frames.map((f) => Array.from(f.depth!)));
    expect(second.chunks.slice(2).map((c) => Array.from(c.points!.positions))).toEqual(clean.chunks.slice(2).map((c) => Array.from(c.points!.positions)));
    // A third run finds everything finished: nothing is recomputed or handed out again.
    calls.length = 0;
    const third = await collect(streamInference(inner, frames, { chunkSize: 5, overlap: 2, store }));
    expect(third.error).toBeUndefined();
    expect(calls).toEqual([]);
    expect(third.frames).toEqual([]);
    // The store's poses cover every frame once.
    const poses = [...store.records.values()].flatMap((r) => Array.from({ length: r.emittedEnd - r.start }, (_, i) => Array.from(r.extrinsics.subarray(12 * i, 12 * i + 12))));
    expect(poses).toEqual(clean.frames.map((f) => Array.from(f.extrinsics)));
    // A longer input against a store that says the input ended is refused.
    const longer = await collect(streamInference(inner, renderPath(16, 28, 14, 300), { chunkSize: 5, overlap: 2, store }));
    expect(longer.error).toMatchObject({ code: 'BAD_CONFIG', message: expect.stringMatching(/chunk 3 covers frames \[9, 13\), this input gives \[9, 14\)/) });
  });

  it('resumes when the crash came after the last full chunk (the source ended exactly at a chunk end)', async () => {
    const frames = renderPath(8, 28, 14, 300);
    const store = memoryStore();
    const clean = await collect(streamInference(groundTruthInference(gauges), frames, { chunkSize: 5, overlap: 2 }));
    // The source fails once both chunks are done but before the end is known.
    const failing = (function* () {
      yield* frames;
      throw new Da3Error('UNKNOWN_FORMAT', 'frame 8: not an image');
    })();
    const first = await collect(streamInference(groundTruthInference(gauges), failing, { chunkSize: 5, overlap: 2, store }));
    expect(first.error).toMatchObject({ code: 'UNKNOWN_FORMAT', chunksDone: 2, framesDone: 6, framesRead: 8 });
    expect((first.error as Error).message).toMatch(/frame 8 could not be read: frame 8: not an image/);
    const calls: number[] = [];
    const second = await collect(streamInference(groundTruthInference(gauges, calls), frames, { chunkSize: 5, overlap: 2, store }));
    expect(calls).toEqual([]);
    expect(second.frames.map((f) => f.index)).toEqual([6, 7]);
    expect([...first.frames, ...second.frames].map((f) => Array.from(f.extrinsics))).toEqual(clean.frames.map((f) => Array.from(f.extrinsics)));
    const longer = await collect(streamInference(groundTruthInference(gauges), renderPath(9, 28, 14, 300), { chunkSize: 5, overlap: 2, store }));
    expect(longer.error).toMatchObject({ code: 'BAD_CONFIG', message: expect.stringMatching(/the store says the input ended at frame 8, but this input goes on/) });
  });

  it('keeps what finished when a frame fails to decode, and says how far it got', async () => {
    const frames = renderPath(9, 28, 14, 300);
    const source = (async function* () {
      for (const [i, f] of frames.entries()) {
        if (i === 7) throw new Da3Error('UNKNOWN_FORMAT', 'decodeImage: frame_000007.png is not an image');
        yield f;
      }
    })();
    const r = await collect(streamInference(groundTruthInference(gauges), source, { chunkSize: 4, overlap: 2 }));
    expect(r.error).toBeInstanceOf(StreamError);
    expect(r.error).toMatchObject({ code: 'UNKNOWN_FORMAT', framesRead: 7, chunksDone: 2, framesDone: 4, finalized: false });
    expect(r.frames.map((f) => f.index)).toEqual([0, 1, 2, 3]);
  });

  it('finishes the frames of a source that ends early, then reports it (IO)', async () => {
    const r = await collect(streamInference(groundTruthInference(gauges), renderPath(7, 28, 14, 300), { chunkSize: 4, overlap: 2, expectedFrames: 10 }));
    expect(r.frames.map((f) => f.index)).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect(r.error).toMatchObject({ code: 'IO', finalized: true, framesRead: 7, message: expect.stringMatching(/ended after 7 of 10 expected frames/) });
  });

  it('types the other failures: no frames, mixed sizes, a depth-only model, abort', async () => {
    const none = await collect(streamInference(groundTruthInference(gauges), [], {}));
    expect(none.error).toMatchObject({ code: 'EMPTY_INPUT' });
    const mixed = [...renderPath(4, 28, 14), ...renderPath(4, 14, 14)];
    const sizes = await collect(streamInference(groundTruthInference(gauges), mixed, { chunkSize: 4, overlap: 2 }));
    expect(sizes.error).toMatchObject({ code: 'BAD_SHAPE' });
    const depthOnly = async (f: readonly Rendered[]) => {
      const p = await groundTruthInference(gauges)(f, { chunk: { index: 0 } });
      return { ...p, conf: null, extrinsics: null };
    };
    expect((await collect(streamInference(depthOnly, renderPath(3, 14, 14), {}))).error).toMatchObject({ code: 'BAD_CONFIG' });
    const controller = new AbortController();
    const gen = streamInference(groundTruthInference(gauges), renderPath(12, 14, 14), { chunkSize: 4, overlap: 2, signal: controller.signal });
    const seen: number[] = [];
    const aborted = await (async () => {
      try {
        for await (const e of gen) {
          if (e.type === 'frame') {
            seen.push(e.frame.index);
            if (e.frame.index === 3) controller.abort();
          }
        }
      } catch (e) {
        return e;
      }
    })();
    expect(aborted).toMatchObject({ code: 'ABORTED' });
    expect(seen).toEqual([0, 1, 2, 3]);
  });
});

describe('point cloud and camera files', () => {
  it('keeps ⌊valid · sampleRatio⌋ points above mean(conf − 1) · coef, deterministically', () => {
    const W = 8;
    const H = 4;
    const conf = new Float32Array(2 * W * H);
    for (let i = 0; i < conf.length; i++) conf[i] = 1 + (i % 4); // conf − 1 ∈ {0,1,2,3}: mean 1.5
    const maps = {
      views: 2,
      height: H,
      width: W,
      depth: new Float32Array(2 * W * H).fill(2),
      conf,
      extrinsics: Float32Array.of(1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0),
      intrinsics: Float32Array.of(4, 0, 4, 0, 4, 2, 0, 0, 1, 4, 0, 4, 0, 4, 2, 0, 0, 1),
      images: new Uint8Array(2 * W * H * 3).map((_, i) => i % 251),
    };
    const all = chunkPointCloud(maps, null, { sampleRatio: 1, confThresholdCoef: 1, seed: 1 });
    expect(all.confThreshold).toBe(1.5);
    expect(all.validPoints).toBe(32); // conf − 1 ∈ {2, 3}
    expect(all.count).toBe(32);
    expect(Array.from(all.positions.subarray(0, 3))).toEqual([(2 - 4) * 2 / 4, (0 - 2) * 2 / 4, 2]);
    const some = chunkPointCloud(maps, null, { sampleRatio: 0.25, confThresholdCoef: 1, seed: 7 });
    expect(some.count).toBe(8);
    expect(chunkPointCloud(maps, null, { sampleRatio: 0.25, confThresholdCoef: 1, seed: 7 })).toEqual(some);
  });

  it('prints numbers the way the reference writes them (str of float64 and of numpy float32)', () => {
    const f64 = [1.0, 0.1, 1e-5, 1.5e16, 123456.789, -0.0, 0.0001, 0.00012345, 1e16, 9.999e15, -2.5e-7, 3.0, 100.0];
    expect(f64.map(pythonFloat).join(' ')).toBe('1.0 0.1 1e-05 1.5e+16 123456.789 -0.0 0.0001 0.00012345 1e+16 9999000000000000.0 -2.5e-07 3.0 100.0');
    const f32 = [1.0, 0.1, 1e-5, 120.5, 3.3333333, 1e-4, 1e16, 12345678.0, 0.3, 99999.5, 1e6];
    expect(f32.map(numpyFloat32).join(' ')).toBe('1.0 0.1 1e-05 120.5 3.3333333 1e-04 1e+16 1.2345678e+07 0.3 99999.5 1e+06');
  });
});
