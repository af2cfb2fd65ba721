import { type AbortSignalLike, Da3Error, type Prediction, type Sink, throwIfAborted } from '@da3js/core';
import { writeColmap } from './colmap/index.js';
import { COLMAP_FILES } from './colmap/model.js';
import { featureMaps, featurePca, writeFeatVisJpeg } from './feat-vis/index.js';
import { writeConfVisJpeg, writeDepthVisJpeg } from './images/index.js';
import { writePredictionNpz } from './npz/index.js';
import { gaussianPruneIndices, writeGaussiansPly, writeSpz } from './gaussians/index.js';
import { writeGaussiansGltf, writeGlb } from './glb/index.js';
import { type GsVideoOptions, gsVideoMode, gsVideoPath, writeGsVideo } from './gs-video/gs-video.js';
import { writePly } from './ply/index.js';

/**
 * The front door of the exporters: the reference's `export(prediction, "mini_npz-glb", dir)` in TS.
 * Formats write into sinks opened by relative path (node: files under a folder, written
 * atomically; web: Blobs), with the reference's layout:
 * `scene.glb`, `exports/mini_npz/results.npz`, `exports/npz/results.npz`, `depth_vis/0000.jpg`,
 * `gs_video/0000_extend.mp4`, …
 */

/** Options shared by every format (the reference's option names, camelCase). */
export interface ExportOptions {
  /** GLB / PLY / COLMAP confidence percentile (default 40). */
  readonly confThreshPercentile?: number;
  /** GLB point budget (default 1,000,000). */
  readonly numMaxPoints?: number;
  /** GLB camera frustums (default true). */
  readonly showCameras?: boolean;
  readonly filterBlackBg?: boolean;
  readonly filterWhiteBg?: boolean;
  /** Seed of every deterministic subsampling (default 0). */
  readonly seed?: number;
  /** feat_vis: layers to render (default: every exported layer). */
  readonly featVisLayers?: readonly number[];
  /** COLMAP: image file names, one per view (default `0000.png`, …). */
  readonly imageNames?: readonly string[];
  /** COLMAP: original image sizes `[width, height]` per view, to rescale intrinsics. */
  readonly originalSizes?: readonly (readonly [number, number])[];
  /**
   * gs_ply: keep the Gaussians of every k-th view only (the reference's `gs_views_interval`,
   * default 1; `'auto'` = max(⌊views/12⌋, 1), its `None`).
   */
  readonly gsViewsInterval?: number | 'auto';
  /**
   * gs_video: trajectory, render overrides, quality, depth panel, progress — and the rasterizer
   * and encoder, which `@da3js/node` (CPU rasterizer, ffmpeg) and `@da3js/web` fill in.
   */
  readonly gsVideo?: GsVideoOptions;
  /** Stops the export before the next chunk is written (`ABORTED`); the open file's sink is aborted. */
  readonly signal?: AbortSignalLike;
}

/** Opens the sink of one output file, by path relative to the export folder (`/` separated). */
export type OpenSink = (relativePath: string) => Sink | Promise<Sink>;

type Writer = (prediction: Prediction, open: OpenSink, options: ExportOptions) => Promise<string[]>;

const pad = (i: number) => String(i).padStart(4, '0');

function gaussiansOf(p: Prediction, format: string) {
  if (!p.gaussians) throw new Da3Error('BAD_VALUE', `exportPrediction: ${format} needs 3D Gaussians in the prediction (a model with a GS head, inferGs)`);
  return p.gaussians;
}

async function write(open: OpenSink, path: string, fn: (sink: Sink) => Promise<unknown>): Promise<string> {
  await fn(await open(path));
  return path;
}

