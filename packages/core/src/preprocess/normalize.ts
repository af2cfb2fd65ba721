/**
 * ImageNet normalisation (uint8 RGB → float32 CHW) and its inverse, bit-exact with the reference.
 */
import { Da3Error } from '../errors.js';

/** ImageNet per-channel mean (R, G, B) of `[0, 1]` pixel values, as the reference writes it. */
export const IMAGENET_MEAN: readonly [number, number, number] = Object.freeze([0.485, 0.456, 0.406] as const);
/** ImageNet per-channel standard deviation (R, G, B) of `[0, 1]` pixel values. */
export const IMAGENET_STD: readonly [number, number, number] = Object.freeze([0.229, 0.224, 0.225] as const);

/**
 * 3×256 lookup table: `float32((float32(u/255) − mean_f32) / std_f32)` for every byte `u`, i.e.
 * torchvision's `ToTensor` then `Normalize` in float32 with mean and std rounded to float32.
 */
const LUT: Float32Array = (() => {
  const t = new Float32Array(3 * 256);
  for (let c = 0; c < 3; c++) {
    const m = Math.fround(IMAGENET_MEAN[c]);
    const s = Math.fround(IMAGENET_STD[c]);
    for (let u = 0; u < 256; u++) t[c * 256 + u] = Math.fround(Math.fround(Math.fround(u / 255) - m) / s);
  }
  return t;
})();

/**
 * Normalises an interleaved RGB uint8 image (`3·width·height` bytes) into planar float32 CHW
 * `[3, height, width]`: `(u/255 − mean)/std` per channel, bit-exact with the reference's
 * `Normalize(ToTensor(img))`. Writes into `out` at element `offset` when given (it must hold
 * `3·width·height` values from there), else into a new array; returns the array written.
 */
export function normalizeRgbToChw(rgb: Uint8Array | Uint8ClampedArray, width: number, height: number, out?: Float32Array, offset = 0): Float32Array {
  const fn = 'normalizeRgbToChw';
  const n = width * height;
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw new Da3Error('BAD_SHAPE', `${fn}: size must be positive integers, got ${width}×${height}`);
  }
  if (rgb.length !== n * 3) throw new Da3Error('BAD_SHAPE', `${fn}: data length ${rgb.length} ≠ 3·${width}·${height} = ${n * 3}`);
  const dst = out ?? new Float32Array(n * 3);
  if (!Number.isInteger(offset) || offset < 0 || offset + n * 3 > dst.length) {
    throw new Da3Error('OUT_OF_RANGE', `${fn}: ${n * 3} values at offset ${offset} do not fit an output of ${dst.length}`);
  }
  for (let c = 0; c < 3; c++) {
    const base = offset + c * n;
    const lut = c * 256;
    for (let i = 0, j = c; i < n; i++, j += 3) dst[base + i] = LUT[lut + rgb[j]];
  }
  return dst;
}

/** Processed images as the reference's `prediction.processed_images`: uint8 `[N, H, W, 3]`. */
export interface ProcessedImages {
  /** Interleaved RGB bytes, image after image, row-major. */
  readonly data: Uint8Array;
  readonly shape: readonly [number, number, number, 3];
}

/**
 * The inverse of the normalisation, exactly as the reference's `_add_processed_images` computes
 * it: `uint8(clip(x·std + mean, 0, 1)·255)` in float64 with truncation, from a normalised
 * float32 tensor of shape `[1, N, 3, H, W]` or `[N, 3, H, W]`. Values come back equal to the
 * original bytes or one below (float32 rounding plus truncation).
 *
 * Throws `BAD_SHAPE` for a shape that is not one of those or does not match `tensor.length`.
 */
export function toProcessedImages(tensor: Float32Array, shape: readonly number[]): ProcessedImages {
  const fn = 'toProcessedImages';
  const s = shape.length === 5 && shape[0] === 1 ? shape.slice(1) : shape;
  if (s.length !== 4 || s[1] !== 3 || !s.every((d) => Number.isInteger(d) && d >= 1)) {
    throw new Da3Error('BAD_SHAPE', `${fn}: shape must be [1, N, 3, H, W] or [N, 3, H, W], got [${shape.join(', ')}]`);
  }
  const [n, , h, w] = s;
  const hw = h * w;
  if (tensor.length !== n * 3 * hw) {
    throw new Da3Error('BAD_SHAPE', `${fn}: tensor length ${tensor.length} ≠ ${n * 3 * hw} for shape [${shape.join(', ')}]`);
  }
  const data = new Uint8Array(n * hw * 3);
  for (let v = 0; v < n; v++) {
    for (let c = 0; c < 3; c++) {
      const sd = IMAGENET_STD[c];
      const mn = IMAGENET_MEAN[c];
      const src = (v * 3 + c) * hw;
      const dst = v * hw * 3 + c;
      for (let i = 0; i < hw; i++) {
        let x = tensor[src + i] * sd + mn;
        x = x < 0 ? 0 : Math.min(x, 1); // NaN stays NaN and becomes 0 below, as numpy's cast does on x86
        const u = Math.trunc(x * 255);
        data[dst + i * 3] = Number.isNaN(u) ? 0 : u;
      }
    }
  }
  return { data, shape: [n, h, w, 3] };
}
