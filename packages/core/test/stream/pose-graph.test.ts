import {
  type LoopConstraint,
  type StreamSim3,
  composeSim3,
  computeSim3Ab,
  findLoopClosures,
  invertSim3,
  isDa3Error,
  makeSim3,
  optimizeSim3PoseGraph,
  poolFrameDescriptors,
  processLoopList,
  removeDuplicates,
  sequentialToAbsolutePoses,
  sim3Exp,
  sim3Log,
} from '@da3js/core';
import { describe, expect, it } from 'vitest';

function rotation(axis: [number, number, number], angle: number): Float64Array {
  const n = Math.hypot(...axis);
  const [x, y, z] = axis.map((v) => v / n);
  const c = Math.cos(angle), s = Math.sin(angle), C = 1 - c;
  return Float64Array.of(c + x * x * C, x * y * C - z * s, x * z * C + y * s, y * x * C + z * s, c + y * y * C, y * z * C - x * s, z * x * C - y * s, z * y * C + x * s, c + z * z * C);
}

function sim3Distance(a: StreamSim3, b: StreamSim3): number {
  let m = Math.abs(a.scale - b.scale);
  for (let i = 0; i < 9; i++) m = Math.max(m, Math.abs(a.rotation[i] - b.rotation[i]));
  for (let i = 0; i < 3; i++) m = Math.max(m, Math.abs(a.translation[i] - b.translation[i]));
  return m;
}

/**
 * The loop constraint between chunks a and b given absolute poses (chunk → chunk 0): S_ab = T_b⁻¹·T_a
 * maps chunk a into chunk b — the reference's compute_sim3_ab(S_a, S_b) with a loop chunk aligned
 * into both (here the loop chunk's frame is chunk 0's, so S_a = T_a⁻¹, S_b = T_b⁻¹).
 */
function between(abs: StreamSim3[], a: number, b: number): StreamSim3 {
  const viaLoopChunk = computeSim3Ab(invertSim3(abs[a]), invertSim3(abs[b]));
  const direct = composeSim3(invertSim3(abs[b]), abs[a]);
  expect(sim3Distance(viaLoopChunk, direct)).toBeLessThan(1e-12);
  return direct;
}

/** Deterministic pseudo-random numbers in [-1, 1). */
function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 31 - 1;
  };
}

describe('sim3Exp / sim3Log', () => {
  it('Exp∘Log and Log∘Exp are identities across regimes (small angle, small σ, angle near π)', () => {
    const rnd = lcg(3);
    const cases: number[][] = [
      [0.3, -1.2, 2, 0.4, -0.2, 0.9, 0.3],
      [5, 1, -3, 1e-9, 2e-9, -1e-9, 1e-10],
      [1, 2, 3, 0, 0, 0, 0],
      [1, 2, 3, 0, 0, 0, -0.7],
      [-2, 0.5, 1, 0, 0, Math.PI - 1e-6, 0.2],
      [0.1, 0.2, 0.3, 1e-5, 0, 0, 1e-7],
    ];
    for (let k = 0; k < 30; k++) cases.push(Array.from({ length: 7 }, (_, i) => rnd() * (i < 3 ? 10 : i < 6 ? 1.7 : 1)));
    for (const xi of cases) {
      const back = sim3Log(sim3Exp(xi));
      for (let i = 0; i < 7; i++) expect(Math.abs(back[i] - xi[i])).toBeLessThanOrEqual(1e-9 * Math.max(1, Math.abs(xi[i])));
    }
  });

  it('matches the closed forms: pure scale+translation (W = (e^σ−1)/σ·I) and SE(3) (σ = 0)', () => {
    const a = sim3Exp([1, -2, 0.5, 0, 0, 0, 0.4]);
    const w = (Math.exp(0.4) - 1) / 0.4;
    expect(a.scale).toBeCloseTo(Math.exp(0.4), 14);
    [1, -2, 0.5].forEach((v, i) => {
      expect(a.translation[i]).toBeCloseTo(w * v, 12);
    });
    // SE(3): V = I + (1−cosθ)/θ²·K + (θ−sinθ)/θ³·K²
    const phi = [0.3, -0.5, 0.8], tau = [1, 2, -1];
    const th = Math.hypot(...phi);
    const K = [0, -phi[2], phi[1], phi[2], 0, -phi[0], -phi[1], phi[0], 0];
    const K2 = Array.from({ length: 9 }, (_, i) => {
      const r = Math.floor(i / 3), c = i % 3;
      return K[3 * r] * K[c] + K[3 * r + 1] * K[3 + c] + K[3 * r + 2] * K[6 + c];
    });
    const V = Array.from({ length: 9 }, (_, i) => (i % 4 === 0 ? 1 : 0) + ((1 - Math.cos(th)) / th ** 2) * K[i] + ((th - Math.sin(th)) / th ** 3) * K2[i]);
    const b = sim3Exp([...tau, ...phi, 0]);
    for (let r = 0; r < 3; r++) expect(b.translation[r]).toBeCloseTo(V[3 * r] * tau[0] + V[3 * r + 1] * tau[1] + V[3 * r + 2] * tau[2], 12);
    expect(sim3Distance({ ...b, translation: new Float64Array(3) }, makeSim3(1, rotation(phi as [number, number, number], th), [0, 0, 0]))).toBeLessThan(1e-14);
  });
});

