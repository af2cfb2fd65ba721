import { alignToInputPoses, type InputPoseAlignmentOptions } from '../align/inputPoses.js';
import { alignNestedToMetric, applyMetricScaling, monoSkyFill } from '../align/metric.js';
import { normalizeExtrinsicsForConditioning } from '../camera/normalize-extrinsics.js';
import { gaussiansFromRawMap } from '../gaussians/adapter.js';
import { gaussianPoseScale } from '../gaussians/pose-scale.js';
import { type AbortSignalLike, Da3Error, throwIfAborted } from '../errors.js';
import type { TensorData, TensorElements } from '../io.js';
import { type Prediction, type RayMap, createPrediction } from '../prediction/prediction.js';
import type { ImageU8 } from '../preprocess/image.js';
import { toProcessedImages } from '../preprocess/normalize.js';
import type { ResizeMethod } from '../preprocess/plan.js';
import { type IntrinsicsInput, preprocessImages } from '../preprocess/preprocess.js';
import type { RayPoseOptions } from '../rays/ray-to-pose.js';
import { type DecodedPoses, type GraphOutputs, featureMapsFromGraph, floatOutput, posesFromCameraHead, posesFromRays } from './decode.js';
import type { Da3Model, GraphRole } from './model.js';

/** Stages reported by {@link runInference}'s progress callback. */
export type InferenceStage = 'preprocess' | 'network' | 'postprocess';

/**
 * A progress event (transformers.js style `status`, plus the stage). One event when each stage
 * starts; `network` also when each graph finishes (NESTED runs two).
 */
export interface InferenceProgress {
  readonly status: 'infer';
  readonly stage: InferenceStage;
  readonly views: number;
  /** Processed image size (pixels), known from `network` on. */
  readonly width?: number;
  readonly height?: number;
  /** Graphs of this run finished / to run (NESTED: 2), on `network` events. */
  readonly graphsDone?: number;
  readonly graphsTotal?: number;
  /** Milliseconds since the inference started. */
  readonly elapsedMs: number;
  /**
   * How long the network stage should take (ms), when the runtime has measured this model on this
   * machine before (node: `<cacheDir>/timings.json`). On the first `network` event only.
   */
  readonly estimatedMs?: number;
}

/** Options of {@link runInference}, named like the reference's `inference(...)` in camelCase. */
export interface InferenceOptions {
  /** Longest (or shortest, for `lower_bound_*`) side before the multiple-of-14 step (default 504). */
  readonly processRes?: number;
  /** Resize method (default `upper_bound_resize`). */
  readonly processResMethod?: ResizeMethod;
  /**
   * Known cameras, world→camera (OpenCV axes), one 4×4 or 3×4 per view, any length unit:
   * runs the pose-conditioned graph, then aligns the prediction back to these cameras (Umeyama).
   */
  readonly extrinsics?: Float32Array | Float64Array | readonly number[];
  /** Known intrinsics of the input images (pixels), one 3×3 per view; rescaled by preprocessing. */
  readonly intrinsics?: IntrinsicsInput;
  /** With `extrinsics`: keep the user's cameras and rescale depth to their units (default true). */
  readonly alignToInputExtScale?: boolean;
  /** Randomness of the pose alignment (default: the reference's numpy seed 42, bit-identical draws). */
  readonly poseAlignment?: InputPoseAlignmentOptions;
  /** Camera poses from the ray map instead of the camera head (default false). */
  readonly useRayPose?: boolean;
  /** Ray-pose RANSAC options: `seed` (deterministic, default 0) or recorded `draws`. */
  readonly rayPose?: RayPoseOptions;
  /**
   * Predict 3D Gaussians (models with a GS head: GIANT, NESTED): the graph's `gs_raw` map through
   * the Gaussian adapter with the predicted cameras and the any-view depth (pre-metric frame, as
   * the reference). With known `extrinsics` the Gaussians stay in the predicted cameras' frame but
   * take the scale of the (normalised) given cameras — the reference's Umeyama pose scale
   * ({@link gaussianPoseScale}, clamped to [1/3, 3]); the API's own alignment to the input cameras
   * (depth ÷ scale, the user's extrinsics) does not touch them, as in the reference.
   */
  readonly inferGs?: boolean;
  /** Keep the ray map in the Prediction (any-view models; default false). */
  readonly keepRays?: boolean;
  readonly onProgress?: (event: InferenceProgress) => void;
  /**
   * Stops the inference between stages and graph runs (`ABORTED`); a graph already running on
   * the runtime finishes first (onnxruntime cannot interrupt a session run). The model stays usable.
   */
  readonly signal?: AbortSignalLike;
}

/**
 * Work units of one network run, for time estimates: views × patch tokens ((H/14)·(W/14)) of the
 * processed size in pixels. Linear: a run far larger than the one measured (where global
 * attention's quadratic cost shows) is underestimated.
 */
