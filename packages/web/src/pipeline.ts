import { DEFAULT_PIPELINE_MODEL, type PipelineTask, type TaskPipeline, assertPipelineTask, taskPipeline } from '@da3js/core';
import { DepthAnything3, type WebFromPretrainedOptions, type WebInferenceOptions, type WebPrediction } from './depth-anything-3.js';
import type { WebImageInput } from './input.js';

/**
 * A loaded depth-estimation pipeline: call it with one image or the views of a scene (files,
 * blobs, bitmaps, canvases, `<img>`, URLs, raw pixels); it returns exactly what
 * `DepthAnything3.inference` returns (depth `[N, H, W]`, confidence, world→camera extrinsics in
 * OpenCV axes, intrinsics in pixels, `export()`).
 */
export type DepthEstimationPipeline = TaskPipeline<DepthAnything3, WebImageInput, WebInferenceOptions, WebPrediction>;

/**
 * The transformers.js-style entry: `await pipeline('depth-estimation', 'depth-anything/DA3-SMALL',
 * { device: 'webgpu', dtype: 'fp16', progress_callback })`. Loads with
 * `DepthAnything3.fromPretrained` (same options; `progress_callback` is accepted as an alias of
 * `progress`), default `depth-anything/DA3-SMALL`.
 * @throws Da3Error `BAD_VALUE` for a task other than `depth-estimation`, and whatever loading throws
 */
export async function pipeline(
  task: PipelineTask,
  model: string = DEFAULT_PIPELINE_MODEL,
  options: WebFromPretrainedOptions & { readonly progress_callback?: WebFromPretrainedOptions['progress'] } = {},
): Promise<DepthEstimationPipeline> {
  assertPipelineTask(task);
  const { progress_callback, ...rest } = options;
  return taskPipeline(task, await DepthAnything3.fromPretrained(model, { ...rest, progress: rest.progress ?? progress_callback }));
}
