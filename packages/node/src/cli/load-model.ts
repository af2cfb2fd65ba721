import { DepthAnything3, type FromPretrainedOptions } from '../model/depth-anything-3.js';
import type { CliArgs } from './args.js';

/**
 * The model a `da3` command runs: `--model-dir` with the CLI's device, dtype, cache, revision,
 * offline and strict flags (one place, so every command reads them the same way).
 */
export function loadCliModel(args: CliArgs, extra: Pick<FromPretrainedOptions, 'progress' | 'signal'> = {}): Promise<DepthAnything3> {
  return DepthAnything3.fromPretrained(args.modelDir, {
    device: args.device,
    dtype: args.dtype,
    cacheDir: args.cacheDir,
    revision: args.revision,
    localFilesOnly: args.localFilesOnly,
    strict: args.strict,
    ...extra,
  });
}
