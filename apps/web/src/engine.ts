/**
 * The page's side of the inference worker: runs and exports as promises, progress as callbacks,
 * and a Cancel that really stops — it aborts the run in the worker, and when the worker does not
 * answer within {@link CANCEL_GRACE_MS} (onnxruntime cannot interrupt a session run, and a run
 * blocks the worker's thread) it terminates the worker; the next run starts a fresh one (the
 * converted graph comes back from the browser's cache).
 */
import type { ImageU8, InferenceProgress, PredictionInit } from '@da3js/core';
import type { ExportOptions, GsVideoProgress } from '@da3js/exporters';
import type { DecodeProgress, WebProgressEvent } from '@da3js/web';
import type { FromWorker, ToWorker, WorkerInferenceOptions, WorkerModelChoice, WorkerModelInfo } from './worker/protocol.js';

/** How long a cancelled run may take to stop by itself before the worker is terminated. */
export const CANCEL_GRACE_MS = 300;

/**
 * How long a cancelled export may take to stop by itself: the gs_video render stops after the
 * frame in hand (a CPU frame can take a second or more), and terminating the worker loses its
 * prediction (later exports then run on the page's thread).
 */
export const EXPORT_CANCEL_GRACE_MS = 3000;

/** The error a cancelled run or export rejects with (`code` `ABORTED`, like the library's). */
export class CancelledError extends Error {
  readonly code = 'ABORTED';
  constructor(readonly terminated: boolean) {
    super(terminated ? 'cancelled (the worker was stopped)' : 'cancelled');
    this.name = 'CancelledError';
  }
}

/** An error from the worker, with the library's `code`. */
export class WorkerError extends Error {
  constructor(
    message: string,
    readonly code?: string,
    name = 'Error',
  ) {
    super(message);
    this.name = name;
  }
}

/** Callbacks of one run. */
export interface RunCallbacks {
  onLoadProgress?(e: WebProgressEvent): void;
  onInferProgress?(e: InferenceProgress | DecodeProgress): void;
  onLoaded?(model: WorkerModelInfo, ms: number): void;
  /** An export's progress (gs_video: each frame rendered, then each frame encoded). */
  onExportProgress?(e: GsVideoProgress): void;
}

/** What a run gives back. */
export interface RunResult {
  readonly prediction: PredictionInit;
  readonly timings: { readonly load: number; readonly decode: number; readonly inference: number };
}

interface Pending {
  readonly resolve: (v: never) => void;
  readonly reject: (e: unknown) => void;
  readonly callbacks?: RunCallbacks;
  /** Settles when the request has (resolved or rejected). */
  readonly done: Promise<void>;
}

/** The worker client. One run or export at a time (a new one cancels nothing: the UI prevents it). */
export class Engine {
  private worker: Worker | null = null;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  /** Workers terminated by Cancel so far (the automation hook reports it). */
  terminations = 0;
  /** The model loaded in the current worker (null after a termination). */
  model: WorkerModelInfo | null = null;

  constructor(private readonly create: () => Worker = () => new Worker(new URL('./worker/da3-worker.ts', import.meta.url), { type: 'module', name: 'da3-inference' })) {}

  private ensure(): Worker {
    if (this.worker) return this.worker;
    const w = this.create();
    w.addEventListener('message', (ev: MessageEvent<FromWorker>) => this.receive(ev.data));
    w.addEventListener('error', (ev) => {
      ev.preventDefault();
      this.failAll(new WorkerError(`the inference worker failed: ${ev.message || 'unknown error'}`));
    });
    this.worker = w;
    return w;
  }

  private receive(msg: FromWorker): void {
    const p = this.pending.get(msg.id);
    if (!p) return;
    switch (msg.type) {
      case 'load-progress':
        p.callbacks?.onLoadProgress?.(msg.event);
        break;
      case 'infer-progress':
        p.callbacks?.onInferProgress?.(msg.event);
        break;
      case 'export-progress':
        p.callbacks?.onExportProgress?.(msg.event);
        break;
      case 'loaded':
        this.model = msg.model;
        p.callbacks?.onLoaded?.(msg.model, msg.ms);
        break;
      case 'result':
        this.pending.delete(msg.id);
        p.resolve({ prediction: msg.prediction, timings: msg.timings } as never);
        break;
      case 'exported':
        this.pending.delete(msg.id);
        p.resolve(msg.files as never);
        break;
      case 'error':
        this.pending.delete(msg.id);
        p.reject(msg.error.code === 'ABORTED' ? new CancelledError(false) : new WorkerError(msg.error.message, msg.error.code, msg.error.name));
        break;
    }
  }

  private failAll(error: unknown): void {
    for (const p of this.pending.values()) p.reject(error);
    this.pending.clear();
  }

  private send<T>(msg: ToWorker, callbacks?: RunCallbacks, transfer: Transferable[] = []): Promise<T> {
    const w = this.ensure();
    let markDone: () => void = () => undefined;
    const done = new Promise<void>((r) => {
      markDone = r;
    });
    return new Promise<T>((resolve, reject) => {
      this.pending.set((msg as { id: number }).id, {
        resolve: (v: never) => {
          markDone();
          resolve(v);
        },
        reject: (e: unknown) => {
          markDone();
          reject(e);
        },
        callbacks,
        done,
      });
      w.postMessage(msg, transfer);
    });
  }

  /** True while a run or an export is in flight. */
  get busy(): boolean {
    return this.pending.size > 0;
  }

  /** Loads the model if needed (in the worker), decodes the inputs and runs DA3. */
  run(choice: WorkerModelChoice, wasmPaths: string, inputs: readonly (File | ImageU8)[], options: WorkerInferenceOptions, callbacks: RunCallbacks = {}): Promise<RunResult> {
    const transfer = inputs.flatMap((i) => (i instanceof Blob ? [] : [(i.data as Uint8Array).buffer as ArrayBuffer]));
    return this.send({ type: 'run', id: this.nextId++, choice, wasmPaths, inputs, options }, callbacks, transfer);
  }

  /**
   * Exports the worker's last prediction. `options` must be clonable (no functions: the gs_video
   * rasterizer, encoder and `onProgress` are the worker's); progress comes to `onExportProgress`.
   */
  export(formats: string, options: Omit<ExportOptions, 'signal'>, callbacks: Pick<RunCallbacks, 'onExportProgress'> = {}): Promise<File[]> {
    return this.send({ type: 'export', id: this.nextId++, formats, options }, callbacks);
  }

  /**
   * Cancels what is in flight: asks the worker to abort, and terminates it when it has not
   * stopped after `graceMs` (default {@link CANCEL_GRACE_MS}). Resolves once nothing is pending;
   * `true` when the worker had to be terminated.
   */
  async cancel(graceMs = CANCEL_GRACE_MS): Promise<boolean> {
    if (!this.worker || this.pending.size === 0) return false;
    const waiting = [...this.pending.values()];
    this.worker.postMessage({ type: 'cancel' } satisfies ToWorker);
    const stopped = Promise.all(waiting.map((p) => p.done));
    const inTime = await Promise.race([stopped.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), graceMs))]);
    if (inTime) return false;
    this.terminate();
    return true;
  }

  /** Stops the worker at once; everything pending rejects with {@link CancelledError}. */
  terminate(): void {
    this.worker?.terminate();
    this.worker = null;
    this.model = null;
    this.terminations++;
    this.failAll(new CancelledError(true));
  }
}
