/**
 * uint8 image containers: validation, RGB conversion and cropping.
 */
import { Da3Error } from '../errors.js';
import { checkImageSize } from './plan.js';

/**
 * An 8-bit image as decoders hand it over: interleaved channels, row-major, top row first.
 * `channels` 3 = RGB, 4 = RGBA (alpha is ignored, like PIL's `convert('RGB')`, which is what the
 * reference does to an opaque image). `data.length` must be `width·height·channels`.
 */
export interface ImageU8 {
  readonly data: Uint8Array | Uint8ClampedArray;
  /** Width in pixels. */
  readonly width: number;
  /** Height in pixels. */
  readonly height: number;
  readonly channels: 3 | 4;
}

/** An interleaved RGB uint8 image (`data.length = 3·width·height`, row-major); also an {@link ImageU8}. */
export interface RgbImageU8 extends ImageU8 {
  readonly data: Uint8Array;
  readonly channels: 3;
}

/**
 * Validates an {@link ImageU8} (internal): `EMPTY_INPUT` for a 0-pixel side, `BAD_SHAPE` for
 * other bad sizes, channel counts other than 3/4, or a data length ≠ width·height·channels,
 * `BAD_VALUE` for data that is not a Uint8Array/Uint8ClampedArray.
 */
export function checkImageU8(image: ImageU8, fn: string, what = 'image'): void {
  if (!image || typeof image !== 'object') throw new Da3Error('BAD_VALUE', `${fn}: ${what} must be an object, got ${String(image)}`);
  checkImageSize(image.width, image.height, fn, what);
  if (image.channels !== 3 && image.channels !== 4) {
    throw new Da3Error('BAD_SHAPE', `${fn}: ${what} channels must be 3 (RGB) or 4 (RGBA), got ${String(image.channels)}`);
  }
  if (!(image.data instanceof Uint8Array || image.data instanceof Uint8ClampedArray)) {
    throw new Da3Error('BAD_VALUE', `${fn}: ${what} data must be a Uint8Array or Uint8ClampedArray`);
  }
  const want = image.width * image.height * image.channels;
  if (image.data.length !== want) {
    throw new Da3Error(
      'BAD_SHAPE',
      `${fn}: ${what} data length ${image.data.length} ≠ width·height·channels = ${image.width}·${image.height}·${image.channels} = ${want}`,
    );
  }
}

/** Copies an {@link ImageU8} to a new interleaved RGB image (drops alpha). Validates it first. */
export function toRgbU8(image: ImageU8): RgbImageU8 {
  checkImageU8(image, 'toRgbU8');
  return cropUnchecked(image, 0, 0, image.width, image.height);
}

/**
 * Crops the `width×height` window whose top-left pixel is (`left`, `top`) out of an image and
 * returns it as a new RGB image (alpha dropped). Throws `OUT_OF_RANGE` when the window leaves
 * the image, and the {@link ImageU8} validation errors.
 */
export function cropImageU8(image: ImageU8, left: number, top: number, width: number, height: number): RgbImageU8 {
  const fn = 'cropImageU8';
  checkImageU8(image, fn);
  if (
    ![left, top, width, height].every(Number.isInteger) ||
    left < 0 ||
    top < 0 ||
    width < 1 ||
    height < 1 ||
    left + width > image.width ||
    top + height > image.height
  ) {
    throw new Da3Error(
      'OUT_OF_RANGE',
      `${fn}: window ${width}×${height} at (${left}, ${top}) does not fit a ${image.width}×${image.height} image`,
    );
  }
  return cropUnchecked(image, left, top, width, height);
}

function cropUnchecked(image: ImageU8, left: number, top: number, width: number, height: number): RgbImageU8 {
  const data = new Uint8Array(width * height * 3);
  const src = image.data;
  if (image.channels === 3) {
    const rowBytes = width * 3;
    for (let y = 0; y < height; y++) {
      const s = ((top + y) * image.width + left) * 3;
      data.set(src.subarray(s, s + rowBytes), y * rowBytes);
    }
  } else {
    let o = 0;
    for (let y = 0; y < height; y++) {
      let s = ((top + y) * image.width + left) * 4;
      for (let x = 0; x < width; x++, s += 4, o += 3) {
        data[o] = src[s];
        data[o + 1] = src[s + 1];
        data[o + 2] = src[s + 2];
      }
    }
  }
  return { data, width, height, channels: 3 };
}
