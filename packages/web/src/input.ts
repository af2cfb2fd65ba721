import { type AbortSignalLike, Da3Error, type ImageU8, throwIfAborted } from '@da3js/core';
import { abortable, asAborted, fetchAbortable } from './abort.js';
import { withoutExifOrientation } from './exif.js';

/**
 * Anything the web package turns into pixels: encoded files (`File`/`Blob`, or a URL string to
 * fetch), decoded images (`ImageBitmap`, `HTMLImageElement`, canvases, `ImageData`), video
 * (`VideoFrame`, or the current frame of an `HTMLVideoElement`), or raw RGB(A) arrays.
 */
export type WebImageInput =
  | ImageU8
  | ImageData
  | ImageBitmap
  | HTMLImageElement
  | HTMLCanvasElement
  | OffscreenCanvas
  | HTMLVideoElement
  | VideoFrame
  | Blob
  | string;

/** Options of {@link decodeImage}. */
export interface DecodeImageOptions {
  /**
   * Rotate JPEGs by their EXIF orientation (default false: pixels as stored, like the reference's
   * PIL loading and @da3js/node).
   */
  readonly applyExifOrientation?: boolean;
  /** Cancels the decode (`ABORTED`); a URL's download stops. */
  readonly signal?: AbortSignalLike;
}

/** Largest image accepted, in pixels (Chromium's canvas area limit is 2^28). */
export const MAX_IMAGE_PIXELS = 2 ** 28;

/** EXIF lives in the first segments of a JPEG; this much is read to find the orientation. */
const EXIF_HEAD_BYTES = 256 * 1024;

const has = <T>(name: string): T | undefined => (globalThis as Record<string, unknown>)[name] as T | undefined;
const isA = (value: unknown, ctor: string): boolean => {
  const C = has<new (...a: never[]) => unknown>(ctor);
  return typeof C === 'function' && value instanceof C;
};

function isImageU8(value: unknown): value is ImageU8 {
  return typeof value === 'object' && value !== null && 'channels' in value && 'data' in value;
}

function isImageDataLike(value: unknown): value is { data: Uint8ClampedArray; width: number; height: number } {
  return isA(value, 'ImageData') || (typeof value === 'object' && value !== null && (value as { data?: unknown }).data instanceof Uint8ClampedArray && 'width' in value && 'height' in value && !('channels' in value));
}

function checkSize(fn: string, width: number, height: number): void {
  if (!Number.isSafeInteger(width) || !Number.isSafeInteger(height) || width < 1 || height < 1) {
    throw new Da3Error('BAD_SHAPE', `${fn}: the image is ${width}×${height}; it must be at least 1×1 (not loaded yet?)`);
  }
  if (width * height > MAX_IMAGE_PIXELS) throw new Da3Error('BAD_VALUE', `${fn}: the image is ${width}×${height} = ${width * height} pixels, over the ${MAX_IMAGE_PIXELS}-pixel limit`);
}

function checkImageU8(fn: string, image: ImageU8): ImageU8 {
  checkSize(fn, image.width, image.height);
  if (image.channels !== 3 && image.channels !== 4) throw new Da3Error('BAD_SHAPE', `${fn}: channels must be 3 or 4, got ${image.channels}`);
  if (image.data.length !== image.width * image.height * image.channels) {
    throw new Da3Error('BAD_SHAPE', `${fn}: data has ${image.data.length} values; ${image.width}×${image.height}×${image.channels} needs ${image.width * image.height * image.channels}`);
  }
  return image;
}

/** The pixel size of a drawable source. */
function sourceSize(source: CanvasImageSource | VideoFrame): [number, number] {
  if (isA(source, 'HTMLImageElement')) return [(source as HTMLImageElement).naturalWidth, (source as HTMLImageElement).naturalHeight];
  if (isA(source, 'HTMLVideoElement')) return [(source as HTMLVideoElement).videoWidth, (source as HTMLVideoElement).videoHeight];
  if (isA(source, 'VideoFrame')) return [(source as VideoFrame).displayWidth, (source as VideoFrame).displayHeight];
  const s = source as { width: number; height: number };
  return [s.width, s.height];
}

