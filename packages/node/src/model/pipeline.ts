import { Da3Error } from '@da3js/core';
import { DEFAULT_MODEL, DepthAnything3, type FromPretrainedOptions, type NodeImageInput, type NodeInferenceOptions, type NodePrediction } from './depth-anything-3.js';

/** Tasks {@link pipeline} builds (transformers.js names). */
export const PIPELINE_TASKS = ['depth-estimation'] as const;
export type PipelineTask = (typeof PIPELINE_TASKS)[number];

/**
 * A loaded depth-estimation pipeline: call it with one image or a list of views of a scene
 * (paths, URLs, encoded bytes or raw pixels) and it returns the model's {@link NodePrediction}
 * (depth `[N, H, W]`, confidence, world→camera extrinsics in OpenCV axes, intrinsics in pixels,
 * `export()`), exactly what `DepthAnything3.inference` returns.
 */
export interface DepthEstimationPipeline {
  (images: NodeImageInput | readonly NodeImageInput[], options?: NodeInferenceOptions): Promise<NodePrediction>;
  readonly task: PipelineTask;
  readonly model: DepthAnything3;
  /** Releases the model's sessions (transformers.js names it `dispose` too). */
  dispose(): Promise<void>;
}

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
  if (!(PIPELINE_TASKS as readonly string[]).includes(task)) {
    throw new Da3Error('BAD_VALUE', `pipeline: unknown task ${JSON.stringify(task)}; da3js provides ${PIPELINE_TASKS.join(', ')}`);
  }
  const { progress_callback, ...rest } = options;
  const loaded = await DepthAnything3.fromPretrained(model, { ...rest, progress: rest.progress ?? progress_callback });
  const run = (images: NodeImageInput | readonly NodeImageInput[], inferenceOptions?: NodeInferenceOptions) => loaded.inference(images, inferenceOptions);
  return Object.assign(run, { task, model: loaded, dispose: () => loaded.dispose() }) as DepthEstimationPipeline;
}