const WRITERS: Readonly<Record<string, Writer>> = {
  mini_npz: async (p, open) => [await write(open, 'exports/mini_npz/results.npz', (s) => writePredictionNpz(p, s, { mini: true }))],
  npz: async (p, open) => [await write(open, 'exports/npz/results.npz', (s) => writePredictionNpz(p, s, { mini: false }))],
  glb: async (p, open, o) => {
    const files = [
      await write(open, 'scene.glb', (s) =>
        writeGlb(p, s, {
          confThreshPercentile: o.confThreshPercentile,
          numMaxPoints: o.numMaxPoints,
          showCameras: o.showCameras,
          filterBlackBg: o.filterBlackBg,
          filterWhiteBg: o.filterWhiteBg,
          seed: o.seed,
        }),
      ),
    ];
    // Like the reference: the depth images beside the scene, and the first as its thumbnail.
    for (let v = 0; v < p.views; v++) files.push(await write(open, `depth_vis/${pad(v)}.jpg`, (s) => writeDepthVisJpeg(p, v, s)));
    files.push(await write(open, 'scene.jpg', (s) => writeDepthVisJpeg(p, 0, s)));
    return files;
  },
  gs_gltf: async (p, open) => [await write(open, 'gs/scene_gaussians.glb', (s) => writeGaussiansGltf(gaussiansOf(p, 'gs_gltf'), s))],
  ply: async (p, open, o) => [
    await write(open, 'scene.ply', (s) => writePly(p, s, { format: 'binary', confPercentile: o.confThreshPercentile })),
  ],
  // The reference's export_to_gs_ply: border and far-depth pruning, DC-only 17-float records,
  // header without comments (byte-compatible with its plyfile output).
  gs_ply: async (p, open, o) => {
    const g = gaussiansOf(p, 'gs_ply');
    const indices = gaussianPruneIndices(p, { viewsInterval: o.gsViewsInterval ?? 1 });
    return [await write(open, 'gs_ply/0000.ply', (s) => writeGaussiansPly(g, s, { layout: 'sh0', indices, comments: [] }))];
  },
  gs_ply_sh3: async (p, open) => [await write(open, 'gs_ply/0000_sh3.ply', (s) => writeGaussiansPly(gaussiansOf(p, 'gs_ply_sh3'), s, { layout: 'sh3' }))],
  spz: async (p, open) => [await write(open, 'gs/0000.spz', (s) => writeSpz(gaussiansOf(p, 'spz'), s))],
  gs_video: async (p, open, o) => {
    gaussiansOf(p, 'gs_video');
    const video = o.gsVideo ?? {};
    if (!video.rasterizer || !video.encoder) {
      throw new Da3Error('BAD_CONFIG', 'exportPrediction: gs_video needs a Gaussian rasterizer and a video encoder (options.gsVideo.rasterizer / .encoder); @da3js/node and @da3js/web supply both');
    }
    const views = video.renderIntrinsics ? video.renderIntrinsics.length / 9 : p.views;
    const path = gsVideoPath(gsVideoMode(views, video.trajectory), video.encoder?.container);
    return [await write(open, path, (s) => writeGsVideo(p, s, { ...video, signal: o.signal }))];
  },
  depth_vis: async (p, open) => {
    const files: string[] = [];
    for (let v = 0; v < p.views; v++) files.push(await write(open, `depth_vis/${pad(v)}.jpg`, (s) => writeDepthVisJpeg(p, v, s)));
    return files;
  },
  conf_vis: async (p, open) => {
    if (!p.conf) throw new Da3Error('BAD_VALUE', 'exportPrediction: conf_vis needs a confidence map (any-view models)');
    const files: string[] = [];
    for (let v = 0; v < p.views; v++) files.push(await write(open, `conf_vis/${pad(v)}.jpg`, (s) => writeConfVisJpeg(p, v, s)));
    return files;
  },
  colmap: async (p, open, o) => {
    const names = o.imageNames ?? Array.from({ length: p.views }, (_, i) => `${pad(i)}.png`);
    const r = await writeColmap(p, (name) => open(`sparse/${name}`), {
      format: 'binary',
      imageNames: names,
      originalSizes: o.originalSizes,
      confThreshPercentile: o.confThreshPercentile,
      seed: o.seed,
    });
    return Object.keys(r.files).map((name) => `sparse/${name}`);
  },
  feat_vis: async (p, open, o) => {
    const maps = featureMaps(p, o.featVisLayers);
    if (maps.length === 0) throw new Da3Error('BAD_VALUE', 'exportPrediction: feat_vis needs exported features (run inference with exportFeatLayers)');
    const files: string[] = [];
    for (const map of maps) {
      const pca = featurePca(map);
      for (let v = 0; v < p.views; v++) files.push(await write(open, `feat_vis/layer_${map.layer}/${pad(v)}.jpg`, (s) => writeFeatVisJpeg(p, pca, v, s)));
    }
    return files;
  },
};

/**
 * The relative paths {@link exportPrediction} writes for `formats`, known before any inference:
 * from the view count and, for `feat_vis`, the exported layers (`featVisLayers`, else the
 * `exportFeatLayers` the inference used). Services use it to presign one upload URL per file.
 * @throws Da3Error `UNKNOWN_FORMAT` for a bad format, `BAD_VALUE` for a bad view count
 */
