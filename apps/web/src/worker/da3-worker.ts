/**
 * The inference worker: loads the model (@da3js/web), decodes images, runs DA3 and exports, off
 * the page's thread, so the page never freezes. One run at a time; `cancel` aborts it (the page
 * terminates the worker when a session run does not let the abort through quickly).
 */
/// <reference lib="webworker" />
import { type GaussianRasterizer, type ImageU8, type PredictionInit, type RefViewStrategy, type ResizeMethod, createCpuRasterizer } from '@da3js/core';
import type { GsVideoProgress } from '@da3js/exporters';
import { DepthAnything3, type WebPrediction, type WebProgressEvent } from '@da3js/web';
import type { FromWorker, ToWorker, WorkerModelChoice } from './protocol.js';
import { yieldingRasterizer } from './yielding-rasterizer.js';

declare const self: DedicatedWorkerGlobalScope;

let model: DepthAnything3 | null = null;
let loadedKey = '';
let prediction: WebPrediction | null = null;
let current: AbortController | null = null;

const post = (msg: FromWorker, transfer: Transferable[] = []) => self.postMessage(msg, transfer);

const keyOf = (c: WorkerModelChoice) =>
  JSON.stringify(c.source === 'hub' ? c : { ...c, config: [c.config.name, c.config.size, c.config.lastModified], weights: [c.weights.name, c.weights.size, c.weights.lastModified] });

async function ensureModel(c: WorkerModelChoice, wasmPaths: string, signal: AbortSignal): Promise<DepthAnything3> {
  const key = keyOf(c);
  if (model && key === loadedKey) return model;
  if (model) await model.dispose();
  model = null;
  loadedKey = '';
  const options = {
    device: c.device,
    dtype: c.dtype,
    threads: c.threads,
    cache: c.cache ? undefined : (false as const),
    wasmPaths,
    // Progress of the model's lifetime (conversions happen in later runs): always to the run in hand.
    progress: (event: WebProgressEvent) => post({ type: 'load-progress', id: runId, event }),
    signal,
  };
  const m = c.source === 'hub' ? await DepthAnything3.fromPretrained(c.id, { ...options, endpoint: c.endpoint || undefined }) : await DepthAnything3.fromBlobs({ config: c.config, weights: c.weights }, options);
  model = m;
  loadedKey = key;
  return m;
}

let runId = 0;

function errorOf(e: unknown): { name: string; message: string; code?: string } {
  const err = e instanceof Error ? e : new Error(String(e));
  const code = (err as { code?: unknown }).code;
  return { name: err.name, message: err.message, code: typeof code === 'string' ? code : undefined };
}

/** A prediction as clonable data (the `export` method stays here). */
function plain(p: WebPrediction): PredictionInit {
  const { export: _export, ...data } = p;
  return data as PredictionInit;
}

async function run(msg: Extract<ToWorker, { type: 'run' }>): Promise<void> {
  runId = msg.id;
  current?.abort();
  const ac = new AbortController();
  current = ac;
  try {
    let t = performance.now();
    const m = await ensureModel(msg.choice, msg.wasmPaths, ac.signal);
    const load = performance.now() - t;
    post({ type: 'loaded', id: msg.id, model: { kind: m.kind, config: m.config }, ms: load });
    t = performance.now();
    let decodedAt = t;
    const o = msg.options;
    const p = await m.inference(msg.inputs as (File | ImageU8)[], {
      processRes: o.processRes,
      processResMethod: o.processResMethod as ResizeMethod,
      refViewStrategy: o.refViewStrategy as RefViewStrategy,
      useRayPose: o.useRayPose,
      inferGs: o.inferGs,
      signal: ac.signal,
      onProgress: (event) => {
        if (event.status === 'decode' && event.done === event.views) decodedAt = performance.now();
        post({ type: 'infer-progress', id: msg.id, event });
      },
    });
    prediction = p;
    const end = performance.now();
    post({ type: 'result', id: msg.id, prediction: plain(p), timings: { load, decode: decodedAt - t, inference: end - decodedAt } });
  } catch (e) {
    post({ type: 'error', id: msg.id, error: errorOf(e) });
  } finally {
    if (current === ac) current = null;
  }
}

async function exportFiles(msg: Extract<ToWorker, { type: 'export' }>): Promise<void> {
  const ac = new AbortController();
  current = ac;
  let rasterizer: GaussianRasterizer | undefined;
  try {
    if (!prediction) throw new Error('no prediction to export yet');
    // Functions do not cross postMessage: the gs_video's rasterizer (core's CPU one, with a turn of
    // the event loop before each frame so Cancel is heard) and its frame progress are made here.
    rasterizer = yieldingRasterizer(createCpuRasterizer());
    const gsVideo = { ...msg.options.gsVideo, rasterizer, onProgress: (event: GsVideoProgress) => post({ type: 'export-progress', id: msg.id, event }) };
    const files = await prediction.export(msg.formats, { ...msg.options, gsVideo, signal: ac.signal });
    post({ type: 'exported', id: msg.id, files });
  } catch (e) {
    post({ type: 'error', id: msg.id, error: errorOf(e) });
  } finally {
    await rasterizer?.dispose();
    if (current === ac) current = null;
  }
}

self.addEventListener('message', (ev: MessageEvent<ToWorker>) => {
  const msg = ev.data;
  if (msg.type === 'cancel') current?.abort(new Error('cancelled'));
  else if (msg.type === 'run') void run(msg);
  else if (msg.type === 'export') void exportFiles(msg);
});
