/**
 * Image decoding for Node: paths, URLs, encoded bytes and raw pixel arrays → core's RGB
 * `ImageU8`, matching the reference's `PIL.Image.open(path).convert('RGB')`.
 */
import { Da3Error, type RgbImageU8 } from '@da3js/core';
import type sharpModule from 'sharp';

/** sharp (libvips), loaded on the first decode: a process that never decodes files does not map it (~20 MiB resident). */
let sharpLoaded: Promise<typeof sharpModule> | undefined;
const loadSharp = () => (sharpLoaded ??= import('sharp').then((m) => ((m as { default?: typeof sharpModule }).default ?? (m as unknown as typeof sharpModule))));
import { bmpSize, decodeBmp, isBmp } from './bmp.js';
import { DEFAULT_MAX_BYTES, isUrlString, readFileBytes, readUrlBytes } from './source.js';

const NAME = 'decodeImage';

/**
 * Default {@link DecodeImageOptions.maxPixels}: 178,956,970 pixels, Pillow's decompression-bomb
 * error threshold (2 × `Image.MAX_IMAGE_PIXELS` = 2 × 89,478,485), which is where the reference
 * (`PIL.Image.open`) refuses an image too.
 */
export const DEFAULT_MAX_PIXELS = 2 * 89_478_485;

/** Already-decoded pixels: interleaved, row-major, top row first (a numpy `H×W×C` uint8 array). */
export interface RawImageInput {
  readonly data: Uint8Array | Uint8ClampedArray;
  readonly width: number;
  readonly height: number;
  /** 3 = RGB (the reference assumes numpy input is RGB uint8), 4 = RGBA (alpha is dropped). */
  readonly channels: 3 | 4;
}

/**
 * What {@link decodeImage} accepts: a file path, a `file:`/`http:`/`https:` URL (string or
 * `URL`), encoded image bytes (`Buffer`/`Uint8Array`), or raw pixels.
 */
export type ImageInput = string | URL | Uint8Array | RawImageInput;

/** Options of {@link decodeImage}. */
export interface DecodeImageOptions {
  /**
   * Rotate/flip by the EXIF orientation tag (default `false`). The reference does not (PIL's
   * `open().convert('RGB')` keeps the stored pixel layout), so leave it off to match its outputs.
   */
  readonly applyExifOrientation?: boolean;
  /** Cancels a download or file read; the promise rejects with the signal's reason. */
  readonly signal?: AbortSignal;
  /** Largest http(s) body accepted, in bytes (default 256 MiB). */
  readonly maxBytes?: number;
  /**
   * Largest image accepted, in pixels (width·height), checked from the header before decoding
   * (default {@link DEFAULT_MAX_PIXELS}, Pillow's limit).
   */
  readonly maxPixels?: number;
  /** Name used in error messages for byte inputs (default `<N-byte buffer>`). */
  readonly name?: string;
}

function isRawImage(input: unknown): input is RawImageInput {
  return typeof input === 'object' && input !== null && !(input instanceof Uint8Array) && !(input instanceof URL) && 'data' in input;
}

function positiveLimit(v: number | undefined, def: number, what: string): number {
  if (v === undefined) return def;
  if (typeof v !== 'number' || !(v > 0) || Number.isNaN(v)) throw new Da3Error('BAD_VALUE', `${NAME}: ${what} must be a positive number, got ${String(v)}`);
  return v;
}

/**
 * Decodes one image to an interleaved RGB uint8 image, the way the reference loads it:
 * `PIL.Image.open(path).convert('RGB')` (Pillow 9.4), checked pixel for pixel against Pillow:
 *
 * - **EXIF orientation is ignored** (the stored pixel layout, W×H as stored) unless
 *   `applyExifOrientation: true`.
 * - **No colour management**: embedded ICC profiles are ignored, as PIL ignores them.
 * - **Alpha is dropped without compositing** (RGBA/LA/palette transparency → the stored colour).
 * - **Grayscale** is replicated to R=G=B.
 * - **16-bit**: RGB(A) and gray+alpha keep the high byte (`v >> 8`, PIL's `RGB;16B` unpacking);
 *   16-bit gray without alpha is **clipped** to 255 (PIL opens it as mode `I` and `I → RGB`
 *   clips), so most of a full-range 16-bit depth PNG turns white — exactly as in the reference.
 * - **CMYK JPEG/TIFF** use PIL's naive `cmyk2rgb` (`255−k − c·(255−k)/255`), not an ICC transform.
 * - **BMP** (which sharp cannot read) goes through a Pillow-compatible decoder.
 * - Multi-frame files (GIF, TIFF, WebP) give their first frame.
 *
 * Raw `{data, width, height, channels}` input is validated and returned as RGB (alpha dropped;
 * a 3-channel `Uint8Array` is returned without copying).
 *
 * @throws Da3Error `IO` (missing/unreadable file, failed download), `UNKNOWN_FORMAT` (not an
 *   image, corrupt or truncated data, vector formats), `EMPTY_INPUT` (0 bytes or a 0-pixel side),
 *   `OUT_OF_RANGE` (more than `maxPixels` pixels or `maxBytes` bytes), `BAD_VALUE`/`BAD_SHAPE`
 *   (malformed raw input or options). Messages name the file.
 */
