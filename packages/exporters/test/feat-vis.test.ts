import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type FeatureMap, type Prediction, createPrediction, isDa3Error } from '@da3js/core';
import { decode as decodePng } from 'fast-png';
import { decode as decodeJpeg } from 'jpeg-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadTensors } from '../../../test-utils/fixtures.js';
import { fixturePrediction } from '../../../test-utils/prediction.js';
import { type FeaturePca, featureMaps, featurePca, renderFeatVis, upsampleNearest, writeFeatVisJpeg, writeFeatVisPng } from '../src/feat-vis/index.js';
import { memorySink } from '../src/writer.js';
import { PY, requireNumpy } from './helpers/shared.js';

// Debian's python3 with python3-numpy (NOT a pyenv python).
const SCRIPT = join(__dirname, 'python', 'check_feat.py');


const bytesOf = (a: ArrayBufferView) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);

/** Deterministic normal-ish noise (sum of uniforms). */
function noise(seed: number): () => number {
  let s = seed >>> 0;
  const u = () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32;
  return () => u() + u() + u() + u() - 2;
}

/** Synthetic features: known directions with standard deviations `sd`, plus small isotropic noise. */
function synthetic(views: number, h: number, w: number, C: number, sd: number[], eps: number, seed = 1): { map: FeatureMap; dirs: Float64Array[] } {
  const rnd = noise(seed);
  const dirs = sd.map(() => {
    const d = new Float64Array(C);
    for (let c = 0; c < C; c++) d[c] = rnd();
    // Gram–Schmidt against the previous directions.
    return d;
  });
  for (let k = 0; k < dirs.length; k++) {
    for (let j = 0; j < k; j++) {
      let dot = 0;
      for (let c = 0; c < C; c++) dot += dirs[k][c] * dirs[j][c];
      for (let c = 0; c < C; c++) dirs[k][c] -= dot * dirs[j][c];
    }
    const n = Math.hypot(...dirs[k]);
    for (let c = 0; c < C; c++) dirs[k][c] /= n;
  }
  const data = new Float32Array(views * h * w * C);
  for (let r = 0; r < views * h * w; r++) {
    const coef = sd.map((s) => s * rnd());
    for (let c = 0; c < C; c++) {
      let v = 3 + eps * rnd(); // non-zero mean
      for (let k = 0; k < sd.length; k++) v += coef[k] * dirs[k][c];
      data[r * C + c] = v;
    }
  }
  return { map: { layer: 0, height: h, width: w, channels: C, data }, dirs };
}

function expectUnitOrthogonal(pca: FeaturePca): void {
  const C = pca.channels;
  for (let a = 0; a < 3; a++) {
    for (let b = 0; b < 3; b++) {
      let dot = 0;
      for (let c = 0; c < C; c++) dot += pca.basis[c * 3 + a] * pca.basis[c * 3 + b];
      expect(dot).toBeCloseTo(a === b ? 1 : 0, 10);
    }
  }
}

