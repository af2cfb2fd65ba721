/**
 * The status line and the progress bar: one place that says what the app is doing, what went
 * wrong, and how far a download / conversion / inference has got.
 */
import type { InferenceProgress } from '@da3js/core';
import type { WebProgressEvent } from '@da3js/web';
import { byId } from './dom.js';

/** Kinds of status message (errors are styled). */
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
  el.className = kind;
  el.dataset.kind = kind;
}

/** The last status text (the automation hook's `status()`). */
export function statusText(): string {
  return current;
}

/** Sets the progress bar (`fraction` in [0, 1], or `null` for indeterminate) and its caption. */
export function setProgress(fraction: number | null, caption: string): void {
  const bar = byId<HTMLProgressElement>('progress');
  if (fraction === null) bar.removeAttribute('value');
  else bar.value = Math.min(1, Math.max(0, fraction));
  byId('progress-text').textContent = caption;
}

let weightsRead = '';

/** Shows a library progress event (download, conversion, cache, ready). */
export function showLoadProgress(e: WebProgressEvent): void {
  const ev = e as WebProgressEvent & { status: string; role?: string; done?: number; total?: number; loaded?: number; file?: string; hit?: boolean; providers?: readonly string[]; precision?: string };
  switch (ev.status) {
    case 'progress':
      // Weights are range-read while converting: the next 'convert' caption shows these bytes.
      weightsRead = `, ${((ev.loaded ?? 0) / 2 ** 20).toFixed(1)} of ${((ev.total ?? 0) / 2 ** 20).toFixed(1)} MiB read`;
      break;
    case 'initiate':
      setProgress(null, `Downloading ${shortName(ev.file)}…`);
      break;
    case 'done':
      setProgress(1, `Downloaded ${shortName(ev.file)}`);
      break;
    case 'convert':
      setProgress((ev.done ?? 0) / Math.max(1, ev.total ?? 1), `Converting the ${ev.role} network: ${ev.done}/${ev.total} weights${weightsRead}`);
      break;
    case 'cache':
      setProgress(null, ev.hit ? `Converted ${ev.role} graph found in the browser cache` : `Caching the converted ${ev.role} graph`);
      break;
    case 'ready':
      setProgress(1, `Session ready (${(ev.providers ?? []).join(', ')}${ev.precision ? `, ${ev.precision}` : ''})`);
      lastProviders = [...(ev.providers ?? [])];
      break;
    default:
      setProgress(null, String((e as { status: unknown }).status));
  }
}

const STAGES = { preprocess: [0.05, 'Preprocessing'], network: [0.4, 'Running the network'], postprocess: [0.9, 'Post-processing'] } as const;

/** Shows an inference progress event. */
export function showInferenceProgress(e: InferenceProgress): void {
  const [f, label] = STAGES[e.stage] ?? [null, e.stage];
  setProgress(f, `${label} (${e.views} view${e.views === 1 ? '' : 's'})…`);
}

function shortName(url: string | undefined): string {
  if (!url) return '';
  return url.split('/').pop() ?? url;
}
