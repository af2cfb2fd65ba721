/**
 * The depth colour bar, free of the DOM: the Spectral ramp the depth images use (exporters'
 * `colorizeDepth`: near red, far blue) and the depth values at its two ends. `colorizeDepth`
 * normalises **disparity** (1/depth) over a range `[lo, hi]`; the colour at bar position
 * x ∈ [0, 1] is Spectral(x), which is disparity `hi − x·(hi − lo)`, i.e. depth `1/(hi − x·(hi − lo))`.
 */
import { spectralLutBytes } from '@da3js/exporters';

/** A colour bar: `width` RGB pixels, left = near, right = far, and its end depths. */
export interface ColourBar {
  /** [width, 3] RGB bytes. */
  readonly rgb: Uint8Array;
  /** Depth at the left end (nearest coloured depth). */
  readonly minDepth: number;
  /** Depth at the right end (`Infinity` when the far disparity is ≤ 0). */
  readonly maxDepth: number;
}

/** Depth at bar position `x` ∈ [0, 1] for a disparity range `[lo, hi]`. */
export function depthAt(x: number, range: readonly [number, number]): number {
  const disparity = range[1] - x * (range[1] - range[0]);
  return disparity > 0 ? 1 / disparity : Number.POSITIVE_INFINITY;
}

/** The colour bar for a disparity range (as returned by `colorizeDepth(...).range`). */
export function colourBar(range: readonly [number, number], width = 256): ColourBar {
  const lut = spectralLutBytes();
  const rgb = new Uint8Array(width * 3);
  for (let i = 0; i < width; i++) {
    const idx = Math.min(255, Math.floor(((i + 0.5) / width) * 256));
    rgb[3 * i] = lut[3 * idx];
    rgb[3 * i + 1] = lut[3 * idx + 1];
    rgb[3 * i + 2] = lut[3 * idx + 2];
  }
  return { rgb, minDepth: depthAt(0, range), maxDepth: depthAt(1, range) };
}

/** A depth label: 3 significant digits, `∞` for infinity, the unit appended when given. */
export function formatDepth(d: number, unit = ''): string {
  if (d === Number.POSITIVE_INFINITY) return '∞';
  if (!Number.isFinite(d)) return '—';
  return `${Number(d.toPrecision(3))}${unit ? ` ${unit}` : ''}`;
}

/**
 * The legend's caption: the depth's unit — metres for metric predictions, otherwise relative depth
 * (the model's own unit, correct up to one scale factor per scene).
 */
export function legendCaption(isMetric: boolean): string {
  return isMetric ? 'Depth in metres · near (red) → far (blue)' : 'Relative depth (no unit: up to scale) · near (red) → far (blue)';
}
