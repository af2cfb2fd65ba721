/**
 * The app's wiring: URL parameters → the model picker, inputs and options; Reconstruct → load
 * the model, decode the input, run inference, show the result in the 3D viewer, the depth viewer
 * and the download buttons; `window.da3App` for automation.
 */
import type { Prediction } from '@da3js/core';
import type { DepthAnything3 } from '@da3js/web';
import { DepthView } from './depth-view.js';
import { byId } from './dom.js';
import { Downloads } from './downloads.js';
import { describeError } from './errors.js';
import { type Da3AppHook, type PredictionLike, toPrediction } from './hook.js';
import { createInputs } from './inputs.js';
import { createModelPicker, hasGaussianHead } from './model-picker.js';
import { createOptions } from './options.js';
import { parseUrlParams } from './params.js';
import { providers, setProgress, setStatus, showInferenceProgress, showLoadProgress, statusText } from './status.js';
import { MeasureTool } from './viewer/measure-tool.js';
import { SceneController, readViewerSettings } from './viewer/scene-controller.js';
import { Viewer } from './viewer/viewer.js';

const params = parseUrlParams(location.search);

let prediction: Prediction | null = null;
let running = false;
const timings: { load?: number; decode?: number; inference?: number } = {};

const options = createOptions({ processRes: params.processRes });
const picker = createModelPicker(params, (model) => {
  options.setGaussiansAvailable(hasGaussianHead(model.config));
  byId('model-info').textContent = `Loaded: ${model.kind} model${hasGaussianHead(model.config) ? ' with a 3D-Gaussian head' : ''}.`;
});
const inputs = createInputs((s) => {
  const n = s.video ? 1 : s.images.length;
  if (n && !running) setStatus(`Ready: ${s.video ? 'a video' : `${n} image${n === 1 ? '' : 's'}`} selected. Press Reconstruct.`);
});
const viewer = new Viewer(byId('viewer'));
const scene = new SceneController(viewer);
const measure = new MeasureTool(viewer, byId<HTMLButtonElement>('measure-toggle'), byId('measure-result'));
const depthView = new DepthView();
const downloads = new Downloads(
  () => {
    const s = readViewerSettings();
    return { confThreshPercentile: s.confPercentile, numMaxPoints: s.maxPoints, showCameras: s.showCameras, filterBlackBg: s.filterBlackBg, filterWhiteBg: s.filterWhiteBg };
  },
  (text, error) => (error === undefined ? setStatus(text, 'done') : setStatus(`${text}: ${describeError(error)}`, 'error')),
);

function show(p: Prediction | PredictionLike): Prediction {
  prediction = toPrediction(p);
  measure.reset(prediction.isMetric);
  scene.setPrediction(prediction);
  depthView.setPrediction(prediction);
  downloads.setPrediction(prediction);
  return prediction;
}

async function run(): Promise<void> {
  if (running) return;
  running = true;
  const button = byId<HTMLButtonElement>('run');
  button.disabled = true;
  try {
    const sel = inputs.selection();
    if (!sel.video && sel.images.length === 0) throw new Error('choose one or more images, or a video, first');
    const opts = options.read();
    let t = performance.now();
    setStatus('Loading the model…', 'busy');
    const model: DepthAnything3 = await picker.load(showLoadProgress);
    timings.load = performance.now() - t;
    t = performance.now();
    setStatus(sel.video ? 'Sampling the video…' : 'Decoding the images…', 'busy');
    const frames = await inputs.decode((done, total) => setProgress(total ? done / total : null, `Decoded ${done}${total ? `/${total}` : ''}`));
    timings.decode = performance.now() - t;
    t = performance.now();
    setStatus(`Running Depth Anything 3 on ${frames.length} view${frames.length === 1 ? '' : 's'}…`, 'busy');
    const pred = await model.inference(frames, { ...opts, onProgress: showInferenceProgress });
    timings.inference = performance.now() - t;
    show(pred);
    setProgress(1, 'Done');
    setStatus(`Done: ${pred.views} view${pred.views === 1 ? '' : 's'} at ${pred.width}×${pred.height} in ${(timings.inference / 1000).toFixed(1)} s${pred.isMetric ? ' (metric)' : ''}.`, 'done');
  } catch (e) {
    console.error(e);
    setProgress(0, '');
    setStatus(describeError(e), 'error');
  } finally {
    running = false;
    button.disabled = false;
  }
}

byId('run').addEventListener('click', () => void run());

window.da3App = {
  ready: Promise.resolve(),
  status: statusText,
  get prediction() {
    return prediction;
  },
  get model() {
    return picker.current();
  },
  get providers() {
    return providers();
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
  },
  timings,
  run,
  showPrediction: show,
} satisfies Da3AppHook;

setStatus(crossOriginIsolated ? 'Choose images or a video.' : 'Choose images or a video. (Page not cross-origin isolated: WASM runs on one thread.)');
