/**
 * The reference's COLMAP export (`utils/export/colmap.py` `export_to_colmap`, written there with
 * pycolmap's `Reconstruction.write`), from a {@link Prediction}:
 *
 * 1. Threshold `thr = np.percentile(conf, p)` (p = 40 by default) over every view's confidence,
 *    **without** the GLB exporter's 1.05 floor; NumPy 1.x arithmetic (`percentileNumpyF32`), and the
 *    comparison `conf ≥ thr` in float32 (NumPy 1.x rounds the float64 threshold to the array's
 *    float32). Without `conf` (mono/metric) every pixel counts as confident.
 * 2. Points exactly as the GLB exporter builds them (`worldPointsFromDepthGlb`: integer pixel
 *    (u, v), no +½, `inv(w2c)·(K⁻¹[u, v, 1]·d)` in float64, cast to float32), kept where
 *    `conf ≥ thr` and the depth is finite and > 0. Colours from `processedImages`.
 * 3. One PINHOLE camera per view (ids 1…N) with `fx, fy, cx, cy` from the prediction's K; with
 *    `originalSizes` (resize methods only) K's first row is scaled by `orig_w / W` and its second by
 *    `orig_h / H` in float32, exactly as the reference's in-place `intrinsic[:1] *= orig_w / w`
 *    — but on a copy: the prediction is never modified (the reference mutates
 *    `prediction.intrinsics`). The camera is `orig_w × orig_h`; without `originalSizes` the model
 *    describes the processed `W × H` images (write those next to it).
 * 4. One image per view (ids 1…N, camera = its own): `cam_from_world` = the prediction's w2c, as a
 *    unit quaternion (w first, sign chosen so that w ≥ 0; q and −q are the same rotation) and t.
 * 5. Every kept pixel is one 3D point (ids 1…M, view-major, row-major) with a one-element track
 *    `(image, keypoint index)`, and the image lists it as a keypoint at (u·sx, v·sy) — the
 *    exact projection of the point through the written camera. The reference writes
 *    `trunc(u·sx), trunc(v·sy)` instead (its coordinates are an int32 array scaled in place);
 *    `points2D: 'reference'` reproduces that. Keypoint coordinates follow DA3's integer-pixel
 *    convention (pixel (u, v) at (u, v)), not COLMAP's pixel centres at +½ — consistent with the
 *    cameras written, so reprojection errors are zero.
 * 6. Error −1 (COLMAP's "not computed", what pycolmap writes for these points).
 *
 * Deviations from the reference, on purpose: it would misalign keypoints and points when a
 * confident pixel has a depth ≤ 0 or non-finite (its keypoints use the conf mask only, its points
 * also the depth test) — here both use the same mask; `maxPoints` (seeded subsampling) does not
 * exist there; crop methods with `originalSizes` raise here too, but with `BAD_VALUE` for every
 * `*_crop` method (the reference's `== "crop"` test never matches them and raises `ValueError`).
 */
import {
  createPrng,
  Da3Error,
  mat3ToQuatXyzw,
  type Prediction,
  RESIZE_METHODS,
  type ResizeMethod,
  sampleWithoutReplacement,
  worldPointsFromDepthGlb,
} from '@da3js/core';
import { percentileNumpyF32 } from '../images/index.js';
import { type ColmapSinkFactory, type ColmapWriteResult, writeColmapModel } from './io.js';
import type { ColmapCamera, ColmapFormat, ColmapImage, ColmapModel, ColmapPoints } from './model.js';

