/**
 * stream/align against the reference's own DA3-Streaming code (testdata/stream-align/, made by
 * scripts/goldens/stream-align/make_goldens.py from `da3_streaming/loop_utils/sim3utils.py` and
 * `da3_streaming.py`, numpy path, float64): every Sim(3)/SE(3)/IRLS/scale result to 1e-6.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  type StreamSim3,
  SafetensorsFile,
  accumulateSim3Transforms,
  alignChunkOverlap,
  applySim3ToPoints,
  applyStreamSim3ToExtrinsics,
  computeScaleRansac,
  computeScaleWeighted,
  computeSim3Ab,
  estimateSim3,
  huberLoss,
  legacyRandomState,
  makeSim3,
  memoryByteSource,
  robustWeightedEstimateSim3,
  weightedEstimateSe3,
  weightedEstimateSim3,
} from '@da3js/core';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../helpers/fixtures.js';

const DIR = join(REPO_ROOT, 'testdata', 'stream-align');
const TOL = 1e-6;

interface Sim3Json {
  scale: number;
  rotation: number[];
  translation: number[];
}
interface CaseJson {
  align_method: 'sim3' | 'se3' | 'scale+se3';
  scale_compute_method: 'auto' | 'ransac' | 'weighted';
  dtype: 'float64' | 'float32';
  dataset: string;
  conf_threshold: number;
  matched_points: number;
  irls_rounds_printed: number;
  result: Sim3Json;
  scale_estimate?: { scale: number; quality: number; method: string };
}
interface Goldens {
  reference_commit: string;
  config: { IRLS: { delta: number; max_iters: number } };
  datasets: Record<string, { truth: Sim3Json }>;
  cases: Record<string, CaseJson>;
  // biome-ignore lint/suspicious/noExplicitAny: heterogeneous golden records
  functions: Record<string, any>;
}

const goldens = JSON.parse(readFileSync(join(DIR, 'goldens.json'), 'utf8')) as Goldens;

async function loadInputs(): Promise<Record<string, Float32Array>> {
  const st = await SafetensorsFile.open(memoryByteSource(new Uint8Array(readFileSync(join(DIR, 'inputs.safetensors')))));
  const out: Record<string, Float32Array> = {};
  for (const name of st.names()) out[name] = (await st.read(name)) as Float32Array;
  return out;
}

function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

function sim3Diff(got: StreamSim3, want: Sim3Json): number {
  return Math.max(Math.abs(got.scale - want.scale), maxDiff(got.rotation, want.rotation), maxDiff(got.translation, want.translation));
}

const fromJson = (j: Sim3Json) => makeSim3(j.scale, j.rotation, j.translation);

describe(`stream/align vs the reference's da3_streaming (${goldens.reference_commit.slice(0, 10)})`, async () => {
  const inputs = await loadInputs();
  const worst: Record<string, number> = {};

  for (const [name, c] of Object.entries(goldens.cases)) {
    it(`align_2pcds ${name} (${c.align_method}${c.align_method === 'scale+se3' ? `, ${c.scale_compute_method}` : ''}, ${c.dtype})`, () => {
      const d = (k: string) => inputs[`${c.dataset}.${k}`];
      const r = alignChunkOverlap(
        { points: d('prev_points'), conf: d('prev_conf'), depth: d('prev_depth') },
        { points: d('cur_points'), conf: d('cur_conf'), depth: d('cur_depth') },
        { method: c.align_method, scaleComputeMethod: c.scale_compute_method },
      );
      expect(r.matchedPoints).toBe(c.matched_points);
      expect(Math.abs(r.confThreshold - c.conf_threshold)).toBeLessThanOrEqual(c.dtype === 'float64' ? 1e-12 : 1e-6);
      expect(Math.min(r.iterations + 1, goldens.config.IRLS.max_iters)).toBe(c.irls_rounds_printed);
      const diff = sim3Diff(r, c.result);
      worst[name] = diff;
      if (c.dtype === 'float64') expect(diff).toBeLessThanOrEqual(TOL);
      // The reference run on the float32 arrays themselves (as in its pipeline): float32 rounding only.
      else expect(diff).toBeLessThanOrEqual(1e-4);
      if (c.scale_estimate) {
        const se = r.scaleEstimate;
        expect(se?.method).toBe(c.scale_estimate.method);
        expect(Math.abs((se?.scale ?? 0) - c.scale_estimate.scale)).toBeLessThanOrEqual(TOL);
        expect(Math.abs((se?.quality ?? 0) - c.scale_estimate.quality)).toBeLessThanOrEqual(TOL);
      }
      // Sanity: near the synthetic truth.
      const truth = goldens.datasets[c.dataset].truth;
      expect(Math.abs(r.scale - (c.align_method === 'se3' ? 1 : truth.scale))).toBeLessThan(0.05);
    });
  }

  const src = inputs['pieces.src'], tgt = inputs['pieces.tgt'], w = inputs['pieces.weights'];
  const f = goldens.functions;

  it('weighted_estimate_sim3 / weighted_estimate_se3 / estimate_sim3', () => {
    expect(sim3Diff(weightedEstimateSim3(src, tgt, w), f.weighted_estimate_sim3)).toBeLessThanOrEqual(TOL);
    expect(sim3Diff(weightedEstimateSe3(src, tgt, w), f.weighted_estimate_se3)).toBeLessThanOrEqual(TOL);
    expect(sim3Diff(estimateSim3(src, tgt), f.estimate_sim3)).toBeLessThanOrEqual(TOL);
  });

  for (const method of ['sim3', 'se3', 'scale+se3'] as const) {
    for (const iters of [5, 20]) {
      it(`robust_weighted_estimate_sim3 ${method}, max_iters ${iters}`, () => {
        const g = f[`robust_weighted_estimate_sim3.${method}.${iters}`];
        const r = robustWeightedEstimateSim3(src, tgt, w, { delta: 0.1, maxIters: iters, tol: 1e-9, alignMethod: method });
        expect(sim3Diff(r, g)).toBeLessThanOrEqual(TOL);
        expect(Math.min(r.iterations + 1, iters)).toBe(g.irls_rounds_printed);
      });
    }
  }

  it('huber_loss', () => {
    const g = f.huber_loss;
    expect(maxDiff(g.r.map((r: number) => huberLoss(r, g.delta)), g.out)).toBeLessThanOrEqual(1e-15);
  });

  it('accumulate_sim3_transforms / compute_sim3_ab / apply_sim3_direct', () => {
    const acc = accumulateSim3Transforms(f.accumulate_sim3_transforms.input.map(fromJson));
    acc.forEach((s, i) => {
      expect(sim3Diff(s, f.accumulate_sim3_transforms.output[i])).toBeLessThanOrEqual(1e-12);
    });
    expect(sim3Diff(computeSim3Ab(fromJson(f.compute_sim3_ab.a), fromJson(f.compute_sim3_ab.b)), f.compute_sim3_ab.output)).toBeLessThanOrEqual(1e-12);
    const g = f.apply_sim3_direct;
    // float32 output of float64 maths
    expect(maxDiff(applySim3ToPoints(fromJson(g.sim), Float32Array.from(g.points)), g.output)).toBeLessThanOrEqual(1e-5);
  });

  it('save_camera_poses: applySim3ToExtrinsics is its c2w, inverted', () => {
    const g = f.save_camera_poses;
    const sim = fromJson(g.sim);
    g.w2c.forEach((w2c: number[], k: number) => {
      const out = applyStreamSim3ToExtrinsics(sim, w2c);
      const c2w = g.c2w_written_for_frames_1_2[k] as number[];
      // w2c' · c2w = I (rigid: [R' | t'] · [Rc | c]).
      for (let r = 0; r < 3; r++) {
        for (let c = 0; c < 4; c++) {
          let v = 0;
          for (let j = 0; j < 3; j++) v += out[4 * r + j] * c2w[4 * j + c];
          if (c === 3) v += out[4 * r + 3];
          expect(Math.abs(v - (r === c ? 1 : 0))).toBeLessThanOrEqual(1e-12);
        }
      }
    });
  });

  it('compute_scale_ransac / compute_scale_weighted (and the subsample path, max_samples 250)', () => {
    const d = (k: string) => inputs[`scale_noisy.${k}`];
    const c1 = Float64Array.from(d('prev_conf'), (v) => v - 1);
    const c2 = Float64Array.from(d('cur_conf'), (v) => v - 1);
    const check = (got: { scale: number; quality: number }, want: { scale: number; quality: number }) => {
      expect(Math.abs(got.scale - want.scale)).toBeLessThanOrEqual(TOL);
      expect(Math.abs(got.quality - want.quality)).toBeLessThanOrEqual(TOL);
    };
    check(computeScaleRansac(d('prev_depth'), d('cur_depth'), c1, c2), f.compute_scale_ransac);
    check(computeScaleRansac(d('prev_depth'), d('cur_depth'), c1, c2, { maxSamples: 250 }), f['compute_scale_ransac.max_samples_250']);
    check(computeScaleWeighted(d('prev_depth'), d('cur_depth'), c1, c2), f.compute_scale_weighted);
  });

  it("numpy's legacy RandomState(42): randint and permutation draws", () => {
    const g = f['RandomState(42)'];
    const rs = legacyRandomState(42);
    expect(Array.from({ length: 20 }, () => rs.randint(1000))).toEqual(g.randint_1000x20);
    expect(rs.randint(7)).toBe(g.randint_7_after);
    expect(Array.from(legacyRandomState(42).permutation(37))).toEqual(g.permutation_37);
  });

  it('reports the largest differences', () => {
    // Informational: printed so a regression in precision is visible in the test log.
    console.log('stream/align max |ours − reference| per case:', worst);
  });
});
