import { type GaussianRasterizer, type Prediction, type Sink, createCpuRasterizer, throwIfAborted } from '@da3js/core';
import { type ExportOptions, exportPrediction, parseFormats } from '@da3js/exporters';
import { asAborted } from './abort.js';
import { blobSink } from './io.js';
import { createWebVideoEncoder } from './video/encoder.js';

/** Longest stretch (ms) an export runs without giving the event loop a turn. */
const YIELD_EVERY_MS = 30;

/**
 * Lets the event loop run (input events, timers, an abort message) — a macrotask, not a microtask.
 * Not `scheduler.yield()`: its continuation is queued ahead of pending timers and messages.
 */
function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}

const MIME: Readonly<Record<string, string>> = {
  glb: 'model/gltf-binary',
  gltf: 'model/gltf+json',
  ply: 'application/octet-stream',
  npz: 'application/octet-stream',
  png: 'image/png',
  jpg: 'image/jpeg',
  txt: 'text/plain',
  bin: 'application/octet-stream',
  spz: 'application/octet-stream',
  mp4: 'video/mp4',
  webm: 'video/webm',
};

/** The MIME type for an exported file name. */
export function mimeTypeOf(name: string): string {
  return MIME[name.slice(name.lastIndexOf('.') + 1).toLowerCase()] ?? 'application/octet-stream';
}

/**
 * Exports a prediction in the reference's formats (`"glb-mini_npz-depth_vis"` or a list) to
 * in-memory `File`s named with the reference's relative paths (`scene.glb`,
 * `depth_vis/0000.jpg`, …) — ready for download links or upload. Each file is streamed into a
 * Blob; when a writer fails, no file is returned. With `options.signal` the export stops before
 * its next write once the signal fires (`ABORTED`, nothing returned); it gives the event loop a
 * turn every few tens of milliseconds, so a Cancel button on the same thread is heard.
 *
 * `gs_video` renders with `options.gsVideo.rasterizer` (default: core's CPU rasterizer on this
 * thread — run exports in a worker) and encodes with `options.gsVideo.encoder` (default
 * {@link createWebVideoEncoder}: WebCodecs H.264 → `gs_video/0000_<mode>.mp4`, else MediaRecorder →
 * `.webm`).
 */
export async function exportToFiles(prediction: Prediction, formats: string | readonly string[], options: ExportOptions = {}): Promise<File[]> {
  let owned: GaussianRasterizer | undefined;
  if (parseFormats(formats).includes('gs_video')) {
    const video = options.gsVideo;
    const rasterizer = video?.rasterizer ?? (owned = createCpuRasterizer());
    options = { ...options, gsVideo: { ...video, rasterizer, encoder: video?.encoder ?? (await createWebVideoEncoder()) } };
  }
  try {
    return await exportFiles(prediction, formats, options);
  } finally {
    await owned?.dispose();
  }
}

async function exportFiles(prediction: Prediction, formats: string | readonly string[], options: ExportOptions): Promise<File[]> {
  const sinks = new Map<string, ReturnType<typeof blobSink>>();
  let last = performance.now();
  const names = await exportPrediction(
    prediction,
    formats,
    (path) => {
      const sink = blobSink(mimeTypeOf(path));
      sinks.set(path, sink);
      if (!options.signal) return sink;
      const signal = options.signal;
      const turn = async () => {
        if (performance.now() - last > YIELD_EVERY_MS) {
          await yieldToEventLoop();
          last = performance.now();
        }
        throwIfAborted(signal, 'export');
      };
      const yielding: Sink = {
        write: async (chunk) => {
          await turn();
          return sink.write(chunk);
        },
        close: async () => {
          await turn();
          return sink.close?.();
        },
        abort: (reason) => sink.abort?.(reason),
      };
      return yielding;
    },
    options,
  ).catch((error) => {
    throw asAborted(error, options.signal, 'export');
  });
  return names.map((name) => new File([sinks.get(name)!.blob()], name, { type: mimeTypeOf(name) }));
}