describe('featurePca on the tiny/multi features (feat_layer_1, feat_layer_5)', () => {
  let maps: FeatureMap[];
  let pred: Prediction;
  let dir = '';

  beforeAll(async () => {
    const t = await loadTensors('tiny/multi/outputs.safetensors');
    maps = [1, 5].map((layer) => {
      const x = t[`out.aux.feat_layer_${layer}`];
      const [, , h, w, C] = x.shape;
      return { layer, height: h, width: w, channels: C, data: x.data as Float32Array };
    });
    const base = await fixturePrediction('tiny', 'multi');
    pred = createPrediction({ ...base, aux: { feat_layer_5: maps[1], feat_layer_1: maps[0] } });
    dir = mkdtempSync(join(tmpdir(), 'da3js-feat-'));
  });
  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('shapes, an orthonormal basis, variance of the first component ≥ the others', () => {
    expect(featureMaps(pred).map((m) => m.layer)).toEqual([1, 5]);
    for (const map of featureMaps(pred)) {
      const pca = featurePca(map);
      expect([pca.layer, pca.views, pca.height, pca.width, pca.channels]).toEqual([map.layer, 3, 4, 6, 64]);
      expect(pca.rgb.length).toBe(3 * 4 * 6 * 3);
      expect(pca.basis.length).toBe(64 * 3);
      expect(pca.mean.length).toBe(64);
      expectUnitOrthogonal(pca);
      expect(pca.variance[0]).toBeGreaterThanOrEqual(pca.variance[1]);
      expect(pca.variance[1]).toBeGreaterThanOrEqual(pca.variance[2]);
      for (let k = 0; k < 3; k++) expect(pca.hi[k]).toBeGreaterThan(pca.lo[k]);
      // Global 10 % clip: about 10 % of the rows sit at 0 and 10 % at 255 in every channel.
      for (let k = 0; k < 3; k++) {
        let zeros = 0;
        let full = 0;
        for (let r = 0; r < 72; r++) {
          if (pca.rgb[r * 3 + k] === 0) zeros++;
          if (pca.rgb[r * 3 + k] === 255) full++;
        }
        expect(zeros).toBeGreaterThanOrEqual(7);
        expect(full).toBeGreaterThanOrEqual(7);
      }
      console.info(`feat_layer_${map.layer}: variance ${Array.from(pca.variance, (v) => v.toPrecision(4)).join(' ≥ ')}, ${pca.iterations} iteration(s)`);
    }
  });

  it('is deterministic (same bytes twice, and for another seed)', () => {
    const a = featurePca(maps[0]);
    const b = featurePca(maps[0]);
    expect(bytesOf(b.rgb)).toEqual(bytesOf(a.rgb));
    expect(bytesOf(b.basis)).toEqual(bytesOf(a.basis));
    const c = featurePca(maps[0], { seed: 12345 });
    expect(bytesOf(c.rgb)).toEqual(bytesOf(a.rgb));
    for (let i = 0; i < a.basis.length; i++) expect(c.basis[i]).toBeCloseTo(a.basis[i], 7);
  });

  it('equals an exact NumPy eigh PCA (basis, variances, clip ranges, bytes)', async (ctx) => {
    requireNumpy(ctx);
    const big = synthetic(4, 20, 25, 200, [9, 6, 4, 2, 1.5, 1.2], 0.3, 7).map; // q = 16 < C: the iterative path
    const all: [string, FeatureMap][] = [
      ['layer1', maps[0]],
      ['layer5', maps[1]],
      ['synthetic200', big],
    ];
    const manifest = {
      maps: all.map(([name, m]) => {
        writeFileSync(join(dir, `${name}.f32`), bytesOf(m.data));
        return { name, file: `${name}.f32`, shape: [m.data.length / (m.height * m.width * m.channels), m.height, m.width, m.channels], clip: 10 };
      }),
    };
    writeFileSync(join(dir, 'manifest.json'), JSON.stringify(manifest));
    const run = spawnSync(PY, [SCRIPT, dir], { encoding: 'utf8' });
    expect(run.status, run.stderr).toBe(0);
    const oracle = JSON.parse(run.stdout).maps as Record<string, { basis: number[]; variance: number[]; eigenvalues: number[]; lo: number[]; hi: number[] }>;
    for (const [name, m] of all) {
      const pca = featurePca(m);
      const o = oracle[name];
      let maxBasis = 0;
      for (let i = 0; i < o.basis.length; i++) maxBasis = Math.max(maxBasis, Math.abs(pca.basis[i] - o.basis[i]));
      expect(maxBasis, name).toBeLessThan(1e-7);
      for (let k = 0; k < 3; k++) {
        expect(Math.abs(pca.variance[k] - o.variance[k]) / o.variance[k], name).toBeLessThan(1e-9);
        expect(Math.abs(pca.variance[k] - o.eigenvalues[k]) / o.eigenvalues[k], name).toBeLessThan(1e-9);
        expect(Math.abs(pca.lo[k] - o.lo[k]), name).toBeLessThan(1e-6 * Math.sqrt(o.variance[0]));
        expect(Math.abs(pca.hi[k] - o.hi[k]), name).toBeLessThan(1e-6 * Math.sqrt(o.variance[0]));
      }
      const ref = new Uint8Array(readFileSync(join(dir, `${name}.oracle.rgb`)));
      let diff = 0;
      let maxDiff = 0;
      for (let i = 0; i < ref.length; i++) {
        if (ref[i] !== pca.rgb[i]) diff++;
        maxDiff = Math.max(maxDiff, Math.abs(ref[i] - pca.rgb[i]));
      }
      console.info(`${name}: max |Δbasis| ${maxBasis.toExponential(2)}, ${diff}/${ref.length} bytes differ (max ${maxDiff}), ${pca.iterations} iteration(s)`);
      expect(maxDiff, name).toBeLessThanOrEqual(1);
      expect(diff / ref.length, name).toBeLessThan(0.005);
    }
  });

  it('[RGB | PCA] PNG at 2W×H: left = processed image, right = the PCA colours nearest-upsampled ×14', async () => {
    const pca = featurePca(maps[1]);
    const { height: H, width: W } = pred;
    for (let v = 0; v < 3; v++) {
      const sink = memorySink();
      const n = await writeFeatVisPng(pred, pca, v, sink);
      const png = decodePng(sink.bytes());
      expect([png.width, png.height, png.channels]).toEqual([2 * W, H, 3]);
      const data = png.data as Uint8Array;
      for (let y = 0; y < H; y += 5) {
        for (let x = 0; x < W; x += 3) {
          const o = (y * 2 * W + x) * 3;
          const pi = ((v * H + y) * W + x) * 3;
          expect(Array.from(data.subarray(o, o + 3))).toEqual(Array.from(pred.processedImages.subarray(pi, pi + 3)));
          const r = (y * 2 * W + W + x) * 3;
          const s = ((v * 4 + Math.floor(y / 14)) * 6 + Math.floor(x / 14)) * 3;
          expect(Array.from(data.subarray(r, r + 3))).toEqual(Array.from(pca.rgb.subarray(s, s + 3)));
        }
      }
      if (v === 0) console.info(`feat_vis view 0: PNG ${n} bytes (${2 * W}×${H})`);
    }
    const jpg = memorySink();
    const n = await writeFeatVisJpeg(pred, pca, 2, jpg);
    const dec = decodeJpeg(jpg.bytes(), { useTArray: true });
    expect([dec.width, dec.height]).toEqual([2 * W, H]);
    console.info(`feat_vis view 2: JPEG q95 ${n} bytes`);
    expect(renderFeatVis(pred, pca, 0, { withImage: false, channels: 4 }).width).toBe(W);
  });
});

