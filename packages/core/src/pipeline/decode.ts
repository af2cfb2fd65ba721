import { cameraFromPoseEncoding } from '../camera/pose-encoding.js';
import { Da3Error } from '../errors.js';
import type { TensorData, TensorElements } from '../io.js';
import type { FeatureMap, RayMap } from '../prediction/prediction.js';
import { type RayPoseOptions, cameraFromRayMap } from '../rays/ray-to-pose.js';

/** Network outputs by name (the graph contract). */
export type GraphOutputs = Readonly<Record<string, TensorData<TensorElements>>>;

/** A float32 output, checked for presence and size. */
export function floatOutput(outputs: GraphOutputs, name: string, expected: number): Float32Array {
  const t = outputs[name];
  if (!t) throw new Da3Error('BAD_VALUE', `pipeline: the graph returned no "${name}" output (got ${Object.keys(outputs).join(', ')})`);
  if (!(t.data instanceof Float32Array)) throw new Da3Error('BAD_VALUE', `pipeline: output "${name}" is not float32`);
  if (t.data.length !== expected) {
    throw new Da3Error('BAD_SHAPE', `pipeline: output "${name}" has ${t.data.length} values [${t.shape}], expected ${expected}`);
  }
  return t.data;
}

/** Cameras of the any-view models in the Prediction's layout (float32 w2c [N,3,4] and K [N,3,3]). */
export interface DecodedPoses {
  readonly extrinsics: Float32Array;
  readonly intrinsics: Float32Array;
}

/**
 * Camera poses from the camera head: `pose_enc` [N, 9] → w2c + K (principal point at the
 * centre), as the reference's `_process_camera_estimation`.
 */
export function posesFromCameraHead(poseEnc: Float32Array, height: number, width: number): DecodedPoses {
  const cams = cameraFromPoseEncoding(poseEnc, [height, width]);
  return { extrinsics: Float32Array.from(cams.w2c), intrinsics: Float32Array.from(cams.intrinsics) };
}

/**
 * Camera poses from the ray map (`use_ray_pose`, the reference's `_process_ray_pose_estimation`):
 * weighted DLT + RANSAC + QL per view, deterministic (`seed`) or replaying recorded `draws`.
 */
export function posesFromRays(rays: RayMap, views: number, height: number, width: number, options: RayPoseOptions = {}): DecodedPoses {
  const r = cameraFromRayMap(rays.rays, rays.conf, { views, height: rays.height, width: rays.width }, [height, width], options);
  return { extrinsics: Float32Array.from(r.w2c), intrinsics: Float32Array.from(r.intrinsics) };
}

/** Exported backbone features `feat_<layer>` [1, N, h, w, C] → `aux.feat_layer_<layer>`. */
export function featureMapsFromGraph(outputs: GraphOutputs): Record<string, FeatureMap> {
  const aux: Record<string, FeatureMap> = {};
  for (const [name, t] of Object.entries(outputs)) {
    const m = /^feat_(\d+)$/.exec(name);
    if (!m || !(t.data instanceof Float32Array)) continue;
    const [, , h, w, c] = t.shape;
    aux[`feat_layer_${m[1]}`] = { layer: Number(m[1]), height: h, width: w, channels: c, data: t.data };
  }
  return aux;
}
