/**
 * The status line, the progress bar and the viewer's busy overlay: one place that says what the
 * app is doing (with the view count and, once this model has run here before, how long the
 * network should take), what went wrong, and how far a download / conversion / inference has got.
 */
import type { InferenceProgress } from '@da3js/core';
import type { GsVideoProgress } from '@da3js/exporters';
import type { DecodeProgress, WebProgressEvent } from '@da3js/web';
import { byId } from './dom.js';

/** Kinds of status message (errors are styled and announced). */
export type StatusKind = 'info' | 'busy' | 'done' | 'error';

let current = '';
let lastProviders: string[] = [];

/** Execution providers of the last session made ready (e.g. `['webgpu', 'wasm']`). */
export function providers(): readonly string[] {
  return lastProviders;
}

/** Shows `text` in the status area. */
export function setStatus(text: string, kind: StatusKind = 'info'): void {
  current = text;
  const el = byId('status');
  el.textContent = text;
  el.className = `status ${kind}`;
  el.dataset.kind = kind;
  el.setAttribute('role', kind === 'error' ? 'alert' : 'status');
}

/** The last status text (the automation hook's `status()`). */
export function statusText(): string {
  return current;
}

let etaTimer: ReturnType<typeof setInterval> | undefined;

function stopEta(): void {
  if (etaTimer !== undefined) clearInterval(etaTimer);
  etaTimer = undefined;
  byId('progress-eta').textContent = '';
}

/** Sets the progress bar (`fraction` in [0, 1], or `null` for indeterminate) and its caption. */
export function setProgress(fraction: number | null, caption: string): void {
  const bar = byId<HTMLProgressElement>('progress');
  if (fraction === null) bar.removeAttribute('value');
  else bar.value = Math.min(1, Math.max(0, fraction));
  byId('progress-text').textContent = caption;
  byId('viewer-busy-text').textContent = caption;
}

/** Shows or hides the busy state: progress row, viewer overlay, `body[data-state]`. */
export function setBusy(busy: boolean): void {
  document.body.dataset.state = busy ? 'busy' : 'ready';
  byId('progress-row').hidden = !busy;
  byId('viewer-busy').hidden = !busy;
  byId('viewer').setAttribute('aria-busy', String(busy));
  byId('viewer-empty').classList.toggle('behind', busy);
  if (!busy) {
    stopEta();
    networkEvent = null;
  }
}

const mib = (bytes: number) => (bytes / 2 ** 20).toFixed(1);
const views = (n: number) => `${n} view${n === 1 ? '' : 's'}`;

/** What a graph role is called in messages ("net" is the whole network of a one-graph model). */
export function roleLabel(role: string | undefined): string {
  if (role === 'anyview') return 'the any-view network';
  if (role === 'metric') return 'the metric network';
  return 'the network';
}

let weightsRead = '';
/** The network stage's first event while that stage runs (a first-use conversion interrupts its caption). */
let networkEvent: InferenceProgress | null = null;

/** Shows a library progress event (download, conversion, cache, ready). */
export function showLoadProgress(e: WebProgressEvent): void {
  switch (e.status) {
    case 'progress':
      // Weights are range-read while converting: the next 'convert' caption shows these bytes.
      weightsRead = ` · ${mib(e.loaded)} of ${mib(e.total)} MiB downloaded`;
      break;
    case 'initiate':
      setProgress(null, `Downloading ${shortName(e.file)}…`);
      break;
    case 'done':
      setProgress(null, `Downloaded ${shortName(e.file)}`);
      break;
    case 'convert':
      setProgress(e.done / Math.max(1, e.total), `Preparing ${roleLabel(e.role)} for this browser (first use only): ${e.done} of ${e.total} weights${weightsRead}`);
      break;
    case 'cache':
      weightsRead = '';
      setProgress(null, e.hit ? `Found ${roleLabel(e.role)} in this browser's cache` : `Downloading and preparing ${roleLabel(e.role)} (first use only)…`);
      break;
    case 'ready':
      lastProviders = [...e.providers];
      setProgress(null, `Model ready on ${e.providers[0] === 'webgpu' ? 'WebGPU' : 'WASM (CPU)'} (${e.precision === 'float16' ? 'fp16' : 'fp32'})`);
      byId('device-badge').textContent = e.providers[0] === 'webgpu' ? 'Running on WebGPU' : 'Running on WASM (CPU)';
      // The session now runs: back to the network caption (and its estimate, timed from here).
      if (networkEvent) showInferenceProgress(networkEvent);
      break;
    case 'warning':
      console.warn(`da3js: ${e.message}`);
      break;
  }
}

