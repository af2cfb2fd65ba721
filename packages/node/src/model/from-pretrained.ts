import { type HubProgressEvent, type ResolveModelOptions, resolveModelFiles } from '../hub/index.js';
import type { ModelFiles } from './depth-anything-3.js';

/** Options of {@link resolveModelSource}. */
export interface ModelSourceOptions extends Omit<ResolveModelOptions, 'progress'> {
  readonly progress?: (event: HubProgressEvent) => void;
}

/**
 * Resolves a model id (`depth-anything/DA3-SMALL`, downloaded into the cache), a local folder
 * (config.json + model.safetensors) or a `.safetensors` file into the files the converter reads;
 * a `.onnx` graph written by da3js (`da3 convert`) comes back as `{ onnxPath }`.
 */
export async function resolveModelSource(idOrPath: string, options: ModelSourceOptions = {}): Promise<ModelFiles | { readonly onnxPath: string }> {
  const files = await resolveModelFiles(idOrPath, options as ResolveModelOptions);
  if (files.onnxPath !== undefined) return { onnxPath: files.onnxPath };
  return { configPath: files.configPath, weightsPath: files.weightsPath };
}
