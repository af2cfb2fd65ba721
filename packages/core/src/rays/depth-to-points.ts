import { Da3Error } from '../errors.js';
import { affineInverse, invert3, invert4 } from '../camera/matrix.js';
import type { ReadonlyNumArray } from '../camera/types.js';
import { assertFinite, rigidStride } from '../camera/validate.js';
import { type MapDims, checkMap } from './dims.js';
import { RAY_MAP_CHANNELS } from './ray-map.js';

/**
 * World points from depth. All outputs are `[N, height, width, 3]` (xyz, channels last) in the
 * world frame of the extrinsics / rays, OpenCV axes (x right, y down, z forward). Depth is
 * **z-depth** (distance along the camera's optical axis), in the model's units.
 */

/**
 * World points from a ray map and a depth map of the **same resolution**:
 * `p = origin + depth · direction`, per pixel.
 *
 * With DA3's ray convention (direction `R_c2w·K⁻¹[u+½, v+½, 1]`, camera z = 1) this equals the
 * z-depth unprojection at pixel **centres** of the ray map (see {@link unprojectDepthToWorld} with
 * `pixelOffset: 0.5`). The reference's inference never builds points this way (its exporters use
 * depth + K + pose), and the network's ray map is smaller than its depth map; resample one of them
 * first. Computed in float64.
 *
 * @param rays `[N, h, w, 6]` `[dx, dy, dz, ox, oy, oz]` world frame.
 * @param depth `[N, h, w]` z-depth.
 * @param dims `{ views: N, height: h, width: w }`.
 * @returns `[N, h, w, 3]` Float64Array.
 * @throws Da3Error `BAD_SHAPE`, `BAD_VALUE`, `EMPTY_INPUT`, `NON_FINITE`.
 */
export function worldPointsFromRays(rays: ReadonlyNumArray, depth: ReadonlyNumArray, dims: MapDims): Float64Array {
  const fn = 'worldPointsFromRays';
  checkMap(fn, 'rays', rays, dims, RAY_MAP_CHANNELS);
  checkMap(fn, 'depth', depth, dims, 1);
  assertFinite(fn, 'rays', rays);
  assertFinite(fn, 'depth', depth);
  const count = dims.views * dims.height * dims.width;
  const out = new Float64Array(count * 3);
  for (let p = 0; p < count; p++) {
    const d = depth[p];
    const r = p * RAY_MAP_CHANNELS;
    out[3 * p] = rays[r + 3] + d * rays[r];
    out[3 * p + 1] = rays[r + 4] + d * rays[r + 1];
    out[3 * p + 2] = rays[r + 5] + d * rays[r + 2];
  }
  return out;
}

/** Options of {@link unprojectDepthToWorld}. */
export interface UnprojectDepthOptions {
  /**
   * Added to the integer pixel indices before unprojection, pixels. `0` (default) is the
   * reference's `unproject_depth` and GLB exporter (pixel (u, v) at `[u, v, 1]`); `0.5` unprojects
   * pixel centres, the ray-map convention.
   */
  pixelOffset?: number;
}

function checkCameras(fn: string, intrinsics: ReadonlyNumArray, w2c: ReadonlyNumArray, views: number): 12 | 16 {
  if (intrinsics.length !== 9 * views) {
    throw new Da3Error('BAD_SHAPE', `${fn}: intrinsics must be [${views}, 3, 3] (${9 * views} numbers), got ${intrinsics.length}`);
  }
  const stride = rigidStride(fn, 'w2c', w2c, views);
  assertFinite(fn, 'intrinsics', intrinsics);
  assertFinite(fn, 'w2c', w2c);
  return stride;
}

/**
 * World points from z-depth, intrinsics and world→camera extrinsics, the reference's
 * `utils/geometry.py` `unproject_depth(depth, K, c2w = affine_inverse(as_homogeneous(w2c)))`:
 * `p = R_c2w · (K⁻¹ · [u, v, 1] · depth) + t_c2w` with integer column u and row v (no +½ unless
 * `pixelOffset` says so). `K⁻¹` is a general 3×3 inverse, the pose inverse is rigid
 * (`[Rᵀ | −Rᵀt]`). Computed in float64; the reference runs it in float32
 * (`Float32Array.from(result)` is within float32 rounding of it).
 *
 * @param depth `[N, H, W]` z-depth (model units).
 * @param intrinsics `[N, 3, 3]` pixels of this `H × W` map.
 * @param w2c `[N, 3, 4]` or `[N, 4, 4]` world→camera.
 * @param dims `{ views: N, height: H, width: W }`.
 * @returns `[N, H, W, 3]` Float64Array, world frame.
 * @throws Da3Error `BAD_SHAPE`, `BAD_VALUE`, `EMPTY_INPUT`, `NON_FINITE`, `DEGENERATE` (singular K).
 */
