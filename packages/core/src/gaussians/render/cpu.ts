import { Da3Error, throwIfAborted } from '../../errors.js';
import type { Gaussians } from '../../prediction/prediction.js';
import { type RasterPlanes, type RowScratch, type SliceBins, binSplats, createRowScratch, rasterizeTileRow } from './composite.js';
import { type RasterFrame, prepareRasterFrame } from './frame.js';
import { SPLAT_STRIDE, projectSplats } from './project.js';
import type { GaussianRasterizer, RasterImage, RasterizeOptions, RenderCamera } from './types.js';

/**
 * A single-threaded CPU {@link GaussianRasterizer} (runtime-free: browsers, Node, workers).
 * Per render: project every Gaussian (EWA + SH, {@link projectSplats}), bin the visible ones by the
 * rows of 16×16 tiles they overlap ({@link binSplats}); then per tile row sort its splats by depth
 * and composite them front to back ({@link rasterizeTileRow}). Buffers are kept
 * between renders. `@da3js/node`'s `createNodeCpuRasterizer` runs the same steps on worker
 * threads (identical output).
 *
 * The `Gaussians` arrays are read during `render` only (never kept).
 */
export function createCpuRasterizer(): GaussianRasterizer {
  let state: CpuRenderState | null = createCpuRenderState();
  return {
    name: 'cpu',
    async render(gaussians: Gaussians, camera: RenderCamera, options: RasterizeOptions = {}): Promise<RasterImage> {
      if (!state) throw new Da3Error('BAD_VALUE', 'CpuRasterizer.render: the rasterizer was disposed');
      const frame = prepareRasterFrame('CpuRasterizer.render', gaussians, camera, options);
      throwIfAborted(options.signal, 'Gaussian rendering');
      return renderCpuFrame(gaussians, frame, state, options.signal);
    },
    async dispose(): Promise<void> {
      state = null;
    },
  };
}

/** Buffers one CPU rasterizer keeps between renders. */
export interface CpuRenderState {
  splats: Float32Array;
  keys: Uint32Array;
  bins: SliceBins | null;
  row: RowScratch;
}

/** Empty {@link CpuRenderState}. */
export function createCpuRenderState(): CpuRenderState {
  return { splats: new Float32Array(0), keys: new Uint32Array(0), bins: null, row: createRowScratch() };
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
  if (state.keys.length < n) state.keys = new Uint32Array(n);
  projectSplats(scene, frame, 0, n, state.splats);
  const bins = binSplats(state.splats, frame, 0, n, state.keys, state.bins);
  state.bins = bins;
  const out = allocateRasterPlanes(frame);
  const slices = [bins];
  for (let ty = 0; ty < frame.tilesY; ty++) {
    throwIfAborted(signal, 'Gaussian rendering');
    rasterizeTileRow(state.splats, state.keys, slices, frame, ty, out, state.row);
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
