/**
 * *8-bit RGB/RGBA rasters and their PNG / JPEG encodings, streamed into sinks.*
 *
 * PNG via fast-png (lossless, zlib), JPEG via jpeg-js (baseline, 4:4:4 chroma, the IJG quality
 * scale — at quality 95 the same quantisation tables as libjpeg / Pillow, which the reference's
 * `imageio.imwrite(..., quality=95)` uses; Pillow subsamples chroma 4:2:0, jpeg-js does not).
 */
import { Da3Error, type Sink } from '@da3js/core';
import { encode as encodePngRaw } from 'fast-png';
import { encode as encodeJpegRaw } from 'jpeg-js';
import { withSink } from '../writer.js';

/** An 8-bit raster, row-major, `channels` interleaved bytes per pixel. */
export interface RasterImage {
  readonly width: number;
  readonly height: number;
  readonly channels: 3 | 4;
  readonly data: Uint8Array;
}

/**
 * Checks a raster's size and data length.
 * @throws Da3Error `EMPTY_INPUT` (zero width/height), `BAD_SHAPE`
 */
export function validateRaster(where: string, image: RasterImage): void {
  const { width, height, channels, data } = image;
  if (!Number.isSafeInteger(width) || !Number.isSafeInteger(height) || width < 0 || height < 0) {
    throw new Da3Error('BAD_SHAPE', `${where}: image size ${width}×${height} must be non-negative integers`);
  }
  if (width === 0 || height === 0) throw new Da3Error('EMPTY_INPUT', `${where}: image is ${width}×${height}`);
  if (channels !== 3 && channels !== 4) throw new Da3Error('BAD_SHAPE', `${where}: channels must be 3 or 4, got ${channels}`);
  if (!(data instanceof Uint8Array) || data.length !== width * height * channels) {
    throw new Da3Error('BAD_SHAPE', `${where}: ${width}×${height}×${channels} image needs ${width * height * channels} bytes, got ${data?.length}`);
  }
}

/** Encodes a raster as PNG (8-bit RGB or RGBA). */
export function encodePng(image: RasterImage): Uint8Array {
  validateRaster('encodePng', image);
  return encodePngRaw({ width: image.width, height: image.height, data: image.data, channels: image.channels, depth: 8 });
}

/** Options of the JPEG encoder. */
export interface JpegOptions {
  /** 1–100 (IJG scale). Default 95, the reference's `imageio.imwrite(..., quality=95)`. */
  quality?: number;
}

/**
 * Encodes a raster as a baseline JPEG (alpha dropped).
 * @throws Da3Error `BAD_SHAPE`, `EMPTY_INPUT`, `BAD_VALUE` (quality)
 */
export function encodeJpeg(image: RasterImage, options: JpegOptions = {}): Uint8Array {
  validateRaster('encodeJpeg', image);
  const quality = options.quality ?? 95;
  if (!Number.isInteger(quality) || quality < 1 || quality > 100) throw new Da3Error('BAD_VALUE', `encodeJpeg: quality must be an integer 1–100, got ${quality}`);
  const { width, height, channels, data } = image;
  let rgba = data;
  if (channels === 3) {
    rgba = new Uint8Array(width * height * 4);
    for (let i = 0, j = 0; i < data.length; i += 3, j += 4) {
      rgba[j] = data[i];
      rgba[j + 1] = data[i + 1];
      rgba[j + 2] = data[i + 2];
      rgba[j + 3] = 255;
    }
  }
  // jpeg-js, loaded as CommonJS, returns `Buffer.from(bytes)`: where no Buffer exists (browsers,
  // workers) a stand-in that makes a Uint8Array is installed for this synchronous call only.
  const g = globalThis as { Buffer?: unknown };
  const shim = g.Buffer === undefined;
  if (shim) g.Buffer = { from: (a: ArrayLike<number>) => Uint8Array.from(a) };
  try {
    const out = encodeJpegRaw({ width, height, data: rgba }, quality).data as Uint8Array;
    return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
  } finally {
    if (shim) Reflect.deleteProperty(g, 'Buffer');
  }
}

async function writeBytes(sink: Sink, make: () => Uint8Array): Promise<number> {
  return withSink(sink, async (out) => {
    const bytes = make();
    for (let at = 0; at < bytes.length; at += out.chunkSize) {
      out.bytes(bytes.subarray(at, Math.min(bytes.length, at + out.chunkSize)));
      await out.flushIfFull();
    }
    return bytes.length;
  });
}

/** Writes `image` as PNG into `sink` (closed on success, aborted on error); returns the byte count. */
export function writePng(image: RasterImage, sink: Sink): Promise<number> {
  return writeBytes(sink, () => encodePng(image));
}

/** Writes `image` as JPEG into `sink` (closed on success, aborted on error); returns the byte count. */
export function writeJpeg(image: RasterImage, sink: Sink, options: JpegOptions = {}): Promise<number> {
  return writeBytes(sink, () => encodeJpeg(image, options));
}

/**
 * `[left | right]`: two rasters of the same height side by side (`np.concatenate(axis=1)`), as
 * `channels` bytes per pixel (alpha 255 when adding one).
 */
export function hconcat(left: { width: number; height: number; channels: number; data: Uint8Array }, right: { width: number; height: number; channels: number; data: Uint8Array }, channels: 3 | 4 = 3): RasterImage {
  if (left.height !== right.height) throw new Da3Error('BAD_SHAPE', `hconcat: heights differ (${left.height} vs ${right.height})`);
  const width = left.width + right.width;
  const height = left.height;
  const data = new Uint8Array(width * height * channels);
  if (channels === 4) for (let i = 3; i < data.length; i += 4) data[i] = 255;
  for (const [img, x0] of [
    [left, 0],
    [right, left.width],
  ] as const) {
    const c = img.channels;
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < img.width; x++) {
        const s = (y * img.width + x) * c;
        const d = (y * width + x0 + x) * channels;
        data[d] = img.data[s];
        data[d + 1] = img.data[s + 1];
        data[d + 2] = img.data[s + 2];
        if (channels === 4 && c === 4) data[d + 3] = img.data[s + 3];
      }
    }
  }
  return { width, height, channels, data };
}

/**
 * Renders an image, then encodes it into `sink` with `write`; a render error aborts the sink
 * (encoders abort on their own errors). @internal
 */
export async function renderInto(sink: Sink, render: () => RasterImage, write: (image: RasterImage, sink: Sink) => Promise<number>): Promise<number> {
  let image: RasterImage;
  try {
    image = render();
  } catch (error) {
    await sink.abort?.(error);
    throw error;
  }
  return write(image, sink);
}
