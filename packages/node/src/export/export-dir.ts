import { isAbsolute, join, relative, resolve } from 'node:path';
import { Da3Error, type Prediction } from '@da3js/core';
import { type ExportOptions, exportPrediction } from '@da3js/exporters';
import { fileSink } from '../hub/fs.js';

/** Options of {@link exportToDirectory} / `prediction.export`. */
export interface ExportToDirectoryOptions extends ExportOptions {
  /** Output folder (created when missing). */
  readonly dir: string;
  /** Format string as the reference (`"glb-mini_npz-depth_vis"`) or a list. */
  readonly formats: string | readonly string[];
}

/**
 * Writes a prediction into a folder in the requested formats (the reference's `export`). Every
 * file is written to a temp file beside it and renamed when complete, so an error leaves no half-written
 * file; paths that would leave `dir` are refused.
 * @returns absolute paths of the files written
 */
export async function exportToDirectory(prediction: Prediction, options: ExportToDirectoryOptions): Promise<string[]> {
  const root = resolve(options.dir);
  const open = (rel: string) => {
    const target = resolve(root, rel);
    const r = relative(root, target);
    if (r.startsWith('..') || isAbsolute(r)) throw new Da3Error('BAD_VALUE', `export: refusing to write outside ${root}: ${rel}`);
    return fileSink(target);
  };
  const files = await exportPrediction(prediction, options.formats, open, options);
  return files.map((f) => join(root, f));
}
