/**
 * *`feat_vis` images: per view, `[processed RGB | PCA colours]`, the PCA map nearest-upsampled
 * to the processed size (OpenCV `INTER_NEAREST`), as PNG or JPEG (quality 95). The reference
 * also joins the frames into an mp4 (ffmpeg libx264); video encoding is left to the runtime
 * packages.*
 *
 * Usage:
 * ```ts
 * for (const map of featureMaps(prediction)) {
 *   const pca = featurePca(map);                       // one basis for all views
 *   for (let i = 0; i < prediction.views; i++) await writeFeatVisJpeg(prediction, pca, i, sinkFor(`feat_vis/feat_layer_${map.layer}/${pad6(i)}.jpg`));
 * }
 * ```
 */
import { Da3Error, type Prediction, type Sink } from '@da3js/core';
import { type JpegOptions, type RasterImage, hconcat, renderInto, writeJpeg, writePng } from '../images/encode.js';
import type { FeaturePca } from './pca.js';

/**
 * Nearest-neighbour resize of an RGB image [h, w, 3] to [H, W, 3] with OpenCV's `INTER_NEAREST`
 * rule: source column `min(floor(x · (1 / (W/w))), w − 1)`, rows likewise.
 * @throws Da3Error `BAD_SHAPE`, `EMPTY_INPUT`
 */
export function upsampleNearest(rgb: Uint8Array, h: number, w: number, H: number, W: number): Uint8Array {
  for (const v of [h, w, H, W]) {
    if (!Number.isSafeInteger(v) || v < 0) throw new Da3Error('BAD_SHAPE', `upsampleNearest: sizes must be non-negative integers, got ${h}×${w} → ${H}×${W}`);
    if (v === 0) throw new Da3Error('EMPTY_INPUT', `upsampleNearest: empty size ${h}×${w} → ${H}×${W}`);
  }
  if (rgb.length !== h * w * 3) throw new Da3Error('BAD_SHAPE', `upsampleNearest: ${h}×${w}×3 needs ${h * w * 3} bytes, got ${rgb.length}`);
  const ifx = 1 / (W / w);
  const ify = 1 / (H / h);
  const xs = new Int32Array(W);
  for (let x = 0; x < W; x++) xs[x] = Math.min(Math.floor(x * ifx), w - 1);
  const out = new Uint8Array(H * W * 3);
  for (let y = 0; y < H; y++) {
    const sy = Math.min(Math.floor(y * ify), h - 1);
    for (let x = 0; x < W; x++) {
      const s = (sy * w + xs[x]) * 3;
      const d = (y * W + x) * 3;
      out[d] = rgb[s];
      out[d + 1] = rgb[s + 1];
      out[d + 2] = rgb[s + 2];
    }
  }
  return out;
}

/** Options of {@link renderFeatVis}. */
export interface FeatVisOptions {
  /** 3 (RGB, default) or 4 (RGBA, alpha 255). */
  channels?: 3 | 4;
  /** `true` (default): `[RGB | PCA]` as the reference writes; `false`: the upsampled PCA alone. */
  withImage?: boolean;
}

/**
 * View `view`'s feature visualisation: `[processed RGB | PCA]`, 2W × H, the PCA colours of
 * {@link featurePca} nearest-upsampled to the processed size.
 * @throws Da3Error `OUT_OF_RANGE` (view), `BAD_SHAPE` (PCA views ≠ prediction views, array
 *   lengths), `BAD_VALUE` (options)
 */
export function renderFeatVis(prediction: Prediction, pca: FeaturePca, view: number, options: FeatVisOptions = {}): RasterImage {
  const where = 'renderFeatVis';
  const { views: N, height: H, width: W } = prediction;
  if (pca.views !== N) throw new Da3Error('BAD_SHAPE', `${where}: the PCA has ${pca.views} views, the prediction ${N}`);
  if (!Number.isInteger(view) || view < 0 || view >= N) throw new Da3Error('OUT_OF_RANGE', `${where}: view ${view} is not in [0, ${N})`);
  if (prediction.processedImages?.length !== N * H * W * 3) throw new Da3Error('BAD_SHAPE', `${where}: processedImages must be [${N}, ${H}, ${W}, 3]`);
  const channels = options.channels ?? 3;
  if (channels !== 3 && channels !== 4) throw new Da3Error('BAD_VALUE', `${where}: channels must be 3 or 4, got ${channels}`);
  const hw = pca.height * pca.width * 3;
  if (pca.rgb.length !== N * hw) throw new Da3Error('BAD_SHAPE', `${where}: PCA rgb must hold ${N * hw} bytes, got ${pca.rgb.length}`);
  const up = { width: W, height: H, channels: 3, data: upsampleNearest(pca.rgb.subarray(view * hw, (view + 1) * hw), pca.height, pca.width, H, W) };
  const left =
    options.withImage === false
      ? { width: 0, height: H, channels: 3, data: new Uint8Array(0) }
      : { width: W, height: H, channels: 3, data: prediction.processedImages.subarray(view * H * W * 3, (view + 1) * H * W * 3) };
  return hconcat(left, up, channels);
}

/** {@link renderFeatVis} as PNG into `sink` (aborted on error); returns the byte count. */
export function writeFeatVisPng(prediction: Prediction, pca: FeaturePca, view: number, sink: Sink, options: FeatVisOptions = {}): Promise<number> {
  return renderInto(sink, () => renderFeatVis(prediction, pca, view, options), writePng);
}

/** {@link renderFeatVis} as JPEG (quality 95 like the reference) into `sink`; returns the byte count. */
export function writeFeatVisJpeg(prediction: Prediction, pca: FeaturePca, view: number, sink: Sink, options: FeatVisOptions & JpegOptions = {}): Promise<number> {
  return renderInto(sink, () => renderFeatVis(prediction, pca, view, options), (img, s) => writeJpeg(img, s, options));
}
