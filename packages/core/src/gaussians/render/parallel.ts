import { Da3Error } from '../../errors.js';
import { type RowScratch, type SliceBins, binSplats, createRowScratch, rasterizeTileRow } from './composite.js';
import type { RasterFrame, RasterScene } from './frame.js';
import { SPLAT_STRIDE, projectSplats } from './project.js';

/**
 * The CPU rasterizer split into tasks for a pool of threads that share memory (Node
 * `worker_threads`, or Web Workers with cross-origin isolation). Runtime-free: the host posts
 * {@link RasterTask}s and each thread answers with {@link runRasterTask}; all arrays live on
 * SharedArrayBuffers. One frame is two steps, both on every thread:
 *
 * 1. `project`: a slice of the Gaussians → `splats` and depth `keys`, and the slice's tile-row bins
 *    (returned; the host passes them back next frame for reuse);
 * 2. `raster`: tile rows taken in turn from an atomic counter: collect the row's splats from every
 *    slice (slice order), sort by depth, composite → output planes.
 *
 * The maths is the single-threaded rasterizer's, so the output is bit-identical to it.
 */
export type RasterTask = RasterProjectTask | RasterRasterTask;

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

/** One slice's tile-row bins on shared memory (Int32 `starts`, `items`; see `SliceBins`). */
export interface SharedSliceBins {
  readonly starts: SharedArrayBuffer;
  readonly items: SharedArrayBuffer;
}

export interface RasterProjectTask {
  readonly op: 'project';
  readonly frame: RasterFrame;
  readonly scene: SharedRasterScene;
  /** Float32 `[G, SPLAT_STRIDE]`. */
  readonly splats: SharedArrayBuffer;
  /** Uint32 `[G]`. */
  readonly keys: SharedArrayBuffer;
  readonly start: number;
  readonly end: number;
  /** This slice's bins of the previous frame, reused when big enough. */
  readonly bins: SharedSliceBins | null;
}

export interface RasterRasterTask {
  readonly op: 'raster';
  readonly frame: RasterFrame;
  readonly splats: SharedArrayBuffer;
  readonly keys: SharedArrayBuffer;
  /** Every slice's bins, in slice order. */
  readonly bins: readonly SharedSliceBins[];
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
  | { readonly ok: true; readonly op: 'project'; readonly bins: SharedSliceBins }
  | { readonly ok: true; readonly op: 'raster'; readonly rows: number }
  | { readonly ok: false; readonly code: string; readonly message: string };

/** Per-thread scratch kept between tasks. */
export interface RasterThreadState {
  row: RowScratch;
}

/** Fresh {@link RasterThreadState}. */
export function createRasterThreadState(): RasterThreadState {
  return { row: createRowScratch() };
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
        const splats = new Float32Array(task.splats);
        projectSplats(scene, task.frame, task.start, task.end, splats);
        const bins = binSplats(
          splats,
          task.frame,
          task.start,
          task.end,
          new Uint32Array(task.keys),
          task.bins ? { starts: new Int32Array(task.bins.starts), items: new Int32Array(task.bins.items) } : null,
          (length) => new Int32Array(new SharedArrayBuffer(4 * length)),
        );
        return { ok: true, op: 'project', bins: { starts: bins.starts.buffer as SharedArrayBuffer, items: bins.items.buffer as SharedArrayBuffer } };
      }
      case 'raster': {
        const splats = new Float32Array(task.splats);
        const keys = new Uint32Array(task.keys);
        const slices: SliceBins[] = task.bins.map((b) => ({ starts: new Int32Array(b.starts), items: new Int32Array(b.items) }));
        const counter = new Int32Array(task.counter);
        const stop = new Int32Array(task.stop);
        const out = { rgb: new Float32Array(task.rgb), alpha: new Float32Array(task.alpha), depth: task.depth ? new Float32Array(task.depth) : null };
        let rows = 0;
        for (;;) {
          if (Atomics.load(stop, 0) !== 0) break;
          const ty = Atomics.add(counter, 0, 1);
          if (ty >= task.frame.tilesY) break;
          rasterizeTileRow(splats, keys, slices, task.frame, ty, out, state.row);
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

/** Bytes of the per-frame shared buffers for `count` Gaussians (`splats`, `keys`). */
export function rasterSplatBytes(count: number): { splats: number; keys: number } {
  return { splats: 4 * SPLAT_STRIDE * count, keys: 4 * count };
}