export function unprojectDepthToWorld(
  depth: ReadonlyNumArray,
  intrinsics: ReadonlyNumArray,
  w2c: ReadonlyNumArray,
  dims: MapDims,
  options: UnprojectDepthOptions = {},
): Float64Array {
  const fn = 'unprojectDepthToWorld';
  checkMap(fn, 'depth', depth, dims, 1);
  const stride = checkCameras(fn, intrinsics, w2c, dims.views);
  assertFinite(fn, 'depth', depth);
  const off = options.pixelOffset ?? 0;
  if (!Number.isFinite(off)) throw new Da3Error('NON_FINITE', `${fn}: pixelOffset must be finite, got ${off}`);
  const { views, height, width } = dims;
  const out = new Float64Array(views * height * width * 3);
  const kinv = new Float64Array(9);
  const e = new Float64Array(12);
  const c = new Float64Array(12);
  for (let b = 0; b < views; b++) {
    if (!invert3(kinv, intrinsics.slice(9 * b, 9 * b + 9) as ReadonlyNumArray)) {
      throw new Da3Error('DEGENERATE', `${fn}: intrinsics of view ${b} are singular`);
    }
    for (let i = 0; i < 12; i++) e[i] = w2c[stride * b + i];
    affineInverse(c, e);
    for (let v = 0; v < height; v++) {
      const y = v + off;
      for (let u = 0; u < width; u++) {
        const x = u + off;
        const p = (b * height + v) * width + u;
        const d = depth[p];
        const xc = (kinv[0] * x + kinv[1] * y + kinv[2]) * d;
        const yc = (kinv[3] * x + kinv[4] * y + kinv[5]) * d;
        const zc = (kinv[6] * x + kinv[7] * y + kinv[8]) * d;
        out[3 * p] = c[0] * xc + c[1] * yc + c[2] * zc + c[3];
        out[3 * p + 1] = c[4] * xc + c[5] * yc + c[6] * zc + c[7];
        out[3 * p + 2] = c[8] * xc + c[9] * yc + c[10] * zc + c[11];
      }
    }
  }
  return out;
}

/**
 * World points exactly as the reference's GLB exporter builds them
 * (`utils/export/glb.py` `_depths_to_world_points_with_colors`): numpy float64 maths
 * `p = inv([w2c; 0 0 0 1]) · [K⁻¹ · [u, v, 1] · depth; 1]` with integer pixel indices u (column),
 * v (row), no +½, both inverses general (not rigid), cast to **float32**.
 *
 * Unlike the exporter this returns every pixel (`[N, H, W, 3]`); the exporter then keeps only
 * pixels with finite `depth > 0` (and `conf ≥ threshold`). Non-finite depth is allowed here and
 * gives non-finite points.
 *
 * @param depth `[N, H, W]` z-depth.
 * @param intrinsics `[N, 3, 3]` pixels.
 * @param w2c `[N, 3, 4]` or `[N, 4, 4]` world→camera.
 * @param dims `{ views: N, height: H, width: W }`.
 * @returns `[N, H, W, 3]` Float32Array, world frame.
 * @throws Da3Error `BAD_SHAPE`, `BAD_VALUE`, `EMPTY_INPUT`, `NON_FINITE` (cameras), `DEGENERATE` (singular K or pose).
 */
export function worldPointsFromDepthGlb(
  depth: ReadonlyNumArray,
  intrinsics: ReadonlyNumArray,
  w2c: ReadonlyNumArray,
  dims: MapDims,
): Float32Array {
  const fn = 'worldPointsFromDepthGlb';
  checkMap(fn, 'depth', depth, dims, 1);
  const stride = checkCameras(fn, intrinsics, w2c, dims.views);
  const { views, height, width } = dims;
  const out = new Float32Array(views * height * width * 3);
  const kinv = new Float64Array(9);
  const e = new Float64Array(16);
  const c = new Float64Array(16);
  for (let b = 0; b < views; b++) {
    if (!invert3(kinv, intrinsics.slice(9 * b, 9 * b + 9) as ReadonlyNumArray)) {
      throw new Da3Error('DEGENERATE', `${fn}: intrinsics of view ${b} are singular`);
    }
    for (let i = 0; i < 12; i++) e[i] = w2c[stride * b + i];
    if (stride === 16) for (let i = 12; i < 16; i++) e[i] = w2c[stride * b + i];
    else { e[12] = 0; e[13] = 0; e[14] = 0; e[15] = 1; }
    if (!invert4(c, e)) throw new Da3Error('DEGENERATE', `${fn}: extrinsics of view ${b} are singular`);
    for (let v = 0; v < height; v++) {
      for (let u = 0; u < width; u++) {
        const p = (b * height + v) * width + u;
        const d = depth[p];
        const xc = (kinv[0] * u + kinv[1] * v + kinv[2]) * d;
        const yc = (kinv[3] * u + kinv[4] * v + kinv[5]) * d;
        const zc = (kinv[6] * u + kinv[7] * v + kinv[8]) * d;
        out[3 * p] = c[0] * xc + c[1] * yc + c[2] * zc + c[3];
        out[3 * p + 1] = c[4] * xc + c[5] * yc + c[6] * zc + c[7];
        out[3 * p + 2] = c[8] * xc + c[9] * yc + c[10] * zc + c[11];
      }
    }
  }
  return out;
}
