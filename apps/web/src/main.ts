/**
 * The app's wiring: URL parameters → the model picker, inputs and options; Reconstruct → the
 * inference worker (engine.ts: load the model, decode, run DA3, all off this thread) → the 3D
 * viewer, the depth viewer and the download buttons; Cancel stops a run for real (abort, then
 * terminate the worker); `window.da3App` for automation.
 */
import type { Prediction } from '@da3js/core';
import type { ExportOptions } from '@da3js/exporters';
import { DepthView } from './depth-view.js';
import { byId } from './dom.js';
import { Downloads, exportFiles } from './downloads.js';
import { createGsVideoControls } from './gs-video-controls.js';
import { CANCEL_GRACE_MS, CancelledError, EXPORT_CANCEL_GRACE_MS, Engine } from './engine.js';
import { describeError } from './errors.js';
import { type Example, createExampleButtons, exampleFiles } from './examples.js';
import { type Da3AppHook, type PredictionLike, toPrediction } from './hook.js';
import { createInputs } from './inputs.js';
import { createModelPicker, hasGaussianHead, ortWasmPaths } from './model-picker.js';
import { createOptions } from './options.js';
import { parseUrlParams } from './params.js';
import { providers, setBusy, setProgress, setStatus, showExportProgress, showInferenceProgress, showLoadProgress, statusText } from './status.js';
import { MeasureTool } from './viewer/measure-tool.js';
import { SceneController, readViewerSettings } from './viewer/scene-controller.js';
import { SplatView } from './viewer/splats.js';
import { Viewer } from './viewer/viewer.js';

const params = parseUrlParams(location.search);

let prediction: Prediction | null = null;
/** True when `prediction` is the worker's last result (exports then run in the worker). */
let predictionInWorker = false;
let running: AbortController | null = null;
/** True while `running` is an export (Cancel then waits longer for the worker, see EXPORT_CANCEL_GRACE_MS). */
let exporting = false;
const timings: { load?: number; decode?: number; inference?: number } = {};

const engine = new Engine();
const options = createOptions({ processRes: params.processRes });
const picker = createModelPicker(params);
const runButton = byId<HTMLButtonElement>('run');
const cancelButton = byId<HTMLButtonElement>('cancel');
const inputs = createInputs((s) => {
  const n = s.video ? 1 : s.images.length;
  if (n && !running) setStatus(`Ready: ${s.video ? 'a video' : `${n} image${n === 1 ? '' : 's'}`} selected. Press Reconstruct.`);
});
const viewer = new Viewer(byId('viewer'));
const scene = new SceneController(viewer);
const measure = new MeasureTool(viewer, byId<HTMLButtonElement>('measure-toggle'), byId('measure-result'));
const splats = new SplatView(viewer, byId<HTMLInputElement>('show-splats'));
const depthView = new DepthView();
const gsVideoControls = createGsVideoControls();
const downloads = new Downloads(
  () => {
    const s = readViewerSettings();
    return { confThreshPercentile: s.confPercentile, numMaxPoints: s.maxPoints, showCameras: s.showCameras, filterBlackBg: s.filterBlackBg, filterWhiteBg: s.filterWhiteBg, gsVideo: gsVideoControls.options() };
  },
  (text, kind, error) => setStatus(error === undefined ? text : `${text}: ${describeError(error)}`, kind),
  (p, format, o) => runExport(p, format, o),
);
const exampleButtons = createExampleButtons((ex) => void runExample(ex));

/** Runs `fn` as a named User Timing measure (`da3:…`, visible in DevTools and to the tests). */
function timed<T>(name: string, fn: () => T): T {
  const start = performance.now();
  try {
    return fn();
  } finally {
    performance.measure(`da3:${name}`, { start, end: performance.now() });
  }
}

function show(p: Prediction | PredictionLike, inWorker = false): Prediction {
  const shown = timed('validate', () => toPrediction(p));
  prediction = shown;
  predictionInWorker = inWorker;
  measure.reset(shown.isMetric);
  timed('cloud', () => scene.setPrediction(shown));
  timed('depth', () => depthView.setPrediction(shown));
  downloads.setPrediction(shown);
  splats.setGaussians(shown.gaussians);
  byId('viewer-empty').hidden = true;
  return shown;
}

function setRunning(on: boolean): void {
  runButton.disabled = on;
  cancelButton.disabled = !on;
  for (const b of exampleButtons) b.disabled = on;
  downloads.setBusy(on);
  setBusy(on);
}

/**
 * One export, as long work: busy state, progress (gs_video: frame by frame), and Cancel (which
 * aborts it in the worker, or here for a prediction shown without the worker).
 */
