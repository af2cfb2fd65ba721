import type { AbortSignalLike } from '../../errors.js';
import type { Gaussians } from '../../prediction/prediction.js';

/**
 * A pinhole camera to render Gaussians from. OpenCV axes: x right, y down, z forward.
 */
export interface RenderCamera {
  /** World→camera `[R|t]`, 3×4 row-major (12 numbers), world units. */
  readonly extrinsics: ArrayLike<number>;
  /** 3×3 row-major intrinsics in pixels, for an image of `width` × `height`. */
  readonly intrinsics: ArrayLike<number>;
  /** Image width in pixels. */
  readonly width: number;
  /** Image height in pixels. */
  readonly height: number;
}

/**
 * What gsplat's `rasterization` is given besides the scene; defaults are gsplat's.
 */
export interface RasterizeOptions {
  /** SH degree to evaluate (0–3); default: the highest the scene's coefficients hold. */
  readonly shDegree?: number;
  /** Near clip plane (camera z, world units); default 0.01. */
  readonly near?: number;
  /** Far clip plane (camera z, world units); default 1e10. */
  readonly far?: number;
  /** Low-pass filter added to the 2D covariance (pixels²); default 0.3. */
  readonly eps2d?: number;
  /** Background colour, linear [0, 1] RGB; default black. */
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
  /** `[height, width]` expected depth (camera z, normalised by alpha) with `'RGB+ED'`, else absent. */
  readonly depth?: Float32Array;
}

/**
 * A Gaussian rasterizer that reproduces gsplat's `rasterization` (EWA projection, SH colour,
 * tile sort by depth, front-to-back alpha compositing). Implemented on the CPU (node, worker
 * threads) and with WebGPU compute shaders (web, or node with a WebGPU binding).
 */
export interface GaussianRasterizer {
  /** Which implementation this is, e.g. `'cpu'` or `'webgpu'`. */
  readonly name: string;
  /** Renders `gaussians` (world frame, OpenCV axes) as seen by `camera`. */
  render(gaussians: Gaussians, camera: RenderCamera, options?: RasterizeOptions): Promise<RasterImage>;
  /** Frees workers or GPU buffers; the rasterizer is not used afterwards. */
  dispose(): Promise<void>;
}