/** Options of {@link colmapModelFromPrediction} and {@link writeColmap}. */
export interface ColmapExportOptions {
  /** Text (`*.txt`) or binary (`*.bin`, what the reference's pycolmap writes). Default `binary`. */
  format?: ColmapFormat;
  /** One file name per view (the `NAME` of each image, relative to the images folder). */
  imageNames: readonly string[];
  /**
   * `[width, height]` of each original image: cameras and keypoints are rescaled to it, as the
   * reference does. Without it the model describes the processed images (`W × H`).
   */
  originalSizes?: readonly (readonly [number, number])[];
  /** How the images were brought to the processing size; `*_crop` cannot be undone by rescaling. Default `upper_bound_resize`. */
  processResMethod?: ResizeMethod;
  /** Confidence percentile in [0, 100]; pixels below it are dropped. Default 40. */
  confThreshPercentile?: number;
  /** Keep at most this many points (a seeded uniform subset, in the original order). Default: all. */
  maxPoints?: number;
  /** Seed of the `maxPoints` subsampling. Default 0. */
  seed?: number;
  /** List each point as a keypoint of its image with a one-element track (default true); false writes no keypoints and empty tracks. */
  observations?: boolean;
  /** `projected` (default): keypoints at (u·sx, v·sy); `reference`: truncated to integers as the reference does. */
  points2D?: 'projected' | 'reference';
  /** The ERROR of every point. Default −1 (COLMAP: not computed). */
  pointError?: number;
}

/** What the export kept, besides the model. */
export interface ColmapExportStats {
  /** The confidence threshold (float64, before the float32 comparison), `null` without `conf`. */
  threshold: number | null;
  /** Pixels that passed the threshold and depth tests, before `maxPoints`. */
  kept: number;
  /** 3D points in the model. */
  points: number;
}

const BAD_NAME = /[\0\r\n]/;

function checkOptions(prediction: Prediction, options: ColmapExportOptions): void {
  const where = 'writeColmap';
  const N = prediction.views;
  if (!prediction.extrinsics || !prediction.intrinsics) {
    throw new Da3Error('BAD_VALUE', `${where}: the prediction has no ${prediction.extrinsics ? 'intrinsics' : 'extrinsics'} (mono/metric models give no cameras)`);
  }
  const names = options.imageNames;
  if (!Array.isArray(names) || names.length !== N) {
    throw new Da3Error('BAD_VALUE', `${where}: imageNames must hold one name per view (${N}), got ${Array.isArray(names) ? names.length : typeof names}`);
  }
  const seen = new Set<string>();
  for (const n of names) {
    if (typeof n !== 'string' || n.length === 0 || BAD_NAME.test(n)) {
      throw new Da3Error('BAD_VALUE', `${where}: image names must be non-empty strings without NUL or line breaks, got ${JSON.stringify(n)}`);
    }
    if (seen.has(n)) throw new Da3Error('BAD_VALUE', `${where}: image name ${JSON.stringify(n)} is used twice`);
    seen.add(n);
  }
  const method = options.processResMethod ?? 'upper_bound_resize';
  if (!RESIZE_METHODS.includes(method)) {
    throw new Da3Error('BAD_VALUE', `${where}: processResMethod must be one of ${RESIZE_METHODS.join(', ')}, got ${JSON.stringify(method)}`);
  }
  const sizes = options.originalSizes;
  if (sizes !== undefined) {
    if (method.endsWith('_crop')) {
      throw new Da3Error(
        'BAD_VALUE',
        `${where}: cannot rescale cameras to the original images after ${method} (the crop is not invertible by scaling; the reference raises too): omit originalSizes to write the processed images' cameras`,
      );
    }
    if (!Array.isArray(sizes) || sizes.length !== N) {
      throw new Da3Error('BAD_VALUE', `${where}: originalSizes must hold one [width, height] per view (${N}), got ${Array.isArray(sizes) ? sizes.length : typeof sizes}`);
    }
    sizes.forEach((s, i) => {
      if (!Array.isArray(s) || s.length !== 2 || !s.every((v) => Number.isSafeInteger(v) && v > 0)) {
        throw new Da3Error('BAD_VALUE', `${where}: originalSizes[${i}] must be [width, height] in positive integers, got ${JSON.stringify(s)}`);
      }
    });
  }
  const p = options.confThreshPercentile ?? 40;
  if (typeof p !== 'number' || !(p >= 0 && p <= 100)) throw new Da3Error('BAD_VALUE', `${where}: confThreshPercentile must be in [0, 100], got ${p}`);
  if (options.maxPoints !== undefined && !(Number.isSafeInteger(options.maxPoints) && options.maxPoints >= 0)) {
    throw new Da3Error('BAD_VALUE', `${where}: maxPoints must be a non-negative integer, got ${options.maxPoints}`);
  }
  if (options.seed !== undefined && !Number.isSafeInteger(options.seed)) throw new Da3Error('BAD_VALUE', `${where}: seed must be an integer, got ${options.seed}`);
  if (options.points2D !== undefined && options.points2D !== 'projected' && options.points2D !== 'reference') {
    throw new Da3Error('BAD_VALUE', `${where}: points2D must be 'projected' or 'reference', got ${JSON.stringify(options.points2D)}`);
  }
  if (options.pointError !== undefined && !Number.isFinite(options.pointError)) {
    throw new Da3Error('BAD_VALUE', `${where}: pointError must be finite, got ${options.pointError}`);
  }
}