export function networkWorkUnits(views: number, height: number, width: number): number {
  return views * Math.max(1, Math.floor(height / 14)) * Math.max(1, Math.floor(width / 14));
}

function tensor(data: Float32Array, shape: readonly number[]): TensorData<TensorElements> {
  return { data, shape };
}

async function run(model: Da3Model, role: GraphRole, feeds: Record<string, TensorData<TensorElements>>, options: { gaussians?: boolean; rays?: boolean } = {}): Promise<GraphOutputs> {
  return (await model.runner(role, { gaussians: options.gaussians ?? false, rays: options.rays ?? false })).run(feeds);
}

/**
 * One inference, the reference's `DepthAnything3.inference` flow for every runtime: preprocess →
 * (normalise the input cameras) → network graph(s) → post-process → {@link Prediction}.
 *
 * Post-processing: any-view models decode cameras from the camera head (`pose_enc`) or the ray
 * map (`useRayPose`); pose-conditioned runs align back to the input cameras (Umeyama Sim(3),
 * depth ÷ scale with `alignToInputExtScale`); mono/metric models fill sky pixels with the 0.99
 * quantile of non-sky depth and expose the sky mask (sky ≥ 0.5); METRIC returns metres
 * (`depth·((fx+fy)/2)/300`) when intrinsics are given, else its raw focal-normalised output with
 * `isMetric: false`; NESTED runs both graphs and aligns the any-view prediction to metres.
 * Random steps are deterministic (seeded or replayed; see each option).
 *
 * @param images decoded RGB/RGBA uint8 images (EXIF orientation is the caller's choice)
 * @throws Da3Error for bad images/cameras (`BAD_SHAPE`, `BAD_VALUE`, `NON_FINITE`), a model
 *   kind that cannot take cameras (`BAD_CONFIG`), or `ABORTED` when `options.signal` fired
 */
