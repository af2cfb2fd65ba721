import { mkdir, rename, rm } from 'node:fs/promises';
import { dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { Da3Error, type GaussianRasterizer, type Prediction, throwIfAborted } from '@da3js/core';
import { type ExportOptions, type GsVideoOptions, exportPrediction, parseFormats } from '@da3js/exporters';
import { fileSink, ioError, stagingName, sweepStaleTemps } from '../hub/fs.js';
import { createNodeCpuRasterizer } from '../gaussians/cpu-rasterizer.js';
import { ffmpegVideoEncoder } from './ffmpeg-video.js';

/** Options of {@link exportToDirectory} / `prediction.export`. */
export interface ExportToDirectoryOptions extends ExportOptions {
  /** Output folder (created when missing). */
  readonly dir: string;
  /** Format string as the reference (`"glb-mini_npz-depth_vis"`) or a list. */
  readonly formats: string | readonly string[];
}

/**
 * Writes a prediction into a folder in the requested formats (the reference's `export`).
 *
 * All or nothing: every file of every format is first written into a staging folder inside `dir`
 * (`.da3-staging-<pid>-<hex>`); only when all formats succeeded are the files moved into place,
 * one rename each. A failure (a bad format, a full disk) leaves `dir` as it was — no half-written
 * file, no mix of old and new files. Temp files and staging folders left by killed runs (their
 * process is gone) are swept first. Paths that would leave `dir` are refused.
 *
 * `gs_video` renders with `options.gsVideo.rasterizer` (default: `createNodeCpuRasterizer`, the
 * CPU rasterizer on worker threads, stopped afterwards) and encodes with `options.gsVideo.encoder` (default: the system ffmpeg, H.264).
 * @returns absolute paths of the files written
 * @throws {Da3Error} `IO` naming the path for filesystem failures (`ENOSPC`, `ENOTDIR`, …), `ABORTED`
 *   when `options.signal` fired before the files moved into place (then `dir` is unchanged), and the
 *   exporters' errors (`UNKNOWN_FORMAT`, `BAD_SHAPE`, …)
 */
export async function exportToDirectory(prediction: Prediction, options: ExportToDirectoryOptions): Promise<string[]> {
  const root = resolve(options.dir);
  let owned: GaussianRasterizer | undefined;
  let gsVideo: GsVideoOptions | undefined = options.gsVideo;
  if (parseFormats(options.formats).includes('gs_video')) {
    const rasterizer = gsVideo?.rasterizer ?? (owned = createNodeCpuRasterizer());
    gsVideo = { ...gsVideo, rasterizer, encoder: gsVideo?.encoder ?? ffmpegVideoEncoder() };
  }
  try {
    return await exportStaged(prediction, { ...options, gsVideo }, root);
  } finally {
    await owned?.dispose();
  }
}

async function exportStaged(prediction: Prediction, options: ExportToDirectoryOptions, root: string): Promise<string[]> {
  try {
    await mkdir(root, { recursive: true });
  } catch (cause) {
    throw ioError('create the export folder', root, cause);
  }
  await sweepStaleTemps(root);
  const staging = join(root, stagingName());
  const open = (rel: string) => {
    const target = resolve(root, rel);
    const r = relative(root, target);
    if (r === '' || r.startsWith('..') || isAbsolute(r)) throw new Da3Error('BAD_VALUE', `export: refusing to write outside ${root}: ${rel}`);
    return fileSink(join(staging, r), { reportAs: target });
  };
  try {
    const files = await exportPrediction(prediction, options.formats, open, options);
    // Last chance to stop: once files start moving into place they all move (all or nothing).
    throwIfAborted(options.signal, 'export');
    for (const f of files) {
      const target = join(root, f);
      try {
        await mkdir(dirname(target), { recursive: true });
        await rename(join(staging, f), target);
      } catch (cause) {
        throw ioError('move into place', target, cause);
      }
    }
    return files.map((f) => join(root, f));
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}
