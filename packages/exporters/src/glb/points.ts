/**
 * `scene.glb`: the reference's GLB export (`utils/export/glb.py` `export_to_glb`) — a coloured
 * point cloud from depth + cameras, plus one wireframe per camera — streamed into a sink.
 *
 * Steps, as the reference:
 * 1. (Sky fill is dead code in the reference — it looks for `prediction.sky_mask`, which never
 *    exists — so `prediction.sky` is ignored here too.)
 * 2. `filterBlackBg` / `filterWhiteBg`: confidence set to 1.0 where all RGB channels are < 16 /
 *    ≥ 240 (on a copy; the reference mutates `prediction.conf` in place, da3js does not).
 * 3. Threshold `min(max(confThresh, P_confThreshPercentile), P_ensureThreshPercentile)` with
 *    `np.percentile` (linear, numpy 1.x arithmetic) pooled over every view; defaults 1.05 / 40 / 90.
 * 4. Integer-pixel unprojection `inv(w2c) · (K⁻¹ [u, v, 1] · d)` (core's
 *    `worldPointsFromDepthGlb`, float64 maths cast to float32); keep finite `d > 0` with
 *    `conf ≥ threshold` (compared in float32, as numpy compares a float32 array with a scalar).
 * 5. `A = T(−median) · diag(1, −1, −1, 1) · w2c₀`, the median per axis of the kept points in that
 *    frame (float64); points → `A · p` in float64, written as float32.
 * 6. Subsample to `numMaxPoints` without replacement — **seeded** (`seed`, core's PRNG) where the
 *    reference uses unseeded `np.random.choice`; the chosen order is kept, as the reference does.
 * 7. Wireframes scaled by `cameraScale · ‖P95 − P5‖` of the written points (1.0 when fewer than
 *    two points or a non-finite/zero diagonal), colours HSV((i + ½)/N, 0.85, 0.95).
 * 8. `A` is stored as `scenes[0].extras.hf_alignment` (row-major nested rows, where trimesh puts
 *    `scene.metadata`), so trimesh's loader gives it back as `scene.metadata['hf_alignment']`.
 *
 * Deviation: a kept pixel whose float32 world point is not finite (depth so large that the cast
 * overflows) is dropped before the median; the reference drops it only after the median (which
 * it then poisons). Zero points after filtering: a valid GLB without the point mesh (cameras
 * only, or an empty scene with `showCameras: false`), `report.points = 0` — what the reference
 * writes.
 *
 * glTF layout (the same as trimesh's export of the reference's scene): node/mesh `points` with one
 * POINTS primitive (POSITION float32 VEC3 with min/max, COLOR_0 normalised uint8 RGBA, alpha 255),
 * then node/mesh `camera_000`… with one LINES primitive each (16 vertices, COLOR_0 the camera
 * colour; the 8 segments in the order centre→corners 0..3, then edges 01, 12, 23, 30 — trimesh
 * writes the same segments in the order of its path traversal), all using one material (white base colour, metallic 0, roughness 0, as trimesh).
 * Axes are glTF's (y up, z backward) through `A`; units are the prediction's.
 */
import {
  Da3Error,
  type Prediction,
  type Sink,
  createPrng,
  sampleWithoutReplacement,
  worldPointsFromDepthGlb,
} from '@da3js/core';
import { type ChunkWriter, withSink } from '../writer.js';
import { CAMERA_VERTICES, cameraColor, cameraFrustumVertices } from './cameras.js';
import {
  BinPlan,
  GL_ARRAY_BUFFER,
  GL_FLOAT,
  GL_LINES,
  GL_POINTS,
  GL_UNSIGNED_BYTE,
  assertWritten,
  writeGlbHead,
} from './container.js';
import { type Affine, affineRows, centred, firstCameraGltf, isNearIdentity } from './frame.js';
import { medianF64, percentileLinear } from './numeric.js';

