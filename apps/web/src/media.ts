/**
 * Decoding in the page: image files to exact RGBA pixels (EXIF orientation applied, no colour
 * management or premultiplication, so a PNG's bytes come through unchanged), and a video sampled
 * at a fixed frame rate by seeking a `<video>` element.
 */
import type { ImageU8 } from '@da3js/core';

function pixelsOf(source: CanvasImageSource, width: number, height: number): ImageU8 {
  const canvas = new OffscreenCanvas(width, height);
  const ctx = canvas.getContext('2d', { willReadFrequently: true, colorSpace: 'srgb' });
  if (!ctx) throw new Error('decode: no 2D canvas context');
  ctx.drawImage(source, 0, 0);
  const { data } = ctx.getImageData(0, 0, width, height);
  return { data, width, height, channels: 4 };
}

/** Decodes an image file (any format the browser reads) into RGBA bytes. */
export async function decodeImageFile(file: Blob): Promise<ImageU8> {
  const bitmap = await createImageBitmap(file, { imageOrientation: 'from-image', premultiplyAlpha: 'none', colorSpaceConversion: 'none' });
  try {
    return pixelsOf(bitmap, bitmap.width, bitmap.height);
  } finally {
    bitmap.close();
  }
}

/** Options of {@link sampleVideoFile}. */
export interface VideoSampling {
  /** Frames per second of video time (default 1). */
  readonly fps?: number;
  /** At most this many frames (default 64). */
  readonly maxFrames?: number;
  readonly onFrame?: (done: number, total: number | null) => void;
}

function once(el: HTMLMediaElement, event: string): Promise<void> {
  return new Promise((ok, fail) => {
    const done = () => {
      el.removeEventListener('error', bad);
      ok();
    };
    const bad = () => {
      el.removeEventListener(event, done);
      fail(new Error(`video: the browser cannot decode this file (${el.error?.message ?? 'unknown error'})`));
    };
    el.addEventListener(event, done, { once: true });
    el.addEventListener('error', bad, { once: true });
  });
}

/** Samples a video file every `1/fps` seconds (from t = 0) into RGBA frames. */
export async function sampleVideoFile(file: Blob, options: VideoSampling = {}): Promise<ImageU8[]> {
  const fps = options.fps && options.fps > 0 ? options.fps : 1;
  const maxFrames = options.maxFrames ?? 64;
  const url = URL.createObjectURL(file);
  const video = document.createElement('video');
  video.muted = true;
  video.preload = 'auto';
  video.src = url;
  try {
    await once(video, 'loadeddata');
    const duration = Number.isFinite(video.duration) ? video.duration : 0;
    const total = Math.max(1, Math.min(maxFrames, Math.floor(duration * fps) + 1));
    const frames: ImageU8[] = [];
    for (let i = 0; i < total; i++) {
      const t = Math.min(i / fps, Math.max(0, duration - 1e-3));
      if (Math.abs(video.currentTime - t) > 1e-6 || i > 0) {
        const seeked = once(video, 'seeked');
        video.currentTime = t;
        await seeked;
      }
      frames.push(pixelsOf(video, video.videoWidth, video.videoHeight));
      options.onFrame?.(frames.length, total);
    }
    return frames;
  } finally {
    video.removeAttribute('src');
    video.load();
    URL.revokeObjectURL(url);
  }
}