export async function runInference(model: Da3Model, images: readonly ImageU8[], options: InferenceOptions = {}): Promise<Prediction> {
  if (images.length === 0) throw new Da3Error('EMPTY_INPUT', 'runInference: no images');
  const N = images.length;
  const started = Date.now();
  const signal = options.signal;
  let size: { width?: number; height?: number } = {};
  const progress = (stage: InferenceStage, graphs?: { graphsDone: number; graphsTotal: number }) => {
    throwIfAborted(signal, 'inference');
    options.onProgress?.({ status: 'infer', stage, views: N, ...size, ...graphs, elapsedMs: Date.now() - started });
    throwIfAborted(signal, 'inference');
  };
  const posed = options.extrinsics !== undefined;
  if (posed && (model.kind === 'mono' || model.kind === 'metric')) {
    throw new Da3Error('BAD_CONFIG', `runInference: ${model.kind} models do not take camera poses (any-view and nested models do)`);
  }
  if (posed && !options.intrinsics) throw new Da3Error('BAD_VALUE', 'runInference: extrinsics need intrinsics too (pixels of the input images)');
  const anyConfig = model.config.kind === 'NestedDepthAnything3Net' ? model.config.anyview : model.config;
  if (options.inferGs && !anyConfig.gsHead) throw new Da3Error('BAD_CONFIG', 'runInference: inferGs needs a model with a GS head (DA3-GIANT, DA3NESTED-GIANT-LARGE)');

  progress('preprocess');
  const pre = preprocessImages(images, {
    processRes: options.processRes,
    method: options.processResMethod,
    intrinsics: options.intrinsics,
  });
  // Sides are at most MAX_PROCESSED_SIDE (8192 px), inside the RoPE tables' 1024 patches (14336 px).
  const { width: W, height: H } = pre;
  size = { width: W, height: H };
  const map = N * H * W;
  const feeds: Record<string, TensorData<TensorElements>> = { images: tensor(pre.tensor, pre.shape) };
  if (posed) {
    const normalized = normalizeExtrinsicsForConditioning(options.extrinsics!, N);
    feeds.extrinsics = tensor(Float32Array.from(normalized.w2c), [1, N, 4, 4]);
    feeds.intrinsics = tensor(pre.intrinsics!, [1, N, 3, 3]);
  }
  const processed = toProcessedImages(pre.tensor, pre.shape);

  const graphsTotal = model.kind === 'nested' ? 2 : 1;
  progress('network', { graphsDone: 0, graphsTotal });
  const anyRole: GraphRole = model.kind === 'nested' ? (posed ? 'anyviewPosed' : 'anyview') : posed ? 'netPosed' : 'net';
  // The ray branch (a fifth of an any-view network) runs only when this call reads the ray map.
  const primary = await run(model, model.kind === 'nested' || model.kind === 'anyview' ? anyRole : 'net', feeds, { gaussians: !!options.inferGs, rays: !!(options.useRayPose || options.keepRays) });
  progress('network', { graphsDone: 1, graphsTotal });
  const metricOut = model.kind === 'nested' ? await run(model, 'metric', { images: feeds.images }) : null;
  if (metricOut) progress('network', { graphsDone: 2, graphsTotal });

  progress('postprocess');
  let depth = floatOutput(primary, 'depth', map);
  const aux = featureMapsFromGraph(primary);

  if (model.kind === 'mono' || model.kind === 'metric') {
    const skyProb = floatOutput(primary, 'sky', map);
    depth = monoSkyFill(depth, skyProb).depth;
    let isMetric = false;
    const intrinsics: Float32Array | null = pre.intrinsics ?? null;
    if (model.kind === 'metric' && intrinsics) {
      depth = applyMetricScaling(depth, intrinsics, [N, H, W]);
      isMetric = true;
    }
    return createPrediction({ views: N, height: H, width: W, depth, processedImages: processed.data, sky: skyMask(skyProb), intrinsics, isMetric, aux });
  }

  let conf = floatOutput(primary, 'depth_conf', map);
  const h8 = (H / 14) * 8;
  const w8 = (W / 14) * 8;
  const rays: RayMap | null =
    options.useRayPose || options.keepRays
      ? { height: h8, width: w8, rays: floatOutput(primary, 'ray', N * h8 * w8 * 6), conf: floatOutput(primary, 'ray_conf', N * h8 * w8) }
      : null;
  let poses: DecodedPoses = options.useRayPose
    ? posesFromRays(rays!, N, H, W, options.rayPose)
    : posesFromCameraHead(floatOutput(primary, 'pose_enc', N * 9), H, W);

  const gsDegree = anyConfig.gsAdapter?.shDegree ?? 2;
  // Known cameras: the adapter rescales by the Umeyama scale between the predicted cameras and the
  // normalised ones the network was conditioned on (gs_adapter.py `gt_extrinsics`).
  const poseScale = options.inferGs && posed ? gaussianPoseScale(feeds.extrinsics.data as Float32Array, poses.extrinsics, N).scale : 1;
  const gaussians = options.inferGs
    ? gaussiansFromRawMap({
        raw: floatOutput(primary, 'gs_raw', map * (anyConfig.gsHead?.outputDim ?? 38)),
        depth,
        extrinsics: poses.extrinsics,
        intrinsics: poses.intrinsics,
        views: N,
        height: H,
        width: W,
        shDegree: gsDegree,
        scaleMin: anyConfig.gsAdapter?.scaleMin,
        scaleMax: anyConfig.gsAdapter?.scaleMax,
        poseScale,
      })
    : null;

  let isMetric = false;
  let scaleFactor: number | null = null;
  let sky: Uint8Array | null = null;
  if (metricOut) {
    const metricSky = floatOutput(metricOut, 'sky', map);
    const metricDepth = monoSkyFill(floatOutput(metricOut, 'depth', map), metricSky).depth;
    const nested = alignNestedToMetric({ depth, conf, extrinsics: poses.extrinsics, intrinsics: poses.intrinsics, metricDepth, metricSky, shape: [N, H, W] });
    depth = nested.depth;
    conf = nested.conf;
    poses = { extrinsics: Float32Array.from(nested.extrinsicsAfterAlignment), intrinsics: poses.intrinsics };
    scaleFactor = nested.scaleFactor;
    isMetric = true;
    sky = skyMask(metricSky);
  }

  if (posed) {
    const aligned = alignToInputPoses(
      { predExtrinsics: poses.extrinsics, inputExtrinsics: options.extrinsics!, inputIntrinsics: pre.intrinsics, depth, views: N },
      { ...options.poseAlignment, alignToInputExtScale: options.alignToInputExtScale ?? true },
    );
    depth = aligned.depth;
    poses = { extrinsics: Float32Array.from(aligned.extrinsics), intrinsics: Float32Array.from(aligned.intrinsics ?? poses.intrinsics) };
  }

  return createPrediction({
    views: N,
    height: H,
    width: W,
    depth,
    conf,
    extrinsics: poses.extrinsics,
    intrinsics: poses.intrinsics,
    processedImages: processed.data,
    sky,
    rays: options.keepRays ? rays : null,
    gaussians,
    isMetric,
    scaleFactor,
    aux,
  });
}

/** The reference's `Prediction.sky`: sky probability ≥ 0.5 → 1. */
function skyMask(skyProb: Float32Array): Uint8Array {
  const m = new Uint8Array(skyProb.length);
  for (let i = 0; i < m.length; i++) m[i] = skyProb[i] >= 0.5 ? 1 : 0;
  return m;
}
