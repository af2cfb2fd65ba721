/**
 * `gs_video`: the reference's novel-view video of the 3D Gaussians (`export_to_gs_video`). The
 * cameras come from core's {@link gsVideoPlan} (trajectory, render overrides, NESTED scale
 * division), each frame is rendered by a {@link GaussianRasterizer} and composed with its depth
 * panel ({@link composeGsVideoFrame}), and the frames are handed to a {@link GsVideoEncoder} —
 * H.264 through ffmpeg in Node (`@da3js/node`), WebCodecs or MediaRecorder in browsers
 * (`@da3js/web`). This module needs neither: both are passed in.
 */
import {
  type AbortSignalLike,
  Da3Error,
  type GaussianRasterizer,
  type GsVideoCameraOptions,
  type GsVideoPlan,
  type Prediction,
  type Sink,
  type TrajectoryMode,
  gsVideoPlan,
  throwIfAborted,
} from '@da3js/core';
import { type GsVideoDepthPanel, type GsVideoDepthRange, colorByte, composeGsVideoFrame, gsVideoDepthRange, gsVideoFrameSize } from './compose.js';

/** The reference's `video_quality` presets. */
export type GsVideoQuality = 'low' | 'medium' | 'high';

/** x264 settings of each preset (the reference's `VIDEO_QUALITY_MAP`). */
export const GS_VIDEO_QUALITY: Readonly<Record<GsVideoQuality, { readonly crf: number; readonly preset: 'veryfast' | 'medium' | 'slow' }>> = Object.freeze({
  low: Object.freeze({ crf: 28, preset: 'veryfast' as const }),
  medium: Object.freeze({ crf: 23, preset: 'medium' as const }),
  high: Object.freeze({ crf: 18, preset: 'slow' as const }),
});

/** What an encoder is asked to make. */
export interface GsVideoEncodeSpec {
  /** Frame size in pixels (even numbers). */
  readonly width: number;
  readonly height: number;
  /** Frames per second (24). */
  readonly fps: number;
  /** Number of frames the iterable yields. */
  readonly frames: number;
  readonly quality: GsVideoQuality;
  /** x264 constant rate factor of the preset (18 / 23 / 28). */
  readonly crf: number;
  /** x264 speed preset (`slow` / `medium` / `veryfast`). */
  readonly preset: string;
}

/**
 * Encodes RGB24 frames (row-major, `width·height·3` bytes each) into a video file written to a
 * sink. It only writes: the caller closes the sink, or aborts it when `encode` rejects.
 */
export interface GsVideoEncoder {
  /** The container it writes, which is the file's extension (`mp4` like the reference, or `webm`). */
  readonly container: 'mp4' | 'webm';
  encode(frames: AsyncIterable<Uint8Array>, spec: GsVideoEncodeSpec, sink: Sink, options?: { readonly signal?: AbortSignalLike }): Promise<void>;
}

/** Progress of a `gs_video`: frames rendered, then frames encoded. */
export interface GsVideoProgress {
  readonly stage: 'render' | 'encode';
  readonly done: number;
  readonly total: number;
}

/** Options of `gs_video` (`ExportOptions.gsVideo`). */
export interface GsVideoOptions extends GsVideoCameraOptions {
  /** x264 preset (default `'high'`: crf 18, like the reference's default). */
  readonly quality?: GsVideoQuality;
  /** The depth panel (default `'hcat'`, the reference's `vis_depth`); `null` renders colour only. */
  readonly depthPanel?: GsVideoDepthPanel;
  /** Renders the frames (node and web supply one; required with the bare `exportPrediction`). */
  readonly rasterizer?: GaussianRasterizer;
  /** Encodes the frames (node: ffmpeg, web: WebCodecs/MediaRecorder; required with the bare `exportPrediction`). */
  readonly encoder?: GsVideoEncoder;
  /** Called after each rendered and each encoded frame. */
  readonly onProgress?: (event: GsVideoProgress) => void;
}

/** What {@link writeGsVideo} made. */
export interface GsVideoResult {
  readonly plan: GsVideoPlan;
  /** Frame size (with the depth panel and even padding). */
  readonly width: number;
  readonly height: number;
  readonly frames: number;
}

/** The `gs_video` file name of a plan and container: `gs_video/0000_<mode>.mp4`. */
export function gsVideoPath(mode: TrajectoryMode, container: 'mp4' | 'webm' = 'mp4'): string {
  return `gs_video/0000_${mode}.${container}`;
}

/**
 * The trajectory a `gs_video` of `views` cameras uses: `'wander'` for one view, else the
 * requested one (default `'extend'`).
 */
