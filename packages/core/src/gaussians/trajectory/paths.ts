/**
 * The camera paths of the reference's `gs_video` (`utils/camera_trj_helpers.py`): path
 * stabilisation, the wander circle, the dolly zoom, and the wobble between interpolated views.
 *
 * Conventions (the reference's): camera→world 4×4 matrices (OpenCV axes: x right, y down,
 * z forward), row-major, 16 numbers per frame; intrinsics *normalised* by the image size (row 0
 * divided by the width, row 1 by the height), 9 numbers per frame. Computed in float64 and
 * rounded to float32 where the reference stores float32 tensors.
 */
import { Da3Error } from '../../errors.js';
import { f32, linspaceF32 } from './f32.js';
import { interpolateExtrinsics, interpolateIntrinsics } from './pivot.js';

/** A sequence of cameras: `count` camera→world 4×4 matrices and normalised 3×3 intrinsics. */
export interface CameraPath {
  readonly count: number;
  /** `[count, 4, 4]` camera→world, row-major. */
  readonly c2w: Float64Array;
  /** `[count, 3, 3]` intrinsics normalised by the image size (fx/W, cx/W; fy/H, cy/H). */
  readonly intrinsics: Float64Array;
}

/** `c2w @ T` for a pure translation `T = [I | t]`: the rotation kept, the origin moved by `R·t`. */
function translateLocal(out: Float64Array, o: number, c2w: ArrayLike<number>, c: number, tx: number, ty: number, tz: number): void {
  for (let r = 0; r < 4; r++) {
    const a = c2w[c + r * 4];
    const b = c2w[c + r * 4 + 1];
    const d = c2w[c + r * 4 + 2];
    out[o + r * 4] = a;
    out[o + r * 4 + 1] = b;
    out[o + r * 4 + 2] = d;
    out[o + r * 4 + 3] = f32(a * tx + b * ty + d * tz + c2w[c + r * 4 + 3]);
  }
}

/**
 * `cv2.getGaussianKernel(k, sigma=-1)` as float32 (`astype(np.float32)`): OpenCV's fixed table for
 * k = 1, 3, 5, 7, 9, else `σ = 0.15·k + 0.35` and `exp(−x²/(2σ²))` normalised to sum 1.
 */
export function gaussianKernel(k: number): Float64Array {
  const table: Record<number, number[]> = {
    1: [1],
    3: [0.25, 0.5, 0.25],
    5: [0.0625, 0.25, 0.375, 0.25, 0.0625],
    7: [0.03125, 0.109375, 0.21875, 0.28125, 0.21875, 0.109375, 0.03125],
    9: [0.015625, 0.05078125, 0.1171875, 0.19921875, 0.234375, 0.19921875, 0.1171875, 0.05078125, 0.015625],
  };
  if (table[k]) return Float64Array.from(table[k]);
  const sigma = k * 0.15 + 0.35;
  const scale2x = -0.125 / (sigma * sigma);
  const half = (k - 1) >> 1;
  const values = new Float64Array(half);
  let sum = 0;
  for (let i = 0, x = 1 - k; i < half; i++, x += 2) {
    values[i] = Math.exp(x * x * scale2x);
    sum += values[i];
  }
  sum = sum * 2 + 1;
  if ((k & 1) === 0) sum += 1;
  const mul = 1 / sum;
  const out = new Float64Array(k);
  for (let i = 0; i < half; i++) out[i] = out[k - 1 - i] = f32(values[i] * mul);
  out[half] = f32(mul);
  if ((k & 1) === 0) out[half + 1] = out[half];
  return out;
}

/**
 * The reference's `render_stabilization_path(poses, k_size)`: each of the first two rotation
 * columns and the translation is smoothed over time with a Gaussian (OpenCV's kernel of size
 * `k` — made odd, at most the frame count, at least 3 when there are 3 frames — reflect-padded),
 * the two columns are renormalised and the third is their cross product (not renormalised, as in
 * the reference).
 * @param c2w `[n, 4, 4]` camera→world
 * @returns `[n, 4, 4]` smoothed camera→world
 */
