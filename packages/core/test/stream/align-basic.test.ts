import {
  type StreamSim3,
  accumulateSim3Transforms,
  alignChunkOverlap,
  applySim3ToPoints,
  applyStreamSim3ToExtrinsics,
  composeSim3,
  computeSim3Ab,
  createPrng,
  invertSim3,
  isDa3Error,
  makeSim3,
} from '@da3js/core';
import { describe, expect, it } from 'vitest';

function rotation(axis: [number, number, number], angle: number): Float64Array {
  const n = Math.hypot(...axis);
  const [x, y, z] = axis.map((v) => v / n);
  const c = Math.cos(angle), s = Math.sin(angle), C = 1 - c;
  return Float64Array.of(c + x * x * C, x * y * C - z * s, x * z * C + y * s, y * x * C + z * s, c + y * y * C, y * z * C - x * s, z * x * C - y * s, z * y * C + x * s, c + z * z * C);
}

function close(a: ArrayLike<number>, b: ArrayLike<number>, tol: number): void {
  expect(a.length).toBe(b.length);
  for (let i = 0; i < a.length; i++) expect(Math.abs(a[i] - b[i])).toBeLessThanOrEqual(tol);
}

function apply64(s: StreamSim3, p: ArrayLike<number>): Float64Array {
  const out = new Float64Array(p.length);
  const R = s.rotation;
  for (let i = 0; i < p.length; i += 3) {
    for (let r = 0; r < 3; r++) out[i + r] = s.scale * (R[3 * r] * p[i] + R[3 * r + 1] * p[i + 1] + R[3 * r + 2] * p[i + 2]) + s.translation[r];
  }
  return out;
}

const truth = makeSim3(1.7, rotation([0.3, -1, 0.5], 0.6), [0.4, -1.2, 2.5]);

describe('stream/align basics', () => {
  it('alignChunkOverlap recovers a known Sim(3) from exact point maps (cur → prev)', () => {
    const rng = createPrng(7);
    const F = 2, H = 6, W = 8, n = F * H * W;
    const cur = new Float32Array(3 * n);
    for (let i = 0; i < cur.length; i++) cur[i] = (rng.next() - 0.5) * 4 + (i % 3 === 2 ? 5 : 0);
    const prev = Float32Array.from(apply64(truth, cur));
    const conf = new Float32Array(n).fill(3);
    const r = alignChunkOverlap({ points: prev, conf }, { points: cur, conf });
    expect(r.scale).toBeCloseTo(truth.scale, 5);
    close(r.rotation, truth.rotation, 1e-5);
    close(r.translation, truth.translation, 1e-4);
    expect(r.matchedPoints).toBe(n);
  });

  it('compose / invert / compute_sim3_ab / accumulate agree', () => {
    const b = makeSim3(0.8, rotation([1, 2, 3], -0.4), [1, 0, -1]);
    const p = [0.3, -0.7, 2.2, 1, 2, 3];
    close(apply64(composeSim3(truth, b), p), apply64(truth, apply64(b, p)), 1e-12);
    close(apply64(composeSim3(truth, invertSim3(truth)), p), p, 1e-12);
    // compute_sim3_ab(a, b) = b ∘ a⁻¹
    close(apply64(computeSim3Ab(b, truth), p), apply64(composeSim3(truth, invertSim3(b)), p), 1e-12);
    const acc = accumulateSim3Transforms([truth, b, truth]);
    close(apply64(acc[2], p), apply64(truth, apply64(b, apply64(truth, p))), 1e-10);
    close(applySim3ToPoints(truth, Float32Array.from(p)), apply64(truth, Float32Array.from(p)), 1e-5);
  });

  it('applySim3ToExtrinsics: the moved camera sees moved points at s× depth', () => {
    const Rc = rotation([0, 1, 0.2], 0.3);
    const w2c = [Rc[0], Rc[1], Rc[2], 0.5, Rc[3], Rc[4], Rc[5], -0.2, Rc[6], Rc[7], Rc[8], 1.5];
    const x = [0.3, 0.1, 4];
    const cam = (e: ArrayLike<number>, p: ArrayLike<number>) => [0, 1, 2].map((r) => e[4 * r] * p[0] + e[4 * r + 1] * p[1] + e[4 * r + 2] * p[2] + e[4 * r + 3]);
    const moved = applyStreamSim3ToExtrinsics(truth, w2c);
    close(cam(moved, apply64(truth, x)), cam(w2c, x).map((v) => v * truth.scale), 1e-12);
  });

  it('typed errors', () => {
    const pts = new Float32Array(30), conf = new Float32Array(10).fill(2);
    const bad = (f: () => unknown, code: string) => {
      try {
        f();
        expect.unreachable();
      } catch (e) {
        expect(isDa3Error(e, code as never)).toBe(true);
      }
    };
    bad(() => alignChunkOverlap({ points: pts, conf }, { points: new Float32Array(27), conf: new Float32Array(9) }), 'BAD_SHAPE');
    const nan = Float32Array.from(pts);
    nan[4] = Number.NaN;
    bad(() => alignChunkOverlap({ points: nan, conf }, { points: pts, conf }), 'NON_FINITE');
    bad(() => alignChunkOverlap({ points: pts, conf: new Float32Array(10) }, { points: pts, conf }), 'DEGENERATE');
    bad(() => alignChunkOverlap({ points: pts, conf }, { points: pts, conf }, { method: 'scale+se3' }), 'BAD_VALUE');
  });
});

describe('computeScaleWeighted: the weighted selection equals numpy argsort + cumsum + searchsorted', () => {
  it('on many ties and random weights', async () => {
    const { computeScaleWeighted } = await import('@da3js/core');
    const rng = createPrng(3);
    for (let trial = 0; trial < 20; trial++) {
      const n = 150 + Math.floor(rng.next() * 3000);
      const d1 = new Float64Array(n), d2 = new Float64Array(n), c1 = new Float64Array(n), c2 = new Float64Array(n);
      for (let i = 0; i < n; i++) {
        d2[i] = 1 + Math.floor(rng.next() * 4); // few distinct values → many tied ratios
        d1[i] = d2[i] * (0.5 + Math.floor(rng.next() * 8) / 8);
        c1[i] = rng.next() * 3;
        c2[i] = rng.next() * 3;
      }
      // The reference's steps, literally (stable sort: numpy's order among ties does not change the value).
      const thr = Math.max(median(c1) * 0.1, median(c2) * 0.1, 1e-6);
      const idx = [...Array(n).keys()].filter((i) => c1[i] > thr && c2[i] > thr && d1[i] > 1e-3 && d2[i] > 1e-3 && d1[i] < 100 && d2[i] < 100);
      const w = idx.map((i) => (c1[i] * c2[i]) ** 2);
      const sum = w.reduce((a, b) => a + b, 0) + 1e-8;
      const pairs = idx.map((i, k) => [d1[i] / (d2[i] + 1e-8), w[k] / sum]).sort((a, b) => a[0] - b[0]);
      let c = 0;
      const cum = pairs.map((p) => (c += p[1]));
      const pick = (q: number) => cum.findIndex((v) => v >= q);
      const mi = pick(0.5), qi = pick(0.9);
      const median50 = mi >= 0 ? pairs[mi][0] : 1;
      const expected = qi >= 0 ? pairs[qi][0] : median50;
      expect(computeScaleWeighted(d1, d2, c1, c2).scale).toBe(expected > 0.1 && expected < 10 ? expected : 1);
    }
  });
});

function median(a: ArrayLike<number>): number {
  const s = Float64Array.from(a).sort();
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}