async function runExport(p: Prediction, format: string, o: ExportOptions): Promise<File[]> {
  if (running) throw new Error('wait for the current run or export to finish (or cancel it)');
  const ac = new AbortController();
  running = ac;
  setRunning(true);
  setProgress(null, `Exporting ${format}…`);
  exporting = true;
  try {
    if (predictionInWorker && p === prediction) return await engine.export(format, o, { onExportProgress: showExportProgress });
    return await exportFiles(p, format, { ...o, signal: ac.signal, gsVideo: { ...o.gsVideo, onProgress: showExportProgress } });
  } catch (e) {
    // A terminated worker took its prediction along: later exports run here, from the shown one.
    if (e instanceof CancelledError && e.terminated) predictionInWorker = false;
    throw e;
  } finally {
    exporting = false;
    running = null;
    setRunning(false);
  }
}

async function run(): Promise<void> {
  if (running) return;
  const ac = new AbortController();
  running = ac;
  setRunning(true);
  try {
    const sel = inputs.selection();
    if (!sel.video && sel.images.length === 0) throw new Error('choose one or more images or a video first — or try an example');
    const opts = options.read();
    const choice = picker.choice();
    setStatus(sel.video ? 'Sampling the video…' : 'Starting…', 'busy');
    setProgress(null, sel.video ? 'Sampling the video…' : 'Starting…');
    const t0 = performance.now();
    const frames = await inputs.prepare(ac.signal, (n) => setProgress(null, `Sampled ${n} frame${n === 1 ? '' : 's'}`));
    const sampling = performance.now() - t0;
    setStatus(`Reconstructing ${frames.length} view${frames.length === 1 ? '' : 's'}…`, 'busy');
    const result = await engine.run(choice, ortWasmPaths(), frames, opts, {
      onLoadProgress: showLoadProgress,
      onInferProgress: showInferenceProgress,
      onLoaded: (model) => {
        options.setGaussiansAvailable(hasGaussianHead(model.config));
        byId('model-info').textContent = `Loaded: ${model.kind === 'anyview' ? 'any-view' : model.kind} model${hasGaussianHead(model.config) ? ' with a 3D-Gaussian head' : ''}.`;
      },
    });
    timings.load = result.timings.load;
    timings.decode = result.timings.decode + sampling;
    timings.inference = result.timings.inference;
    performance.mark('da3:result');
    const pred = timed('show', () => show(result.prediction, true));
    setStatus(`Done: ${pred.views} view${pred.views === 1 ? '' : 's'} at ${pred.width}×${pred.height} in ${(timings.inference / 1000).toFixed(1)} s${pred.isMetric ? ' (metric, metres)' : ''}.`, 'done');
  } catch (e) {
    if (e instanceof CancelledError || (e as { code?: string }).code === 'ABORTED') {
      setStatus(`Cancelled${e instanceof CancelledError && e.terminated ? ' (the running computation was stopped)' : ''}. Ready for the next run.`, 'info');
    } else {
      console.error(e);
      setStatus(describeError(e), 'error');
    }
  } finally {
    running = null;
    setRunning(false);
  }
}

/** Cancel: abort what runs here (video sampling) and in the worker; resolves when stopped. */
async function cancel(): Promise<void> {
  if (!running) return;
  setProgress(null, 'Cancelling…');
  running.abort();
  await engine.cancel(exporting ? EXPORT_CANCEL_GRACE_MS : CANCEL_GRACE_MS);
}

async function runExample(example: Example): Promise<void> {
  if (running) return;
  try {
    inputs.setFiles(await exampleFiles(example));
  } catch (e) {
    setStatus(describeError(e), 'error');
    return;
  }
  await run();
}

runButton.addEventListener('click', () => void run());
cancelButton.addEventListener('click', () => void cancel());
document.addEventListener('keydown', (e) => {
  if (e.key === 'Escape' && running) void cancel();
});

window.da3App = {
  ready: Promise.resolve(),
  status: statusText,
  get prediction() {
    return prediction;
  },
  get model() {
    return engine.model;
  },
  get providers() {
    return providers();
  },
  get busy() {
    return running !== null;
  },
  get workerTerminations() {
    return engine.terminations;
  },
  measure: {
    get lastDistance() {
      return measure.state().lastDistance;
    },
  },
  viewer: {
    get pointsShown() {
      return scene.pointsShown;
    },
    project: (x, y, z) => viewer.project(x, y, z),
    splats: {
      get enabled() {
        return splats.enabled;
      },
      get backend() {
        return splats.backend;
      },
      get frames() {
        return splats.frames;
      },
      get lastFrameMs() {
        return splats.lastFrameMs;
      },
    },
  },
  timings,
  run,
  cancel,
  showPrediction: (p) => show(p, false),
} satisfies Da3AppHook;

setStatus(crossOriginIsolated ? 'Choose photos or a video — or try an example.' : 'Choose photos or a video — or try an example. (This page is not cross-origin isolated: WASM runs on one thread.)');