describe('optimizeSim3PoseGraph (synthetic loops with known answers)', () => {
  const N = 6;

  it('a consistent graph comes back unchanged', () => {
    const seq = Array.from({ length: N }, (_, k) => makeSim3(1 + 0.05 * k, rotation([1, k, 2], 0.2 + 0.05 * k), [1, -0.2 * k, 0.3]));
    const abs = sequentialToAbsolutePoses(seq);
    const loops: LoopConstraint[] = [
      { i: N, j: 0, sim: between(abs, N, 0) },
      { i: 4, j: 1, sim: between(abs, 4, 1) },
    ];
    const r = optimizeSim3PoseGraph(seq, loops);
    expect(r.costHistory[0]).toBeLessThan(1e-20);
    r.transforms.forEach((s, k) => {
      expect(sim3Distance(s, seq[k])).toBeLessThan(1e-9);
    });
  });

  it('scale and rotation about one axis together (no translation): both misclosures shared equally', () => {
    const scales = [1.1, 0.95, 1.2, 1.05, 0.9, 1.15];
    const angles = [0.5, 0.7, 0.4, 0.6, 0.55, 0.65];
    const loop = makeSim3(1.3, rotation([0, 0, 1], 3.0), [0, 0, 0]);
    const es = scales.reduce((s, v) => s + Math.log(v), 0) - Math.log(1.3);
    const ea = angles.reduce((s, v) => s + v, 0) - 3.0;
    const seq = scales.map((s, k) => makeSim3(s, rotation([0, 0, 1], angles[k]), [0, 0, 0]));
    const r = optimizeSim3PoseGraph(seq, [{ i: N, j: 0, sim: loop }]);
    r.transforms.forEach((s, k) => {
      expect(Math.abs(Math.log(s.scale) - (Math.log(scales[k]) - es / (N + 1)))).toBeLessThan(1e-8);
      expect(Math.abs(Math.atan2(s.rotation[3], s.rotation[0]) - (angles[k] - ea / (N + 1)))).toBeLessThan(1e-8);
      expect(Math.hypot(...s.translation)).toBeLessThan(1e-12);
    });
  });

  it('pure scale drift: log-scales corrected by an equal share of the misclosure', () => {
    const meas = [1.1, 0.95, 1.2, 1.05, 0.9, 1.15];
    const trueLoopScale = 1.3;
    const e = meas.reduce((s, v) => s + Math.log(v), 0) - Math.log(trueLoopScale);
    const I = rotation([0, 0, 1], 0);
    const r = optimizeSim3PoseGraph(meas.map((s) => makeSim3(s, I, [0, 0, 0])), [{ i: N, j: 0, sim: makeSim3(trueLoopScale, I, [0, 0, 0]) }]);
    r.transforms.forEach((s, k) => {
      expect(Math.abs(Math.log(s.scale) - (Math.log(meas[k]) - e / (N + 1)))).toBeLessThan(1e-8);
    });
  });

  it('rotations about one axis: angles corrected by an equal share of the misclosure', () => {
    const meas = [0.5, 0.7, 0.4, 0.6, 0.55, 0.65];
    const trueLoop = 3.0;
    const e = meas.reduce((s, v) => s + v, 0) - trueLoop;
    const r = optimizeSim3PoseGraph(meas.map((a) => makeSim3(1, rotation([0, 0, 1], a), [0, 0, 0])), [
      { i: N, j: 0, sim: makeSim3(1, rotation([0, 0, 1], trueLoop), [0, 0, 0]) },
    ]);
    r.transforms.forEach((s, k) => {
      const angle = Math.atan2(s.rotation[3], s.rotation[0]);
      expect(Math.abs(angle - (meas[k] - e / (N + 1)))).toBeLessThan(1e-8);
    });
  });

  it('a drifting Sim(3) ring: exact loop constraints pull the trajectory back to the truth', () => {
    const M = 12;
    const rnd = lcg(5);
    // Truth: a circle of chunks, each turning 30° and stepping forward, constant scale.
    const truthSeq = Array.from({ length: M }, () => makeSim3(1, rotation([0, 1, 0], (2 * Math.PI) / M), [0, 0, 1]));
    const truthAbs = sequentialToAbsolutePoses(truthSeq);
    // Measurements: small rotation, translation and scale errors that accumulate (drift).
    const meas = truthSeq.map((s) =>
      composeSim3(s, makeSim3(1 + 0.03 * rnd(), rotation([rnd(), rnd(), rnd()], 0.03), [0.05 * rnd(), 0.05 * rnd(), 0.05 * rnd()])),
    );
    const loops: LoopConstraint[] = [
      { i: M, j: 0, sim: between(truthAbs, M, 0) },
      { i: 9, j: 2, sim: between(truthAbs, 9, 2) },
    ];
    const centreError = (abs: StreamSim3[]) => Math.max(...abs.map((t, k) => Math.hypot(...[0, 1, 2].map((a) => t.translation[a] - truthAbs[k].translation[a]))));
    const before = centreError(sequentialToAbsolutePoses(meas));
    const r = optimizeSim3PoseGraph(meas, loops);
    const optAbs = sequentialToAbsolutePoses(r.transforms);
    const after = centreError(optAbs);
    expect(r.finalCost).toBeLessThan(r.costHistory[0] / 20);
    expect(after).toBeLessThan(before / 3);
    // The loop chunk now lands near chunk 0 (drift corrected).
    const closure = composeSim3(invertSim3(optAbs[0]), optAbs[M]);
    expect(sim3Distance(closure, between(truthAbs, M, 0))).toBeLessThan(0.1);
  });

  it('no loop constraints: the input is returned; typed errors on bad edges', () => {
    const seq = [makeSim3(1, rotation([0, 0, 1], 0.1), [1, 0, 0])];
    expect(sim3Distance(optimizeSim3PoseGraph(seq, []).transforms[0], seq[0])).toBe(0);
    for (const bad of [
      { i: 0, j: 0, sim: seq[0] },
      { i: 2, j: 0, sim: seq[0] },
    ]) {
      try {
        optimizeSim3PoseGraph(seq, [bad]);
        expect.unreachable();
      } catch (e) {
        expect(isDa3Error(e, 'BAD_VALUE')).toBe(true);
      }
    }
  });
});