/**
 * The reference's COLMAP model of a prediction (see the module comment for every rule), in memory.
 * The prediction is not modified.
 * @throws Da3Error `BAD_VALUE` (options, missing cameras, crop + originalSizes), and those of
 *   `worldPointsFromDepthGlb` (`DEGENERATE` for a singular K or pose).
 */
export function colmapModelFromPrediction(prediction: Prediction, options: ColmapExportOptions): { model: ColmapModel; stats: ColmapExportStats } {
  checkOptions(prediction, options);
  const { views: N, height: H, width: W, depth, conf } = prediction;
  const K = prediction.intrinsics as Float32Array;
  const E = prediction.extrinsics as Float32Array;
  const HW = H * W;

  // 1. threshold
  let thr32 = -Infinity;
  let threshold: number | null = null;
  if (conf) {
    const sorted = Float32Array.from(conf).sort();
    threshold = percentileNumpyF32(sorted, options.confThreshPercentile ?? 40);
    thr32 = Math.fround(threshold);
  }

  // 2. points and the kept mask
  const world = worldPointsFromDepthGlb(depth, K, E, { views: N, height: H, width: W });
  const keptIdx: number[] = [];
  for (let p = 0; p < N * HW; p++) {
    const d = depth[p];
    if (!(d > 0 && d < Infinity)) continue;
    if (conf && !(conf[p] >= thr32)) continue;
    if (!(Number.isFinite(world[3 * p]) && Number.isFinite(world[3 * p + 1]) && Number.isFinite(world[3 * p + 2]))) continue;
    keptIdx.push(p);
  }
  let sel: ArrayLike<number> = keptIdx;
  if (options.maxPoints !== undefined && keptIdx.length > options.maxPoints) {
    const pick = sampleWithoutReplacement(createPrng(options.seed ?? 0), keptIdx.length, options.maxPoints).sort();
    sel = Array.from(pick, (i) => keptIdx[i]);
  }
  const M = sel.length;

  // 3–4. cameras and images
  const sizes = options.originalSizes;
  const observations = options.observations ?? true;
  const truncate = options.points2D === 'reference';
  const sx = new Float64Array(N);
  const sy = new Float64Array(N);
  const cameras: ColmapCamera[] = [];
  const images: ColmapImage[] = [];
  const perView = new Int32Array(N);
  for (let i = 0; i < M; i++) perView[Math.floor(sel[i] / HW)]++;
  const q = new Float64Array(4);
  for (let b = 0; b < N; b++) {
    const [ow, oh] = sizes ? sizes[b] : [W, H];
    sx[b] = ow / W;
    sy[b] = oh / H;
    const fsx = Math.fround(sx[b]);
    const fsy = Math.fround(sy[b]);
    const k = 9 * b;
    cameras.push({
      id: b + 1,
      model: 'PINHOLE',
      width: ow,
      height: oh,
      params: Float64Array.of(Math.fround(K[k] * fsx), Math.fround(K[k + 4] * fsy), Math.fround(K[k + 2] * fsx), Math.fround(K[k + 5] * fsy)),
    });
    const e = 12 * b;
    mat3ToQuatXyzw(q, [E[e], E[e + 1], E[e + 2], E[e + 4], E[e + 5], E[e + 6], E[e + 8], E[e + 9], E[e + 10]]);
    const n = Math.hypot(q[0], q[1], q[2], q[3]);
    const count = observations ? perView[b] : 0;
    images.push({
      id: b + 1,
      qvec: Float64Array.of(q[3] / n, q[0] / n, q[1] / n, q[2] / n),
      tvec: Float64Array.of(E[e + 3], E[e + 7], E[e + 11]),
      cameraId: b + 1,
      name: options.imageNames[b],
      xys: new Float64Array(2 * count),
      point3DIds: new Float64Array(count),
    });
  }

  // 5–6. points, keypoints and tracks
  const T = observations ? M : 0;
  const points: ColmapPoints = {
    count: M,
    ids: new Float64Array(M),
    xyz: new Float64Array(3 * M),
    rgb: new Uint8Array(3 * M),
    error: new Float64Array(M).fill(options.pointError ?? -1),
    trackOffsets: new Uint32Array(M + 1),
    trackImageIds: new Uint32Array(T),
    trackPoint2DIdx: new Uint32Array(T),
  };
  const next = new Int32Array(N);
  const rgb = prediction.processedImages;
  for (let i = 0; i < M; i++) {
    const p = sel[i];
    const b = Math.floor(p / HW);
    const r = p - b * HW;
    const v = Math.floor(r / W);
    const u = r - v * W;
    const id = i + 1;
    points.ids[i] = id;
    for (let c = 0; c < 3; c++) {
      points.xyz[3 * i + c] = world[3 * p + c];
      points.rgb[3 * i + c] = rgb[3 * p + c];
    }
    if (observations) {
      const j = next[b]++;
      const im = images[b];
      im.xys[2 * j] = truncate ? Math.trunc(u * sx[b]) : u * sx[b];
      im.xys[2 * j + 1] = truncate ? Math.trunc(v * sy[b]) : v * sy[b];
      im.point3DIds[j] = id;
      points.trackImageIds[i] = b + 1;
      points.trackPoint2DIdx[i] = j;
      points.trackOffsets[i + 1] = i + 1;
    }
  }
  return { model: { cameras, images, points }, stats: { threshold, kept: keptIdx.length, points: M } };
}

