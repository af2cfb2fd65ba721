import { affineInverse, invert3 } from '../camera/matrix.js';
import { Da3Error } from '../errors.js';
import { createPrng } from '../random/prng.js';
import type { Sim3 } from './align/index.js';

/** One chunk's cameras and maps, chunk-local (its own world frame), `views` frames of `height × width`. */
export interface ChunkMaps {
  readonly views: number;
  readonly height: number;
  readonly width: number;
  /** `[views, H, W]` z-depth. */
  readonly depth: Float32Array;
  /** `[views, H, W]` confidence as the network returns it (≥ 1). */
  readonly conf: Float32Array;
  /** `[views, 3, 4]` world→camera. */
  readonly extrinsics: Float32Array;
  /** `[views, 3, 3]` pixels. */
  readonly intrinsics: Float32Array;
  /** `[views, H, W, 3]` the processed images. */
  readonly images: Uint8Array;
}

/**
 * World points of views `[from, to)` of a chunk, the reference's `depth_to_point_cloud_vectorized`
 * (pixel (u, v) at `[u, v, 1]`, no +½; `c2w = inv(w2c)`), in float64 and stored as float32, then
 * mapped by `sim3` when given. Non-finite depth gives non-finite points (never thrown on).
 * @returns `[to − from, H, W, 3]` float32
 */
export function chunkPointMaps(maps: ChunkMaps, from: number, to: number, sim3: Sim3 | null = null): Float32Array {
  const { height: H, width: W } = maps;
  const out = new Float32Array((to - from) * H * W * 3);
  for (let v = from; v < to; v++) unprojectView(maps, v, sim3, out, (v - from) * H * W * 3);
  return out;
}

function unprojectView(maps: ChunkMaps, view: number, sim3: Sim3 | null, out: Float32Array, at: number): void {
  const { height: H, width: W } = maps;
  const kinv = new Float64Array(9);
  if (!invert3(kinv, maps.intrinsics.subarray(9 * view, 9 * view + 9))) throw new Da3Error('DEGENERATE', `streamInference: the intrinsics of chunk view ${view} are singular`);
  const c = new Float64Array(12);
  affineInverse(c, maps.extrinsics.subarray(12 * view, 12 * view + 12));
  // Compose the Sim(3) into the camera→world map once: p' = s·R·(C·x) + t.
  if (sim3) {
    const { scale: s, rotation: R, translation: t } = sim3;
    const m = new Float64Array(12);
    for (let i = 0; i < 3; i++) {
      for (let j = 0; j < 4; j++) {
        let acc = 0;
        for (let k = 0; k < 3; k++) acc += R[3 * i + k] * c[4 * k + j];
        m[4 * i + j] = s * acc + (j === 3 ? t[i] : 0);
      }
    }
    c.set(m);
  }
  const depth = maps.depth;
  const base = view * H * W;
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      const p = base + y * W + x;
      const d = depth[p];
      const xc = (kinv[0] * x + kinv[1] * y + kinv[2]) * d;
      const yc = (kinv[3] * x + kinv[4] * y + kinv[5]) * d;
      const zc = (kinv[6] * x + kinv[7] * y + kinv[8]) * d;
      const o = at + 3 * (p - base);
      out[o] = c[0] * xc + c[1] * yc + c[2] * zc + c[3];
      out[o + 1] = c[4] * xc + c[5] * yc + c[6] * zc + c[7];
      out[o + 2] = c[8] * xc + c[9] * yc + c[10] * zc + c[11];
    }
  }
}

/** A chunk's share of the global point cloud. */
export interface StreamPointCloud {
  /** Points kept. */
  readonly count: number;
  /** `[count, 3]` world frame (the first chunk's). */
  readonly positions: Float32Array;
  /** `[count, 3]` RGB of the processed images. */
  readonly colors: Uint8Array;
  /** The confidence threshold used: mean(conf − 1) × `confThresholdCoef` over the chunk. */
  readonly confThreshold: number;
  /** Pixels that passed it (before subsampling). */
  readonly validPoints: number;
}

/** Options of {@link chunkPointCloud}. */
export interface ChunkPointCloudOptions {
  readonly sampleRatio: number;
  readonly confThresholdCoef: number;
  /** Seed of the reservoir sampling. */
  readonly seed: number;
}

/**
 * A chunk's point cloud as the reference's `save_confident_pointcloud_batch` builds it: every
 * pixel of every view of the chunk whose `conf − 1 ≥ mean(conf − 1) · confThresholdCoef` and
 * `> 1e-5` (and whose point is finite), then `⌊valid · sampleRatio⌋` of them by reservoir
 * sampling (its `optimized_vectorized_reservoir_sampling`: the first ones fill the reservoir, the
 * k-th later one replaces slot `randint(0, k)` when that is inside), here with a seeded PRNG.
 * Views are unprojected one at a time (memory: one view of points).
 */
export function chunkPointCloud(maps: ChunkMaps, toWorld: Sim3 | null, options: ChunkPointCloudOptions): StreamPointCloud {
  const { views, height: H, width: W } = maps;
  const n = H * W;
  let sum = 0;
  const total = views * n;
  for (let i = 0; i < total; i++) sum += maps.conf[i] - 1;
  const confThreshold = Math.fround((sum / total) * options.confThresholdCoef);
  const pts = new Float32Array(n * 3);
  const keep = (i: number, p: number) => {
    const c = Math.fround(maps.conf[i] - 1);
    return c >= confThreshold && c > 1e-5 && Number.isFinite(pts[3 * p]) && Number.isFinite(pts[3 * p + 1]) && Number.isFinite(pts[3 * p + 2]);
  };
  let valid = 0;
  for (let v = 0; v < views; v++) {
    unprojectView(maps, v, toWorld, pts, 0);
    for (let p = 0; p < n; p++) if (keep(v * n + p, p)) valid++;
  }
  const samples = options.sampleRatio < 1 ? Math.floor(valid * options.sampleRatio) : valid;
  const positions = new Float32Array(samples * 3);
  const colors = new Uint8Array(samples * 3);
  const prng = createPrng(options.seed);
  let seen = 0;
  for (let v = 0; v < views && samples > 0; v++) {
    unprojectView(maps, v, toWorld, pts, 0);
    for (let p = 0; p < n; p++) {
      const i = v * n + p;
      if (!keep(i, p)) continue;
      let slot = seen;
      if (seen >= samples) {
        slot = prng.int(seen + 1);
        if (slot >= samples) {
          seen++;
          continue;
        }
      }
      seen++;
      positions[3 * slot] = pts[3 * p];
      positions[3 * slot + 1] = pts[3 * p + 1];
      positions[3 * slot + 2] = pts[3 * p + 2];
      colors[3 * slot] = maps.images[3 * i];
      colors[3 * slot + 1] = maps.images[3 * i + 1];
      colors[3 * slot + 2] = maps.images[3 * i + 2];
    }
  }
  return { count: samples, positions, colors, confThreshold, validPoints: valid };
}
