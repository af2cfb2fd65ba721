/**
 * The novel-view trajectories of the reference's `gs_video` export: which cameras a video of the
 * 3D Gaussians is rendered from (`run_renderer_in_chunk_w_trj_mode` in
 * `model/utils/gs_renderer.py`, `export_to_gs_video` in `utils/export/gs.py`), and the pinhole
 * camera gsplat is given for each (`render_3dgs`).
 *
 * Conventions: extrinsics are world→camera `[R|t]` (3×4, or 4×4), intrinsics 3×3 in pixels of the
 * image size given with them, OpenCV axes (x right, y down, z forward), row-major.
 */
import { Da3Error } from '../../errors.js';
import type { RenderCamera } from '../render/types.js';
import { f32, linspaceF32 } from './f32.js';
import { type CameraPath, concatPaths, dollyZoomPath, stabilizePath, wanderPath, wobbleInterPath } from './paths.js';
import { interpolateExtrinsics, interpolateIntrinsics } from './pivot.js';

/** The reference's trajectory modes (`trj_mode`). */
export const TRAJECTORY_MODES = ['original', 'smooth', 'interpolate', 'interpolate_smooth', 'wander', 'dolly_zoom', 'extend', 'wobble_inter'] as const;

/**
 * A `gs_video` camera trajectory:
 * - `original`: the input cameras, one frame each;
 * - `smooth`: the input cameras, path-stabilised (Gaussian smoothing over time, kernel 51);
 * - `interpolate`: eased interpolation between consecutive cameras about their focus point, about
 *   8 frames per pair — at least 2 s and at most 18 s of video at 24 fps (10 s when over);
 * - `interpolate_smooth`: `interpolate`, then stabilised;
 * - `wander`: a circle in the first camera's image plane (24 px of parallax), 122 frames;
 * - `dolly_zoom`: the first camera backs away 2 units while zooming in to keep the plane at 30
 *   units the same size, and returns (120 frames);
 * - `extend` (default): `interpolate_smooth` with a wander then a dolly zoom inserted at the middle
 *   frame (36 to 60 frames each);
 * - `wobble_inter`: every third camera joined by 30 linearly interpolated frames while circling
 *   (needs 4 views or more).
 *
 * With a single camera only `wander` and `dolly_zoom` apply (`gs_video` switches to `wander`).
 */
export type TrajectoryMode = (typeof TRAJECTORY_MODES)[number];

/** Options of {@link novelViewTrajectory}. */
export interface TrajectoryOptions {
  /** Which trajectory (default `'extend'`). */
  readonly mode?: TrajectoryMode;
}

/** True for one of {@link TRAJECTORY_MODES}. */
export function isTrajectoryMode(mode: unknown): mode is TrajectoryMode {
  return typeof mode === 'string' && (TRAJECTORY_MODES as readonly string[]).includes(mode);
}

/** Number of frames the reference interpolates per pair of cameras (`inter_len`). */
export function interpolationLength(views: number): number {
  let inter = 8;
  const total = (views - 1) * inter;
  if (total > 24 * 18) inter = Math.max(1, Math.trunc((24 * 10) / (views - 1)));
  if (total < 24 * 2) inter = Math.max(1, Math.trunc((24 * 2) / (views - 1)));
  return inter;
}

/** `affine_inverse(as_homogeneous(E))` of `n` world→camera 3×4 or 4×4 matrices, as float32 4×4 camera→world. */
function cameraToWorld(extrinsics: ArrayLike<number>, n: number, stride: number): Float64Array {
  const out = new Float64Array(n * 16);
  for (let v = 0; v < n; v++) {
    const e = v * stride;
    const o = v * 16;
    for (let i = 0; i < 3; i++) {
      for (let j = 0; j < 3; j++) out[o + i * 4 + j] = extrinsics[e + j * 4 + i];
      out[o + i * 4 + 3] = f32(-(extrinsics[e + i] * extrinsics[e + 3] + extrinsics[e + 4 + i] * extrinsics[e + 7] + extrinsics[e + 8 + i] * extrinsics[e + 11]));
    }
    out[o + 15] = 1;
  }
  return out;
}