export async function decodeImage(input: ImageInput, options: DecodeImageOptions = {}): Promise<RgbImageU8> {
  const maxPixels = positiveLimit(options.maxPixels, DEFAULT_MAX_PIXELS, 'maxPixels');
  const maxBytes = positiveLimit(options.maxBytes, DEFAULT_MAX_BYTES, 'maxBytes');
  const { signal } = options;
  let bytes: Uint8Array;
  let name: string;
  if (typeof input === 'string' || input instanceof URL) {
    if (typeof input === 'string' && input.length === 0) throw new Da3Error('BAD_VALUE', `${NAME}: empty path`);
    const url = input instanceof URL ? input : isUrlString(input) ? parseUrl(input) : undefined;
    name = url ? url.href : (input as string);
    bytes = url ? await readUrlBytes(NAME, url, maxBytes, signal) : await readFileBytes(NAME, input as string, signal);
  } else if (input instanceof Uint8Array) {
    bytes = input;
    name = options.name ?? `<${input.byteLength}-byte buffer>`;
  } else if (isRawImage(input)) {
    return rawToRgb(input);
  } else {
    throw new Da3Error(
      'BAD_VALUE',
      `${NAME}: expected a path, URL, Buffer/Uint8Array or {data, width, height, channels}, got ${input === null ? 'null' : typeof input}`,
    );
  }
  if (bytes.byteLength === 0) throw new Da3Error('EMPTY_INPUT', `${NAME}: '${name}' is empty (0 bytes)`);
  signal?.throwIfAborted();
  return decodeBytes(bytes, name, maxPixels, options.applyExifOrientation === true);
}

function parseUrl(s: string): URL {
  try {
    return new URL(s);
  } catch (e) {
    throw new Da3Error('BAD_VALUE', `${NAME}: invalid URL '${s}'`, { cause: e });
  }
}

function checkPixels(width: number, height: number, maxPixels: number, name: string): void {
  if (width * height > maxPixels) {
    throw new Da3Error(
      'OUT_OF_RANGE',
      `${NAME}: '${name}' is ${width}×${height} = ${width * height} pixels, more than maxPixels = ${maxPixels}; not decoded`,
    );
  }
}

async function decodeBytes(bytes: Uint8Array, name: string, maxPixels: number, autoOrient: boolean): Promise<RgbImageU8> {
  if (isBmp(bytes)) {
    const { width, height } = bmpSize(bytes, NAME, name);
    checkPixels(width, height, maxPixels, name);
    return decodeBmp(bytes, NAME, name);
  }
  const sharp = await loadSharp();
  const opts: sharpModule.SharpOptions = { failOn: 'error', limitInputPixels: maxPixels, ignoreIcc: true, autoOrient };
  let meta: sharpModule.Metadata;
  try {
    meta = await sharp(bytes, { ...opts, limitInputPixels: false }).metadata();
  } catch (e) {
    throw sharpError(e, name);
  }
  if (meta.format === 'svg' || meta.format === 'pdf') {
    throw new Da3Error('UNKNOWN_FORMAT', `${NAME}: '${name}' is a vector ${meta.format.toUpperCase()} document, not a raster image (PIL cannot open it either)`);
  }
  if (meta.width !== undefined && meta.height !== undefined) checkPixels(meta.width, meta.height, maxPixels, name);
  try {
    if (meta.space === 'cmyk') {
      const { data, info } = await sharp(bytes, opts).pipelineColourspace('cmyk').toColourspace('cmyk').raw().toBuffer({ resolveWithObject: true });
      return cmykToRgb(data, info.width, info.height, info.channels);
    }
    if (meta.depth === 'ushort') {
      const grey = meta.space === 'grey16' || meta.space === 'b-w';
      const { data, info } = await sharp(bytes, opts)
        .toColourspace(grey ? 'grey16' : 'rgb16')
        .raw({ depth: 'ushort' })
        .toBuffer({ resolveWithObject: true });
      const u16 = new Uint16Array(data.buffer, data.byteOffset, data.byteLength >>> 1);
      return u16ToRgb(u16, info.width, info.height, info.channels, grey && !meta.hasAlpha);
    }
    const { data, info } = await sharp(bytes, opts).raw().toBuffer({ resolveWithObject: true });
    return u8ToRgb(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), info.width, info.height, info.channels);
  } catch (e) {
    throw sharpError(e, name);
  }
}

