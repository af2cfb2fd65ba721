/**
 * *The reference's `depth_vis` export (`utils/export/depth_vis.py`) and da3js's `conf_vis`:
 * per view, `[processed RGB | Spectral colour]` side by side, as PNG or JPEG (quality 95).*
 *
 * Usage:
 * ```ts
 * for (let i = 0; i < prediction.views; i++) await writeDepthVisJpeg(prediction, i, sinkFor(`depth_vis/${pad4(i)}.jpg`));
 * const { data, width, height } = renderDepthVis(prediction, 0);   // RGB bytes, width = 2·W
 * ```
 *
 * The colour half equals the reference's `visualize_depth(depth[i])` byte for byte (see
 * `colorize.ts`); the JPEG bytes differ from Pillow's (another encoder), the PNG is lossless.
 */
import { Da3Error, type Prediction, type Sink } from '@da3js/core';
import { type Colorized, type SpectralOptions, colorizeConf, colorizeDepth } from './colorize.js';
import { type JpegOptions, type RasterImage, hconcat, renderInto, writeJpeg, writePng } from './encode.js';
import { checkPredictionDims } from '../prediction-dims.js';

/** Options of {@link renderDepthVis} and {@link renderConfVis}. */
export interface VisOptions extends SpectralOptions {
  /** 3 (RGB, default) or 4 (RGBA, alpha 255). */
  channels?: 3 | 4;
  /** `true` (default): `[RGB | colour]` as the reference writes; `false`: the colour map alone. */
  withImage?: boolean;
}

/** A rendered visualisation and the normalisation range used (units of the coloured quantity). */
export interface VisImage extends RasterImage {
  readonly range: readonly [number, number];
}

function checkView(where: string, prediction: Prediction, view: number): void {
  checkPredictionDims(where, prediction, 'EMPTY_INPUT');
  const { views: N, height: H, width: W } = prediction;
  if (!Number.isInteger(view) || view < 0 || view >= N) throw new Da3Error('OUT_OF_RANGE', `${where}: view ${view} is not in [0, ${N})`);
  if (!prediction.processedImages || prediction.processedImages.length !== N * H * W * 3) {
    throw new Da3Error('BAD_SHAPE', `${where}: processedImages must be [${N}, ${H}, ${W}, 3], got ${prediction.processedImages?.length} values`);
  }
}

function compose(where: string, prediction: Prediction, view: number, c: Colorized, options: VisOptions): VisImage {
  const { height: H, width: W } = prediction;
  const channels = options.channels ?? 3;
  if (channels !== 3 && channels !== 4) throw new Da3Error('BAD_VALUE', `${where}: channels must be 3 or 4, got ${channels}`);
  const colour = { width: W, height: H, channels: 3, data: c.rgb };
  const image =
    options.withImage === false
      ? hconcat({ width: 0, height: H, channels: 3, data: new Uint8Array(0) }, colour, channels)
      : hconcat({ width: W, height: H, channels: 3, data: prediction.processedImages.subarray(view * H * W * 3, (view + 1) * H * W * 3) }, colour, channels);
  return { ...image, range: c.range };
}

/**
 * Renders view `view`'s depth visualisation: `[RGB | Spectral(1 − norm(1/depth))]`, 2W × H,
 * near red, far blue, the range P2–P98 of the valid disparity (≤ 10 valid pixels: range 0 ± 1e-6).
 * Depth ≤ 0 and −∞ keep their raw value, so they are drawn as far (blue; mid-scale yellow when ≤ 10
 * pixels are valid), NaN black; +∞ is valid with disparity 0 (far).
 * @throws Da3Error `OUT_OF_RANGE` (view), `BAD_SHAPE` (array lengths), `EMPTY_INPUT`,
 *   `BAD_VALUE` (options), `NON_FINITE` (a non-finite `range`)
 */
export function renderDepthVis(prediction: Prediction, view: number, options: VisOptions = {}): VisImage {
  const where = 'renderDepthVis';
  checkView(where, prediction, view);
  const hw = prediction.height * prediction.width;
  if (prediction.depth?.length !== prediction.views * hw) throw new Da3Error('BAD_SHAPE', `${where}: depth must hold ${prediction.views * hw} values, got ${prediction.depth?.length}`);
  return compose(where, prediction, view, colorizeDepth(prediction.depth.subarray(view * hw, (view + 1) * hw), options, where), options);
}

/**
 * Renders view `view`'s confidence visualisation (da3js's `conf_vis`; the reference has none):
 * `[RGB | Spectral(1 − norm(conf))]`, 2W × H, high confidence red, low blue, the range P2–P98 of
 * the finite confidences; NaN black.
 * @throws Da3Error `BAD_VALUE` (no conf: mono/metric models), and as {@link renderDepthVis}
 */
export function renderConfVis(prediction: Prediction, view: number, options: VisOptions = {}): VisImage {
  const where = 'renderConfVis';
  checkView(where, prediction, view);
  if (!prediction.conf) throw new Da3Error('BAD_VALUE', `${where}: the prediction has no conf (mono/metric models predict none)`);
  const hw = prediction.height * prediction.width;
  if (prediction.conf.length !== prediction.views * hw) throw new Da3Error('BAD_SHAPE', `${where}: conf must hold ${prediction.views * hw} values, got ${prediction.conf.length}`);
  return compose(where, prediction, view, colorizeConf(prediction.conf.subarray(view * hw, (view + 1) * hw), options, where), options);
}

/** {@link renderDepthVis} as PNG into `sink` (aborted on error); returns the byte count. */
export function writeDepthVisPng(prediction: Prediction, view: number, sink: Sink, options: VisOptions = {}): Promise<number> {
  return renderInto(sink, () => renderDepthVis(prediction, view, options), writePng);
}

/** {@link renderDepthVis} as JPEG (quality 95 like the reference) into `sink`; returns the byte count. */
export function writeDepthVisJpeg(prediction: Prediction, view: number, sink: Sink, options: VisOptions & JpegOptions = {}): Promise<number> {
  return renderInto(sink, () => renderDepthVis(prediction, view, options), (img, s) => writeJpeg(img, s, options));
}

/** {@link renderConfVis} as PNG into `sink` (aborted on error); returns the byte count. */
export function writeConfVisPng(prediction: Prediction, view: number, sink: Sink, options: VisOptions = {}): Promise<number> {
  return renderInto(sink, () => renderConfVis(prediction, view, options), writePng);
}

/** {@link renderConfVis} as JPEG (quality 95) into `sink`; returns the byte count. */
export function writeConfVisJpeg(prediction: Prediction, view: number, sink: Sink, options: VisOptions & JpegOptions = {}): Promise<number> {
  return renderInto(sink, () => renderConfVis(prediction, view, options), (img, s) => writeJpeg(img, s, options));
}