/** World→camera 4×4 (float32 values) of camera→world 4×4 matrices: `[Rᵀ | −Rᵀt]` (`affine_inverse`). */
export function worldToCamera(c2w: ArrayLike<number>): Float64Array {
  const n = c2w.length / 16;
  const out = new Float64Array(n * 16);
  for (let v = 0; v < n; v++) {
    const o = v * 16;
    for (let i = 0; i < 3; i++) {
      for (let j = 0; j < 3; j++) out[o + i * 4 + j] = c2w[o + j * 4 + i];
      out[o + i * 4 + 3] = f32(-(c2w[o + i] * c2w[o + 3] + c2w[o + 4 + i] * c2w[o + 7] + c2w[o + 8 + i] * c2w[o + 11]));
    }
    out[o + 15] = 1;
  }
  return out;
}

function interpolatePairs(path: CameraPath, inter: number, eased: boolean): CameraPath {
  let t = linspaceF32(0, 1, inter);
  if (eased) t = t.map((x) => f32(f32(f32(Math.cos(f32(f32(Math.PI) * f32(x + 1)))) + 1) / 2));
  const c2ws: Float64Array[] = [];
  const intrs: Float64Array[] = [];
  for (let v = 0; v + 1 < path.count; v++) {
    const skip = v === 0 ? 0 : 1;
    c2ws.push(interpolateExtrinsics(path.c2w.subarray(v * 16, v * 16 + 16), path.c2w.subarray(v * 16 + 16, v * 16 + 32), t).subarray(skip * 16));
    intrs.push(interpolateIntrinsics(path.intrinsics.subarray(v * 9, v * 9 + 9), path.intrinsics.subarray(v * 9 + 9, v * 9 + 18), t).subarray(skip * 9));
  }
  return concatPaths(c2ws, intrs);
}

const pick = (p: CameraPath, i: number) => ({ c2w: p.c2w.subarray(i * 16, i * 16 + 16), k: p.intrinsics.subarray(i * 9, i * 9 + 9) });
const slice = (p: CameraPath, a: number, b: number): CameraPath => ({ count: b - a, c2w: p.c2w.subarray(a * 16, b * 16), intrinsics: p.intrinsics.subarray(a * 9, b * 9) });

/**
 * The cameras of a `gs_video` trajectory (the reference's `run_renderer_in_chunk_w_trj_mode`
 * before rendering): camera→world poses and normalised intrinsics, one per video frame.
 *
 * @param extrinsics `[views, 3, 4]` (or `[views, 4, 4]`) world→camera
 * @param intrinsics `[views, 3, 3]` in pixels of an image `height` × `width`
 * @param size the image size the intrinsics are in pixels of (the reference normalises by the
 *   render size)
 * @throws Da3Error `BAD_SHAPE` for mismatched arrays, `BAD_VALUE` for an unknown mode, a single view
 *   with a mode other than `wander`/`dolly_zoom`, or `wobble_inter` with fewer than 4 views
 */