function sharpError(e: unknown, name: string): Da3Error {
  if (e instanceof Da3Error) return e;
  const msg = String((e as Error | undefined)?.message ?? e).split('\n')[0];
  if (/unsupported image format/i.test(msg)) {
    return new Da3Error('UNKNOWN_FORMAT', `${NAME}: '${name}' is not an image in a format this decoder reads (${msg})`, { cause: e });
  }
  if (/pixel limit/i.test(msg)) return new Da3Error('OUT_OF_RANGE', `${NAME}: '${name}': ${msg}`, { cause: e });
  return new Da3Error('UNKNOWN_FORMAT', `${NAME}: '${name}' is corrupt or truncated (${msg})`, { cause: e });
}

/** Interleaved 8-bit samples with 1–4 channels → RGB (gray replicated, alpha dropped). */
function u8ToRgb(src: Uint8Array, width: number, height: number, channels: number): RgbImageU8 {
  if (channels === 3) return { data: src, width, height, channels: 3 };
  const n = width * height;
  const out = new Uint8Array(n * 3);
  for (let i = 0, s = 0, o = 0; i < n; i++, s += channels, o += 3) {
    if (channels >= 3) {
      out[o] = src[s];
      out[o + 1] = src[s + 1];
      out[o + 2] = src[s + 2];
    } else {
      out[o] = out[o + 1] = out[o + 2] = src[s];
    }
  }
  return { data: out, width, height, channels: 3 };
}

/** 16-bit samples → RGB like PIL: high byte, or clip to 255 for plain 16-bit gray (mode `I`). */
function u16ToRgb(src: Uint16Array, width: number, height: number, channels: number, clip: boolean): RgbImageU8 {
  const n = width * height;
  const out = new Uint8Array(n * 3);
  const to8 = clip ? (v: number) => Math.min(v, 255) : (v: number) => v >>> 8;
  for (let i = 0, s = 0, o = 0; i < n; i++, s += channels, o += 3) {
    if (channels >= 3) {
      out[o] = to8(src[s]);
      out[o + 1] = to8(src[s + 1]);
      out[o + 2] = to8(src[s + 2]);
    } else {
      out[o] = out[o + 1] = out[o + 2] = to8(src[s]);
    }
  }
  return { data: out, width, height, channels: 3 };
}

/** PIL's `cmyk2rgb`: `nk = 255 − k; out = clip(nk − MULDIV255(c, nk))`, extra channels ignored. */
function cmykToRgb(src: Uint8Array, width: number, height: number, channels: number): RgbImageU8 {
  const n = width * height;
  const out = new Uint8Array(n * 3);
  for (let i = 0, s = 0, o = 0; i < n; i++, s += channels, o += 3) {
    const nk = 255 - src[s + 3];
    for (let c = 0; c < 3; c++) {
      const t = src[s + c] * nk + 128;
      const v = nk - (((t >> 8) + t) >> 8);
      out[o + c] = Math.max(v, 0);
    }
  }
  return { data: out, width, height, channels: 3 };
}

function rawToRgb(img: RawImageInput): RgbImageU8 {
  const { data, width, height, channels } = img;
  const what = 'raw image';
  for (const [k, v] of [
    ['width', width],
    ['height', height],
  ] as const) {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) {
      throw new Da3Error('BAD_SHAPE', `${NAME}: ${what} ${k} must be a non-negative integer, got ${String(v)}`);
    }
  }
  if (width === 0 || height === 0) throw new Da3Error('EMPTY_INPUT', `${NAME}: ${what} is ${width}×${height}`);
  if (channels !== 3 && channels !== 4) {
    throw new Da3Error('BAD_SHAPE', `${NAME}: ${what} channels must be 3 (RGB) or 4 (RGBA), got ${String(channels)}`);
  }
  if (!(data instanceof Uint8Array || data instanceof Uint8ClampedArray)) {
    throw new Da3Error('BAD_VALUE', `${NAME}: ${what} data must be a Uint8Array or Uint8ClampedArray (uint8 samples), got ${Object.prototype.toString.call(data)}`);
  }
  const want = width * height * channels;
  if (data.length !== want) {
    throw new Da3Error('BAD_SHAPE', `${NAME}: ${what} data length ${data.length} ≠ width·height·channels = ${width}·${height}·${channels} = ${want}`);
  }
  const u8 = data instanceof Uint8Array ? data : new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  return u8ToRgb(u8, width, height, channels);
}
