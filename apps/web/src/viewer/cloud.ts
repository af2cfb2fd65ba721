/**
 * The point cloud shown in the viewer, computed from a {@link Prediction} without three.js: world
 * points from depth + cameras (core's `unprojectDepthToWorld`, OpenCV axes), the confidence
 * percentile cut, the black/white background filters of the reference's GLB export, and a
 * deterministic subsample to a point budget. Display positions are converted to three.js axes
 * (y up, z backward: `(x, −y, −z)`); the float64 world points are kept for measuring.
 */
import { type Prediction, createPrng, quantileLinear, sampleWithoutReplacement, unprojectDepthToWorld } from '@da3js/core';
import { isNearBlack, isNearWhite } from '@da3js/exporters';

/** Viewer filters. */
export interface CloudOptions {
  /** Hide points whose confidence is below this percentile (0–100) of all confidences. Default 0. */
  readonly confPercentile?: number;
  /** Keep at most this many points (seeded random subset). Default 1,000,000. */
  readonly maxPoints?: number;
  /** Drop points whose colour is near black (all channels < 16), as the reference's filter. */
  readonly filterBlackBg?: boolean;
  /** Drop points whose colour is near white (all channels ≥ 240). */
  readonly filterWhiteBg?: boolean;
  /** Seed of the subsample (default 0). */
  readonly seed?: number;
}

/** Points ready for display. */
export interface CloudData {
  readonly count: number;
  /** [count, 3] float32, three.js axes (x, −y, −z of the world frame). */
  readonly positions: Float32Array;
  /** [count, 3] RGB bytes. */
  readonly colors: Uint8Array;
  /** [count, 3] float64 world points (OpenCV axes), for measuring. */
  readonly world: Float64Array;
  /** Pixel index (view·H·W + row·W + col) of every point. */
  readonly pixels: Uint32Array;
  /** Pixels with a finite positive depth, before the filters. */
  readonly valid: number;
}

/**
 * The confidence value at percentile `p` (0–100, linear interpolation) of `conf`; `-Infinity` when
 * `p ≤ 0` or there is no confidence (every point kept).
 */
export function percentileThreshold(conf: Float32Array | null, p: number): number {
  if (!conf || conf.length === 0 || !(p > 0)) return Number.NEGATIVE_INFINITY;
  return quantileLinear(conf, Math.min(p, 100) / 100, { precision: 'float64' });
}

/** Intrinsics per view: the prediction's, else a 60° horizontal field of view at the image centre. */
export function intrinsicsOf(p: Prediction): Float64Array {
  if (p.intrinsics) return Float64Array.from(p.intrinsics);
  const f = p.width / 2 / Math.tan(Math.PI / 6);
  const k = new Float64Array(9 * p.views);
  for (let v = 0; v < p.views; v++) k.set([f, 0, (p.width - 1) / 2, 0, f, (p.height - 1) / 2, 0, 0, 1], 9 * v);
  return k;
}

/** World→camera per view: the prediction's, else the identity (mono/metric models). */
export function extrinsicsOf(p: Prediction): Float64Array {
  if (p.extrinsics) return Float64Array.from(p.extrinsics);
  const e = new Float64Array(12 * p.views);
  for (let v = 0; v < p.views; v++) e.set([1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0], 12 * v);
  return e;
}

/** Builds the displayed cloud (see the module doc). */
export function buildCloud(p: Prediction, options: CloudOptions = {}): CloudData {
  const { views: N, height: H, width: W } = p;
  const HW = H * W;
  const thr = percentileThreshold(p.conf, options.confPercentile ?? 0);
  const rgb = p.processedImages;
  const keep = new Uint8Array(N * HW);
  let valid = 0;
  let kept = 0;
  for (let i = 0; i < N * HW; i++) {
    const d = p.depth[i];
    if (!(Number.isFinite(d) && d > 0)) continue;
    valid++;
    if (p.conf && p.conf[i] < thr) continue;
    const r = rgb[3 * i];
    const g = rgb[3 * i + 1];
    const b = rgb[3 * i + 2];
    if (options.filterBlackBg && isNearBlack(r, g, b)) continue;
    if (options.filterWhiteBg && isNearWhite(r, g, b)) continue;
    keep[i] = 1;
    kept++;
  }
  let pixels = new Uint32Array(kept);
  for (let i = 0, k = 0; i < N * HW; i++) if (keep[i]) pixels[k++] = i;
  const budget = Math.max(0, Math.floor(options.maxPoints ?? 1_000_000));
  if (kept > budget) {
    const pick = Array.from(sampleWithoutReplacement(createPrng(options.seed ?? 0), kept, budget)).sort((a, b) => a - b);
    pixels = Uint32Array.from(pick, (j) => pixels[j]);
  }
  const count = pixels.length;
  const K = intrinsicsOf(p);
  const E = extrinsicsOf(p);
  const world = new Float64Array(3 * count);
  // Unproject one view at a time (memory ∝ one view), only where a point is kept. Depth that is
  // not finite is replaced by 1 for the call (those pixels are never kept).
  let at = 0;
  for (let v = 0; v < N && at < count; v++) {
    const first = at;
    while (at < count && pixels[at] < (v + 1) * HW) at++;
    if (at === first) continue;
    const d = Float64Array.from(p.depth.subarray(v * HW, (v + 1) * HW), (x) => (Number.isFinite(x) ? x : 1));
    const pts = unprojectDepthToWorld(d, K.subarray(9 * v, 9 * v + 9), E.subarray(12 * v, 12 * v + 12), { views: 1, height: H, width: W });
    for (let k = first; k < at; k++) {
      const q = pixels[k] - v * HW;
      world[3 * k] = pts[3 * q];
      world[3 * k + 1] = pts[3 * q + 1];
      world[3 * k + 2] = pts[3 * q + 2];
    }
  }
  const positions = new Float32Array(3 * count);
  const colors = new Uint8Array(3 * count);
  for (let k = 0; k < count; k++) {
    positions[3 * k] = world[3 * k];
    positions[3 * k + 1] = -world[3 * k + 1];
    positions[3 * k + 2] = -world[3 * k + 2];
    const i = pixels[k];
    colors[3 * k] = rgb[3 * i];
    colors[3 * k + 1] = rgb[3 * i + 1];
    colors[3 * k + 2] = rgb[3 * i + 2];
  }
  return { count, positions, colors, world, pixels, valid };
}
