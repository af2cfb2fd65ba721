import { Da3Error } from '../../errors.js';
import {
  type RowScratch,
  type SortScratch,
  binTileRows,
  createRowScratch,
  createSortScratch,
  gatherSplats,
  rasterizeTileRow,
  sortSplatsByDepth,
} from './composite.js';
import type { RasterFrame, RasterScene } from './frame.js';
import { SPLAT_STRIDE, projectSplats } from './project.js';

/**
 * The CPU rasterizer split into tasks for a pool of threads that share memory (Node
 * `worker_threads`, or Web Workers with cross-origin isolation). Runtime-free: the host posts
 * {@link RasterTask}s and each thread answers with {@link runRasterTask}; all arrays live on
 * SharedArrayBuffers. One frame is three steps:
 *
 * 1. `project` on every thread, each a slice of the Gaussians → `splats`;
 * 2. `prepare` on one thread: depth sort (`order`), gather (`sorted`), tile-row bins
 *    (`starts`, `items`; `items` is reallocated when too small and returned);
 * 3. `raster` on every thread: tile rows taken in turn from an atomic counter → output planes.
 *
 * The maths is the single-threaded rasterizer's, so the output is bit-identical to it.
 */
export type RasterTask = RasterProjectTask | RasterPrepareTask | RasterRasterTask;

/** The scene on shared memory (see {@link shareRasterScene}). */
export interface SharedRasterScene {
  readonly count: number;
  readonly shCoefficients: number;
  readonly means: SharedArrayBuffer;
  readonly scales: SharedArrayBuffer;
  readonly rotations: SharedArrayBuffer;
  readonly harmonics: SharedArrayBuffer;
  readonly opacities: SharedArrayBuffer;
}

export interface RasterProjectTask {
  readonly op: 'project';
  readonly frame: RasterFrame;
  readonly scene: SharedRasterScene;
  readonly splats: SharedArrayBuffer;
  readonly start: number;
  readonly end: number;
}

export interface RasterPrepareTask {
  readonly op: 'prepare';
  readonly frame: RasterFrame;
  readonly splats: SharedArrayBuffer;
  readonly order: SharedArrayBuffer;
  readonly sorted: SharedArrayBuffer;
  readonly starts: SharedArrayBuffer;
  readonly items: SharedArrayBuffer;
}

export interface RasterRasterTask {
  readonly op: 'raster';
  readonly frame: RasterFrame;
  readonly sorted: SharedArrayBuffer;
  readonly starts: SharedArrayBuffer;
  readonly items: SharedArrayBuffer;
  /** Int32 `[1]`: next tile row to take (`Atomics.add`). */
  readonly counter: SharedArrayBuffer;
  /** Int32 `[1]`: set to 1 to stop taking rows (abort). */
  readonly stop: SharedArrayBuffer;
  readonly rgb: SharedArrayBuffer;
  readonly alpha: SharedArrayBuffer;
  readonly depth: SharedArrayBuffer | null;
}

/** What a thread answers. */
export type RasterTaskResult =
  | { readonly ok: true; readonly op: 'project' }
  | { readonly ok: true; readonly op: 'prepare'; readonly visible: number; readonly items: SharedArrayBuffer }
  | { readonly ok: true; readonly op: 'raster'; readonly rows: number }
  | { readonly ok: false; readonly code: string; readonly message: string };

/** Per-thread scratch kept between tasks. */
export interface RasterThreadState {
  sort: SortScratch;
  row: RowScratch;
}

/** Fresh {@link RasterThreadState}. */
export function createRasterThreadState(): RasterThreadState {
  return { sort: createSortScratch(), row: createRowScratch() };
}

/** Copies a scene's arrays to SharedArrayBuffers (once per scene). */
export function shareRasterScene(scene: RasterScene): SharedRasterScene {
  const share = (a: Float32Array): SharedArrayBuffer => {
    const sab = new SharedArrayBuffer(a.byteLength);
    new Float32Array(sab).set(a);
    return sab;
  };
  return {
    count: scene.count,
    shCoefficients: scene.shCoefficients,
    means: share(scene.means),
    scales: share(scene.scales),
    rotations: share(scene.rotations),
    harmonics: share(scene.harmonics),
    opacities: share(scene.opacities),
  };
}

/** Runs one task on the calling thread; never throws (errors become `{ ok: false }`). */
export function runRasterTask(task: RasterTask, state: RasterThreadState): RasterTaskResult {
  try {
    switch (task.op) {
      case 'project': {
        const s = task.scene;
        const scene: RasterScene = {
          count: s.count,
          shCoefficients: s.shCoefficients,
          means: new Float32Array(s.means),
          scales: new Float32Array(s.scales),
          rotations: new Float32Array(s.rotations),
          harmonics: new Float32Array(s.harmonics),
          opacities: new Float32Array(s.opacities),
        };
        projectSplats(scene, task.frame, task.start, task.end, new Float32Array(task.splats));
        return { ok: true, op: 'project' };
      }
      case 'prepare': {
        const splats = new Float32Array(task.splats);
        const order = new Int32Array(task.order);
        const n = sortSplatsByDepth(splats, task.frame.count, order, state.sort);
        const sorted = new Float32Array(task.sorted);
        gatherSplats(splats, order, 0, n, sorted);
        let itemsBuffer = task.items;
        const bins = binTileRows(sorted, n, task.frame, { starts: new Int32Array(task.starts), items: new Int32Array(task.items) }, (length) => {
          itemsBuffer = new SharedArrayBuffer(4 * length);
          return new Int32Array(itemsBuffer);
        });
        if (bins.starts.buffer !== task.starts) throw new Da3Error('BAD_VALUE', 'runRasterTask: starts buffer too small');
        return { ok: true, op: 'prepare', visible: n, items: itemsBuffer };
      }
      case 'raster': {
        const sorted = new Float32Array(task.sorted);
        const starts = new Int32Array(task.starts);
        const items = new Int32Array(task.items);
        const counter = new Int32Array(task.counter);
        const stop = new Int32Array(task.stop);
        const out = { rgb: new Float32Array(task.rgb), alpha: new Float32Array(task.alpha), depth: task.depth ? new Float32Array(task.depth) : null };
        let rows = 0;
        for (;;) {
          if (Atomics.load(stop, 0) !== 0) break;
          const ty = Atomics.add(counter, 0, 1);
          if (ty >= task.frame.tilesY) break;
          rasterizeTileRow(sorted, items, starts[ty], starts[ty + 1], task.frame, ty, out, state.row);
          rows++;
        }
        return { ok: true, op: 'raster', rows };
      }
      default:
        throw new Da3Error('BAD_VALUE', `runRasterTask: unknown op ${String((task as { op?: unknown }).op)}`);
    }
  } catch (e) {
    // RangeError: a typed array or SharedArrayBuffer could not be allocated.
    const code = e instanceof Da3Error ? e.code : e instanceof RangeError ? 'OUT_OF_MEMORY' : 'BAD_VALUE';
    return { ok: false, code, message: e instanceof Error ? e.message : String(e) };
  }
}

/** Bytes of the per-frame shared buffers for `count` Gaussians (splats, order, sorted). */
export function rasterSplatBytes(count: number): { splats: number; order: number; sorted: number } {
  return { splats: 4 * SPLAT_STRIDE * count, order: 4 * count, sorted: 4 * SPLAT_STRIDE * count };
}