/** Options of {@link writeGlb}: the reference's `export_to_glb` keywords in camelCase. */
export interface GlbOptions {
  /** Maximum points written; more are subsampled without replacement (seeded). Default 1,000,000. */
  numMaxPoints?: number;
  /** Base confidence threshold (`conf_thresh`). Default 1.05. */
  confThresh?: number;
  /** Lower percentile of the adaptive threshold (`conf_thresh_percentile`, 0–100). Default 40 (the Gradio app uses 10). */
  confThreshPercentile?: number;
  /** Upper percentile capping the threshold (`ensure_thresh_percentile`, 0–100). Default 90. */
  ensureThreshPercentile?: number;
  /** Drop near-black pixels (all RGB < 16) by setting their confidence to 1.0. Default false. */
  filterBlackBg?: boolean;
  /** Drop near-white pixels (all RGB ≥ 240) by setting their confidence to 1.0. Default false. */
  filterWhiteBg?: boolean;
  /** Draw one wireframe per camera. Default true. */
  showCameras?: boolean;
  /** Wireframe size as a fraction of the scene diagonal ‖P95 − P5‖ (`camera_size`). Default 0.03. */
  cameraScale?: number;
  /** Seed of the subsampling (the reference's is unseeded). Default 0. */
  seed?: number;
}

/** What {@link writeGlb} wrote. */
export interface GlbReport {
  /** Points in the GLB (after subsampling). */
  points: number;
  /** Points that passed the filters (before subsampling). */
  keptPoints: number;
  /** Camera wireframes written (0 with `showCameras: false`). */
  cameras: number;
  /** The confidence threshold used, as the float32 value the comparison used. */
  threshold: number;
  /** `A` (`hf_alignment`), row-major 4×4: world (OpenCV, w2c frame) → scene (glTF axes). */
  alignment: Float64Array;
  /** The wireframe scale used (`cameraScale · ‖P95 − P5‖`, or `cameraScale` as fallback). */
  cameraSize: number;
  /** Bytes written. */
  bytes: number;
}

interface Resolved {
  numMaxPoints: number;
  confThresh: number;
  confThreshPercentile: number;
  ensureThreshPercentile: number;
  filterBlackBg: boolean;
  filterWhiteBg: boolean;
  showCameras: boolean;
  cameraScale: number;
  seed: number;
}

const WHERE = 'writeGlb';

function resolveOptions(o: GlbOptions): Resolved {
  const num = (key: keyof GlbOptions, v: unknown, fallback: number, check: (x: number) => boolean, what: string): number => {
    if (v === undefined) return fallback;
    if (typeof v !== 'number' || !check(v)) throw new Da3Error('BAD_VALUE', `${WHERE}: ${key} must be ${what}, got ${String(v)}`);
    return v;
  };
  const bool = (key: keyof GlbOptions, v: unknown, fallback: boolean): boolean => {
    if (v === undefined) return fallback;
    if (typeof v !== 'boolean') throw new Da3Error('BAD_VALUE', `${WHERE}: ${key} must be a boolean, got ${String(v)}`);
    return v;
  };
  const pct = (x: number) => Number.isFinite(x) && x >= 0 && x <= 100;
  return {
    numMaxPoints: num('numMaxPoints', o.numMaxPoints, 1_000_000, (x) => Number.isSafeInteger(x) && x >= 1, 'a positive integer'),
    confThresh: num('confThresh', o.confThresh, 1.05, Number.isFinite, 'a finite number'),
    confThreshPercentile: num('confThreshPercentile', o.confThreshPercentile, 40, pct, 'in [0, 100]'),
    ensureThreshPercentile: num('ensureThreshPercentile', o.ensureThreshPercentile, 90, pct, 'in [0, 100]'),
    filterBlackBg: bool('filterBlackBg', o.filterBlackBg, false),
    filterWhiteBg: bool('filterWhiteBg', o.filterWhiteBg, false),
    showCameras: bool('showCameras', o.showCameras, true),
    cameraScale: num('cameraScale', o.cameraScale, 0.03, (x) => Number.isFinite(x) && x >= 0, 'a finite number ≥ 0'),
    seed: num('seed', o.seed, 0, Number.isSafeInteger, 'an integer'),
  };
}