export function novelViewTrajectory(extrinsics: ArrayLike<number>, intrinsics: ArrayLike<number>, size: { readonly height: number; readonly width: number }, options: TrajectoryOptions = {}): CameraPath {
  const fn = 'novelViewTrajectory';
  const mode = options.mode ?? 'extend';
  if (!isTrajectoryMode(mode)) throw new Da3Error('BAD_VALUE', `${fn}: unknown trajectory "${String(mode)}"; one of ${TRAJECTORY_MODES.join(', ')}`);
  const views = intrinsics.length / 9;
  if (!Number.isInteger(views) || views < 1) throw new Da3Error('BAD_SHAPE', `${fn}: intrinsics must be [views, 3, 3], got ${intrinsics.length} numbers`);
  const stride = extrinsics.length === views * 12 ? 12 : extrinsics.length === views * 16 ? 16 : 0;
  if (!stride) throw new Da3Error('BAD_SHAPE', `${fn}: extrinsics must be [${views}, 3, 4] or [${views}, 4, 4] for ${views} intrinsics, got ${extrinsics.length} numbers`);
  const { height: h, width: w } = size;
  if (!(Number.isInteger(h) && h > 0 && Number.isInteger(w) && w > 0)) throw new Da3Error('BAD_VALUE', `${fn}: size must be positive integers, got ${w}×${h}`);
  for (let i = 0; i < extrinsics.length; i++) if (!Number.isFinite(extrinsics[i])) throw new Da3Error('NON_FINITE', `${fn}: extrinsics[${i}] is ${extrinsics[i]}`);
  for (let i = 0; i < intrinsics.length; i++) if (!Number.isFinite(intrinsics[i])) throw new Da3Error('NON_FINITE', `${fn}: intrinsics[${i}] is ${intrinsics[i]}`);
  if (views <= 1 && mode !== 'wander' && mode !== 'dolly_zoom') throw new Da3Error('BAD_VALUE', `${fn}: a single view takes trajectory 'wander' or 'dolly_zoom', got '${mode}'`);

  const input: CameraPath = { count: views, c2w: cameraToWorld(extrinsics, views, stride), intrinsics: new Float64Array(views * 9) };
  for (let v = 0; v < views; v++) {
    for (let j = 0; j < 9; j++) {
      const x = intrinsics[v * 9 + j];
      input.intrinsics[v * 9 + j] = j < 3 ? f32(x / w) : j < 6 ? f32(x / h) : x;
    }
  }
  const smooth = (p: CameraPath): CameraPath => ({ ...p, c2w: stabilizePath(p.c2w, 50) });

  switch (mode) {
    case 'original':
      return input;
    case 'smooth':
      return smooth(input);
    case 'wander':
    case 'dolly_zoom': {
      const { c2w, k } = pick(input, 0);
      return mode === 'wander' ? wanderPath(c2w, k, h, w, { maxDisp: 24 }) : dollyZoomPath(c2w, k, h, w, { dFocus: 30, maxDisp: 2 });
    }
    case 'wobble_inter':
      return wobbleInterPath(input, 10, 3);
    default: {
      const inter = interpolationLength(views);
      let path = inter > 2 ? interpolatePairs(input, inter, true) : input;
      if (mode === 'interpolate') return path;
      path = smooth(path);
      if (mode === 'interpolate_smooth') return path;
      // extend: a wander and a dolly zoom inserted at the middle frame.
      const mid = path.count >> 1;
      const numFrames = Math.max(36, Math.min(60, mid >> 1));
      const { c2w, k } = pick(path, mid);
      const wander = wanderPath(c2w, k, h, w, { numFrames, maxDisp: 24 });
      const dolly = dollyZoomPath(c2w, k, h, w, { numFrames });
      const parts = [slice(path, 0, mid), wander, dolly, slice(path, mid, path.count)];
      return concatPaths(
        parts.map((p) => p.c2w),
        parts.map((p) => p.intrinsics),
      );
    }
  }
}

/**
 * The pixel intrinsics gsplat renders a normalised camera with (the reference's `render_3dgs`):
 * the field of view is measured between the image's edge midpoints (`get_fov`, in float32) and
 * turned back into focal lengths for a `width` × `height` image; the principal point is the image
 * centre (an off-centre principal point is not kept, as in the reference).
 * @returns row-major 3×3 (float32 values)
 */
export function renderIntrinsics(normalized: ArrayLike<number>, width: number, height: number): Float64Array {
  const [a, b, c, , e, f] = Array.from(normalized, f32);
  // Inverse of [[a, b, c], [0, e, f], [0, 0, 1]].
  const ia = f32(1 / a);
  const ie = f32(1 / e);
  const ib = f32(-f32(b * ia) * ie);
  const ic = f32(-f32(f32(c * ia) + f32(ib * f)));
  const iff = f32(-f32(f * ie));
  const ray = (u: number, v: number): [number, number, number] => {
    const x = f32(f32(ia * u + ib * v) + ic);
    const y = f32(f32(ie * v) + iff);
    const n = f32(Math.hypot(x, y, 1));
    return [f32(x / n), f32(y / n), f32(1 / n)];
  };
  const angle = (p: number[], q: number[]) => f32(Math.acos(f32(f32(f32(p[0] * q[0]) + f32(p[1] * q[1])) + f32(p[2] * q[2]))));
  const fovX = angle(ray(0, 0.5), ray(1, 0.5));
  const fovY = angle(ray(0.5, 0), ray(0.5, 1));
  const fx = f32(width / f32(2 * f32(Math.tan(f32(0.5 * fovX)))));
  const fy = f32(height / f32(2 * f32(Math.tan(f32(0.5 * fovY)))));
  return Float64Array.of(fx, 0, width / 2, 0, fy, height / 2, 0, 0, 1);
}

/**
 * The cameras gsplat renders a trajectory with: world→camera 4×4 (`affine_inverse` of the path)
 * and {@link renderIntrinsics} for a `width` × `height` image.
 */
export function renderCameras(path: CameraPath, width: number, height: number): RenderCamera[] {
  const w2c = worldToCamera(path.c2w);
  return Array.from({ length: path.count }, (_, i) => ({
    extrinsics: w2c.subarray(i * 16, i * 16 + 12),
    intrinsics: renderIntrinsics(path.intrinsics.subarray(i * 9, i * 9 + 9), width, height),
    width,
    height,
  }));
}