export function stabilizePath(c2w: ArrayLike<number>, kSize = 45): Float64Array {
  const n = c2w.length / 16;
  if (!Number.isInteger(n)) throw new Da3Error('BAD_SHAPE', `stabilizePath: expected [n, 4, 4] camera→world matrices, got ${c2w.length} numbers`);
  const out = Float64Array.from(c2w);
  if (n <= 1) return out;
  let k = Math.max(1, Math.trunc(kSize));
  if (k % 2 === 0) k += 1;
  k = Math.min(k, n % 2 === 1 ? n : n - 1);
  if (n >= 3 && k < 3) k = 3;
  const kernel = gaussianKernel(k);
  const pad = k >> 1;
  const reflect = (i: number) => (i < 0 ? -i : i >= n ? 2 * (n - 1) - i : i);
  // Columns 0 (r1), 1 (r2) and 3 (t) of the 3×4 part, each convolved over the frames.
  const smooth = new Float64Array(n * 9);
  for (let f = 0; f < n; f++) {
    for (let v = 0; v < 3; v++) {
      const col = v === 2 ? 3 : v;
      for (let r = 0; r < 3; r++) {
        let acc = 0;
        for (let j = 0; j < k; j++) acc += kernel[j] * c2w[reflect(f + j - pad) * 16 + r * 4 + col];
        smooth[f * 9 + v * 3 + r] = f32(acc);
      }
    }
  }
  for (let f = 0; f < n; f++) {
    const s = f * 9;
    const n1 = f32(Math.hypot(smooth[s], smooth[s + 1], smooth[s + 2]));
    const n2 = f32(Math.hypot(smooth[s + 3], smooth[s + 4], smooth[s + 5]));
    const r1 = [f32(smooth[s] / n1), f32(smooth[s + 1] / n1), f32(smooth[s + 2] / n1)];
    const r2 = [f32(smooth[s + 3] / n2), f32(smooth[s + 4] / n2), f32(smooth[s + 5] / n2)];
    const r3 = [f32(r1[1] * r2[2] - r1[2] * r2[1]), f32(r1[2] * r2[0] - r1[0] * r2[2]), f32(r1[0] * r2[1] - r1[1] * r2[0])];
    const o = f * 16;
    for (let r = 0; r < 3; r++) {
      out[o + r * 4] = r1[r];
      out[o + r * 4 + 1] = r2[r];
      out[o + r * 4 + 2] = r3[r];
      out[o + r * 4 + 3] = smooth[s + 6 + r];
    }
    out[o + 12] = 0;
    out[o + 13] = 0;
    out[o + 14] = 0;
    out[o + 15] = 1;
  }
  return out;
}

/** Options of {@link wanderPath}. */
export interface WanderOptions {
  /** Frames on the circle (default 120); the path adds the start pose at both ends. */
  readonly numFrames?: number;
  /** Largest sideways displacement in pixels at the focal length (default 48). */
  readonly maxDisp?: number;
}

/**
 * The reference's `render_wander_path`: the camera circles in its own image plane (and a third as
 * much in y and z), radius `maxDisp / fx` world units where `fx = K[0][0]·w` is the focal length in
 * pixels, one turn over `numFrames` frames, starting and ending on the given pose
 * (`numFrames + 2` frames). Rotation and intrinsics stay those of the pose.
 * @param c2w one camera→world 4×4
 * @param intrinsics its normalised 3×3 intrinsics
 * @param _h image height (unused, as in the reference)
 * @param w image width in pixels (turns the normalised focal length into pixels)
 */
export function wanderPath(c2w: ArrayLike<number>, intrinsics: ArrayLike<number>, _h: number, w: number, options: WanderOptions = {}): CameraPath {
  const numFrames = options.numFrames ?? 120;
  const maxDisp = options.maxDisp ?? 48;
  checkFrames('wanderPath', numFrames);
  const fx = f32(intrinsics[0] * w);
  const r = f32(maxDisp / fx);
  const th = linspaceF32(0, 2 * Math.PI, numFrames);
  const count = numFrames + 2;
  const out = new Float64Array(count * 16);
  out.set(Array.from({ length: 16 }, (_, i) => c2w[i]), 0);
  for (let i = 0; i < numFrames; i++) {
    const x = f32(r * f32(Math.sin(th[i])));
    const yz = f32(f32(r * f32(Math.cos(th[i]))) / 3);
    translateLocal(out, (i + 1) * 16, c2w, 0, -x, -yz, -yz);
  }
  out.set(Array.from({ length: 16 }, (_, i) => c2w[i]), (count - 1) * 16);
  return { count, c2w: out, intrinsics: repeat9(intrinsics, count) };
}

/** Options of {@link dollyZoomPath}. */
export interface DollyZoomOptions {
  /** Frames (default 120). */
  readonly numFrames?: number;
  /** How far the camera moves back along its optical axis, world units (default 0.1). */
  readonly maxDisp?: number;
  /** Distance of the plane whose image size is kept (default 10). */
  readonly dFocus?: number;
}

/**
 * The reference's `render_dolly_zoom_path`: the camera backs away along its optical axis by
 * `z = maxDisp·(1 − cos(πt))/2`, t from 0 to 2 (out and back), while the focal lengths shrink by
 * `dFocus / (dFocus + z)` so the plane at `dFocus` keeps its size (the "vertigo" effect).
 */
