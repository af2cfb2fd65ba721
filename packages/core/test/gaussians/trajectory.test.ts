/**
 * gs_video trajectories against the reference's own code (testdata/gs-video, made by
 * scripts/goldens/gs-video/make_goldens.py): export_to_gs_video run on fixture and synthetic
 * cameras with gsplat replaced by a recorder, for every trajectory mode, single views, NESTED
 * scale division and the render_exts / render_ixts / render_hw overrides.
 *
 * The reference computes in float32 torch (the pivot parameters in float64); the port computes in
 * float64 and rounds to float32 where the reference stores float32. Differences are float32
 * rounding noise, at most 7.6e-7 of an entry's magnitude (at least 1) over these cases (orbit130:
 * 130 views smoothed with a 51-tap kernel); the bound is 1e-6. The reference run in float64 moves
 * by as much from its own float32 run (up to 6.5e-7, `f32_vs_f64` in goldens.json).
 */
import { describe, expect, it } from 'vitest';
import { type TrajectoryMode, eulerYXZ, gaussianKernel, gsVideoPlan, interpolationLength, matrixFromEulerYXZ, novelViewTrajectory, stabilizePath, worldToCamera } from '../../src/index.js';
import { loadTestdataJson, loadTestdataTensors } from '../../../../test-utils/testdata.js';
import type { FixtureTensor } from '../helpers/fixtures.js';

interface Case {
  name: string;
  scene?: string;
  trj_mode?: TrajectoryMode;
  error?: string;
  file?: string;
  frames?: number;
  frame_shape?: number[];
  image_shape?: number[];
  render_overrides?: string;
  kwargs?: Record<string, unknown>;
  tensors?: string[];
  gsplat?: { width: number; height: number; render_mode: string; sh_degree: number; backgrounds: number[]; packed: boolean };
  ffmpeg_params?: string[];
  fps?: number;
  codec?: string;
}
interface Goldens {
  scenes: Record<string, { views: number; hw: [number, number]; is_metric: number; scale_factor: number | null }>;
  cases: Case[];
}

const meta = loadTestdataJson<Goldens>('gs-video/goldens.json');
const T: Record<string, FixtureTensor> = await loadTestdataTensors('gs-video/goldens.safetensors');
const num = (name: string) => T[name].data as Float32Array;

/** Largest |a − b| / max(1, |b|) over the arrays. */
function maxRel(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]) / Math.max(1, Math.abs(b[i])));
  return m;
}

function planFor(c: Case) {
  const s = meta.scenes[c.scene!];
  const prediction = {
    views: s.views,
    height: s.hw[0],
    width: s.hw[1],
    extrinsics: num(`scene/${c.scene}/extrinsics`),
    intrinsics: num(`scene/${c.scene}/intrinsics`),
    isMetric: !!s.is_metric,
    scaleFactor: s.scale_factor,
  };
  const views = c.scene === 'giant1' ? 1 : 4;
  const over = c.render_overrides ?? '';
  const renderE = num('scene/render/extrinsics').subarray(0, views * 12);
  const renderK = num('scene/render/intrinsics').subarray(0, views * 9);
  return gsVideoPlan(prediction, {
    trajectory: c.trj_mode,
    renderExtrinsics: over.includes('exts') ? renderE : undefined,
    renderIntrinsics: over.includes('ixts') ? renderK : undefined,
    renderSize: over.includes('hw') ? { height: 30, width: 40 } : undefined,
  });
}

const runs = meta.cases.filter((c) => c.scene);
const TOL = 1e-6;

