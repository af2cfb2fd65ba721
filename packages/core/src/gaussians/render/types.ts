import type { AbortSignalLike } from '../../errors.js';
import type { Gaussians } from '../../prediction/prediction.js';

/**
 * A pinhole camera to render Gaussians from. OpenCV axes: x right, y down, z forward.
 */
export interface RenderCamera {
  /**
   * World→camera `[R|t]`, 3×4 row-major (12 numbers), world units (gsplat's `viewmats`, without
   * the last row). The camera centre used for SH view directions is `−R⁻¹t`.
   */
  readonly extrinsics: ArrayLike<number>;
  /**
   * 3×3 row-major intrinsics in pixels, for an image of `width` × `height`. Like gsplat, only
   * fx (`[0]`), cx (`[2]`), fy (`[4]`) and cy (`[5]`) are read: skew is ignored and the last row is
   * taken to be `[0, 0, 1]`. Pixel (col, row) has its centre at (col + ½, row + ½).
   */
  readonly intrinsics: ArrayLike<number>;
  /** Image width in pixels. */
  readonly width: number;
  /** Image height in pixels. */
  readonly height: number;
}

/**
 * What gsplat's `rasterization` is given besides the scene; defaults are gsplat's
 * (`packed=False`, `rasterize_mode='classic'`, `radius_clip=0`, tile size 16: see
 * {@link GSPLAT_CONSTANTS}). DA3's `gs_video` uses the defaults with `renderMode: 'RGB+ED'`, black
 * background and the scene's full SH degree.
 */
export interface RasterizeOptions {
  /**
   * SH degree to evaluate (0–3, at most `√shCoefficients − 1`); default: the highest the scene's
   * coefficients hold (`isqrt(K) − 1`, as `gs_video` does). Higher coefficients are ignored.
   */
  readonly shDegree?: number;
  /** Near clip plane (camera z, world units): Gaussians whose centre has z < near are culled; default 0.01. */
  readonly near?: number;
  /** Far clip plane (camera z, world units): Gaussians whose centre has z > far are culled; default 1e10. */
  readonly far?: number;
  /** Low-pass filter added to the diagonal of the 2D covariance (pixels²); default 0.3. */
  readonly eps2d?: number;
  /** Background colour, linear [0, 1] RGB, added as `T·background`; default black. Depth's background is 0. */
  readonly background?: readonly [number, number, number];
  /** `'RGB'` or `'RGB+ED'` (also the expected depth per pixel); default `'RGB'`. */
  readonly renderMode?: 'RGB' | 'RGB+ED';
  /** Stops the render between tiles; the promise rejects with an `ABORTED` Da3Error. */
  readonly signal?: AbortSignalLike;
}

/** One rendered image, channels-last, row-major from the top-left pixel. */
export interface RasterImage {
  readonly width: number;
  readonly height: number;
  /** `[height, width, 3]` colour composited over the background (not clamped). */
  readonly rgb: Float32Array;
  /** `[height, width]` accumulated opacity (1 − final transmittance). */
  readonly alpha: Float32Array;
  /**
   * `[height, width]` expected depth with `'RGB+ED'`, else absent: the alpha-weighted camera z of
   * the Gaussian centres divided by `max(alpha, 1e-10)` (0 where nothing was hit).
   */
  readonly depth?: Float32Array;
}

/**
 * A Gaussian rasterizer that reproduces gsplat's `rasterization` (EWA projection, SH colour,
 * tile sort by depth, front-to-back alpha compositing). Implemented on the CPU (core:
 * `createCpuRasterizer`, single thread; node: `createNodeCpuRasterizer`, worker threads) and with
 * WebGPU compute shaders (web, or node with a WebGPU binding).
 *
 * All implementations match the golden renders of gsplat's PyTorch reference in
 * `testdata/gsplat/` (max abs error ≤ 1e-3 per channel and in depth).
 */
export interface GaussianRasterizer {
  /** Which implementation this is, e.g. `'cpu'` or `'webgpu'`. */
  readonly name: string;
  /**
   * Renders `gaussians` (world frame, OpenCV axes; core's layout: rotations xyzw, harmonics
   * `[G, 3, K]` colour-major) as seen by `camera`.
   *
   * Rejects with a Da3Error: `BAD_SHAPE` for array lengths that do not match `count` /
   * `shCoefficients` or a camera that is not 3×4 / 3×3; `BAD_VALUE` for a width/height that is not
   * a positive integer, a bad SH degree or option; `NON_FINITE` for NaN/±Infinity in the camera or
   * options; `ABORTED` when `options.signal` fires. Gaussian parameters are not validated: a
   * Gaussian whose projection is not finite (NaN/±Infinity anywhere in it) is culled.
   */
  render(gaussians: Gaussians, camera: RenderCamera, options?: RasterizeOptions): Promise<RasterImage>;
  /** Frees workers or GPU buffers; the rasterizer is not used afterwards. */
  dispose(): Promise<void>;
}
