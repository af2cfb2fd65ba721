/**
 * The per-view depth viewer: view i's depth coloured like the exporters' `depth_vis` (Spectral of
 * disparity, near red, far blue), prev/next buttons (and ←/→ keys on the image), and a legend: a
 * colour bar with the depths at its ends, in metres for metric predictions and marked "relative"
 * (the model's own unit, up to scale) otherwise.
 */
import type { Prediction } from '@da3js/core';
import { colorizeDepth } from '@da3js/exporters';
import { colourBar, formatDepth, legendCaption } from './colour-bar.js';
import { byId } from './dom.js';

function putRgb(canvas: HTMLCanvasElement, rgb: Uint8Array, width: number, height: number): void {
  canvas.width = width;
  canvas.height = height;
  const ctx = canvas.getContext('2d');
  if (!ctx) return;
  const img = ctx.createImageData(width, height);
  for (let i = 0; i < width * height; i++) {
    img.data[4 * i] = rgb[3 * i];
    img.data[4 * i + 1] = rgb[3 * i + 1];
    img.data[4 * i + 2] = rgb[3 * i + 2];
    img.data[4 * i + 3] = 255;
  }
  ctx.putImageData(img, 0, 0);
}

/** The depth viewer. */
export class DepthView {
  private prediction: Prediction | null = null;
  private view = 0;

  constructor() {
    byId('depth-prev').addEventListener('click', () => this.show(this.view - 1));
    byId('depth-next').addEventListener('click', () => this.show(this.view + 1));
    const canvas = byId<HTMLCanvasElement>('depth-canvas');
    canvas.tabIndex = 0;
    canvas.addEventListener('keydown', (e) => {
      if (e.key === 'ArrowLeft') this.show(this.view - 1);
      else if (e.key === 'ArrowRight') this.show(this.view + 1);
      else return;
      e.preventDefault();
    });
    canvas.hidden = true;
    this.updateButtons();
  }

  /** The view shown. */
  get current(): number {
    return this.view;
  }

  /** Shows a new prediction from its first view. */
  setPrediction(p: Prediction | null): void {
    this.prediction = p;
    this.show(0);
  }

  /** Shows view `i` (clamped to the prediction's views). */
  show(i: number): void {
    const p = this.prediction;
    byId('depth-canvas').hidden = !p;
    byId('depth-empty').hidden = !!p;
    byId('legend').hidden = !p;
    if (!p) {
      byId('depth-label').textContent = '';
      this.updateButtons();
      return;
    }
    this.view = Math.min(p.views - 1, Math.max(0, i));
    const hw = p.height * p.width;
    const c = colorizeDepth(p.depth.subarray(this.view * hw, (this.view + 1) * hw));
    putRgb(byId<HTMLCanvasElement>('depth-canvas'), c.rgb, p.width, p.height);
    const bar = colourBar(c.range);
    putRgb(byId<HTMLCanvasElement>('colour-bar'), bar.rgb, bar.rgb.length / 3, 1);
    const unit = p.isMetric ? 'm' : '';
    byId('colour-bar-min').textContent = formatDepth(bar.minDepth, unit);
    byId('colour-bar-max').textContent = formatDepth(bar.maxDepth, unit);
    byId('legend-caption').textContent = legendCaption(p.isMetric);
    byId('legend').dataset.unit = p.isMetric ? 'm' : 'relative';
    byId('depth-label').textContent = `view ${this.view + 1} / ${p.views}`;
    byId('depth-canvas').setAttribute('aria-label', `Depth map of view ${this.view + 1} of ${p.views}: ${legendCaption(p.isMetric)}, from ${formatDepth(bar.minDepth, unit)} to ${formatDepth(bar.maxDepth, unit)}`);
    this.updateButtons();
  }

  private updateButtons(): void {
    const n = this.prediction?.views ?? 0;
    byId<HTMLButtonElement>('depth-prev').disabled = this.view <= 0;
    byId<HTMLButtonElement>('depth-next').disabled = this.view >= n - 1;
  }
}
