/**
 * `gs_video` encoders in the browser: H.264 in MP4 with WebCodecs (`VideoEncoder`, in pages and
 * workers), else WebM with `MediaRecorder` on a canvas (pages only, real time).
 */
import { type AbortSignalLike, Da3Error, type Sink, throwIfAborted } from '@da3js/core';
import type { GsVideoEncodeSpec, GsVideoEncoder, GsVideoQuality } from '@da3js/exporters';
import { type Mp4Sample, muxMp4 } from './mp4.js';

/** H.264 High profile, level 5.1 (up to 4096×2304): accepted by Chromium's and Safari's encoders. */
const AVC_CODECS = ['avc1.640033', 'avc1.4d0033', 'avc1.420033', 'avc1.42001f'];

/**
 * Bits per pixel per frame of each quality (WebCodecs has no constant rate factor; these land
 * near x264's crf 18 / 23 / 28 for rendered scenes).
 */
const BITS_PER_PIXEL: Readonly<Record<GsVideoQuality, number>> = { high: 0.3, medium: 0.15, low: 0.07 };

/** Options of {@link createWebVideoEncoder}. */
export interface WebVideoEncoderOptions {
  /** Force one path (default: WebCodecs when it encodes H.264, else MediaRecorder). */
  readonly prefer?: 'webcodecs' | 'mediarecorder';
}

interface VideoEncoderLike {
  configure(config: Record<string, unknown>): void;
  encode(frame: unknown, options?: { keyFrame?: boolean }): void;
  flush(): Promise<void>;
  close(): void;
  readonly encodeQueueSize: number;
}
interface WebCodecsGlobals {
  VideoEncoder?: {
    new (init: { output: (chunk: { byteLength: number; type: string; timestamp: number; copyTo(dest: Uint8Array): void }, meta?: { decoderConfig?: { description?: BufferSource } }) => void; error: (e: unknown) => void }): VideoEncoderLike;
    isConfigSupported(config: Record<string, unknown>): Promise<{ supported?: boolean }>;
  };
  VideoFrame?: new (data: BufferSource, init: Record<string, unknown>) => { close(): void };
}

const g = globalThis as unknown as WebCodecsGlobals & { MediaRecorder?: { isTypeSupported(t: string): boolean }; document?: unknown };

async function pickAvcCodec(width: number, height: number): Promise<string | undefined> {
  const VE = g.VideoEncoder;
  if (!VE) return undefined;
  for (const codec of AVC_CODECS) {
    try {
      if ((await VE.isConfigSupported({ codec, width, height, avc: { format: 'avc' } })).supported) return codec;
    } catch {
      // an unknown codec string: try the next
    }
  }
  return undefined;
}

/**
 * A {@link GsVideoEncoder} for this browser: WebCodecs H.264 → MP4 (like the reference's file)
 * when `VideoEncoder` can encode H.264, else `MediaRecorder` → WebM (VP9/VP8) from a canvas in
 * real time (needs a page: no canvas stream in workers).
 * @throws Da3Error `UNSUPPORTED` when neither is available
 */
export async function createWebVideoEncoder(options: WebVideoEncoderOptions = {}): Promise<GsVideoEncoder> {
  if (options.prefer !== 'mediarecorder' && (await pickAvcCodec(1280, 720))) return webCodecsEncoder();
  if (options.prefer !== 'webcodecs' && g.MediaRecorder && g.document) return mediaRecorderEncoder();
  throw new Da3Error('UNSUPPORTED', 'gs_video: this browser has neither WebCodecs H.264 encoding (VideoEncoder) nor MediaRecorder on a page');
}