function checkPrediction(p: Prediction): { N: number; H: number; W: number; conf: Float32Array; ext: Float32Array; K: Float32Array } {
  if (!p || typeof p !== 'object') throw new Da3Error('BAD_VALUE', `${WHERE}: expected a Prediction, got ${String(p)}`);
  const { views: N, height: H, width: W } = p;
  for (const [k, v] of [
    ['views', N],
    ['height', H],
    ['width', W],
  ] as const) {
    if (!Number.isSafeInteger(v) || v < 1) throw new Da3Error('BAD_SHAPE', `${WHERE}: prediction.${k} must be a positive integer, got ${v}`);
  }
  const need = (name: string, v: unknown): void => {
    if (v === null || v === undefined) {
      throw new Da3Error(
        'BAD_VALUE',
        `${WHERE}: prediction.${name} is required but missing (the GLB needs depth, conf, intrinsics, extrinsics and processedImages; mono/metric models return no cameras or confidence)`,
      );
    }
  };
  need('depth', p.depth);
  need('processedImages', p.processedImages);
  need('conf', p.conf);
  need('intrinsics', p.intrinsics);
  need('extrinsics', p.extrinsics);
  const len = (name: string, v: ArrayLike<number>, per: number, shape: string): void => {
    if (typeof v.length !== 'number' || v.length !== N * H * W * per) {
      throw new Da3Error('BAD_SHAPE', `${WHERE}: prediction.${name} must be ${shape} = ${N * H * W * per} values, got ${v.length}`);
    }
  };
  len('depth', p.depth, 1, `[${N}, ${H}, ${W}]`);
  len('conf', p.conf as Float32Array, 1, `[${N}, ${H}, ${W}]`);
  len('processedImages', p.processedImages, 3, `[${N}, ${H}, ${W}, 3]`);
  const ext = p.extrinsics as Float32Array;
  const K = p.intrinsics as Float32Array;
  if (ext.length !== N * 12) throw new Da3Error('BAD_SHAPE', `${WHERE}: prediction.extrinsics must be [${N}, 3, 4] = ${N * 12} values, got ${ext.length}`);
  if (K.length !== N * 9) throw new Da3Error('BAD_SHAPE', `${WHERE}: prediction.intrinsics must be [${N}, 3, 3] = ${N * 9} values, got ${K.length}`);
  for (const [name, arr] of [
    ['extrinsics', ext],
    ['intrinsics', K],
  ] as const) {
    for (let i = 0; i < arr.length; i++) {
      if (!Number.isFinite(arr[i])) throw new Da3Error('NON_FINITE', `${WHERE}: prediction.${name}[${i}] is ${arr[i]}`);
    }
  }
  return { N, H, W, conf: p.conf as Float32Array, ext, K };
}

/** Python's `min(max(base, lower), upper)` with NaN operands (NaN never wins a comparison). */
function pythonClamp(base: number, lower: number, upper: number): number {
  // Not Math.max/min: those propagate NaN, Python's max/min keep the first operand.
  // biome-ignore lint/complexity/useMathMinMax: NaN semantics of Python's max()
  const hi = lower > base ? lower : base;
  // biome-ignore lint/complexity/useMathMinMax: NaN semantics of Python's min()
  return upper < hi ? upper : hi;
}

/** The reference's GLB background test: every RGB channel below 16 (uint8). */
export function isNearBlack(r: number, g: number, b: number): boolean {
  return r < 16 && g < 16 && b < 16;
}

/** The reference's GLB background test: every RGB channel at least 240 (uint8). */
export function isNearWhite(r: number, g: number, b: number): boolean {
  return r >= 240 && g >= 240 && b >= 240;
}