export function dollyZoomPath(c2w: ArrayLike<number>, intrinsics: ArrayLike<number>, h: number, w: number, options: DollyZoomOptions = {}): CameraPath {
  const numFrames = options.numFrames ?? 120;
  const maxDisp = options.maxDisp ?? 0.1;
  const dFocus = f32(options.dFocus ?? 10);
  checkFrames('dollyZoomPath', numFrames);
  const fx0 = f32(intrinsics[0] * w);
  const fy0 = f32(intrinsics[4] * h);
  const t = linspaceF32(0, 2, numFrames);
  const out = new Float64Array(numFrames * 16);
  const ks = repeat9(intrinsics, numFrames);
  for (let i = 0; i < numFrames; i++) {
    const z = f32(f32(f32(0.5 * f32(1 - f32(Math.cos(f32(f32(Math.PI) * t[i]))))) * f32(maxDisp)));
    translateLocal(out, i * 16, c2w, 0, 0, 0, -z);
    const scale = Math.max(f32(dFocus / f32(dFocus + z)), f32(1e-6));
    ks[i * 9] = f32(f32(fx0 * scale) / w);
    ks[i * 9 + 4] = f32(f32(fy0 * scale) / h);
  }
  return { count: numFrames, c2w: out, intrinsics: ks };
}

/**
 * The reference's `render_wobble_inter_path(cam2world, intr_normed, inter_len, n_skip)`: every
 * `nSkip`-th input view is joined to the next by `nSkip·interLen` frames interpolated about their
 * focus point (linear t, no easing), while the camera circles in its image plane once per segment,
 * radius half the distance between the two views (averaged with the previous segment's).
 * @throws Da3Error `BAD_VALUE` with `nSkip` or fewer views (the reference fails there)
 */
export function wobbleInterPath(path: CameraPath, interLen = 10, nSkip = 3): CameraPath {
  const v = path.count;
  if (v <= nSkip) throw new Da3Error('BAD_VALUE', `wobbleInterPath: wobble_inter needs more than ${nSkip} views, got ${v}`);
  const perRound = nSkip * interLen;
  const t = linspaceF32(0, 1, perRound);
  const c2ws: Float64Array[] = [];
  const intrs: Float64Array[] = [];
  let prev = 0;
  for (let cur = 0; cur < v - nSkip; cur += nSkip) {
    const a = path.c2w.subarray(cur * 16, cur * 16 + 16);
    const b = path.c2w.subarray((cur + nSkip) * 16, (cur + nSkip) * 16 + 16);
    let delta = f32(Math.hypot(f32(a[3] - b[3]), f32(a[7] - b[7]), f32(a[11] - b[11])));
    if (cur !== 0) delta = f32(f32(prev + delta) / 2);
    prev = delta;
    const radius = f32(delta * 0.5);
    const inter = interpolateExtrinsics(a, b, t);
    const skip = cur === 0 ? 0 : 1;
    const seg = new Float64Array((perRound - skip) * 16);
    for (let i = skip; i < perRound; i++) {
      const ang = f32(f32(2 * Math.PI) * t[i]);
      const tx = f32(f32(Math.sin(ang)) * radius);
      const ty = f32(-f32(Math.cos(ang)) * radius);
      translateLocal(seg, (i - skip) * 16, inter, i * 16, tx, ty, 0);
    }
    c2ws.push(seg);
    const ki = interpolateIntrinsics(path.intrinsics.subarray(cur * 9, cur * 9 + 9), path.intrinsics.subarray((cur + nSkip) * 9, (cur + nSkip) * 9 + 9), t);
    intrs.push(ki.subarray(skip * 9));
  }
  return concatPaths(c2ws, intrs);
}

/** Joins path pieces (camera→world and intrinsics arrays) into one path. */
export function concatPaths(c2ws: readonly Float64Array[], intrs: readonly Float64Array[]): CameraPath {
  const count = c2ws.reduce((s, a) => s + a.length / 16, 0);
  const c2w = new Float64Array(count * 16);
  const intrinsics = new Float64Array(count * 9);
  let o = 0;
  for (const a of c2ws) {
    c2w.set(a, o);
    o += a.length;
  }
  o = 0;
  for (const a of intrs) {
    intrinsics.set(a, o);
    o += a.length;
  }
  return { count, c2w, intrinsics };
}

function repeat9(k: ArrayLike<number>, n: number): Float64Array {
  const out = new Float64Array(n * 9);
  for (let i = 0; i < n; i++) for (let j = 0; j < 9; j++) out[i * 9 + j] = k[j];
  return out;
}

function checkFrames(fn: string, n: number): void {
  if (!Number.isInteger(n) || n < 2) throw new Da3Error('BAD_VALUE', `${fn}: numFrames must be an integer ≥ 2, got ${n}`);
}
