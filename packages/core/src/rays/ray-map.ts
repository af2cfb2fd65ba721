import { Da3Error } from '../errors.js';
import { affineInverse, invert3 } from '../camera/matrix.js';
import type { ReadonlyNumArray } from '../camera/types.js';
import { assertFinite, assertPositiveInt, batchCount, checkImageHw, rigidStride } from '../camera/validate.js';

/** Channels per pixel of a ray map: direction xyz then origin xyz. */
export const RAY_MAP_CHANNELS = 6;

/**
 * The ray map a DA3 ray head predicts for a known camera (there is no camera → ray function in the
 * reference; this is the exact inverse of what its ray → pose step, `camray_to_caminfo`, assumes,
 * and it reproduces the `geometry/ray_to_pose` fixture's exact rays).
 *
 * For every map pixel (column u, row v) of an `h × w` map, with `K'` = `K` rescaled from the image
 * `[H, W]` to the map (row 0 × w/W, row 1 × h/H):
 * - direction `d = R_c2w · K'⁻¹ · [u + ½, v + ½, 1]` — world frame, **not unit length**: its
 *   camera-frame z is 1, so `origin + depth·d` is the point at z-depth `depth`;
 * - origin = the camera centre `−Rᵀt` (world frame).
 *
 * Channels-last layout `[N, h, w, 6]` = `[dx, dy, dz, ox, oy, oz]`, the network's `ray` output
 * layout. The network's ray map is `8·(H/14) × 8·(W/14)`, smaller than the image.
 * OpenCV camera axes (x right, y down, z forward). Computed in float64.
 *
 * @param w2c world→camera extrinsics `[N, 3, 4]` or `[N, 4, 4]` (rigid).
 * @param intrinsics `[N, 3, 3]` pixels of the image `imageHw` (any principal point; the reference's
 *   pose recovery assumes the centre).
 * @param imageHw `[H, W]` the intrinsics refer to, pixels.
 * @param mapHw `[h, w]` of the ray map, pixels.
 * @returns `[N, h, w, 6]` Float64Array.
 * @throws Da3Error `EMPTY_INPUT`, `BAD_SHAPE`, `BAD_VALUE`, `NON_FINITE`, `DEGENERATE` (singular K).
 */
export function rayMapFromCamera(
  w2c: ReadonlyNumArray,
  intrinsics: ReadonlyNumArray,
  imageHw: readonly [number, number],
  mapHw: readonly [number, number],
): Float64Array {
  const fn = 'rayMapFromCamera';
  const n = batchCount(fn, 'intrinsics', intrinsics, 9, '[N, 3, 3]');
  const stride = rigidStride(fn, 'w2c', w2c, n);
  const [imgH, imgW] = checkImageHw(fn, imageHw);
  const [h, w] = checkImageHw(fn, mapHw, 'mapHw');
  assertPositiveInt(fn, 'map height', h);
  assertPositiveInt(fn, 'map width', w);
  assertFinite(fn, 'w2c', w2c);
  assertFinite(fn, 'intrinsics', intrinsics);
  const out = new Float64Array(n * h * w * RAY_MAP_CHANNELS);
  const k = new Float64Array(9);
  const kinv = new Float64Array(9);
  const e = new Float64Array(12);
  const c2w = new Float64Array(12);
  const sx = w / imgW;
  const sy = h / imgH;
  for (let b = 0; b < n; b++) {
    for (let i = 0; i < 9; i++) k[i] = intrinsics[9 * b + i];
    for (let j = 0; j < 3; j++) {
      k[j] *= sx;
      k[3 + j] *= sy;
    }
    if (!invert3(kinv, k)) throw new Da3Error('DEGENERATE', `${fn}: intrinsics of view ${b} are singular`);
    for (let i = 0; i < 12; i++) e[i] = w2c[stride * b + i];
    affineInverse(c2w, e);
    // M = R_c2w · K'⁻¹ maps [u+½, v+½, 1] to the direction
    const m = new Float64Array(9);
    for (let i = 0; i < 3; i++) {
      for (let j = 0; j < 3; j++) {
        m[3 * i + j] = c2w[4 * i] * kinv[j] + c2w[4 * i + 1] * kinv[3 + j] + c2w[4 * i + 2] * kinv[6 + j];
      }
    }
    const ox = c2w[3], oy = c2w[7], oz = c2w[11];
    let o = b * h * w * RAY_MAP_CHANNELS;
    for (let v = 0; v < h; v++) {
      const py = v + 0.5;
      for (let u = 0; u < w; u++) {
        const px = u + 0.5;
        out[o] = m[0] * px + m[1] * py + m[2];
        out[o + 1] = m[3] * px + m[4] * py + m[5];
        out[o + 2] = m[6] * px + m[7] * py + m[8];
        out[o + 3] = ox;
        out[o + 4] = oy;
        out[o + 5] = oz;
        o += RAY_MAP_CHANNELS;
      }
    }
  }
  return out;
}