/**
 * The reference's adaptive confidence threshold over `conf` (after the background filters):
 * `min(max(confThresh, P_lo), P_hi)` with numpy 1.x `np.percentile`. Returns the float64 value;
 * pixels are kept where `float32(conf) ≥ float32(threshold)`.
 */
export function glbConfidenceThreshold(
  conf: ArrayLike<number>,
  options: Pick<GlbOptions, 'confThresh' | 'confThreshPercentile' | 'ensureThreshPercentile'> = {},
): number {
  const o = resolveOptions(options);
  if (conf.length === 0) throw new Da3Error('EMPTY_INPUT', 'glbConfidenceThreshold: no confidence values');
  const work = Float32Array.from(conf);
  const lower = percentileLinear(work, o.confThreshPercentile);
  const upper = percentileLinear(work, o.ensureThreshPercentile);
  return pythonClamp(o.confThresh, lower, upper);
}

/**
 * Writes the reference's `scene.glb` for `prediction` into `sink` (one GLB: header, JSON chunk,
 * BIN chunk streamed in 1 MiB chunks). On any error the sink is aborted, so no partial file is
 * left. See the module notes for the exact steps and the glTF layout.
 *
 * @throws Da3Error `BAD_VALUE` (missing conf/intrinsics/extrinsics, bad option, over 4 GiB),
 *   `BAD_SHAPE` (array lengths), `NON_FINITE` (cameras), `DEGENERATE` (singular K or pose).
 */
export async function writeGlb(prediction: Prediction, sink: Sink, options: GlbOptions = {}): Promise<GlbReport> {
  return withSink(sink, async (out) => writeGlbInto(prediction, out, options));
}

