import { type PipelineTask, type TaskPipeline, assertPipelineTask, taskPipeline } from '@da3js/core';
import { DEFAULT_MODEL, DepthAnything3, type FromPretrainedOptions, type NodeImageInput, type NodeInferenceOptions, type NodePrediction } from './depth-anything-3.js';

/**
 * A loaded depth-estimation pipeline: call it with one image or the views of a scene (paths,
 * URLs, encoded bytes or raw pixels); it returns exactly what `DepthAnything3.inference` returns
 * (depth `[N, H, W]`, confidence, world→camera extrinsics in OpenCV axes, intrinsics in pixels,
 * `export()`).
 */
export type DepthEstimationPipeline = TaskPipeline<DepthAnything3, NodeImageInput, NodeInferenceOptions, NodePrediction>;

/**
 * The transformers.js-style entry: `await pipeline('depth-estimation', 'depth-anything/DA3-SMALL',
 * { device: 'auto', dtype: 'fp32', progress_callback })`. The model is loaded with
 * `DepthAnything3.fromPretrained` (same options; `progress_callback` is accepted as an alias of
 * `progress`), default `depth-anything/DA3-SMALL`.
 *
 * ```ts
 * const depth = await pipeline('depth-estimation');
 * const prediction = await depth(['a.jpg', 'b.jpg']);
 * ```
 * @throws Da3Error `BAD_VALUE` for a task other than `depth-estimation`, and whatever loading throws
 */
export async function pipeline(
  task: PipelineTask,
  model: string = DEFAULT_MODEL,
  options: FromPretrainedOptions & { readonly progress_callback?: FromPretrainedOptions['progress'] } = {},
): Promise<DepthEstimationPipeline> {
  assertPipelineTask(task);
  const { progress_callback, ...rest } = options;
  return taskPipeline(task, await DepthAnything3.fromPretrained(model, { ...rest, progress: rest.progress ?? progress_callback }));
}
