import type { Prediction } from '@da3js/core';
import { type ExportOptions, exportPrediction } from '@da3js/exporters';
import { blobSink } from './io.js';

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
};

/** The MIME type for an exported file name. */
export function mimeTypeOf(name: string): string {
  return MIME[name.slice(name.lastIndexOf('.') + 1).toLowerCase()] ?? 'application/octet-stream';
}

/**
 * Exports a prediction in the reference's formats (`"glb-mini_npz-depth_vis"` or a list) to
 * in-memory `File`s named with the reference's relative paths (`scene.glb`,
 * `depth_vis/0000.jpg`, …) — ready for download links or upload. Each file is streamed into a
 * Blob; when a writer fails, no file is returned.
 */
export async function exportToFiles(prediction: Prediction, formats: string | readonly string[], options: ExportOptions = {}): Promise<File[]> {
  const sinks = new Map<string, ReturnType<typeof blobSink>>();
  const names = await exportPrediction(
    prediction,
    formats,
    (path) => {
      const sink = blobSink(mimeTypeOf(path));
      sinks.set(path, sink);
      return sink;
    },
    options,
  );
  return names.map((name) => new File([sinks.get(name)!.blob()], name, { type: mimeTypeOf(name) }));
}