async function writeGlbInto(prediction: Prediction, out: ChunkWriter, options: GlbOptions): Promise<GlbReport> {
  const o = resolveOptions(options);
  const { N, H, W, conf: rawConf, ext, K } = checkPrediction(prediction);
  const HW = H * W;
  const total = N * HW;
  const depth = prediction.depth;
  const rgb = prediction.processedImages;

  // 2) background filters (on a copy), 3) threshold.
  let conf: Float32Array = rawConf;
  if (o.filterBlackBg || o.filterWhiteBg) {
    conf = Float32Array.from(rawConf);
    for (let p = 0; p < total; p++) {
      const r = rgb[3 * p];
      const g = rgb[3 * p + 1];
      const b = rgb[3 * p + 2];
      if (o.filterBlackBg && isNearBlack(r, g, b)) conf[p] = 1.0;
      if (o.filterWhiteBg && isNearWhite(r, g, b)) conf[p] = 1.0;
    }
  }
  const threshold = glbConfidenceThreshold(conf, o);
  const thr32 = Math.fround(threshold);

  // 4) unprojection, one view at a time (float32, core's GLB maths); only the kept points are
  //    stored (xyz + pixel index, 16 B each), in pixel order.
  const candidate = (p: number): boolean => {
    const d = depth[p];
    return Number.isFinite(d) && d > 0 && conf[p] >= thr32;
  };
  let candidates = 0;
  for (let p = 0; p < total; p++) if (candidate(p)) candidates++;
  const pts = new Float32Array(3 * candidates);
  const keptIdx = new Uint32Array(candidates);
  let kept = 0;
  for (let v = 0; v < N && candidates > 0; v++) {
    const dims = { views: 1, height: H, width: W };
    const wv = worldPointsFromDepthGlb(depth.subarray(v * HW, (v + 1) * HW), K.subarray(9 * v, 9 * v + 9), ext.subarray(12 * v, 12 * v + 12), dims);
    for (let q = 0; q < HW; q++) {
      const p = v * HW + q;
      if (!candidate(p)) continue;
      const x = wv[3 * q];
      const y = wv[3 * q + 1];
      const z = wv[3 * q + 2];
      if (!(Number.isFinite(x) && Number.isFinite(y) && Number.isFinite(z))) continue;
      pts[3 * kept] = x;
      pts[3 * kept + 1] = y;
      pts[3 * kept + 2] = z;
      keptIdx[kept++] = p;
    }
  }

  // 5) alignment: median per axis of the kept points in the first camera's glTF frame.
  const noCentre = firstCameraGltf(ext);
  const scratch = new Float64Array(kept);
  const centre = [0, 0, 0];
  if (kept > 0) {
    const id0 = isNearIdentity(noCentre);
    for (let axis = 0; axis < 3; axis++) {
      const r = 4 * axis;
      for (let k = 0; k < kept; k++) {
        const x = pts[3 * k];
        const y = pts[3 * k + 1];
        const z = pts[3 * k + 2];
        scratch[k] = id0 ? pts[3 * k + axis] : noCentre[r] * x + noCentre[r + 1] * y + noCentre[r + 2] * z + noCentre[r + 3];
      }
      centre[axis] = medianF64(scratch);
    }
  }
  const A = centred(noCentre, centre);
  const idA = isNearIdentity(A);

  // 6) subsample (seeded, order of the draw kept).
  let order: ArrayLike<number> | null = null;
  let count = kept;
  if (kept > o.numMaxPoints) {
    order = sampleWithoutReplacement(createPrng(o.seed), kept, o.numMaxPoints);
    count = o.numMaxPoints;
  }
  const keptOf = (j: number): number => (order ? order[j] : j);
  const transform = (outXyz: Float64Array, k: number): void => {
    const x = pts[3 * k];
    const y = pts[3 * k + 1];
    const z = pts[3 * k + 2];
    if (idA) {
      outXyz[0] = x;
      outXyz[1] = y;
      outXyz[2] = z;
      return;
    }
    outXyz[0] = A[0] * x + A[1] * y + A[2] * z + A[3];
    outXyz[1] = A[4] * x + A[5] * y + A[6] * z + A[7];
    outXyz[2] = A[8] * x + A[9] * y + A[10] * z + A[11];
  };

  // min/max of the float32 positions and the scene scale (P5/P95 per axis of the float64 points).
  const xyz = new Float64Array(3);
  const min = [Infinity, Infinity, Infinity];
  const max = [-Infinity, -Infinity, -Infinity];
  const p5 = [0, 0, 0];
  const p95 = [0, 0, 0];
  const axisValues = scratch.subarray(0, count);
  for (let axis = 0; axis < 3; axis++) {
    for (let j = 0; j < count; j++) {
      transform(xyz, keptOf(j));
      const v = xyz[axis];
      axisValues[j] = v;
      const f = Math.fround(v);
      if (f < min[axis]) min[axis] = f;
      if (f > max[axis]) max[axis] = f;
    }
    if (count >= 2) {
      p5[axis] = percentileLinear(axisValues, 5);
      p95[axis] = percentileLinear(axisValues, 95);
    }
  }
  let sceneScale = 1.0;
  if (count >= 2) {
    const dx = p95[0] - p5[0];
    const dy = p95[1] - p5[1];
    const dz = p95[2] - p5[2];
    const diag = Math.sqrt(dx * dx + dy * dy + dz * dz);
    if (Number.isFinite(diag) && diag > 0) sceneScale = diag;
  }
  const cameraSize = sceneScale * o.cameraScale;

  // 7) camera wireframes (small: 16 vertices each).
  const cams = o.showCameras ? N : 0;
  const camVerts: Float64Array[] = [];
  for (let i = 0; i < cams; i++) camVerts.push(cameraFrustumVertices(K, ext, i, W, H, cameraSize, A));

  // glTF JSON and BIN plan.
  const plan = new BinPlan();
  const accessors: Record<string, unknown>[] = [];
  const meshes: Record<string, unknown>[] = [];
  const nodes: Record<string, unknown>[] = [];
  const material = 0;
  if (count > 0) {
    const vPos = plan.add(count * 12, GL_ARRAY_BUFFER);
    const vCol = plan.add(count * 4, GL_ARRAY_BUFFER);
    accessors.push({ bufferView: vPos, componentType: GL_FLOAT, count, type: 'VEC3', min, max });
    accessors.push({ bufferView: vCol, componentType: GL_UNSIGNED_BYTE, normalized: true, count, type: 'VEC4' });
    meshes.push({ name: 'points', primitives: [{ attributes: { POSITION: 0, COLOR_0: 1 }, mode: GL_POINTS, material }] });
    nodes.push({ name: 'points', mesh: 0 });
  }
  const camPos32: Float32Array[] = camVerts.map((v) => Float32Array.from(v));
  // One buffer view per camera attribute (views shared by several accessors would need a byteStride).
  for (let i = 0; i < cams; i++) {
    const v = camPos32[i];
    const cmin = [Infinity, Infinity, Infinity];
    const cmax = [-Infinity, -Infinity, -Infinity];
    for (let k = 0; k < CAMERA_VERTICES; k++) {
      for (let a = 0; a < 3; a++) {
        const f = v[3 * k + a];
        if (f < cmin[a]) cmin[a] = f;
        if (f > cmax[a]) cmax[a] = f;
      }
    }
    const pos = accessors.length;
    const vPos = plan.add(CAMERA_VERTICES * 12, GL_ARRAY_BUFFER);
    const vCol = plan.add(CAMERA_VERTICES * 4, GL_ARRAY_BUFFER);
    accessors.push({ bufferView: vPos, componentType: GL_FLOAT, count: CAMERA_VERTICES, type: 'VEC3', min: cmin, max: cmax });
    accessors.push({ bufferView: vCol, componentType: GL_UNSIGNED_BYTE, normalized: true, count: CAMERA_VERTICES, type: 'VEC4' });
    const name = `camera_${String(i).padStart(3, '0')}`;
    nodes.push({ name, mesh: meshes.length });
    meshes.push({ name, primitives: [{ attributes: { POSITION: pos, COLOR_0: pos + 1 }, mode: GL_LINES, material }] });
  }
  const scene: Record<string, unknown> = { name: 'da3', extras: { hf_alignment: affineRows(A) } };
  if (nodes.length > 0) scene.nodes = nodes.map((_, i) => i);
  const json: Record<string, unknown> = {
    asset: { version: '2.0', generator: 'da3js' },
    scene: 0,
    scenes: [scene],
  };
  if (nodes.length > 0) {
    json.nodes = nodes;
    json.meshes = meshes;
    json.materials = [{ pbrMetallicRoughness: { baseColorFactor: [1, 1, 1, 1], metallicFactor: 0, roughnessFactor: 0 } }];
    json.accessors = accessors;
  }

  const bytes = writeGlbHead(out, json, plan, WHERE);
  const binStart = out.written;
  // points: positions, then colours.
  for (let j = 0; j < count; j++) {
    transform(xyz, keptOf(j));
    out.f32(xyz[0]);
    out.f32(xyz[1]);
    out.f32(xyz[2]);
    if ((j & 0xffff) === 0xffff) await out.flushIfFull();
  }
  for (let j = 0; j < count; j++) {
    const c = 3 * keptIdx[keptOf(j)];
    out.u8(rgb[c]);
    out.u8(rgb[c + 1]);
    out.u8(rgb[c + 2]);
    out.u8(255);
    if ((j & 0xffff) === 0xffff) await out.flushIfFull();
  }
  for (let i = 0; i < cams; i++) {
    for (const f of camPos32[i]) out.f32(f);
    const [r, g, b] = cameraColor(i, N);
    for (let k = 0; k < CAMERA_VERTICES; k++) {
      out.u8(r);
      out.u8(g);
      out.u8(b);
      out.u8(255);
    }
  }
  assertWritten(out, binStart, plan.byteLength, WHERE);
  return { points: count, keptPoints: kept, cameras: cams, threshold: thr32, alignment: A, cameraSize, bytes };
}

export type { Affine };