describe('loop bookkeeping and detection', () => {
  it('processLoopList / removeDuplicates follow the reference', () => {
    const chunks: [number, number][] = [
      [0, 120],
      [60, 180],
      [120, 240],
      [180, 250],
    ];
    const pairs = processLoopList(chunks, [
      [230, 15],
      [125, 119],
      [245, 5],
      [500, 3],
    ]);
    expect(pairs).toEqual([
      { chunkA: 3, rangeA: [220, 240], chunkB: 0, rangeB: [5, 25] },
      { chunkA: 2, rangeA: [120, 140], chunkB: 1, rangeB: [109, 129] },
      { chunkA: 3, rangeA: [230, 250], chunkB: 0, rangeB: [0, 20] },
    ]);
    expect(removeDuplicates(pairs).length).toBe(2);
  });

  it('findLoopClosures: revisits found, neighbours within the gap ignored, NMS keeps the best', () => {
    // 40 frames along a path that returns to its start: descriptors from the position on a circle.
    const n = 40, dims = 8;
    const feats = new Float32Array(n * 3 * dims);
    for (let f = 0; f < n; f++) {
      const pos = f < 20 ? f : 39 - f; // frames 20..39 revisit 19..0
      for (let t = 0; t < 3; t++) for (let d = 0; d < dims; d++) feats[(f * 3 + t) * dims + d] = Math.cos(0.35 * pos * (d + 1)) + 0.01 * t;
    }
    const desc = poolFrameDescriptors(feats, n, 3, dims);
    const loops = findLoopClosures(desc, dims, { similarityThreshold: 0.99, nmsThreshold: 5 });
    expect(loops.length).toBeGreaterThan(0);
    for (const l of loops) {
      expect(l.frameA).toBeGreaterThan(l.frameB);
      expect(l.frameA - l.frameB).toBeGreaterThan(10);
      expect(l.frameA + l.frameB).toBe(39); // the true revisit
    }
  });
});