describe('featurePca on synthetic features', () => {
  it('recovers known directions in order (signs: largest entry positive)', () => {
    // (The sample's own principal axes tilt from the generating ones by ~1/√rows.)
    const { map, dirs } = synthetic(2, 20, 24, 40, [10, 5, 2], 0.01, 3);
    const pca = featurePca(map);
    expectUnitOrthogonal(pca);
    for (let k = 0; k < 3; k++) {
      let dot = 0;
      for (let c = 0; c < 40; c++) dot += pca.basis[c * 3 + k] * dirs[k][c];
      expect(Math.abs(dot)).toBeGreaterThan(0.995);
    }
    expect(pca.variance[0]).toBeGreaterThan(pca.variance[1]);
    expect(pca.variance[1]).toBeGreaterThan(pca.variance[2]);
  });

  it('upsampleNearest follows the INTER_NEAREST rule (non-integer factors too)', () => {
    const src = Uint8Array.from({ length: 2 * 3 * 3 }, (_, i) => i);
    const up = upsampleNearest(src, 2, 3, 5, 7);
    for (let y = 0; y < 5; y++) {
      for (let x = 0; x < 7; x++) {
        const sy = Math.min(Math.floor(y * (1 / (5 / 2))), 1);
        const sx = Math.min(Math.floor(x * (1 / (7 / 3))), 2);
        expect(up[(y * 7 + x) * 3]).toBe(src[(sy * 3 + sx) * 3]);
      }
    }
  });

  it('constant features give a black map (no NaN), rank-deficient data still converges', () => {
    const flat = featurePca({ layer: 0, height: 2, width: 2, channels: 8, data: new Float32Array(2 * 2 * 2 * 8).fill(1.5) });
    expect(flat.rgb.every((b) => b === 0)).toBe(true);
    expect(Array.from(flat.basis).every(Number.isFinite)).toBe(true);
    // 4 rows, 32 channels: rank ≤ 3 after centring.
    const few = synthetic(1, 2, 2, 32, [4, 2, 1], 0, 5).map;
    const pca = featurePca(few);
    expectUnitOrthogonal(pca);
  });

  it('bad inputs → typed errors (NaN, shapes, empty, options); the sink is aborted', async () => {
    const code = (fn: () => unknown) => {
      try {
        fn();
      } catch (e) {
        expect(isDa3Error(e), String(e)).toBe(true);
        return (e as { code: string }).code;
      }
      return 'none';
    };
    const ok = synthetic(1, 2, 3, 8, [2, 1, 0.5], 0.1).map;
    const nan = { ...ok, data: ok.data.slice() };
    nan.data[5] = Number.NaN;
    expect(code(() => featurePca(nan))).toBe('NON_FINITE');
    const replaced = featurePca(nan, { nonFinite: 'replace' });
    expect(replaced.rgb.length).toBe(18);
    expect(code(() => featurePca({ ...ok, data: ok.data.subarray(1) }))).toBe('BAD_SHAPE');
    expect(code(() => featurePca({ ...ok, data: new Float32Array(0) }))).toBe('EMPTY_INPUT');
    expect(code(() => featurePca({ ...ok, channels: 0 }))).toBe('EMPTY_INPUT');
    expect(code(() => featurePca({ layer: 0, height: 2, width: 3, channels: 2, data: new Float32Array(12) }))).toBe('BAD_SHAPE');
    expect(code(() => featurePca(ok, { clipPercent: 50 }))).toBe('BAD_VALUE');
    expect(code(() => featurePca(ok, { nonFinite: 'zero' as 'error' }))).toBe('BAD_VALUE');
    expect(code(() => upsampleNearest(new Uint8Array(5), 1, 2, 4, 4))).toBe('BAD_SHAPE');

    const pred = await fixturePrediction('tiny', 'multi');
    expect(code(() => featureMaps(pred, [7]))).toBe('BAD_VALUE');
    const pca1 = featurePca(ok); // 1 view, the prediction has 3
    const t = await loadTensors('tiny/multi/outputs.safetensors');
    const x = t['out.aux.feat_layer_1'];
    const pca3 = featurePca({ layer: 1, height: 4, width: 6, channels: 64, data: x.data as Float32Array });
    for (const [run, want] of [
      [(s: Parameters<typeof writeFeatVisPng>[3]) => writeFeatVisPng(pred, pca1, 0, s), 'BAD_SHAPE'],
      [(s: Parameters<typeof writeFeatVisPng>[3]) => writeFeatVisJpeg(pred, pca3, 3, s), 'OUT_OF_RANGE'],
      [(s: Parameters<typeof writeFeatVisPng>[3]) => writeFeatVisPng(pred, pca3, 0, s, { channels: 5 as 3 }), 'BAD_VALUE'],
      [(s: Parameters<typeof writeFeatVisPng>[3]) => writeFeatVisPng(pred, { ...pca3, rgb: pca3.rgb.subarray(3) }, 0, s), 'BAD_SHAPE'],
    ] as const) {
      const state = { aborted: false, closed: false };
      const sink = {
        write: () => {},
        close: () => {
          state.closed = true;
        },
        abort: () => {
          state.aborted = true;
        },
      };
      const err = await run(sink).then(
        () => null,
        (e) => e,
      );
      expect(isDa3Error(err), String(err)).toBe(true);
      expect(err.code).toBe(want);
      expect(state.aborted).toBe(true);
      expect(state.closed).toBe(false);
    }
  });
});
