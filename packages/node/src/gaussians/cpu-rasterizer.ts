import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import {
  Da3Error,
  type Da3ErrorCode,
  type GaussianRasterizer,
  type Gaussians,
  type RasterFrame,
  type RasterImage,
  type RasterTask,
  type RasterTaskResult,
  type RasterizeOptions,
  type RenderCamera,
  type SharedRasterScene,
  type SharedSliceBins,
  abortedError,
  prepareRasterFrame,
  rasterSplatBytes,
  shareRasterScene,
} from '@da3js/core';

/** Options of {@link createNodeCpuRasterizer}. */
export interface NodeCpuRasterizerOptions {
  /** Worker threads (1–64); default: `os.availableParallelism()`, at most 8. */
  readonly threads?: number;
}

/**
 * The worker: loads @da3js/core (CommonJS entry, resolved by the host) and answers
 * {@link RasterTask}s with core's `runRasterTask`.
 */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const core = require(workerData.coreEntry);
const state = core.createRasterThreadState();
parentPort.on('message', (task) => parentPort.postMessage(core.runRasterTask(task, state)));
`;

let coreEntry: string | undefined;
function resolveCoreEntry(): string {
  coreEntry ??= createRequire(import.meta.url).resolve('@da3js/core');
  return coreEntry;
}

interface PoolWorker {
  worker: Worker;
  pending: { resolve: (r: RasterTaskResult) => void; reject: (e: unknown) => void } | null;
}

/** Buffers kept between frames. */
interface Buffers {
  count: number;
  splats: SharedArrayBuffer;
  keys: SharedArrayBuffer;
  /** Per worker (slice), its tile-row bins of the last frame. */
  bins: (SharedSliceBins | null)[];
  counter: SharedArrayBuffer;
  stop: SharedArrayBuffer;
  pixels: number;
  rgb: SharedArrayBuffer;
  alpha: SharedArrayBuffer;
  depth: SharedArrayBuffer;
}

/**
 * A CPU {@link GaussianRasterizer} on `worker_threads`: core's rasterizer split across threads
 * sharing memory (SharedArrayBuffer). Each frame: every thread projects a slice of the Gaussians
 * and bins it by tile row; then the threads take tile rows in turn, sort each row's splats by
 * depth and composite them. Output is bit-identical to core's single-threaded `createCpuRasterizer`.
 *
 * The scene is copied to shared memory once per `Gaussians` object (kept while that object is
 * alive): treat a scene as immutable between renders, or pass a new object after changing it.
 * Workers start on the first render; `dispose()` stops them. Renders are queued (one at a time).
 *
 * ```ts
 * const raster = createNodeCpuRasterizer({ threads: 2 });
 * const image = await raster.render(prediction.gaussians!, camera, { renderMode: 'RGB+ED' });
 * await raster.dispose();
 * ```
 */
export function createNodeCpuRasterizer(options: NodeCpuRasterizerOptions = {}): GaussianRasterizer {
  const threads = options.threads ?? Math.min(8, Math.max(1, availableParallelism()));
  if (!Number.isInteger(threads) || threads < 1 || threads > 64) {
    throw new Da3Error('BAD_VALUE', `createNodeCpuRasterizer: threads must be an integer in 1..64, got ${threads}`);
  }
  const fn = 'NodeCpuRasterizer.render';
  let pool: PoolWorker[] | null = null;
  let disposed = false;
  let queue: Promise<unknown> = Promise.resolve();
  let buffers: Buffers | null = null;
  const scenes = new WeakMap<Gaussians, { shared: SharedRasterScene; arrays: readonly Float32Array[] }>();

  const failPool = (err: unknown): void => {
    const p = pool;
    pool = null;
    if (!p) return;
    for (const w of p) {
      w.pending?.reject(err);
      w.pending = null;
      void w.worker.terminate();
    }
  };

  const startPool = (): PoolWorker[] => {
    if (pool) return pool;
    const entry = resolveCoreEntry();
    const workers: PoolWorker[] = [];
    for (let i = 0; i < threads; i++) {
      const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { coreEntry: entry }, name: `da3js-raster-${i}` });
      const pw: PoolWorker = { worker, pending: null };
      worker.on('message', (r: RasterTaskResult) => {
        const p = pw.pending;
        pw.pending = null;
        p?.resolve(r);
      });
      worker.on('error', (e: Error & { code?: string }) =>
        failPool(new Da3Error(e.code === 'ERR_WORKER_OUT_OF_MEMORY' ? 'OUT_OF_MEMORY' : 'UNSUPPORTED', `${fn}: a rasterizer worker failed: ${e.message}`, { cause: e })),
      );
      worker.on('exit', (code) => {
        if (pool?.includes(pw)) failPool(new Da3Error('UNSUPPORTED', `${fn}: a rasterizer worker exited (code ${code})`));
      });
      worker.unref();
      workers.push(pw);
    }
    pool = workers;
    return workers;
  };

  const send = (w: PoolWorker, task: RasterTask): Promise<RasterTaskResult> =>
    new Promise<RasterTaskResult>((resolve, reject) => {
      w.pending = { resolve, reject };
      w.worker.postMessage(task);
    }).then((r) => {
      if (!r.ok) throw new Da3Error(r.code as Da3ErrorCode, `${fn}: ${r.message}`);
      return r;
    });

  /** Waits for every task (so no worker is still busy when the next step starts), then throws the first error. */
  const all = async (tasks: Promise<RasterTaskResult>[]): Promise<RasterTaskResult[]> => {
    const settled = await Promise.allSettled(tasks);
    const failed = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
    if (failed) throw failed.reason;
    return settled.map((s) => (s as PromiseFulfilledResult<RasterTaskResult>).value);
  };

  const sceneFor = (g: Gaussians): SharedRasterScene => {
    const arrays = [g.means, g.scales, g.rotations, g.harmonics, g.opacities];
    const hit = scenes.get(g);
    if (hit && hit.shared.count === g.count && hit.shared.shCoefficients === g.shCoefficients && hit.arrays.every((a, i) => a === arrays[i])) return hit.shared;
    const shared = shareRasterScene(g);
    scenes.set(g, { shared, arrays });
    return shared;
  };

  const buffersFor = (frame: RasterFrame): Buffers => {
    const n = frame.count;
    const pixels = frame.width * frame.height;
    const b = buffers;
    if (b && b.count >= n && b.pixels >= pixels) return b;
    const grow = (old: SharedArrayBuffer | undefined, bytes: number): SharedArrayBuffer => (old && old.byteLength >= bytes ? old : new SharedArrayBuffer(Math.max(bytes, 4)));
    const bytes = rasterSplatBytes(Math.max(n, b?.count ?? 0));
    const px = Math.max(pixels, b?.pixels ?? 0);
    buffers = {
      count: Math.max(n, b?.count ?? 0),
      splats: grow(b?.splats, bytes.splats),
      keys: grow(b?.keys, bytes.keys),
      bins: b?.bins ?? new Array<SharedSliceBins | null>(threads).fill(null),
      counter: b?.counter ?? new SharedArrayBuffer(4),
      stop: b?.stop ?? new SharedArrayBuffer(4),
      pixels: px,
      rgb: grow(b?.rgb, 12 * px),
      alpha: grow(b?.alpha, 4 * px),
      depth: grow(b?.depth, 4 * px),
    };
    return buffers;
  };

  const renderNow = async (gaussians: Gaussians, frame: RasterFrame, signal: RasterizeOptions['signal']): Promise<RasterImage> => {
    const check = (): void => {
      if (signal?.aborted) throw abortedError(signal, 'Gaussian rendering');
    };
    const workers = startPool();
    for (const w of workers) w.worker.ref();
    try {
      const scene = sceneFor(gaussians);
      const b = buffersFor(frame);
      const n = frame.count;
      check();
      // 1. project and bin by tile row, one slice of the Gaussians per thread
      const per = Math.ceil(n / workers.length);
      const projected = await all(
        workers.map((w, i) =>
          send(w, { op: 'project', frame, scene, splats: b.splats, keys: b.keys, start: Math.min(n, i * per), end: Math.min(n, (i + 1) * per), bins: b.bins[i] }),
        ),
      );
      b.bins = projected.map((r) => (r.ok && r.op === 'project' ? r.bins : null));
      check();
      // 2. sort and composite tile rows, taken in turn by every thread
      new Int32Array(b.counter)[0] = 0;
      const stop = new Int32Array(b.stop);
      stop[0] = 0;
      const onAbort = (): void => {
        Atomics.store(stop, 0, 1);
      };
      const sig = signal as { addEventListener?: (t: string, f: () => void) => void; removeEventListener?: (t: string, f: () => void) => void } | undefined;
      sig?.addEventListener?.('abort', onAbort);
      try {
        const bins = b.bins as SharedSliceBins[];
        await all(
          workers.map((w) =>
            send(w, { op: 'raster', frame, splats: b.splats, keys: b.keys, bins, counter: b.counter, stop: b.stop, rgb: b.rgb, alpha: b.alpha, depth: frame.withDepth ? b.depth : null }),
          ),
        );
      } finally {
        sig?.removeEventListener?.('abort', onAbort);
      }
      check();
      const pix = frame.width * frame.height;
      const image: { width: number; height: number; rgb: Float32Array; alpha: Float32Array; depth?: Float32Array } = {
        width: frame.width,
        height: frame.height,
        rgb: new Float32Array(b.rgb, 0, 3 * pix).slice(),
        alpha: new Float32Array(b.alpha, 0, pix).slice(),
      };
      if (frame.withDepth) image.depth = new Float32Array(b.depth, 0, pix).slice();
      return image;
    } finally {
      if (pool === workers) for (const w of workers) w.worker.unref();
    }
  };

  return {
    name: 'cpu-worker-threads',
    render(gaussians: Gaussians, camera: RenderCamera, opts: RasterizeOptions = {}): Promise<RasterImage> {
      if (disposed) return Promise.reject(new Da3Error('BAD_VALUE', `${fn}: the rasterizer was disposed`));
      let frame: RasterFrame;
      try {
        frame = prepareRasterFrame(fn, gaussians, camera, opts);
        if (opts.signal?.aborted) throw abortedError(opts.signal, 'Gaussian rendering');
      } catch (e) {
        return Promise.reject(e);
      }
      const run = queue.then(() => {
        if (disposed) throw new Da3Error('BAD_VALUE', `${fn}: the rasterizer was disposed`);
        return renderNow(gaussians, frame, opts.signal);
      });
      queue = run.catch(() => undefined);
      return run;
    },
    async dispose(): Promise<void> {
      disposed = true;
      await queue;
      const p = pool;
      pool = null;
      buffers = null;
      if (p) await Promise.all(p.map((w) => w.worker.terminate()));
    },
  };
}