/** "about 12 s left" / "about 2 min left". */
export function formatRemaining(ms: number): string {
  if (ms <= 1000) return 'almost done';
  const s = Math.round(ms / 1000);
  return s < 90 ? `about ${s} s left` : `about ${Math.round(s / 60)} min left`;
}

/** Shows an inference progress event: decoding per view, then each stage with the view count. */
export function showInferenceProgress(e: InferenceProgress | DecodeProgress): void {
  if (e.status === 'decode') {
    networkEvent = null;
    setProgress((0.1 * e.done) / e.views, `Decoded ${e.done} of ${views(e.views)}`);
    return;
  }
  stopEta();
  networkEvent = e.stage === 'network' && e.graphsDone === 0 ? e : null;
  if (e.stage === 'preprocess') setProgress(0.12, `Resizing and normalising ${views(e.views)}…`);
  else if (e.stage === 'postprocess') setProgress(0.95, `Computing depth, cameras and points for ${views(e.views)}…`);
  else if (e.graphsDone === 0) {
    const size = e.width && e.height ? ` at ${e.width}×${e.height}` : '';
    const caption = `Running the network on ${views(e.views)}${size}${(e.graphsTotal ?? 1) > 1 ? ` (1 of ${e.graphsTotal} networks)` : ''}…`;
    const estimate = e.estimatedMs;
    if (estimate === undefined) {
      setProgress(null, caption);
      byId('progress-eta').textContent = 'first run on this device: no time estimate yet';
      return;
    }
    const start = performance.now();
    const tick = () => {
      const elapsed = performance.now() - start;
      setProgress(0.15 + 0.75 * Math.min(0.97, elapsed / Math.max(1, estimate)), caption);
      byId('progress-eta').textContent = formatRemaining(estimate - elapsed);
    };
    tick();
    etaTimer = setInterval(tick, 250);
  } else {
    setProgress(0.9, `Network ${e.graphsDone} of ${e.graphsTotal} done…`);
  }
}

/** Share of the progress bar the gs_video's rendering takes (the rest is composing and encoding). */
export const GS_VIDEO_RENDER_SHARE = 0.85;

/**
 * The progress bar position (in [0, 1]) and caption of a gs_video frame event: "Rendering video
 * frame 37 of 121", then "Encoding video frame 37 of 121" (rendering fills the first
 * {@link GS_VIDEO_RENDER_SHARE} of the bar).
 */
export function exportProgressView(e: GsVideoProgress): { fraction: number; caption: string } {
  const total = Math.max(1, e.total);
  const part = Math.min(1, Math.max(0, e.done / total));
  return e.stage === 'render'
    ? { fraction: GS_VIDEO_RENDER_SHARE * part, caption: `Rendering video frame ${e.done} of ${e.total}` }
    : { fraction: GS_VIDEO_RENDER_SHARE + (1 - GS_VIDEO_RENDER_SHARE) * part, caption: `Encoding video frame ${e.done} of ${e.total}` };
}

/** Shows a gs_video frame event on the progress bar and the viewer's busy overlay. */
export function showExportProgress(e: GsVideoProgress): void {
  const { fraction, caption } = exportProgressView(e);
  setProgress(fraction, caption);
}

function shortName(url: string | undefined): string {
  if (!url) return '';
  return url.split('/').pop() ?? url;
}
