import { createHash } from 'node:crypto';
import { closeSync, existsSync, fstatSync, openSync, readSync, realpathSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileByteSource, fileSink } from '../hub/fs.js';
import { type ConvertProgress, Da3Error, throwIfAborted, type GraphBuild, graphConfigDigest, type ModelConfig, SafetensorsFile, type Sink, buildGraphFor, graphBuildName, writeOnnxModel } from '@da3js/core';

/** The build-time choices that make one cached graph (core's `GraphBuild`). */
export type GraphVariant = GraphBuild;

/**
 * The cache folder name of one checkpoint + config: a digest of the weights file's identity (real
 * path, size, mtime, inode and its safetensors header bytes), the resolved config and the graph
 * builder's version (core's `graphConfigDigest`). Any change to any of them — new weights, an
 * edited config.json next to the same weights, a newer builder — gives a new folder, so a stale
 * graph is never run.
 * @throws {Da3Error} `IO` when the weights file cannot be read
 */
export function graphCacheFolder(weightsPath: string, config: ModelConfig): string {
  let identity: string;
  try {
    const real = realpathSync(weightsPath);
    const st = statSync(real);
    identity = `${real}\n${st.size}\n${st.mtimeMs}\n${st.ino}\n${safetensorsHeaderDigest(real)}`;
  } catch (cause) {
    throw new Da3Error('IO', `graph cache: cannot read the weights ${weightsPath}: ${(cause as Error).message}`, { cause });
  }
  return createHash('sha256').update(`${identity}\n${graphConfigDigest(config)}`).digest('hex').slice(0, 24);
}

/** sha256 of the first 8 bytes and the JSON header of a safetensors file (bounded: at most 100 MiB + 8 bytes read). */
function safetensorsHeaderDigest(path: string): string {
  const fd = openSync(path, 'r');
  try {
    const prefix = Buffer.alloc(8);
    const n = readSync(fd, prefix, 0, 8, 0);
    const hash = createHash('sha256').update(prefix.subarray(0, n));
    if (n === 8) {
      const len = Math.min(Number(prefix.readBigUInt64LE(0)), 100 * 2 ** 20, Math.max(0, fstatSync(fd).size - 8));
      const header = Buffer.alloc(len);
      hash.update(header.subarray(0, readSync(fd, header, 0, len, 8)));
    }
    return hash.digest('hex');
  } finally {
    closeSync(fd);
  }
}

function graphFileName(v: GraphVariant): string {
  return `${graphBuildName(v)}.onnx`;
}

/**
 * Returns the path of the ONNX graph for `variant`, converting the checkpoint once into
 * `<cacheDir>/<graphCacheFolder>/` (atomic: written to temp files and renamed; the external data
 * file is renamed before the `.onnx` so a present `.onnx` is complete). The weights always go to
 * the external data file (`<graph>.onnx.data`): onnxruntime then loads them without also holding
 * the protobuf's copy (DA3-SMALL: 74 MiB less resident after the session starts).
 * An aborted `signal` stops the conversion between tensors (`ABORTED`, temp files removed).
 */
export async function ensureGraph(
  weightsPath: string,
  config: ModelConfig,
  variant: GraphVariant,
  cacheDir: string,
  onProgress?: (event: ConvertProgress) => void,
  signal?: AbortSignal,
): Promise<string> {
  throwIfAborted(signal, 'graph conversion');
  const dir = join(cacheDir, graphCacheFolder(weightsPath, config));
  const path = join(dir, graphFileName(variant));
  if (existsSync(path)) return path;
  const source = fileByteSource(weightsPath);
  try {
    const file = await SafetensorsFile.open(source);
    const model = buildGraphFor(file, config, variant);
    const dataName = `${graphFileName(variant)}.data`;
    const sink = fileSink(path);
    const dataSink = fileSink(join(dir, dataName));
    // The .onnx must appear last: close the data sink first by ordering the sinks' close calls.
    const deferredSink: Sink = {
      write: (c) => sink.write(c),
      close: async () => {
        await dataSink.close?.();
        await sink.close?.();
      },
      abort: async (e) => {
        await dataSink.abort?.(e);
        await sink.abort?.(e);
      },
    };
    await writeOnnxModel(model, deferredSink, {
      externalData: { sink: { write: (c) => dataSink.write(c) }, location: dataName },
      onInitializer: (done, total, tensor) => {
        throwIfAborted(signal, 'graph conversion');
        onProgress?.({ status: 'convert', role: variant.role, done, total, tensor });
      },
    });
    return path;
  } finally {
    source.close();
  }
}
