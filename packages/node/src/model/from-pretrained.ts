import { Da3Error } from '@da3js/core';
import { type HubProgressEvent, type ResolveModelOptions, resolveModelFiles } from '../hub/index.js';
import type { ModelFiles } from './depth-anything-3.js';

/** Options of {@link resolveModelSource}. */
export interface ModelSourceOptions extends Omit<ResolveModelOptions, 'progress'> {
  readonly progress?: (event: HubProgressEvent) => void;
}

/**
 * Resolves a model id (`depth-anything/DA3-SMALL`, downloaded into the cache), a local folder
 * (config.json + model.safetensors) or a `.safetensors` file into the files the converter reads.
 * @throws Da3Error `BAD_VALUE` for a bare `.onnx` file (the config cannot be recovered from it yet:
 *   give the folder with config.json + model.safetensors, or convert with `da3 convert`)
 */
export async function resolveModelSource(idOrPath: string, options: ModelSourceOptions = {}): Promise<ModelFiles> {
  const files = await resolveModelFiles(idOrPath, options as ResolveModelOptions);
  if (files.onnxPath !== undefined) {
    throw new Da3Error('BAD_VALUE', `fromPretrained: ${files.onnxPath} is a bare ONNX graph; load the checkpoint folder (config.json + model.safetensors) instead`);
  }
  return { configPath: files.configPath, weightsPath: files.weightsPath };
}
