// The page side of bench/tasks/browser.mjs (bundled with esbuild at bench time): @da3js/web with
// onnxruntime-web's WASM backend or WebGPU provider, the wasm files served next to the bundle (no CDN).
// `globalThis.da3bench(options)` loads a hub-layout repo, times the first (converting) call and
// K more `model.inference` calls, and returns the numbers.
import { DepthAnything3 } from '@da3js/web';
import * as ort from 'onnxruntime-web';

ort.env.wasm.wasmPaths = new URL('./', import.meta.url).href;

const heap = () => {
  const m = performance.memory;
  return m ? { usedMiB: +(m.usedJSHeapSize / 2 ** 20).toFixed(1), totalMiB: +(m.totalJSHeapSize / 2 ** 20).toFixed(1) } : null;
};

/** The WebGPU adapter in words (`fallback` = a software adapter such as SwiftShader). */
async function adapterInfo() {
  const a = await navigator.gpu?.requestAdapter();
  if (!a) return null;
  const i = a.info ?? {};
  return { vendor: i.vendor, architecture: i.architecture, description: i.description, fallback: Boolean(a.isFallbackAdapter ?? i.isFallbackAdapter) };
}

/** A deterministic pseudo-random RGB image. */
function image(width, height) {
  const data = new Uint8Array(width * height * 3);
  let s = 1;
  for (let i = 0; i < data.length; i++) {
    s = (s * 1664525 + 1013904223) >>> 0;
    data[i] = s >>> 24;
  }
  return { data, width, height, channels: 3 };
}

globalThis.da3bench = async ({ repo, endpoint, device = 'wasm', threads, width, height, processRes, runs }) => {
  const marks = {};
  let ready = null;
  const mark = (name) => void (marks[name] = performance.now());
  const heaps = { start: heap() };
  const t0 = performance.now();
  const model = await DepthAnything3.fromPretrained(repo, {
    endpoint,
    device,
    dtype: 'fp32',
    threads,
    wasmPaths: new URL('./', import.meta.url).href,
    progress: (e) => {
      if (e.status === 'convert') mark('converted');
      if (e.status === 'ready') {
        mark('ready');
        ready = e;
      }
    },
  });
  const loadMs = performance.now() - t0;
  const input = [image(width, height)];
  // `network` comes once before the graph runs (graphsDone 0) and once after each graph.
  const onProgress = (e) => {
    if (e.stage !== 'network') mark(e.stage);
    else if (!e.graphsDone) mark('network');
    else if (e.graphsDone === e.graphsTotal) mark('networkDone');
  };
  const options = { processRes, onProgress };
  const call = async () => {
    const t = performance.now();
    const prediction = await model.inference(input, options);
    return { prediction, ms: performance.now() - t, networkMs: marks.networkDone - marks.network };
  };
  const first = await call();
  heaps.afterFirst = heap();
  // First call = preprocess → [convert → session] → run → postprocess.
  const convertMs = marks.converted - marks.network;
  const sessionCreateMs = marks.ready - marks.converted;
  const firstRunMs = marks.networkDone - marks.ready;
  const firstInferenceMs = first.ms - (marks.ready - marks.network);
  let finite = true;
  for (const v of first.prediction.depth) if (!Number.isFinite(v)) finite = false;
  const times = [];
  const network = [];
  for (let r = 0; r < runs; r++) {
    const c = await call();
    times.push(c.ms);
    network.push(c.networkMs);
  }
  heaps.end = heap();
  await model.dispose();
  return {
    crossOriginIsolated: globalThis.crossOriginIsolated,
    numThreads: ort.env.wasm.numThreads,
    providers: ready?.providers,
    precision: ready?.precision,
    adapter: device === 'webgpu' ? await adapterInfo() : undefined,
    ortVersion: ort.env.versions?.web,
    size: [first.prediction.height, first.prediction.width],
    loadMs,
    convertMs,
    sessionCreateMs,
    firstRunMs,
    firstInferenceMs,
    firstCallMs: first.ms,
    times,
    network,
    finite,
    heaps,
  };
};