/** WebCodecs `VideoEncoder` (H.264, AVC format) muxed into MP4 by {@link muxMp4}. */
function webCodecsEncoder(): GsVideoEncoder {
  return {
    container: 'mp4',
    async encode(frames: AsyncIterable<Uint8Array>, spec: GsVideoEncodeSpec, sink: Sink, o?: { readonly signal?: AbortSignalLike }): Promise<void> {
      const { width, height, fps } = spec;
      const codec = await pickAvcCodec(width, height);
      if (!codec || !g.VideoEncoder || !g.VideoFrame) throw new Da3Error('UNSUPPORTED', `gs_video: VideoEncoder cannot encode H.264 at ${width}×${height}`);
      const samples: Mp4Sample[] = [];
      let avcC: Uint8Array | undefined;
      let failure: unknown;
      let lastTimestamp = Number.NEGATIVE_INFINITY;
      const encoder = new g.VideoEncoder({
        output: (chunk, meta) => {
          // muxMp4 writes frames in presentation order (no composition offsets): no B-frames.
          if (chunk.timestamp <= lastTimestamp) failure ??= new Error('the encoder reordered frames (B-frames), which the MP4 writer does not support');
          lastTimestamp = chunk.timestamp;
          const data = new Uint8Array(chunk.byteLength);
          chunk.copyTo(data);
          samples.push({ data, key: chunk.type === 'key' });
          const d = meta?.decoderConfig?.description;
          if (d) avcC = d instanceof ArrayBuffer ? new Uint8Array(d.slice(0)) : new Uint8Array((d as ArrayBufferView).buffer.slice((d as ArrayBufferView).byteOffset, (d as ArrayBufferView).byteOffset + (d as ArrayBufferView).byteLength));
        },
        error: (e) => {
          failure ??= e;
        },
      });
      try {
        encoder.configure({ codec, width, height, framerate: fps, bitrate: Math.round(BITS_PER_PIXEL[spec.quality] * width * height * fps), avc: { format: 'avc' }, latencyMode: 'quality' });
        const rgba = new Uint8Array(width * height * 4);
        let i = 0;
        for await (const frame of frames) {
          throwIfAborted(o?.signal, 'gs_video');
          if (failure) break;
          for (let p = 0, q = 0; p < frame.length; p += 3, q += 4) {
            rgba[q] = frame[p];
            rgba[q + 1] = frame[p + 1];
            rgba[q + 2] = frame[p + 2];
            rgba[q + 3] = 255;
          }
          const vf = new g.VideoFrame(rgba, { format: 'RGBA', codedWidth: width, codedHeight: height, timestamp: Math.round((i * 1e6) / fps), duration: Math.round(1e6 / fps) });
          encoder.encode(vf, { keyFrame: i % (2 * fps) === 0 });
          vf.close();
          i++;
          // Keep the queue short (memory), letting the encoder catch up.
          while (encoder.encodeQueueSize > 4) await new Promise((r) => setTimeout(r, 1));
        }
        await encoder.flush();
        if (failure) throw new Da3Error('IO', `gs_video: VideoEncoder failed: ${(failure as Error).message ?? failure}`, { cause: failure });
        if (!avcC) throw new Da3Error('IO', 'gs_video: VideoEncoder gave no decoder configuration (avcC)');
        throwIfAborted(o?.signal, 'gs_video');
        await sink.write(muxMp4({ width, height, fps, avcC }, samples));
      } finally {
        try {
          encoder.close();
        } catch {
          // already closed after an error
        }
      }
    },
  };
}

interface CanvasLike {
  width: number;
  height: number;
  getContext(kind: '2d'): { putImageData(d: unknown, x: number, y: number): void } | null;
  captureStream(fps?: number): { getVideoTracks(): { requestFrame?(): void; stop(): void }[] };
}

/** `MediaRecorder` on a canvas stream: WebM, frames drawn at the video's frame rate in real time. */
function mediaRecorderEncoder(): GsVideoEncoder {
  return {
    container: 'webm',
    async encode(frames: AsyncIterable<Uint8Array>, spec: GsVideoEncodeSpec, sink: Sink, o?: { readonly signal?: AbortSignalLike }): Promise<void> {
      const { width, height, fps } = spec;
      const doc = g.document as { createElement(tag: 'canvas'): CanvasLike };
      const MR = (globalThis as unknown as { MediaRecorder: new (s: unknown, o: Record<string, unknown>) => { start(ms?: number): void; stop(): void; ondataavailable: ((e: { data: Blob }) => void) | null; onstop: (() => void) | null; onerror: ((e: unknown) => void) | null } }).MediaRecorder;
      const mimeType = ['video/webm;codecs=vp9', 'video/webm;codecs=vp8', 'video/webm'].find((t) => g.MediaRecorder!.isTypeSupported(t));
      const canvas = doc.createElement('canvas');
      canvas.width = width;
      canvas.height = height;
      const ctx = canvas.getContext('2d');
      if (!ctx || !mimeType) throw new Da3Error('UNSUPPORTED', 'gs_video: no 2D canvas or WebM MediaRecorder');
      const stream = canvas.captureStream(0);
      const track = stream.getVideoTracks()[0];
      const recorder = new MR(stream, { mimeType, videoBitsPerSecond: Math.round(BITS_PER_PIXEL[spec.quality] * width * height * fps) });
      const parts: Blob[] = [];
      let failure: unknown;
      recorder.ondataavailable = (e) => {
        if (e.data.size) parts.push(e.data);
      };
      recorder.onerror = (e) => {
        failure ??= e;
      };
      const stopped = new Promise<void>((r) => (recorder.onstop = r));
      recorder.start();
      const rgba = new Uint8ClampedArray(width * height * 4);
      const ImageDataCtor = (globalThis as unknown as { ImageData: new (d: Uint8ClampedArray, w: number, h: number) => unknown }).ImageData;
      let next = performance.now();
      try {
        for await (const frame of frames) {
          throwIfAborted(o?.signal, 'gs_video');
          for (let p = 0, q = 0; p < frame.length; p += 3, q += 4) {
            rgba[q] = frame[p];
            rgba[q + 1] = frame[p + 1];
            rgba[q + 2] = frame[p + 2];
            rgba[q + 3] = 255;
          }
          ctx.putImageData(new ImageDataCtor(rgba, width, height), 0, 0);
          track.requestFrame?.();
          next += 1000 / fps;
          await new Promise((r) => setTimeout(r, Math.max(0, next - performance.now())));
        }
      } finally {
        recorder.stop();
        track.stop();
        await stopped;
      }
      if (failure) throw new Da3Error('IO', `gs_video: MediaRecorder failed: ${String((failure as { error?: unknown }).error ?? failure)}`);
      await sink.write(new Uint8Array(await new Blob(parts, { type: mimeType }).arrayBuffer()));
    },
  };
}
