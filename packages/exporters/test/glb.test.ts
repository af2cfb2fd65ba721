/**
 * GLB exports: the reference's scene.glb (points + camera wireframes) and 3D Gaussians with
 * KHR_gaussian_splatting. Independent readers: gltf-validator, a tiny GLB parser below (bit-exact
 * read-back), NumPy 1.x (Debian's python3, what the reference pins) for the threshold / mask /
 * median. Blender is in glb-blender.test.ts, the 1,000,000-point file in glb-1m.test.ts.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Gaussians, type Prediction, createPrediction, isDa3Error, worldPointsFromDepthGlb } from '@da3js/core';
import validator from 'gltf-validator';
import { afterAll, describe, expect, it } from 'vitest';
import { expectClose, maxAbsDiff } from '../../../test-utils/compare.js';
import { loadTensors } from '../../../test-utils/fixtures.js';
import { fixturePrediction } from '../../../test-utils/prediction.js';
import {
  type GaussiansGltfOptions,
  type GlbOptions,
  KHR_GAUSSIAN_SPLATTING,
  cameraColor,
  glbConfidenceThreshold,
  writeGaussiansGltf,
  writeGlb,
} from '../src/glb/index.js';
import { memorySink } from '../src/writer.js';
import { PY, requireNumpy } from './helpers/shared.js';

// ───────────────────────────────────────── helpers ─────────────────────────────────────────

interface GltfPrimitive {
  attributes: Record<string, number>;
  mode: number;
  material?: number;
  extensions: Record<string, unknown>;
}
interface GltfJson {
  asset: { version: string; generator: string };
  scenes: { nodes?: number[]; extras: { hf_alignment: number[][] } }[];
  nodes: { name: string; mesh: number; translation: number[]; rotation: number[] }[];
  meshes: { name: string; primitives: GltfPrimitive[] }[];
  accessors: { bufferView: number; byteOffset?: number; componentType: number; count: number; type: string; min: number[]; max: number[] }[];
  bufferViews: { byteOffset?: number; byteLength: number; byteStride?: number }[];
  buffers: { byteLength: number }[];
  extensionsUsed?: string[];
  extensionsRequired?: string[];
}

interface Glb {
  json: GltfJson;
  bin: Uint8Array;
  /** The accessor's elements as a typed array (float32 / uint8), tightly packed. */
  accessor(i: number): Float32Array | Uint8Array;
}

/** A minimal GLB reader: header, JSON chunk, BIN chunk; strict about lengths. */
function readGlb(bytes: Uint8Array): Glb {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  expect(dv.getUint32(0, true), 'magic').toBe(0x46546c67);
  expect(dv.getUint32(4, true), 'version').toBe(2);
  expect(dv.getUint32(8, true), 'length').toBe(bytes.byteLength);
  const jsonLength = dv.getUint32(12, true);
  expect(dv.getUint32(16, true), 'JSON chunk').toBe(0x4e4f534a);
  expect(jsonLength % 4).toBe(0);
  const json = JSON.parse(new TextDecoder().decode(bytes.subarray(20, 20 + jsonLength))) as GltfJson;
  let bin = new Uint8Array(0);
  const at = 20 + jsonLength;
  if (at < bytes.byteLength) {
    const binLength = dv.getUint32(at, true);
    expect(dv.getUint32(at + 4, true), 'BIN chunk').toBe(0x004e4942);
    expect(at + 8 + binLength).toBe(bytes.byteLength);
    bin = bytes.slice(at + 8, at + 8 + binLength);
    expect(json.buffers[0].byteLength).toBe(binLength);
  }
  const comps: Record<string, number> = { SCALAR: 1, VEC3: 3, VEC4: 4 };
  return {
    json,
    bin,
    accessor(i: number) {
      const a = json.accessors[i];
      const v = json.bufferViews[a.bufferView];
      const off = (v.byteOffset ?? 0) + (a.byteOffset ?? 0);
      const n = a.count * comps[a.type];
      expect(v.byteStride, 'no interleaving').toBeUndefined();
      if (a.componentType === 5126) return new Float32Array(bin.buffer.slice(off, off + 4 * n));
      if (a.componentType === 5121) return bin.slice(off, off + n);
      throw new Error(`componentType ${a.componentType}`);
    },
  };
}

async function glbOf(p: Prediction, options: GlbOptions = {}) {
  const sink = memorySink();
  const report = await writeGlb(p, sink, options);
  expect(sink.closed).toBe(true);
  const bytes = sink.bytes();
  expect(bytes.byteLength).toBe(report.bytes);
  return { report, bytes, glb: readGlb(bytes) };
}

async function validate(bytes: Uint8Array, options: Record<string, unknown> = {}) {
  const r = await validator.validateBytes(bytes, options);
  return r.issues as { numErrors: number; numWarnings: number; numInfos: number; numHints: number; messages: { code: string; pointer: string; severity: number; message: string }[] };
}

/** A sink that records what happened (for the abort checks). */
function recordingSink() {
  const state = { writes: 0, closed: false, aborted: false };
  return {
    state,
    sink: {
      write() {
        state.writes++;
      },
      close() {
        state.closed = true;
      },
      abort() {
        state.aborted = true;
      },
    },
  };
}

