import { Da3Error } from '../errors.js';

/**
 * 3D Gaussians (the GS head + adapter of GIANT/NESTED), in the any-view (pre-metric) world frame,
 * OpenCV axes. G = number of Gaussians.
 */
export interface Gaussians {
  readonly count: number;
  /** Centres [G, 3], world units. */
  readonly means: Float32Array;
  /**
   * Linear (activated) scales [G, 3], world units. Positive, except where the GS head's depth
   * offset takes the Gaussian's depth below 0 (the reference's maths gives a negative scale there).
   */
  readonly scales: Float32Array;
  /**
   * Unit rotations [G, 4], xyzw (scalar last): the rotation gsplat renders. (The reference's
   * `Gaussians.rotations` hold the same quaternion scalar first, `[w, x, y, z]`.)
   */
  readonly rotations: Float32Array;
  /** Spherical-harmonic coefficients [G, 3, shCoefficients], colour-major. */
  readonly harmonics: Float32Array;
  readonly shCoefficients: number;
  /** Opacities [G] in [0, 1] (after the sigmoid). */
  readonly opacities: Float32Array;
}

/** The ray map of the DualDPT head, at 8h×8w (h = H/14, w = W/14), channels-last. */
export interface RayMap {
  readonly height: number;
  readonly width: number;
  /** `[N, height, width, 6]`: direction xyz then origin xyz, world frame. */
  readonly rays: Float32Array;
  /** [N, height, width] ray confidence (≥ 1). */
  readonly conf: Float32Array;
}

/** An exported backbone feature (`exportFeatLayers`): `[N, h, w, C]`, working view order. */
export interface FeatureMap {
  readonly layer: number;
  readonly height: number;
  readonly width: number;
  readonly channels: number;
  readonly data: Float32Array;
}

/**
 * What one inference returns (the reference's `Prediction`, specs.py), for N views at the
 * processed resolution H×W. All arrays are row-major.
 *
 * - `depth` `[N, H, W]`: z-depth along the camera's optical axis, in the model's units (up to scale
 *   for any-view models; metres when `isMetric`).
 * - `conf` `[N, H, W]`: relative confidence (≥ 1), `null` for mono/metric models.
 * - `extrinsics` `[N, 3, 4]`: world→camera `[R|t]`, OpenCV axes (x right, y down, z forward);
 *   the world frame is the reference view's camera. `null` for mono/metric models.
 * - `intrinsics` `[N, 3, 3]`: pixels of the processed image. `null` when unknown.
 * - `processedImages` `[N, H, W, 3]` uint8: the network input de-normalised (truncated).
 * - `sky` [N, H, W] uint8 mask (1 = sky, sky probability ≥ 0.5) where the model predicts sky.
 */
export interface Prediction {
  readonly views: number;
  readonly height: number;
  readonly width: number;
  readonly depth: Float32Array;
  readonly conf: Float32Array | null;
  readonly extrinsics: Float32Array | null;
  readonly intrinsics: Float32Array | null;
  readonly processedImages: Uint8Array;
  readonly sky: Uint8Array | null;
  readonly rays: RayMap | null;
  readonly gaussians: Gaussians | null;
  /** True when `depth` and translations are in metres. */
  readonly isMetric: boolean;
  /** The Nested alignment scale (any-view units → metres), `null` otherwise. */
  readonly scaleFactor: number | null;
  /** Exported features keyed `feat_layer_<i>`. */
  readonly aux: Readonly<Record<string, FeatureMap>>;
}

/** Fields accepted by {@link createPrediction}; optional ones default to `null` / `{}` / false. */
export interface PredictionInit {
  views: number;
  height: number;
  width: number;
  depth: Float32Array;
  processedImages: Uint8Array;
  conf?: Float32Array | null;
  extrinsics?: Float32Array | null;
  intrinsics?: Float32Array | null;
  sky?: Uint8Array | null;
  rays?: RayMap | null;
  gaussians?: Gaussians | null;
  isMetric?: boolean;
  scaleFactor?: number | null;
  aux?: Record<string, FeatureMap>;
}

