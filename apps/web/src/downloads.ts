/**
 * Downloads: one button per export format. A click exports the prediction in that format (the
 * library's `prediction.export`, or @da3js/web's `exportToFiles` for a prediction made elsewhere) and hands
 * every file to the browser as an anchor download.
 */
import type { Prediction } from '@da3js/core';
import { type ExportOptions, exportFormats } from '@da3js/exporters';
import { type WebPrediction, exportToFiles } from '@da3js/web';
import { byId } from './dom.js';
import type { StatusKind } from './status.js';

const GAUSSIAN_FORMATS = new Set(['gs_ply', 'gs_ply_sh3', 'spz', 'gs_gltf', 'gs_video']);

/** Why a format cannot be exported from this prediction, or `null` when it can. */
export function unavailableReason(format: string, p: Prediction): string | null {
  if (GAUSSIAN_FORMATS.has(format) && !p.gaussians) return 'needs 3D Gaussians (a model with a GS head and "Infer 3D Gaussians")';
  if (format === 'gs_video' && (!p.extrinsics || !p.intrinsics)) return 'needs cameras (any-view models)';
  if (format === 'conf_vis' && !p.conf) return 'needs a confidence map (any-view models)';
  if (format === 'feat_vis' && Object.keys(p.aux).length === 0) return 'needs exported features';
  if ((format === 'glb' || format === 'colmap') && (!p.extrinsics || !p.intrinsics || !p.conf)) return 'needs cameras and confidence (any-view models)';
  return null;
}

/** The prediction's files in `formats` (names are paths like `scene.glb`, `depth_vis/0000.jpg`). */
export function exportFiles(p: Prediction, formats: string | readonly string[], options: ExportOptions = {}): Promise<File[]> {
  const own = (p as Partial<WebPrediction>).export;
  return typeof own === 'function' ? own.call(p, formats, options) : exportToFiles(p, formats, options);
}

/** A browser download name for an export path (`depth_vis/0000.jpg` → `depth_vis_0000.jpg`). */
export function downloadName(path: string): string {
  return path.replace(/^\/+/, '').replace(/[/\\]+/g, '_');
}

/** Saves a file through a temporary anchor. */
export function saveFile(file: Blob, name: string): void {
  const url = URL.createObjectURL(file);
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

/** How a download reports: the status text, its kind, and the error when it failed. */
export type DownloadStatus = (text: string, kind: StatusKind, error?: unknown) => void;

/** The download buttons. */
export class Downloads {
  private prediction: Prediction | null = null;
  private busy = false;
  private readonly buttons = new Map<string, HTMLButtonElement>();

  constructor(
    private readonly exportOptions: () => ExportOptions,
    private readonly onStatus: DownloadStatus,
    /** Makes the files (default {@link exportFiles} on this thread; the app passes the worker's export). */
    private readonly exporter: (p: Prediction, format: string, options: ExportOptions) => Promise<File[]> = exportFiles,
  ) {
    const box = byId('downloads');
    for (const f of exportFormats()) {
      const b = document.createElement('button');
      b.type = 'button';
      b.id = `download-${f}`;
      b.dataset.format = f;
      b.textContent = f;
      b.setAttribute('aria-label', `Download ${f}`);
      b.disabled = true;
      b.addEventListener('click', () => void this.download(f));
      box.appendChild(b);
      this.buttons.set(f, b);
    }
  }

  /** Enables the formats this prediction can be exported to. */
  setPrediction(p: Prediction | null): void {
    this.prediction = p;
    this.update();
  }

  /** Disables every button while a run or an export is in flight; `false` restores them. */
  setBusy(busy: boolean): void {
    this.busy = busy;
    this.update();
  }

  private update(): void {
    const p = this.prediction;
    for (const [f, b] of this.buttons) {
      const why = p ? unavailableReason(f, p) : 'no prediction yet';
      b.disabled = why !== null || this.busy;
      b.title = why ?? (this.busy ? 'wait for the current run or export (or Cancel it)' : `Download ${f}`);
    }
  }

  /** Exports one format and downloads its files; returns the names saved (none when it failed or was cancelled). */
  async download(format: string): Promise<string[]> {
    const p = this.prediction;
    if (!p) return [];
    try {
      this.onStatus(`Exporting ${format}…`, 'busy');
      const files = await this.exporter(p, format, this.exportOptions());
      const names = files.map((f) => downloadName(f.name));
      for (let i = 0; i < files.length; i++) saveFile(files[i], names[i]);
      this.onStatus(`Exported ${format}: ${names.join(', ')}`, 'done');
      return names;
    } catch (e) {
      if ((e as { code?: unknown }).code === 'ABORTED') this.onStatus(`Cancelled the ${format} export. Ready for the next run.`, 'info');
      else this.onStatus(`Export ${format} failed`, 'error', e);
      return [];
    }
  }
}