async function expectTypedFailure(run: (sink: ReturnType<typeof recordingSink>['sink']) => Promise<unknown>, code: string, text?: RegExp) {
  const { sink, state } = recordingSink();
  let error: unknown;
  try {
    await run(sink);
  } catch (e) {
    error = e;
  }
  expect(isDa3Error(error), `expected a Da3Error ${code}, got ${String(error)}`).toBe(true);
  expect((error as { code: string }).code).toBe(code);
  if (text) expect((error as Error).message).toMatch(text);
  expect(state.aborted, 'sink aborted').toBe(true);
  expect(state.closed, 'sink not closed').toBe(false);
}

const A4 = (a: ArrayLike<number>, x: number, y: number, z: number): [number, number, number] => [
  a[0] * x + a[1] * y + a[2] * z + a[3],
  a[4] * x + a[5] * y + a[6] * z + a[7],
  a[8] * x + a[9] * y + a[10] * z + a[11],
];

// NumPy oracle: Debian's python3 + numpy 1.24 (the reference pins numpy<2).
const tmp = mkdtempSync(join(tmpdir(), 'da3js-glb-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/**
 * The reference's threshold, mask and alignment with NumPy from the fixture's `pred.world_points`
 * (exactly `_depths_to_world_points_with_colors`): written as raw float32 files.
 */
function numpyOracle(p: Prediction, worldPoints: Float32Array, pct: number, black: boolean, white: boolean) {
  const f = (name: string, a: ArrayBufferView) => {
    const path = join(tmp, name);
    writeFileSync(path, new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
    return path;
  };
  const args = [
    f('conf.f32', p.conf!),
    f('depth.f32', p.depth),
    f('wp.f32', worldPoints),
    f('ext.f32', p.extrinsics!),
    f('rgb.u8', p.processedImages),
    f('k.f32', p.intrinsics!),
  ];
  const script = `
import json, sys
import numpy as np
conf, depth, wp, ext, rgb, kk = sys.argv[1:7]
pct, black, white = float(sys.argv[7]), sys.argv[8] == '1', sys.argv[9] == '1'
conf = np.fromfile(conf, np.float32); depth = np.fromfile(depth, np.float32)
wp = np.fromfile(wp, np.float32).reshape(-1, 3); ext = np.fromfile(ext, np.float32).reshape(-1, 3, 4)
rgb = np.fromfile(rgb, np.uint8).reshape(-1, 3)
if black: conf[(rgb < 16).all(axis=-1)] = 1.0
if white: conf[(rgb >= 240).all(axis=-1)] = 1.0
thr = min(max(1.05, np.percentile(conf, pct)), np.percentile(conf, 90.0))
m = np.isfinite(depth) & (depth > 0) & (conf >= thr)
pts = wp[m]
H = np.eye(4); H[:3, :4] = ext[0].astype(np.float64)
A0 = np.diag([1.0, -1.0, -1.0, 1.0]) @ H
t = np.dot(A0, np.column_stack((pts.astype(np.float64), np.ones(len(pts)))).T).T[:, :3]
c = np.median(t, axis=0)
T = np.eye(4); T[:3, 3] = -c
A = T @ A0
# Scene scale and camera frustums (glb.py: _estimate_scene_scale on the aligned float64 points,
# _camera_frustum_lines at 0.03 x scale, then transformed by A).
al = np.dot(A, np.column_stack((pts.astype(np.float64), np.ones(len(pts)))).T).T[:, :3]
lo, hi = np.percentile(al, 5, axis=0), np.percentile(al, 95, axis=0)
diag = np.linalg.norm(hi - lo)
scene = float(diag if np.isfinite(diag) and diag > 0 else 1.0) if len(al) >= 2 else 1.0
size = scene * 0.03
K = np.fromfile(kk, np.float32).reshape(-1, 3, 3)
frusta = []
hw = [int(sys.argv[10]), int(sys.argv[11])]
for i in range(K.shape[0]):
    corners = np.array([[0, 0, 1.0], [hw[1] - 1, 0, 1.0], [hw[1] - 1, hw[0] - 1, 1.0], [0, hw[0] - 1, 1.0]])
    Hi = np.eye(4); Hi[:3, :4] = ext[i]
    c2w = np.linalg.inv(Hi)
    Cw = (c2w @ np.array([0, 0, 0, 1.0]))[:3]
    rays = (np.linalg.inv(K[i]) @ corners.T).T
    z = rays[:, 2:3].copy(); z[z == 0] = 1.0
    plane = (rays / z) * size
    pw = np.stack([(c2w @ np.append(q, 1.0))[:3] for q in plane])
    segs = [np.stack([Cw, pw[k]]) for k in range(4)] + [np.stack([pw[a], pw[b]]) for a, b in [(0, 1), (1, 2), (2, 3), (3, 0)]]
    v = np.stack(segs).reshape(-1, 3)
    frusta.append(np.dot(A, np.column_stack((v, np.ones(len(v)))).T).T[:, :3].ravel().tolist())
print(json.dumps({"numpy": np.__version__, "thr": float(thr), "count": int(m.sum()), "mask": np.flatnonzero(m).tolist(), "A": A.ravel().tolist(), "cameraSize": size, "frusta": frusta}))
`;
  const r = spawnSync(PY, ['-c', script, ...args, String(pct), black ? '1' : '0', white ? '1' : '0', String(p.height), String(p.width)], { encoding: 'utf8', maxBuffer: 1 << 28 });
  if (r.status !== 0) throw new Error(`numpy oracle failed: ${r.stderr}`);
  return JSON.parse(r.stdout) as { numpy: string; thr: number; count: number; mask: number[]; A: number[]; cameraSize: number; frusta: number[][] };
}

async function fixtureWorldPoints(): Promise<Float32Array> {
  const out = await loadTensors('tiny/multi/outputs.safetensors');
  return out['pred.world_points'].data as Float32Array;
}

// ───────────────────────────────────────── scene.glb ─────────────────────────────────────────

describe('writeGlb (scene.glb: points + cameras, as the reference)', () => {
  it('passes gltf-validator with 0 errors and 0 warnings, with and without cameras', async () => {
    const p = await fixturePrediction('tiny', 'multi');
    for (const showCameras of [true, false]) {
      const { bytes, report, glb } = await glbOf(p, { showCameras });
      const issues = await validate(bytes);
      expect(issues.numErrors, JSON.stringify(issues.messages)).toBe(0);
      expect(issues.numWarnings, JSON.stringify(issues.messages)).toBe(0);
      expect(issues.numInfos + issues.numHints, JSON.stringify(issues.messages)).toBe(0);
      expect(glb.json.asset.generator).toBe('da3js');
      expect(report.cameras).toBe(showCameras ? 3 : 0);
      expect(glb.json.meshes.length).toBe(1 + report.cameras);
      console.log(`tiny/multi GLB (cameras ${showCameras}): ${bytes.byteLength} B, ${report.points} points, validator ${issues.numErrors}/${issues.numWarnings}/${issues.numInfos}/${issues.numHints}`);
    }
  });

  it('threshold, kept count, alignment and points match the reference (NumPy 1.x oracle + pred.world_points)', async (ctx) => {
    if (!requireNumpy(ctx)) return;
    const p = await fixturePrediction('tiny', 'multi');
    const wp = await fixtureWorldPoints();
    for (const opts of [{}, { confThreshPercentile: 10, filterBlackBg: true, filterWhiteBg: true }] as GlbOptions[]) {
      const oracle = numpyOracle(p, wp, opts.confThreshPercentile ?? 40, !!opts.filterBlackBg, !!opts.filterWhiteBg);
      const { report, glb } = await glbOf(p, { ...opts, numMaxPoints: p.views * p.height * p.width });
      // Threshold: the float32 value numpy compares with.
      expect(report.threshold).toBe(Math.fround(oracle.thr));
      expect(report.keptPoints).toBe(oracle.count);
      expect(report.points).toBe(oracle.count);
      expectClose(report.alignment, oracle.A, { atol: 1e-7 }, 'alignment');
      // hf_alignment in the JSON is A, row-major rows.
      expect(glb.json.scenes[0].extras.hf_alignment.flat()).toEqual(Array.from(report.alignment));
      // Points: A · pred.world_points[mask], float32, in pixel order.
      const pos = glb.accessor(glb.json.meshes[0].primitives[0].attributes.POSITION) as Float32Array;
      const col = glb.accessor(glb.json.meshes[0].primitives[0].attributes.COLOR_0) as Uint8Array;
      const want = new Float32Array(3 * oracle.count);
      const wantCol = new Uint8Array(4 * oracle.count);
      oracle.mask.forEach((px, k) => {
        want.set(A4(oracle.A, wp[3 * px], wp[3 * px + 1], wp[3 * px + 2]), 3 * k);
        wantCol.set([p.processedImages[3 * px], p.processedImages[3 * px + 1], p.processedImages[3 * px + 2], 255], 4 * k);
      });
      expectClose(pos, want, { atol: 1e-5 }, 'points vs reference');
      expect(col).toEqual(wantCol);
      // Scene scale → camera size (P5/P95 per axis of the aligned points, × 0.03) and every
      // frustum vertex, as the reference computes them.
      expect(Math.abs(report.cameraSize - oracle.cameraSize) / oracle.cameraSize, `cameraSize ${report.cameraSize} vs ${oracle.cameraSize}`).toBeLessThan(1e-5);
      const lines = glb.json.meshes.filter((m) => m.primitives[0].mode === 1);
      expect(lines).toHaveLength(p.views);
      for (const [i, mesh] of lines.entries()) expectClose(glb.accessor(mesh.primitives[0].attributes.POSITION) as Float32Array, oracle.frusta[i], { atol: 2e-6 }, `camera ${i} frustum`);
      console.log(
        `parity (${JSON.stringify(opts)}): numpy ${oracle.numpy}, thr ${oracle.thr}, ${oracle.count} points, max|d| points ${maxAbsDiff(pos, want).toExponential(2)}, A ${maxAbsDiff(report.alignment, oracle.A).toExponential(2)}`,
      );
    }
  });

  it('glbConfidenceThreshold follows np.percentile (numpy 1.x, linear) and Python min/max', () => {
    const conf = Float32Array.from([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    // P40 = 1 + 0.4·9 = 4.6, P90 = 9.1 → max(1.05, 4.6) = 4.6.
    expect(glbConfidenceThreshold(conf)).toBeCloseTo(4.6, 12);
    expect(glbConfidenceThreshold(conf, { confThresh: 20 })).toBeCloseTo(9.1, 12);
    expect(glbConfidenceThreshold(Float32Array.from([1, 1, 1]))).toBe(1);
    expect(glbConfidenceThreshold(Float32Array.from([1.01, 1.02, 1.03, 1.06]))).toBe(1.05);
    // NaN makes both percentiles NaN; Python's max/min then keep the base 1.05.
    expect(glbConfidenceThreshold(Float32Array.from([2, Number.NaN, 3]))).toBe(1.05);
  });

  it('core unprojection equals pred.world_points (the GLB maths)', async () => {
    const p = await fixturePrediction('tiny', 'multi');
    const wp = await fixtureWorldPoints();
    const mine = worldPointsFromDepthGlb(p.depth, p.intrinsics!, p.extrinsics!, { views: p.views, height: p.height, width: p.width });
    expectClose(mine, wp, { atol: 1e-5 }, 'world points');
    console.log(`worldPointsFromDepthGlb vs pred.world_points: max|d| ${maxAbsDiff(mine, wp).toExponential(2)}`);
  });

  it('reads back bit-exactly: positions, colours, min/max, and camera wireframes', async () => {
    const p = await fixturePrediction('tiny', 'multi');
    const { report, glb } = await glbOf(p);
    const { json } = glb;
    const N = p.views;
    const A = report.alignment;
    // Points: recompute float32(A · world) for the kept pixels independently.
    const world = worldPointsFromDepthGlb(p.depth, p.intrinsics!, p.extrinsics!, { views: N, height: p.height, width: p.width });
    const thr = report.threshold;
    const prim = json.meshes[0].primitives[0];
    expect(prim.mode).toBe(0);
    const acc = json.accessors[prim.attributes.POSITION];
    const pos = glb.accessor(prim.attributes.POSITION) as Float32Array;
    const col = glb.accessor(prim.attributes.COLOR_0) as Uint8Array;
    expect(json.accessors[prim.attributes.COLOR_0]).toMatchObject({ componentType: 5121, normalized: true, type: 'VEC4' });
    let k = 0;
    for (let px = 0; px < N * p.height * p.width; px++) {
      const d = p.depth[px];
      if (!(Number.isFinite(d) && d > 0 && p.conf![px] >= thr)) continue;
      const [x, y, z] = A4(A, world[3 * px], world[3 * px + 1], world[3 * px + 2]);
      if (pos[3 * k] !== Math.fround(x) || pos[3 * k + 1] !== Math.fround(y) || pos[3 * k + 2] !== Math.fround(z)) {
        expect.fail(`point ${k} (pixel ${px}): ${pos.subarray(3 * k, 3 * k + 3)} vs ${[x, y, z]}`);
      }
      for (let c = 0; c < 3; c++) expect(col[4 * k + c]).toBe(p.processedImages[3 * px + c]);
      expect(col[4 * k + 3]).toBe(255);
      k++;
    }
    expect(k).toBe(report.points);
    for (let a = 0; a < 3; a++) {
      let lo = Infinity;
      let hi = -Infinity;
      for (let j = 0; j < k; j++) {
        lo = Math.min(lo, pos[3 * j + a]);
        hi = Math.max(hi, pos[3 * j + a]);
      }
      expect(acc.min[a]).toBe(lo);
      expect(acc.max[a]).toBe(hi);
    }
    // Cameras: N LINES meshes of 8 segments; centre = A·camera centre; corners back-project to the
    // pixel corners on the camera's z = cameraSize plane.
    const lines = json.meshes.filter((m) => m.primitives[0].mode === 1);
    expect(lines.length).toBe(N);
    expect(json.nodes.map((n) => n.name)).toEqual(['points', 'camera_000', 'camera_001', 'camera_002']);
    const Ainv = invertAffine(A);
    lines.forEach((mesh, i) => {
      const v = glb.accessor(mesh.primitives[0].attributes.POSITION) as Float32Array;
      const c = glb.accessor(mesh.primitives[0].attributes.COLOR_0) as Uint8Array;
      expect(v.length).toBe(16 * 3);
      const rgb = cameraColor(i, N);
      for (let j = 0; j < 16; j++) expect([c[4 * j], c[4 * j + 1], c[4 * j + 2], c[4 * j + 3]]).toEqual([...rgb, 255]);
      const e = p.extrinsics!.subarray(12 * i, 12 * i + 12);
      const K = p.intrinsics!.subarray(9 * i, 9 * i + 9);
      // world camera centre = −Rᵀt
      const C = [0, 1, 2].map((r) => -(e[r] * e[3] + e[4 + r] * e[7] + e[8 + r] * e[11]));
      const centre = A4(A, C[0], C[1], C[2]);
      const toCam = (q: Float32Array, j: number) => {
        const w = A4(Ainv, q[3 * j], q[3 * j + 1], q[3 * j + 2]);
        return [0, 1, 2].map((r) => e[4 * r] * w[0] + e[4 * r + 1] * w[1] + e[4 * r + 2] * w[2] + e[4 * r + 3]);
      };
      const corners = [
        [0, 0],
        [p.width - 1, 0],
        [p.width - 1, p.height - 1],
        [0, p.height - 1],
      ];
      // segments 0..3: centre → corner k; 4..7: corner k → corner k+1
      for (let s = 0; s < 4; s++) {
        expectClose(v.subarray(6 * s, 6 * s + 3), centre, { atol: 1e-6 }, `camera ${i} centre`);
        const cam = toCam(v, 2 * s + 1);
        expect(cam[2]).toBeCloseTo(report.cameraSize, 5);
        expect(K[0] * (cam[0] / cam[2]) + K[1] * (cam[1] / cam[2]) + K[2]).toBeCloseTo(corners[s][0], 3);
        expect(K[4] * (cam[1] / cam[2]) + K[5]).toBeCloseTo(corners[s][1], 3);
        expect(Array.from(v.subarray(6 * (4 + s), 6 * (4 + s) + 3))).toEqual(Array.from(v.subarray(6 * s + 3, 6 * s + 6)));
        expect(Array.from(v.subarray(6 * (4 + s) + 3, 6 * (4 + s) + 6))).toEqual(Array.from(v.subarray(6 * ((s + 1) % 4) + 3, 6 * ((s + 1) % 4) + 6)));
      }
    });
  });

  it('camera colours are the reference HSV values', () => {
    // HSV((i+.5)/3, .85, .95) → uint8 (truncated): checked with colorsys by hand.
    expect(cameraColor(0, 3)).toEqual([242, 242, 36]);
    expect(cameraColor(1, 3)).toEqual([36, 242, 242]);
    expect(cameraColor(2, 3)).toEqual([242, 36, 242]);
    expect(cameraColor(0, 1)).toEqual([36, 242, 242]);
  });

  it('subsamples with a seed: same seed → identical bytes, the points are a subset without repeats', async () => {
    const p = await fixturePrediction('tiny', 'multi');
    const full = await glbOf(p);
    const a = await glbOf(p, { numMaxPoints: 2000, seed: 7 });
    const b = await glbOf(p, { numMaxPoints: 2000, seed: 7 });
    const c = await glbOf(p, { numMaxPoints: 2000, seed: 8 });
    expect(a.bytes).toEqual(b.bytes);
    expect(a.bytes).not.toEqual(c.bytes);
    expect(a.report.points).toBe(2000);
    expect(a.report.keptPoints).toBe(full.report.points);
    expect(Array.from(a.report.alignment)).toEqual(Array.from(full.report.alignment));
    const key = (pos: Float32Array, col: Uint8Array, j: number) => `${pos[3 * j]},${pos[3 * j + 1]},${pos[3 * j + 2]},${col[4 * j]},${col[4 * j + 1]},${col[4 * j + 2]}`;
    const fp = full.glb.accessor(0) as Float32Array;
    const fc = full.glb.accessor(1) as Uint8Array;
    const all = new Set<string>();
    for (let j = 0; j < full.report.points; j++) all.add(key(fp, fc, j));
    const sp = a.glb.accessor(0) as Float32Array;
    const sc = a.glb.accessor(1) as Uint8Array;
    const seen = new Set<string>();
    for (let j = 0; j < 2000; j++) {
      const s = key(sp, sc, j);
      expect(all.has(s)).toBe(true);
      seen.add(s);
    }
    expect(seen.size).toBe(2000);
    expect((await validate(a.bytes)).numErrors).toBe(0);
    // Determinism of the whole file without subsampling too.
    expect((await glbOf(p)).bytes).toEqual(full.bytes);
  });

  it('NaN / negative depth pixels are dropped; zero points → a valid GLB with the cameras only', async () => {
    const base = await fixturePrediction('tiny', 'multi');
    const depth = Float32Array.from(base.depth);
    for (let i = 0; i < depth.length; i += 3) depth[i] = Number.NaN;
    for (let i = 1; i < depth.length; i += 7) depth[i] = -1;
    const p = createPrediction({ ...base, depth });
    const { report, bytes } = await glbOf(p);
    expect(report.points).toBeGreaterThan(0);
    expect(report.points).toBeLessThan((await glbOf(base)).report.points);
    expect((await validate(bytes)).numErrors).toBe(0);

    const empty = createPrediction({ ...base, depth: new Float32Array(base.depth.length).fill(Number.NaN) });
    const e = await glbOf(empty);
    expect(e.report.points).toBe(0);
    expect(e.report.cameras).toBe(3);
    expect(e.glb.json.meshes.every((m) => m.primitives[0].mode === 1)).toBe(true);
    expect(e.report.cameraSize).toBeCloseTo(0.03, 12); // scene scale falls back to 1
    const ei = await validate(e.bytes);
    expect(ei.numErrors + ei.numWarnings, JSON.stringify(ei.messages)).toBe(0);

    const none = await glbOf(empty, { showCameras: false });
    expect(none.glb.json.meshes).toBeUndefined();
    expect(none.glb.bin.byteLength).toBe(0);
    const ni = await validate(none.bytes);
    expect(ni.numErrors + ni.numWarnings, JSON.stringify(ni.messages)).toBe(0);
  });

  it('bad inputs → typed errors and an aborted sink', async () => {
    const p = await fixturePrediction('tiny', 'multi');
    const bad = (over: Partial<Record<keyof Prediction, unknown>>) => ({ ...p, ...over }) as Prediction;
    await expectTypedFailure((s) => writeGlb(bad({ extrinsics: null }), s), 'BAD_VALUE', /extrinsics is required/);
    await expectTypedFailure((s) => writeGlb(bad({ intrinsics: null }), s), 'BAD_VALUE', /intrinsics is required/);
    await expectTypedFailure((s) => writeGlb(bad({ conf: null }), s), 'BAD_VALUE', /conf is required/);
    await expectTypedFailure((s) => writeGlb(bad({ depth: p.depth.subarray(1) }), s), 'BAD_SHAPE', /depth/);
    await expectTypedFailure((s) => writeGlb(bad({ conf: p.conf!.subarray(1) }), s), 'BAD_SHAPE', /conf/);
    await expectTypedFailure((s) => writeGlb(bad({ processedImages: p.processedImages.subarray(3) }), s), 'BAD_SHAPE', /processedImages/);
    await expectTypedFailure((s) => writeGlb(bad({ extrinsics: p.extrinsics!.subarray(12) }), s), 'BAD_SHAPE', /extrinsics/);
    await expectTypedFailure((s) => writeGlb(bad({ intrinsics: new Float32Array(4) }), s), 'BAD_SHAPE', /intrinsics/);
    const nanExt = Float32Array.from(p.extrinsics!);
    nanExt[5] = Number.NaN;
    await expectTypedFailure((s) => writeGlb(bad({ extrinsics: nanExt }), s), 'NON_FINITE', /extrinsics/);
    await expectTypedFailure((s) => writeGlb(p, s, { numMaxPoints: 0 }), 'BAD_VALUE', /numMaxPoints/);
    await expectTypedFailure((s) => writeGlb(p, s, { confThreshPercentile: 101 }), 'BAD_VALUE', /confThreshPercentile/);
    await expectTypedFailure((s) => writeGlb(p, s, { cameraScale: Number.NaN }), 'BAD_VALUE', /cameraScale/);
    await expectTypedFailure((s) => writeGlb(p, s, { seed: 1.5 }), 'BAD_VALUE', /seed/);
    // A sink that fails mid-stream: the error surfaces and the sink is aborted.
    const state = { aborted: false };
    await expect(
      writeGlb(p, {
        write() {
          throw new Error('disk full');
        },
        abort() {
          state.aborted = true;
        },
      }),
    ).rejects.toThrow('disk full');
    expect(state.aborted).toBe(true);
  });
});

// ──────────────────────────────────── KHR_gaussian_splatting ────────────────────────────────────

function syntheticGaussians(n: number, K: number, seed = 1): Gaussians {
  let s = seed >>> 0;
  const rnd = () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 4294967296;
  };
  return {
    count: n,
    shCoefficients: K,
    means: Float32Array.from({ length: 3 * n }, () => rnd() * 4 - 2),
    scales: Float32Array.from({ length: 3 * n }, () => 0.001 + rnd() * 0.05),
    rotations: Float32Array.from({ length: 4 * n }, () => rnd() * 2 - 1),
    harmonics: Float32Array.from({ length: 3 * K * n }, () => rnd() * 2 - 1),
    opacities: Float32Array.from({ length: n }, () => rnd()),
  };
}

async function gaussiansGlb(g: Gaussians, options: GaussiansGltfOptions = {}) {
  const sink = memorySink();
  const report = await writeGaussiansGltf(g, sink, options);
  expect(sink.closed).toBe(true);
  const bytes = sink.bytes();
  expect(bytes.byteLength).toBe(report.bytes);
  return { report, bytes, glb: readGlb(bytes) };
}

const KHR = KHR_GAUSSIAN_SPLATTING;
const quatMat = (x: number, y: number, z: number, w: number) => [
  1 - 2 * (y * y + z * z),
  2 * (x * y - w * z),
  2 * (x * z + w * y),
  2 * (x * y + w * z),
  1 - 2 * (x * x + z * z),
  2 * (y * z - w * x),
  2 * (x * z - w * y),
  2 * (y * z + w * x),
  1 - 2 * (x * x + y * y),
];
/** Real SH basis (3DGS / KHR order, Condon–Shortley), degrees 0–3, at unit direction (x, y, z). */
function shBasis(x: number, y: number, z: number): number[] {
  const xx = x * x;
  const yy = y * y;
  const zz = z * z;
  return [
    0.28209479177387814,
    -0.4886025119029199 * y,
    0.4886025119029199 * z,
    -0.4886025119029199 * x,
    1.0925484305920792 * x * y,
    -1.0925484305920792 * y * z,
    0.31539156525252005 * (2 * zz - xx - yy),
    -1.0925484305920792 * x * z,
    0.5462742152960396 * (xx - yy),
    -0.5900435899266435 * y * (3 * xx - yy),
    2.890611442640554 * x * y * z,
    -0.4570457994644658 * y * (4 * zz - xx - yy),
    0.3731763325901154 * z * (2 * zz - 3 * xx - 3 * yy),
    -0.4570457994644658 * x * (4 * zz - xx - yy),
    1.445305721320277 * z * (xx - yy),
    -0.5900435899266435 * x * (xx - 3 * yy),
  ];
}

describe('writeGaussiansGltf (KHR_gaussian_splatting)', () => {
  it('validates: no warnings; the only errors are the extension attribute names this validator does not know', async () => {
    const g = syntheticGaussians(3000, 9);
    const { bytes, glb, report } = await gaussiansGlb(g);
    expect(report).toMatchObject({ count: 3000, shDegree: 2 });
    const semantics = Object.keys(glb.json.meshes[0].primitives[0].attributes).filter((s) => s.startsWith(`${KHR}:`));
    expect(semantics.length).toBe(3 + 9);
    const raw = await validate(bytes);
    // gltf-validator 2.0.0-dev.3.10 (the newest on npm) predates KHR_gaussian_splatting: it reports
    // UNSUPPORTED_EXTENSION (info) and flags the ratified `KHR_gaussian_splatting:*` semantics as
    // MESH_PRIMITIVE_INVALID_ATTRIBUTE (glTF core wants `_` for custom names). Nothing else.
    expect(raw.numWarnings).toBe(0);
    expect(raw.numHints).toBe(0);
    for (const m of raw.messages) {
      if (m.severity === 0) {
        expect(m.code).toBe('MESH_PRIMITIVE_INVALID_ATTRIBUTE');
        expect(m.pointer).toMatch(new RegExp(`^/meshes/0/primitives/0/attributes/${KHR}:`));
      } else {
        expect(m.code).toBe('UNSUPPORTED_EXTENSION');
      }
    }
    expect(raw.numErrors).toBe(semantics.length);
    const overridden = await validate(bytes, { severityOverrides: { MESH_PRIMITIVE_INVALID_ATTRIBUTE: 2 } });
    expect(overridden.numErrors).toBe(0);
    expect(overridden.numWarnings).toBe(0);
    console.log(`gaussians GLB: ${bytes.byteLength} B for 3000 splats (SH degree 2); validator raw ${raw.numErrors} errors (all ${KHR}:* names) / ${raw.numWarnings} warnings / ${raw.numInfos} infos`);
  });

  it('stores activated values in glTF axes: exact frame change of means, covariances and SH colour', async () => {
    const g = syntheticGaussians(500, 16, 3);
    const { glb } = await gaussiansGlb(g);
    const { json } = glb;
    const prim = json.meshes[0].primitives[0];
    expect(prim.mode).toBe(0);
    expect(prim.extensions[KHR]).toEqual({ kernel: 'ellipse', colorSpace: 'srgb_rec709_display' });
    expect(json.extensionsUsed).toEqual([KHR]);
    expect(json.extensionsRequired).toBeUndefined();
    const at = prim.attributes;
    const pos = glb.accessor(at.POSITION) as Float32Array;
    const rot = glb.accessor(at[`${KHR}:ROTATION`]) as Float32Array;
    const scl = glb.accessor(at[`${KHR}:SCALE`]) as Float32Array;
    const opa = glb.accessor(at[`${KHR}:OPACITY`]) as Float32Array;
    const sh: Float32Array[] = [];
    for (let l = 0; l <= 3; l++) for (let m = 0; m <= 2 * l; m++) sh.push(glb.accessor(at[`${KHR}:SH_DEGREE_${l}_COEF_${m}`]) as Float32Array);
    expect(sh.length).toBe(16);
    expect(scl).toEqual(g.scales);
    expect(opa).toEqual(g.opacities);
    const M = [1, -1, -1];
    for (let i = 0; i < g.count; i++) {
      for (let a = 0; a < 3; a++) expect(pos[3 * i + a]).toBe(Math.fround(M[a] * g.means[3 * i + a]));
      // unit quaternion
      const q = rot.subarray(4 * i, 4 * i + 4);
      expect(Math.hypot(...q)).toBeCloseTo(1, 6);
      // rotation matrix in glTF = M · R_opencv (so Σ' = M Σ M)
      const [x, y, z, w] = Array.from(g.rotations.subarray(4 * i, 4 * i + 4));
      const len = Math.hypot(x, y, z, w);
      const R = quatMat(x / len, y / len, z / len, w / len);
      const R2 = quatMat(q[0], q[1], q[2], q[3]);
      for (let r = 0; r < 3; r++) for (let c = 0; c < 3; c++) expect(R2[3 * r + c]).toBeCloseTo(M[r] * R[3 * r + c], 6);
      // SH colour: the glTF splat seen from direction M·d equals the original seen from d.
      const d = [0.3, -0.5, 0.81];
      const n = Math.hypot(...d);
      const b0 = shBasis(d[0] / n, d[1] / n, d[2] / n);
      const b1 = shBasis(d[0] / n, -d[1] / n, -d[2] / n);
      for (let c = 0; c < 3; c++) {
        let c0 = 0;
        let c1 = 0;
        for (let k = 0; k < 16; k++) {
          c0 += b0[k] * g.harmonics[48 * i + 16 * c + k];
          c1 += b1[k] * sh[k][3 * i + c];
        }
        expect(c1).toBeCloseTo(c0, 5);
      }
    }
    // COLOR_0 fallback: diffuse (SH0·C0 + 0.5, clamped, sRGB → linear) and opacity.
    const col = glb.accessor(at.COLOR_0) as Uint8Array;
    const lin = (v: number) => (v <= 0.04045 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4);
    for (let i = 0; i < 20; i++) {
      for (let c = 0; c < 3; c++) {
        const v = Math.min(1, Math.max(0, 0.5 + 0.28209479177387814 * g.harmonics[48 * i + 16 * c]));
        expect(Math.abs(col[4 * i + c] - lin(v) * 255)).toBeLessThanOrEqual(0.5);
      }
      expect(Math.abs(col[4 * i + 3] - g.opacities[i] * 255)).toBeLessThanOrEqual(0.5);
    }
  });

  it("axes: 'opencv' stores the data unchanged; alignment goes on the node as T·R", async () => {
    const g = syntheticGaussians(200, 9, 5);
    const { glb } = await gaussiansGlb(g, { axes: 'opencv', fallbackColor: false });
    const at = glb.json.meshes[0].primitives[0].attributes;
    expect(at.COLOR_0).toBeUndefined();
    expect(glb.accessor(at.POSITION)).toEqual(g.means);
    const dc = glb.accessor(at[`${KHR}:SH_DEGREE_0_COEF_0`]) as Float32Array;
    const sh21 = glb.accessor(at[`${KHR}:SH_DEGREE_2_COEF_1`]) as Float32Array;
    for (let i = 0; i < g.count; i++) {
      for (let c = 0; c < 3; c++) {
        expect(dc[3 * i + c]).toBe(g.harmonics[27 * i + 9 * c]);
        expect(sh21[3 * i + c]).toBe(g.harmonics[27 * i + 9 * c + 5]);
      }
    }
    // The scene GLB's alignment: the node maps the stored (glTF-axes) means onto A · mean.
    const p = await fixturePrediction('tiny', 'multi');
    const { report } = await glbOf(p, { showCameras: false });
    const A = report.alignment;
    const aligned = await gaussiansGlb(g, { alignment: A });
    const node = aligned.glb.json.nodes[0];
    const pos = aligned.glb.accessor(aligned.glb.json.meshes[0].primitives[0].attributes.POSITION) as Float32Array;
    const R = quatMat(node.rotation[0], node.rotation[1], node.rotation[2], node.rotation[3]);
    for (let i = 0; i < g.count; i++) {
      const v = [0, 1, 2].map((r) => R[3 * r] * pos[3 * i] + R[3 * r + 1] * pos[3 * i + 1] + R[3 * r + 2] * pos[3 * i + 2] + node.translation[r]);
      expectClose(v, A4(A, g.means[3 * i], g.means[3 * i + 1], g.means[3 * i + 2]), { atol: 1e-5 }, 'aligned mean');
    }
    const issues = await validate(aligned.bytes, { severityOverrides: { MESH_PRIMITIVE_INVALID_ATTRIBUTE: 2 } });
    expect(issues.numErrors + issues.numWarnings, JSON.stringify(issues.messages)).toBe(0);
  });

  it('writes SH degrees 0, 1 and 3 (1, 4, 16 coefficients) and is deterministic', async () => {
    for (const [K, deg] of [
      [1, 0],
      [4, 1],
      [16, 3],
    ]) {
      const g = syntheticGaussians(50, K, K);
      const a = await gaussiansGlb(g);
      const b = await gaussiansGlb(g);
      expect(a.bytes).toEqual(b.bytes);
      expect(a.report.shDegree).toBe(deg);
      const names = Object.keys(a.glb.json.meshes[0].primitives[0].attributes).filter((s) => s.includes('SH_DEGREE'));
      expect(names.length).toBe(K);
      expect((await validate(a.bytes, { severityOverrides: { MESH_PRIMITIVE_INVALID_ATTRIBUTE: 2 } })).numErrors).toBe(0);
    }
  });

  it('bad inputs → typed errors and an aborted sink', async () => {
    const g = syntheticGaussians(10, 9);
    const with_ = (over: Partial<Gaussians>) => ({ ...g, ...over }) as Gaussians;
    await expectTypedFailure((s) => writeGaussiansGltf(with_({ count: 0, means: new Float32Array(0) }), s), 'EMPTY_INPUT');
    await expectTypedFailure((s) => writeGaussiansGltf(with_({ shCoefficients: 5 }), s), 'BAD_SHAPE', /shCoefficients/);
    await expectTypedFailure((s) => writeGaussiansGltf(with_({ means: g.means.subarray(3) }), s), 'BAD_SHAPE', /means/);
    const nan = Float32Array.from(g.means);
    nan[4] = Number.NaN;
    await expectTypedFailure((s) => writeGaussiansGltf(with_({ means: nan }), s), 'NON_FINITE', /means/);
    const neg = Float32Array.from(g.scales);
    neg[0] = -1;
    await expectTypedFailure((s) => writeGaussiansGltf(with_({ scales: neg }), s), 'BAD_VALUE', /scales/);
    const op = Float32Array.from(g.opacities);
    op[2] = 1.5;
    await expectTypedFailure((s) => writeGaussiansGltf(with_({ opacities: op }), s), 'BAD_VALUE', /opacities/);
    await expectTypedFailure((s) => writeGaussiansGltf(with_({ rotations: new Float32Array(40) }), s), 'BAD_VALUE', /zero quaternion/);
    await expectTypedFailure((s) => writeGaussiansGltf(g, s, { alignment: [1, 2, 3] }), 'BAD_SHAPE', /alignment/);
    await expectTypedFailure((s) => writeGaussiansGltf(g, s, { alignment: [2, 0, 0, 0, 0, 2, 0, 0, 0, 0, 2, 0, 0, 0, 0, 1] }), 'BAD_VALUE', /rotation/);
    await expectTypedFailure((s) => writeGaussiansGltf(g, s, { axes: 'zup' as 'gltf' }), 'BAD_VALUE', /axes/);
  });
});

function invertAffine(a: ArrayLike<number>): number[] {
  // general 3×3 inverse of the linear part, then −R⁻¹t
  const [m00, m01, m02, t0, m10, m11, m12, t1, m20, m21, m22, t2] = Array.from(a);
  const c00 = m11 * m22 - m12 * m21;
  const c01 = m02 * m21 - m01 * m22;
  const c02 = m01 * m12 - m02 * m11;
  const det = m00 * c00 + m10 * c01 + m20 * c02;
  const i = [
    c00 / det,
    c01 / det,
    c02 / det,
    (m12 * m20 - m10 * m22) / det,
    (m00 * m22 - m02 * m20) / det,
    (m02 * m10 - m00 * m12) / det,
    (m10 * m21 - m11 * m20) / det,
    (m01 * m20 - m00 * m21) / det,
    (m00 * m11 - m01 * m10) / det,
  ];
  return [
    i[0], i[1], i[2], -(i[0] * t0 + i[1] * t1 + i[2] * t2),
    i[3], i[4], i[5], -(i[3] * t0 + i[4] * t1 + i[5] * t2),
    i[6], i[7], i[8], -(i[6] * t0 + i[7] * t1 + i[8] * t2),
    0, 0, 0, 1,
  ];
}