function checkLength(field: string, got: ArrayLike<unknown> | null | undefined, shape: number[]): void {
  if (got === null || got === undefined) return;
  const want = shape.reduce((a, b) => a * b, 1);
  if (got.length !== want) {
    throw new Da3Error('BAD_SHAPE', `createPrediction: ${field} must be [${shape.join(', ')}] = ${want} values, got ${got.length}`);
  }
}

function checkFinite(field: string, data: Float32Array | null | undefined): void {
  if (!data) return;
  for (let i = 0; i < data.length; i++) {
    if (!Number.isFinite(data[i])) throw new Da3Error('NON_FINITE', `createPrediction: ${field}[${i}] is ${data[i]}`);
  }
}

/**
 * Builds a validated, frozen {@link Prediction}: every array must have the documented shape,
 * camera matrices and confidences must be finite (depth may hold non-finite values only where the
 * network produced them; exporters filter those).
 * @throws Da3Error `BAD_SHAPE` naming the field and the expected shape, `NON_FINITE`, `BAD_VALUE`
 */
export function createPrediction(init: PredictionInit): Prediction {
  const { views: N, height: H, width: W } = init;
  for (const [k, v] of [
    ['views', N],
    ['height', H],
    ['width', W],
  ] as const) {
    if (!Number.isSafeInteger(v) || v < 1) throw new Da3Error('BAD_SHAPE', `createPrediction: ${k} must be a positive integer, got ${v}`);
  }
  checkLength('depth', init.depth, [N, H, W]);
  checkLength('processedImages', init.processedImages, [N, H, W, 3]);
  checkLength('conf', init.conf, [N, H, W]);
  checkLength('extrinsics', init.extrinsics, [N, 3, 4]);
  checkLength('intrinsics', init.intrinsics, [N, 3, 3]);
  checkLength('sky', init.sky, [N, H, W]);
  checkFinite('extrinsics', init.extrinsics);
  checkFinite('intrinsics', init.intrinsics);
  if (init.rays) {
    checkLength('rays.rays', init.rays.rays, [N, init.rays.height, init.rays.width, 6]);
    checkLength('rays.conf', init.rays.conf, [N, init.rays.height, init.rays.width]);
  }
  const g = init.gaussians;
  if (g) {
    checkLength('gaussians.means', g.means, [g.count, 3]);
    checkLength('gaussians.scales', g.scales, [g.count, 3]);
    checkLength('gaussians.rotations', g.rotations, [g.count, 4]);
    checkLength('gaussians.harmonics', g.harmonics, [g.count, 3, g.shCoefficients]);
    checkLength('gaussians.opacities', g.opacities, [g.count]);
  }
  for (const [key, f] of Object.entries(init.aux ?? {})) checkLength(`aux.${key}`, f.data, [N, f.height, f.width, f.channels]);
  if (init.scaleFactor !== undefined && init.scaleFactor !== null && !(Number.isFinite(init.scaleFactor) && init.scaleFactor > 0)) {
    throw new Da3Error('BAD_VALUE', `createPrediction: scaleFactor must be a positive finite number, got ${init.scaleFactor}`);
  }
  return Object.freeze({
    views: N,
    height: H,
    width: W,
    depth: init.depth,
    conf: init.conf ?? null,
    extrinsics: init.extrinsics ?? null,
    intrinsics: init.intrinsics ?? null,
    processedImages: init.processedImages,
    sky: init.sky ?? null,
    rays: init.rays ?? null,
    gaussians: init.gaussians ?? null,
    isMetric: init.isMetric ?? false,
    scaleFactor: init.scaleFactor ?? null,
    aux: Object.freeze({ ...(init.aux ?? {}) }),
  });
}

/** Zero-copy view of view `i` of a per-view array with `stride` values per view. */
export function viewSlice<T extends Float32Array | Uint8Array>(data: T, i: number, stride: number): T {
  return data.subarray(i * stride, (i + 1) * stride) as T;
}