/** What {@link writeColmap} wrote. */
export interface ColmapExportResult extends ColmapWriteResult, ColmapExportStats {}

/**
 * Writes the reference's COLMAP export of `prediction` (see {@link colmapModelFromPrediction}) as
 * `cameras`, `images`, `points3D` (`.bin` by default, `.txt` with `format: 'text'`), each file
 * into the sink `openSink(fileName)` returns (node: files in `sparse/`; web: Blobs or zip
 * entries). All three sinks are aborted when anything fails (see {@link writeColmapModel}).
 *
 * Usage:
 * ```ts
 * await writeColmap(prediction, (name) => fileSink(join(dir, 'sparse', name)), {
 *   imageNames: ['0001.jpg', '0002.jpg'], originalSizes: [[1920, 1080], [1920, 1080]],
 * });
 * ```
 * @throws Da3Error as {@link colmapModelFromPrediction} and {@link writeColmapModel}.
 */
export async function writeColmap(prediction: Prediction, openSink: ColmapSinkFactory, options: ColmapExportOptions): Promise<ColmapExportResult> {
  const format = options.format ?? 'binary';
  if (format !== 'text' && format !== 'binary') throw new Da3Error('BAD_VALUE', `writeColmap: format must be 'text' or 'binary', got ${JSON.stringify(format)}`);
  const { model, stats } = colmapModelFromPrediction(prediction, options);
  const written = await writeColmapModel(model, openSink, format);
  return { ...written, ...stats };
}