describe('gs_video trajectories vs the reference (export_to_gs_video with a recording gsplat)', () => {
  it('covers every trajectory mode, single view, NESTED and the render overrides', () => {
    const modes = new Set(runs.filter((c) => !c.error).map((c) => c.trj_mode));
    expect([...modes].sort()).toEqual(['dolly_zoom', 'extend', 'interpolate', 'interpolate_smooth', 'original', 'smooth', 'wander', 'wobble_inter']);
    expect(runs.some((c) => c.scene === 'giant1')).toBe(true);
    expect(runs.some((c) => c.scene === 'nested3')).toBe(true);
    expect(runs.some((c) => c.render_overrides === 'exts+ixts+hw')).toBe(true);
  });

  for (const c of runs) {
    it(`${c.name}${c.error ? ' (the reference fails)' : ''}`, () => {
      if (c.error) {
        expect(() => planFor(c)).toThrow(/wobble_inter needs more than 3 views/);
        return;
      }
      const plan = planFor(c);
      expect(`gs_video/${plan.name}.mp4`).toBe(c.file);
      expect(plan.cameras.length).toBe(c.frames);
      expect([plan.height, plan.width]).toEqual(c.image_shape);
      expect([plan.cameras[0].height, plan.cameras[0].width]).toEqual([c.gsplat!.height, c.gsplat!.width]);
      expect(plan.fps).toBe(c.fps);
      const w2c = worldToCamera(plan.trajectory.c2w);
      const errW2c = maxRel(w2c, num(`${c.name}/w2c`));
      const errIntr = maxRel(plan.trajectory.intrinsics, num(`${c.name}/intr_normed`));
      const ks = new Float64Array(plan.cameras.length * 9);
      const viewmats = new Float64Array(plan.cameras.length * 16);
      plan.cameras.forEach((cam, i) => {
        ks.set(cam.intrinsics as Float64Array, i * 9);
        viewmats.set(cam.extrinsics as Float64Array, i * 16);
        viewmats[i * 16 + 15] = 1;
      });
      // gsplat's K is in pixels: relative to the focal length.
      const errK = maxRel(ks.map((v) => v / plan.width), num(`${c.name}/Ks`).map((v) => v / plan.width));
      const errView = maxRel(viewmats, num(`${c.name}/viewmats`));
      expect({ errW2c, errIntr, errK, errView }).toSatisfy((e: Record<string, number>) => Object.values(e).every((v) => v <= TOL));
    });
  }
});

describe('trajectory building blocks', () => {
  it('stabilizePath equals render_stabilization_path (OpenCV small-kernel table for k ≤ 9, computed above)', () => {
    for (const c of meta.cases.filter((x) => x.name.startsWith('stabilize/'))) {
      const out = stabilizePath(num(`${c.name}/c2w`), 50);
      expect(maxRel(out, num(`${c.name}/out`))).toBeLessThanOrEqual(TOL);
    }
  });

  it('gaussianKernel: OpenCV getGaussianKernel(k, -1) (table for k ≤ 9, σ = 0.15k + 0.35 above)', () => {
    expect([...gaussianKernel(3)]).toEqual([0.25, 0.5, 0.25]);
    expect(gaussianKernel(9)[4]).toBe(0.234375);
    const k = gaussianKernel(11);
    expect(k.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 6);
    const sigma = 11 * 0.15 + 0.35;
    expect(k[0] / k[5]).toBeCloseTo(Math.exp(-25 / (2 * sigma * sigma)), 6);
  });

  it('interpolationLength: 8 per pair, at least 2 s and at most 18 s at 24 fps', () => {
    expect(interpolationLength(3)).toBe(24);
    expect(interpolationLength(12)).toBe(8);
    expect(interpolationLength(60)).toBe(4);
    expect(interpolationLength(130)).toBe(1);
  });

  it('eulerYXZ / matrixFromEulerYXZ round-trip (scipy intrinsic YXZ)', () => {
    for (const [y, x, z] of [
      [0.3, -0.2, 1.1],
      [-2.5, 0.7, -0.4],
      [3.0, 1.2, 2.9],
    ]) {
      const m = matrixFromEulerYXZ(y, x, z);
      const a = eulerYXZ(m);
      expect(a[0]).toBeCloseTo(y, 12);
      expect(a[1]).toBeCloseTo(x, 12);
      expect(a[2]).toBeCloseTo(z, 12);
    }
  });

  it('rejects what the reference cannot render', () => {
    const e = new Float32Array([1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0]);
    const k = new Float32Array([40, 0, 20, 0, 40, 15, 0, 0, 1]);
    expect(() => novelViewTrajectory(e, k, { height: 30, width: 40 }, { mode: 'extend' })).toThrow(/single view/);
    expect(() => novelViewTrajectory(e, k, { height: 30, width: 40 }, { mode: 'spiral' as TrajectoryMode })).toThrow(/unknown trajectory/);
    expect(() => novelViewTrajectory(e.subarray(0, 8), k, { height: 30, width: 40 })).toThrow(/extrinsics must be/);
    expect(novelViewTrajectory(e, k, { height: 30, width: 40 }, { mode: 'wander' }).count).toBe(122);
    expect(() => gsVideoPlan({ views: 1, height: 30, width: 40, extrinsics: null, intrinsics: k, isMetric: false, scaleFactor: null })).toThrow(/no cameras/);
  });
});
