import { Da3Error, throwIfAborted } from '../../errors.js';
import type { Gaussians } from '../../prediction/prediction.js';
import {
  type RasterPlanes,
  type RowScratch,
  type SortScratch,
  type TileRowBins,
  binTileRows,
  createRowScratch,
  createSortScratch,
  gatherSplats,
  rasterizeTileRow,
  sortSplatsByDepth,
} from './composite.js';
import { type RasterFrame, prepareRasterFrame } from './frame.js';
import { SPLAT_STRIDE, projectSplats } from './project.js';
import type { GaussianRasterizer, RasterImage, RasterizeOptions, RenderCamera } from './types.js';

/**
 * A single-threaded CPU {@link GaussianRasterizer} (runtime-free: browsers, Node, workers).
 * Per render: project every Gaussian (EWA + SH), sort the visible ones by depth (and gather them
 * in that order), bucket them by tile row, composite each row of 16×16 tiles front to back. Buffers are kept between renders.
 * `@da3js/node`'s `createNodeCpuRasterizer` runs the same steps on worker threads (identical
 * output).
 *
 * The `Gaussians` arrays are read during `render` only (never kept).
 */
export function createCpuRasterizer(): GaussianRasterizer {
  const state = createCpuRenderState();
  let disposed = false;
  return {
    name: 'cpu',
    async render(gaussians: Gaussians, camera: RenderCamera, options: RasterizeOptions = {}): Promise<RasterImage> {
      if (disposed) throw new Da3Error('BAD_VALUE', 'CpuRasterizer.render: the rasterizer was disposed');
      const frame = prepareRasterFrame('CpuRasterizer.render', gaussians, camera, options);
      throwIfAborted(options.signal, 'Gaussian rendering');
      return renderCpuFrame(gaussians, frame, state, options.signal);
    },
    async dispose(): Promise<void> {
      disposed = true;
      state.splats = new Float32Array(0);
      state.order = new Int32Array(0);
      state.sorted = new Float32Array(0);
      state.bins = undefined;
    },
  };
}

/** Buffers one CPU rasterizer keeps between renders. */
export interface CpuRenderState {
  splats: Float32Array;
  order: Int32Array;
  /** The visible splats in depth order. */
  sorted: Float32Array;
  sort: SortScratch;
  bins: TileRowBins | undefined;
  row: RowScratch;
}

/** Empty {@link CpuRenderState}. */
export function createCpuRenderState(): CpuRenderState {
  return { splats: new Float32Array(0), order: new Int32Array(0), sorted: new Float32Array(0), sort: createSortScratch(), bins: undefined, row: createRowScratch() };
}

/** Output planes for `frame` (`depth` only with `'RGB+ED'`). */
export function allocateRasterPlanes(frame: RasterFrame, allocate: (length: number) => Float32Array = (l) => new Float32Array(l)): RasterPlanes {
  const pix = frame.width * frame.height;
  return { rgb: allocate(3 * pix), alpha: allocate(pix), depth: frame.withDepth ? allocate(pix) : null };
}

/** The whole CPU pipeline on the calling thread (see {@link createCpuRasterizer}). */
export function renderCpuFrame(scene: Gaussians, frame: RasterFrame, state: CpuRenderState, signal?: { readonly aborted: boolean; readonly reason?: unknown }): RasterImage {
  const n = frame.count;
  if (state.splats.length < n * SPLAT_STRIDE) state.splats = new Float32Array(n * SPLAT_STRIDE);
  if (state.order.length < n) state.order = new Int32Array(n);
  projectSplats(scene, frame, 0, n, state.splats);
  const visible = sortSplatsByDepth(state.splats, n, state.order, state.sort);
  if (state.sorted.length < visible * SPLAT_STRIDE) state.sorted = new Float32Array(n * SPLAT_STRIDE);
  gatherSplats(state.splats, state.order, 0, visible, state.sorted);
  const bins = binTileRows(state.sorted, visible, frame, state.bins);
  state.bins = bins;
  const out = allocateRasterPlanes(frame);
  for (let ty = 0; ty < frame.tilesY; ty++) {
    throwIfAborted(signal, 'Gaussian rendering');
    rasterizeTileRow(state.sorted, bins.items, bins.starts[ty], bins.starts[ty + 1], frame, ty, out, state.row);
  }
  const image: { width: number; height: number; rgb: Float32Array; alpha: Float32Array; depth?: Float32Array } = {
    width: frame.width,
    height: frame.height,
    rgb: out.rgb,
    alpha: out.alpha,
  };
  if (out.depth) image.depth = out.depth;
  return image;
}