export function expectedExportFiles(
  formats: string | readonly string[],
  views: number,
  options: {
    readonly featVisLayers?: readonly number[];
    readonly exportFeatLayers?: readonly number[];
    /** gs_video: the trajectory (default `extend`; one view renders `wander`) and the container (default `mp4`). */
    readonly gsVideo?: { readonly trajectory?: GsVideoOptions['trajectory']; readonly renderIntrinsics?: ArrayLike<number>; readonly container?: 'mp4' | 'webm' };
  } = {},
): string[] {
  if (!Number.isInteger(views) || views < 1) throw new Da3Error('BAD_VALUE', `expectedExportFiles: views must be a positive integer, got ${views}`);
  const perView = (dir: string) => Array.from({ length: views }, (_, v) => `${dir}/${pad(v)}.jpg`);
  const names: Record<string, () => string[]> = {
    mini_npz: () => ['exports/mini_npz/results.npz'],
    npz: () => ['exports/npz/results.npz'],
    glb: () => ['scene.glb', ...perView('depth_vis'), 'scene.jpg'],
    gs_gltf: () => ['gs/scene_gaussians.glb'],
    ply: () => ['scene.ply'],
    gs_ply: () => ['gs_ply/0000.ply'],
    gs_ply_sh3: () => ['gs_ply/0000_sh3.ply'],
    spz: () => ['gs/0000.spz'],
    gs_video: () => [gsVideoPath(gsVideoMode(options.gsVideo?.renderIntrinsics ? options.gsVideo.renderIntrinsics.length / 9 : views, options.gsVideo?.trajectory), options.gsVideo?.container)],
    depth_vis: () => perView('depth_vis'),
    conf_vis: () => perView('conf_vis'),
    colmap: () => COLMAP_FILES.binary.map((f) => `sparse/${f}`),
    feat_vis: () => [...(options.featVisLayers ?? options.exportFeatLayers ?? [])].sort((a, b) => a - b).flatMap((l) => perView(`feat_vis/layer_${l}`)),
  };
  return [...new Set(parseFormats(formats).flatMap((f) => names[f]()))];
}

/** The format names {@link exportPrediction} accepts. */
export function exportFormats(): string[] {
  return Object.keys(WRITERS);
}

/**
 * Splits a format string the way the reference does (`"mini_npz-glb"`) — or takes a list — and
 * validates every name.
 * @throws Da3Error `UNKNOWN_FORMAT` naming the bad format and listing the valid ones
 */
export function parseFormats(formats: string | readonly string[]): string[] {
  const list = (typeof formats === 'string' ? formats.split('-') : [...formats]).map((f) => f.trim()).filter(Boolean);
  if (list.length === 0) throw new Da3Error('UNKNOWN_FORMAT', `exportPrediction: no format given; one of ${exportFormats().join(', ')}`);
  for (const f of list) {
    if (!Object.hasOwn(WRITERS, f)) throw new Da3Error('UNKNOWN_FORMAT', `exportPrediction: unknown format "${f}"; one of ${exportFormats().join(', ')}`);
  }
  return [...new Set(list)];
}

/**
 * Writes a prediction in every requested format. Formats run one after another; each file's sink
 * is aborted when its writer fails (no partial files), and the error is re-thrown.
 * @returns the relative paths written
 * @throws Da3Error `UNKNOWN_FORMAT` before anything is written, `ABORTED` when `options.signal` fired
 */
export async function exportPrediction(prediction: Prediction, formats: string | readonly string[], open: OpenSink, options: ExportOptions = {}): Promise<string[]> {
  const { signal } = options;
  const list = parseFormats(formats);
  throwIfAborted(signal, 'export');
  const guarded: OpenSink = signal ? async (path) => abortableSink(await open(path), signal) : open;
  const files: string[] = [];
  for (const f of list) {
    throwIfAborted(signal, 'export');
    files.push(...(await WRITERS[f](prediction, guarded, options)));
  }
  return [...new Set(files)];
}

/** A sink whose writes fail with `ABORTED` once `signal` fires (the writer then aborts it). */
function abortableSink(sink: Sink, signal: AbortSignalLike): Sink {
  return {
    write: (chunk) => {
      throwIfAborted(signal, 'export');
      return sink.write(chunk);
    },
    close: sink.close?.bind(sink),
    abort: sink.abort?.bind(sink),
  };
}