/**
 * Draws a decoded source into a 2D canvas and reads its RGBA pixels (sRGB). Opaque pixels are
 * exact; the canvas stores premultiplied alpha, so fully transparent pixels read back as black.
 */
export function rasterize(source: CanvasImageSource | VideoFrame, fn = 'rasterize'): ImageU8 {
  const [width, height] = sourceSize(source);
  checkSize(fn, width, height);
  let canvas: OffscreenCanvas | HTMLCanvasElement;
  const Offscreen = has<typeof OffscreenCanvas>('OffscreenCanvas');
  if (Offscreen) canvas = new Offscreen(width, height);
  else if (has<Document>('document')) {
    canvas = document.createElement('canvas');
    canvas.width = width;
    canvas.height = height;
  } else {
    throw new Da3Error('UNSUPPORTED', `${fn}: this context has neither OffscreenCanvas nor a document to draw images with`);
  }
  const ctx = canvas.getContext('2d', { willReadFrequently: true, colorSpace: 'srgb' }) as CanvasRenderingContext2D | OffscreenCanvasRenderingContext2D | null;
  if (!ctx) throw new Da3Error('UNSUPPORTED', `${fn}: could not get a 2D canvas context`);
  ctx.drawImage(source as CanvasImageSource, 0, 0);
  const pixels = ctx.getImageData(0, 0, width, height, { colorSpace: 'srgb' });
  return { data: pixels.data, width, height, channels: 4 };
}

/** `blob` with its JPEG EXIF orientation neutralised (only the head is copied). */
async function withStoredOrientation(blob: Blob): Promise<Blob> {
  const head = new Uint8Array(await blob.slice(0, EXIF_HEAD_BYTES).arrayBuffer());
  const fixed = withoutExifOrientation(head);
  return fixed === head ? blob : new Blob([fixed as Uint8Array<ArrayBuffer>, blob.slice(head.byteLength)], { type: blob.type });
}

async function decodeBlob(blob: Blob, options: DecodeImageOptions, fn: string): Promise<ImageU8> {
  const create = has<typeof createImageBitmap>('createImageBitmap');
  if (!create) throw new Da3Error('UNSUPPORTED', `${fn}: createImageBitmap is not available here; pass decoded pixels (ImageData or RGB(A) arrays)`);
  if (blob.size === 0) throw new Da3Error('EMPTY_INPUT', `${fn}: the file is empty`);
  const source = options.applyExifOrientation ? blob : await withStoredOrientation(blob);
  let bitmap: ImageBitmap;
  try {
    bitmap = await create(source, { premultiplyAlpha: 'none', colorSpaceConversion: 'none', imageOrientation: 'from-image' });
  } catch (error) {
    const name = (blob as { name?: string }).name;
    throw new Da3Error('UNKNOWN_FORMAT', `${fn}: the browser could not decode ${name ? `"${name}"` : 'the image'} (${blob.type || 'unknown type'}, ${blob.size} bytes)`, { cause: error });
  }
  try {
    return rasterize(bitmap, fn);
  } finally {
    bitmap.close();
  }
}

/**
 * Decodes one input into RGB(A) uint8 pixels, rows top to bottom. Encoded files are decoded by the
 * browser (`createImageBitmap`, no colour-space conversion, alpha not premultiplied); JPEG EXIF
 * orientation is ignored unless {@link DecodeImageOptions.applyExifOrientation}.
 * Elements must be loaded (`img.decode()`, a video with `readyState ≥ 2`).
 *
 * @throws Da3Error `UNKNOWN_FORMAT` (undecodable file), `EMPTY_INPUT`, `BAD_SHAPE` (0×0 or
 *   mismatched arrays), `BAD_VALUE` (over {@link MAX_IMAGE_PIXELS}), `IO` (URL fetch failed),
 *   `UNSUPPORTED` (no canvas / createImageBitmap in this context)
 */
export async function decodeImage(input: WebImageInput, options: DecodeImageOptions = {}): Promise<ImageU8> {
  const { signal } = options;
  throwIfAborted(signal, 'decodeImage');
  try {
    const image = await decodeOne(input, options);
    throwIfAborted(signal, 'decodeImage');
    return image;
  } catch (error) {
    throw asAborted(error, signal, 'decodeImage');
  }
}

