import { createHash } from 'node:crypto';
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileByteSource, fileSink } from '../hub/fs.js';
import { type ConvertProgress, GRAPH_BUILDER_VERSION, type GraphBuild, type ModelConfig, SafetensorsFile, type Sink, buildGraphFor, graphBuildName, needsExternalData, writeOnnxModel } from '@da3js/core';

/** The build-time choices that make one cached graph (core's `GraphBuild`). */
export type GraphVariant = GraphBuild;

/**
 * A stable name for the weights file (path, size, mtime) and the graph builder's version: cached
 * graphs are keyed by it.
 */
export function weightsFingerprint(weightsPath: string): string {
  const st = statSync(weightsPath);
  return createHash('sha256').update(`${weightsPath}\n${st.size}\n${st.mtimeMs}\nbuilder ${GRAPH_BUILDER_VERSION}`).digest('hex').slice(0, 16);
}

function graphFileName(v: GraphVariant): string {
  return `${graphBuildName(v)}.onnx`;
}

/**
 * Returns the path of the ONNX graph for `variant`, converting the checkpoint once into
 * `<cacheDir>/<fingerprint>/` (atomic: written to temp files and renamed; the external data
 * file, when the graph needs one, is renamed before the `.onnx` so a present `.onnx` is complete).
 */
export async function ensureGraph(
  weightsPath: string,
  config: ModelConfig,
  variant: GraphVariant,
  cacheDir: string,
  onProgress?: (event: ConvertProgress) => void,
): Promise<string> {
  const dir = join(cacheDir, weightsFingerprint(weightsPath));
  const path = join(dir, graphFileName(variant));
  if (existsSync(path)) return path;
  const source = fileByteSource(weightsPath);
  try {
    const file = await SafetensorsFile.open(source);
    const model = buildGraphFor(file, config, variant);
    const external = needsExternalData(model);
    const dataName = `${graphFileName(variant)}.data`;
    const sink = fileSink(path);
    const dataSink = external ? fileSink(join(dir, dataName)) : undefined;
    // The .onnx must appear last: close the data sink first by ordering the sinks' close calls.
    const deferredSink: Sink = {
      write: (c) => sink.write(c),
      close: async () => {
        await dataSink?.close?.();
        await sink.close?.();
      },
      abort: async (e) => {
        await dataSink?.abort?.(e);
        await sink.abort?.(e);
      },
    };
    await writeOnnxModel(model, deferredSink, {
      externalData: dataSink ? { sink: { write: (c) => dataSink.write(c) }, location: dataName } : undefined,
      onInitializer: (done, total, tensor) => onProgress?.({ status: 'convert', role: variant.role, done, total, tensor }),
    });
    return path;
  } finally {
    source.close();
  }
}
