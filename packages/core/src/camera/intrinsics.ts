import { Da3Error } from '../errors.js';
import type { Intrinsics } from './types.js';

/**
 * Pinhole intrinsics helpers. Intrinsics are the row-major 3×3 `[[fx,0,cx],[0,fy,cy],[0,0,1]]`
 * in pixels of the processed image (OpenCV axes: x right, y down, z forward; pixel (0,0) is the
 * top-left pixel and, as in the DA3 reference, the principal point of the network's cameras is
 * the image centre `(W/2, H/2)`). Field-of-view angles are full angles in **radians**.
 */

/** The reference's lower clamp on `tan(fov/2)` when decoding a field of view (`pose_encoding_to_extri_intri`). */
export const FOV_TAN_MIN = 1e-6;

/**
 * Focal length in pixels from a full field of view: `(size/2) / max(tan(fov/2), 1e-6)`, the
 * reference's decoding (the clamp keeps fov = 0 finite: it gives `size/2·1e6`).
 * @param fovRadians full angle across `sizePx`, radians.
 * @param sizePx image extent along the same axis (W for fx / fov_w, H for fy / fov_h), pixels.
 */
export function focalFromFov(fovRadians: number, sizePx: number): number {
  const t = Math.tan(fovRadians / 2.0);
  return sizePx / 2.0 / Math.max(t, FOV_TAN_MIN);
}

/**
 * Full field of view in radians from a focal length: `2·atan((size/2) / focal)`, the reference's
 * encoding (`extri_intri_to_pose_encoding`).
 * @param focalPx focal length, pixels (fx with W, fy with H).
 * @param sizePx image extent along the same axis, pixels.
 */
export function fovFromFocal(focalPx: number, sizePx: number): number {
  return 2 * Math.atan(sizePx / 2 / focalPx);
}

/**
 * Builds `K = [[fx,0,cx],[0,fy,cy],[0,0,1]]` (pixels, row-major).
 * @param out receives 9 numbers (a new Float64Array by default).
 * @returns `out`
 */
export function makeIntrinsics(fx: number, fy: number, cx: number, cy: number, out: Intrinsics = new Float64Array(9)): Intrinsics {
  out[0] = fx; out[1] = 0; out[2] = cx;
  out[3] = 0; out[4] = fy; out[5] = cy;
  out[6] = 0; out[7] = 0; out[8] = 1;
  return out;
}

/**
 * Intrinsics from fields of view with the principal point at the image centre, as the reference
 * decodes the camera head: `fy = (H/2)/max(tan(fovH/2),1e-6)`, `fx = (W/2)/max(tan(fovW/2),1e-6)`,
 * `cx = W/2`, `cy = H/2`.
 * @param fovHRadians vertical full field of view (across H), radians.
 * @param fovWRadians horizontal full field of view (across W), radians.
 * @param imageHw `[H, W]` of the processed image, pixels.
 * @param out receives 9 numbers.
 */
export function intrinsicsFromFov(
  fovHRadians: number,
  fovWRadians: number,
  imageHw: readonly [number, number],
  out: Intrinsics = new Float64Array(9),
): Intrinsics {
  const [h, w] = imageHw;
  return makeIntrinsics(focalFromFov(fovWRadians, w), focalFromFov(fovHRadians, h), w / 2, h / 2, out);
}

/**
 * `[fovH, fovW]` in radians of intrinsics `K` (pixels) for an image `[H, W]`, from `fy` and `fx`
 * only (`cx, cy` are ignored, as in the reference's pose encoding).
 * @throws Da3Error `BAD_VALUE` when a focal length is not positive.
 */
export function fovFromIntrinsics(K: Readonly<ArrayLike<number>>, imageHw: readonly [number, number]): [number, number] {
  const fx = K[0];
  const fy = K[4];
  if (!(fx > 0 && fy > 0)) throw new Da3Error('BAD_VALUE', `fovFromIntrinsics: fx and fy must be positive pixels, got fx=${fx}, fy=${fy}`);
  return [fovFromFocal(fy, imageHw[0]), fovFromFocal(fx, imageHw[1])];
}