async function decodeOne(input: WebImageInput, options: DecodeImageOptions): Promise<ImageU8> {
  const fn = 'decodeImage';
  if (typeof input === 'string') {
    const res = await fetchAbortable(input, {}, options.signal, fn);
    if (!res.ok) throw new Da3Error('IO', `${fn}: ${input} answered HTTP ${res.status}`);
    return decodeBlob(await abortable(res.blob(), options.signal, fn), options, fn);
  }
  if (isImageU8(input)) return checkImageU8(fn, input);
  if (isImageDataLike(input)) return checkImageU8(fn, { data: input.data, width: input.width, height: input.height, channels: 4 });
  if (isA(input, 'Blob')) return decodeBlob(input as Blob, options, fn);
  if (isA(input, 'HTMLVideoElement') && (input as HTMLVideoElement).readyState < 2) {
    throw new Da3Error('BAD_VALUE', `${fn}: the <video> has no current frame yet (readyState ${(input as HTMLVideoElement).readyState}); wait for "loadeddata" or use sampleVideo`);
  }
  if (isA(input, 'HTMLImageElement') && !(input as HTMLImageElement).complete) {
    throw new Da3Error('BAD_VALUE', `${fn}: the <img> has not finished loading; await img.decode() first`);
  }
  if (typeof input === 'object' && input !== null && ('width' in input || 'displayWidth' in input || 'naturalWidth' in input)) {
    return rasterize(input as CanvasImageSource | VideoFrame, fn);
  }
  throw new Da3Error('BAD_VALUE', `${fn}: unsupported input ${Object.prototype.toString.call(input)}; pass a File/Blob, URL, ImageBitmap, image/canvas/video element, ImageData, VideoFrame or RGB(A) array`);
}

/** Options of {@link sampleVideo}. */
export interface SampleVideoOptions {
  /** Frames per second to sample (default 1, the reference CLI's `--fps`). */
  readonly fps?: number;
  /**
   * The video's own frame rate. When given, frames are chosen like the reference (every
   * `max(1, int(videoFps / fps))`-th frame, starting with frame 0); browsers do not expose it,
   * so otherwise frames are taken at times `k / fps`.
   */
  readonly videoFps?: number;
  /** Stop after this many frames. */
  readonly maxFrames?: number;
  /** Cancels the sampling (`ABORTED`), also while a seek is pending; frames taken so far are dropped. */
  readonly signal?: AbortSignalLike;
  /** Called after each frame with its index in the result and its time in seconds. */
  readonly onFrame?: (index: number, time: number) => void;
}

function once(target: EventTarget, ok: string, fn: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const done = () => {
      target.removeEventListener(ok, done);
      target.removeEventListener('error', failed);
      resolve();
    };
    const failed = () => {
      target.removeEventListener(ok, done);
      target.removeEventListener('error', failed);
      const err = (target as HTMLVideoElement).error;
      reject(new Da3Error('UNKNOWN_FORMAT', `${fn}: the browser could not play the video${err ? ` (MediaError ${err.code}: ${err.message || 'no message'})` : ''}`));
    };
    target.addEventListener(ok, done);
    target.addEventListener('error', failed);
  });
}

/** Sampling times in seconds for a video of `duration` seconds. */
export function videoSampleTimes(duration: number, options: SampleVideoOptions = {}): number[] {
  const fn = 'sampleVideo';
  const fps = options.fps ?? 1;
  if (!Number.isFinite(fps) || fps <= 0) throw new Da3Error('BAD_VALUE', `${fn}: fps must be a positive number, got ${fps}`);
  if (!Number.isFinite(duration) || duration <= 0) throw new Da3Error('BAD_VALUE', `${fn}: the video's duration is ${duration}; it must be finite and positive (live streams cannot be sampled)`);
  const max = options.maxFrames ?? Number.POSITIVE_INFINITY;
  if (!(max >= 1)) throw new Da3Error('BAD_VALUE', `${fn}: maxFrames must be at least 1, got ${max}`);
  const times: number[] = [];
  if (options.videoFps !== undefined) {
    const vf = options.videoFps;
    if (!Number.isFinite(vf) || vf <= 0) throw new Da3Error('BAD_VALUE', `${fn}: videoFps must be a positive number, got ${vf}`);
    const interval = Math.max(1, Math.trunc(vf / fps));
    const frames = Math.floor(duration * vf + 1e-6);
    for (let i = 0; i < frames && times.length < max; i += interval) times.push((i + 0.5) / vf);
  } else {
    for (let k = 0; k / fps < duration && times.length < max; k++) times.push(k / fps);
  }
  return times;
}

