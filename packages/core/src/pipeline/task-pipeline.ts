import { Da3Error } from '../errors.js';

/** Tasks the runtimes' `pipeline(task, model, options)` builds (transformers.js names). */
export const PIPELINE_TASKS = ['depth-estimation'] as const;
export type PipelineTask = (typeof PIPELINE_TASKS)[number];

/** The model the runtimes' `pipeline` loads when none is named. */
export const DEFAULT_PIPELINE_MODEL = 'depth-anything/DA3-SMALL';

/** What a runtime's loaded model offers a pipeline. */
export interface PipelineModel<Input, Options, Output> {
  inference(images: Input | readonly Input[], options?: Options): Promise<Output>;
  dispose(): Promise<void>;
}

/**
 * A loaded pipeline: call it with one image or the views of a scene; it returns what the model's
 * `inference` returns (a `Prediction` of that runtime).
 */
export interface TaskPipeline<Model extends PipelineModel<Input, Options, Output>, Input, Options, Output> {
  (images: Input | readonly Input[], options?: Options): Promise<Output>;
  readonly task: PipelineTask;
  readonly model: Model;
  /** Releases the model's sessions. */
  dispose(): Promise<void>;
}

/**
 * Checks a `pipeline` task name.
 * @throws Da3Error `BAD_VALUE` for a task other than those in {@link PIPELINE_TASKS}
 */
export function assertPipelineTask(task: string): asserts task is PipelineTask {
  if (!(PIPELINE_TASKS as readonly string[]).includes(task)) {
    throw new Da3Error('BAD_VALUE', `pipeline: unknown task ${JSON.stringify(task)}; da3js provides ${PIPELINE_TASKS.join(', ')}`);
  }
}

/** Wraps a loaded model as a callable {@link TaskPipeline}. */
export function taskPipeline<Model extends PipelineModel<Input, Options, Output>, Input, Options, Output>(task: PipelineTask, model: Model): TaskPipeline<Model, Input, Options, Output> {
  const run = (images: Input | readonly Input[], options?: Options) => model.inference(images, options);
  return Object.assign(run, { task, model, dispose: () => model.dispose() });
}