export function gsVideoMode(views: number, trajectory: TrajectoryMode = 'extend'): TrajectoryMode {
  return views <= 1 ? 'wander' : trajectory;
}

/**
 * Renders the reference's `gs_video` of a prediction's Gaussians into `sink`: frames along the
 * trajectory (see {@link gsVideoPlan}), coloured depth beside them, 24 fps, the quality preset's
 * crf. With the depth panel every frame is rendered first (the depth colours use percentiles over
 * the whole video, as in the reference), keeping the colour bytes and the depth of each frame;
 * without it frames stream straight to the encoder.
 * The sink is closed on success and aborted on failure.
 * @throws Da3Error `BAD_VALUE` (no Gaussians, no cameras, a bad option), `BAD_CONFIG` (no
 *   rasterizer or encoder), `ABORTED`, and the rasterizer's and encoder's errors
 */
export async function writeGsVideo(prediction: Prediction, sink: Sink, options: GsVideoOptions & { readonly signal?: AbortSignalLike } = {}): Promise<GsVideoResult> {
  try {
    const { rasterizer, encoder, signal, onProgress } = options;
    if (!prediction.gaussians) throw new Da3Error('BAD_VALUE', 'gs_video: needs 3D Gaussians in the prediction (a model with a GS head, inferGs)');
    if (!rasterizer || !encoder) {
      throw new Da3Error('BAD_CONFIG', 'gs_video: needs a Gaussian rasterizer and a video encoder (options.gsVideo.rasterizer / .encoder); @da3js/node and @da3js/web supply both');
    }
    const quality = options.quality ?? 'high';
    if (!Object.hasOwn(GS_VIDEO_QUALITY, quality)) throw new Da3Error('BAD_VALUE', `gs_video: quality must be low, medium or high, got "${String(quality)}"`);
    const panel = options.depthPanel === undefined ? 'hcat' : options.depthPanel;
    if (panel !== null && panel !== 'hcat' && panel !== 'vcat') throw new Da3Error('BAD_VALUE', `gs_video: depthPanel must be 'hcat', 'vcat' or null, got "${String(panel)}"`);
    const plan = gsVideoPlan(prediction, options);
    const gaussians = prediction.gaussians;
    const { width, height } = plan;
    const size = gsVideoFrameSize(width, height, panel);
    const total = plan.cameras.length;
    const spec: GsVideoEncodeSpec = { width: size.width, height: size.height, fps: plan.fps, frames: total, quality, ...GS_VIDEO_QUALITY[quality] };
    const renderMode = panel === null ? 'RGB' : 'RGB+ED';
    const render = async (i: number) => {
      throwIfAborted(signal, 'gs_video');
      const image = await rasterizer.render(gaussians, plan.cameras[i], { renderMode, background: [0, 0, 0], signal });
      onProgress?.({ stage: 'render', done: i + 1, total });
      return image;
    };

    let frames: AsyncIterable<Uint8Array>;
    if (panel === null) {
      frames = (async function* () {
        for (let i = 0; i < total; i++) {
          const image = await render(i);
          yield composeGsVideoFrame(image.rgb, null, width, height, null, null);
          onProgress?.({ stage: 'encode', done: i + 1, total });
        }
      })();
    } else {
      const colors: Uint8Array[] = [];
      const depths: Float32Array[] = [];
      for (let i = 0; i < total; i++) {
        const image = await render(i);
        if (!image.depth) throw new Da3Error('BAD_VALUE', `gs_video: rasterizer '${rasterizer.name}' returned no depth for renderMode 'RGB+ED'`);
        const bytes = new Uint8Array(width * height * 3);
        for (let j = 0; j < bytes.length; j++) bytes[j] = colorByte(image.rgb[j]);
        colors.push(bytes);
        depths.push(image.depth);
      }
      const range: GsVideoDepthRange = gsVideoDepthRange(depths);
      frames = (async function* () {
        for (let i = 0; i < total; i++) {
          throwIfAborted(signal, 'gs_video');
          const frame = composeGsVideoFrame(colors[i], depths[i], width, height, panel, range);
          // Each frame's inputs are dropped once it is composed.
          colors[i] = new Uint8Array(0);
          depths[i] = new Float32Array(0);
          yield frame;
          onProgress?.({ stage: 'encode', done: i + 1, total });
        }
      })();
    }
    await encoder.encode(frames, spec, sink, { signal });
    throwIfAborted(signal, 'gs_video');
    await sink.close?.();
    return { plan, width: size.width, height: size.height, frames: total };
  } catch (error) {
    await sink.abort?.(error);
    throw error;
  }
}