/**
 * Samples frames of a video (an `HTMLVideoElement`, a video `File`/`Blob`, or a URL) by seeking a
 * paused element, and returns them as RGBA images. Needs a document (a `<video>` element).
 *
 * @throws Da3Error `UNKNOWN_FORMAT` (the browser cannot play it), `BAD_VALUE` (fps, maxFrames,
 *   endless duration), `UNSUPPORTED` (no document, e.g. in a worker: pass `VideoFrame`s instead),
 *   `ABORTED` when `options.signal` fired
 */
export async function sampleVideo(video: HTMLVideoElement | Blob | string, options: SampleVideoOptions = {}): Promise<ImageU8[]> {
  const frames: ImageU8[] = [];
  for await (const frame of videoFrames(video, options)) frames.push(frame);
  return frames;
}

/**
 * The frames {@link sampleVideo} samples, one at a time as they are seeked (an async generator:
 * only the frame being handed on is in memory). Feeds `DepthAnything3.streamInference` from a
 * `<video>` or a video `File`. Stopping the iteration releases the element's source (for a
 * `Blob`/URL this function created). Errors as {@link sampleVideo}.
 */
export async function* videoFrames(video: HTMLVideoElement | Blob | string, options: SampleVideoOptions = {}): AsyncGenerator<ImageU8, void, undefined> {
  const { signal } = options;
  throwIfAborted(signal, 'sampleVideo');
  try {
    yield* sampleFrames(video, options);
  } catch (error) {
    throw asAborted(error, signal, 'sampleVideo');
  }
}

/** How many frames {@link videoFrames} will give for `video` (its metadata is loaded first). */
export async function videoFrameCount(video: HTMLVideoElement, options: SampleVideoOptions = {}): Promise<number> {
  if (video.readyState < 1) await abortable(once(video, 'loadedmetadata', 'sampleVideo'), options.signal, 'sampleVideo');
  return videoSampleTimes(video.duration, options).length;
}

async function* sampleFrames(video: HTMLVideoElement | Blob | string, options: SampleVideoOptions): AsyncGenerator<ImageU8, void, undefined> {
  const fn = 'sampleVideo';
  const { signal } = options;
  let element: HTMLVideoElement;
  let objectUrl: string | undefined;
  if (isA(video, 'HTMLVideoElement')) element = video as HTMLVideoElement;
  else {
    if (!has<Document>('document')) throw new Da3Error('UNSUPPORTED', `${fn}: needs a document to create a <video> element; in a worker, decode frames yourself and pass VideoFrames`);
    element = document.createElement('video');
    element.muted = true;
    element.playsInline = true;
    element.preload = 'auto';
    if (typeof video === 'string') {
      element.crossOrigin = 'anonymous';
      element.src = video;
    } else {
      objectUrl = URL.createObjectURL(video as Blob);
      element.src = objectUrl;
    }
  }
  try {
    if (element.readyState < 1) await abortable(once(element, 'loadedmetadata', fn), signal, fn);
    const times = videoSampleTimes(element.duration, options);
    element.pause();
    let index = 0;
    for (const t of times) {
      throwIfAborted(signal, fn);
      const target = Math.min(t, element.duration);
      if (element.readyState < 2 || Math.abs(element.currentTime - target) > 1e-9) {
        const seeked = once(element, 'seeked', fn);
        element.currentTime = target;
        await abortable(seeked, signal, fn);
      }
      throwIfAborted(signal, fn);
      const frame = rasterize(element, fn);
      options.onFrame?.(index++, target);
      yield frame;
    }
  } finally {
    if (objectUrl) {
      element.removeAttribute('src');
      element.load();
      URL.revokeObjectURL(objectUrl);
    }
  }
}
