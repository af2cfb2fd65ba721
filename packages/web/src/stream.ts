import { Da3Error, type InferenceOptions, type RefViewStrategy, type StreamEvent, type StreamOptions, type StreamSummary, resolveLoopFeatureLayer, streamInference } from '@da3js/core';
import type { DepthAnything3, WebInferenceOptions } from './depth-anything-3.js';
import { type SampleVideoOptions, type WebImageInput, videoFrameCount, videoFrames } from './input.js';

/**
 * The web defaults of {@link streamVideo} / `DepthAnything3.streamInference`: chunks of 16 frames
 * overlapping by 8 (the reference's 120/60 need several GiB per chunk at 504 px; 16 views of
 * DA3-SMALL at 504×336 peak near 2.4 GB in onnxruntime, inside WASM's 4 GiB heap).
 */
export const WEB_STREAM_DEFAULTS = Object.freeze({ chunkSize: 16, overlap: 8 });

/** Options of `DepthAnything3.streamInference` (web). */
export interface WebStreamOptions extends Omit<StreamOptions, 'inference' | 'store'> {
  readonly processRes?: number;
  readonly processResMethod?: InferenceOptions['processResMethod'];
  /** Reference view of each chunk (default `saddle_balanced`). */
  readonly refViewStrategy?: RefViewStrategy;
  readonly useRayPose?: boolean;
  readonly applyExifOrientation?: boolean;
  /** For a `<video>` or a video `File`: how frames are sampled (`fps`, default 1; `videoFps`; `maxFrames`). */
  readonly video?: Omit<SampleVideoOptions, 'signal'>;
  /** Network progress of each chunk's inference. */
  readonly onInferenceProgress?: WebInferenceOptions['onProgress'];
}

/** What the web stream reads: frames from an iterable, a `<video>`, or a video `File`/`Blob`. */
export type WebStreamSource = AsyncIterable<WebImageInput> | Iterable<WebImageInput> | HTMLVideoElement | Blob;

const isIterable = (v: unknown): v is AsyncIterable<WebImageInput> | Iterable<WebImageInput> =>
  typeof v === 'object' && v !== null && (Symbol.asyncIterator in v || Symbol.iterator in v);

/**
 * DA3-Streaming in a tab (see core's `streamInference`): frames of a `<video>`, a video `File` or
 * any (async) iterable of inputs run in overlapping chunks, aligned into one world frame, and
 * handed on: a chunk's maps are dropped once its events are consumed, so memory stays at one
 * chunk whatever the video's length (keep what you need of each frame). No resume store in the
 * browser. `loopClosure` (core's) ends the stream with a `loops` event carrying the corrected
 * transforms (`correctStreamFrame` / `correctStreamPoints` re-apply them); with `pairs` only the
 * loop windows are kept, with `detect` every frame and chunk map is (mind a tab's memory). For a video, `expectedFrames` is the number of sampled frames, so a video that stops
 * playing early ends in a typed error after the frames that came are finished.
 */
export async function* streamVideo(model: DepthAnything3, source: WebStreamSource, options: WebStreamOptions = {}): AsyncGenerator<StreamEvent, StreamSummary, undefined> {
  const { processRes, processResMethod, refViewStrategy, useRayPose, applyExifOrientation, video, onInferenceProgress, loopClosure: loopOptions, ...stream } = options;
  // Loop detection pools a backbone feature the graph must export (core picks the layer).
  const loopClosure = resolveLoopFeatureLayer(model.config, loopOptions);
  const layer = loopClosure?.detect && typeof loopClosure.detect === 'object' ? loopClosure.detect.featureLayer : undefined;
  const exportFeatLayers = layer === undefined ? undefined : [layer];
  let frames: AsyncIterable<WebImageInput> | Iterable<WebImageInput>;
  let expectedFrames = stream.expectedFrames;
  let release: (() => void) | undefined;
  if (isIterable(source)) frames = source;
  else {
    const Video = (globalThis as { HTMLVideoElement?: new () => HTMLVideoElement }).HTMLVideoElement;
    let element: HTMLVideoElement;
    if (Video && source instanceof Video) element = source;
    else if (typeof Blob === 'function' && source instanceof Blob) {
      if (typeof document === 'undefined') throw new Da3Error('UNSUPPORTED', 'streamInference: a video File needs a document (a <video> element); in a worker, pass decoded frames');
      element = document.createElement('video');
      element.muted = true;
      element.playsInline = true;
      element.preload = 'auto';
      const url = URL.createObjectURL(source);
      element.src = url;
      release = () => {
        element.removeAttribute('src');
        element.load();
        URL.revokeObjectURL(url);
      };
    } else throw new Da3Error('BAD_VALUE', 'streamInference: frames must be an (async) iterable of images, a <video> element or a video File/Blob');
    const sampling = { ...video, signal: stream.signal };
    expectedFrames ??= await videoFrameCount(element, sampling);
    frames = videoFrames(element, sampling);
  }
  try {
    return yield* streamInference<WebImageInput>(
      (chunk, { signal }) => model.inference(chunk, { processRes, processResMethod, refViewStrategy, useRayPose, applyExifOrientation, exportFeatLayers, onProgress: onInferenceProgress, signal }),
      frames,
      { chunkSize: WEB_STREAM_DEFAULTS.chunkSize, overlap: WEB_STREAM_DEFAULTS.overlap, ...stream, ...(loopClosure ? { loopClosure } : {}), expectedFrames },
    );
  } finally {
    release?.();
  }
}
