import {
  type AbortSignalLike,
  type ByteSource,
  GRAPH_BUILDER_VERSION,
  type GraphBuild,
  type ModelCache,
  type ModelConfig,
  type SafetensorsFile,
  buildGraphFor,
  graphBuildName,
  graphConfigDigest,
  needsExternalData,
  throwIfAborted,
  writeOnnxModel,
} from '@da3js/core';
import { type BlobByteSource, blobByteSource, blobSink } from './io.js';

export type { GraphBuild };


/** A converted graph as Blobs: the `.onnx` and, above 2 GB, its external data file. */
export interface GraphBlobs {
  readonly model: Blob;
  readonly externalData?: { readonly location: string; readonly blob: Blob };
}

/** File name the external data is recorded under inside the model. */
export const EXTERNAL_DATA_LOCATION = 'model.onnx.data';

/**
 * The cache key of one graph: the weights' version (`weightsId`), a digest of the resolved config
 * and the builder version (core's `graphConfigDigest`), and the build choices. Editing the config
 * beside the same weights gives a new key, so a stale graph is never run.
 */
export function graphCacheKey(weightsId: string, config: ModelConfig, build: GraphBuild): string {
  return `da3js-graph/v${GRAPH_BUILDER_VERSION}/${weightsId}/${graphConfigDigest(config)}/${graphBuildName(build)}.onnx`;
}

/**
 * Converts one network of a checkpoint into an ONNX graph held in Blobs. Weights are read one
 * tensor at a time from `weights` and written straight into the Blob sink, so the page holds at
 * most one copy of them. An aborted `signal` stops it between tensors (`ABORTED`; the partial
 * Blobs are dropped — nothing is returned or cached). Bind the weights' reads to the same signal
 * (`withSignal`) so a tensor download in flight stops too.
 */
export async function convertGraph(
  weights: SafetensorsFile,
  config: ModelConfig,
  build: GraphBuild,
  onInitializer?: (done: number, total: number) => void,
  signal?: AbortSignalLike,
): Promise<GraphBlobs> {
  throwIfAborted(signal, 'graph conversion');
  const model = buildGraphFor(weights, config, build);
  const sink = blobSink();
  const dataSink = needsExternalData(model) ? blobSink() : undefined;
  await writeOnnxModel(model, sink, {
    externalData: dataSink ? { sink: dataSink, location: EXTERNAL_DATA_LOCATION } : undefined,
    onInitializer: (done, total) => {
      throwIfAborted(signal, 'graph conversion');
      onInitializer?.(done, total);
    },
  });
  return { model: sink.blob(), externalData: dataSink ? { location: EXTERNAL_DATA_LOCATION, blob: dataSink.blob() } : undefined };
}

const blobOf = (source: ByteSource): Blob | undefined => (source as BlobByteSource).blob;

/**
 * A cached graph, or undefined. A model entry whose external data entry is gone still comes back
 * (without data); session creation then fails and the caller converts again.
 */
export async function cachedGraph(cache: ModelCache, key: string): Promise<GraphBlobs | undefined> {
  const model = await cache.match(key);
  const modelBlob = model && blobOf(model);
  if (!modelBlob) return undefined;
  const data = await cache.match(`${key}.data`);
  const dataBlob = data && blobOf(data);
  return dataBlob ? { model: modelBlob, externalData: { location: EXTERNAL_DATA_LOCATION, blob: dataBlob } } : { model: modelBlob };
}

/**
 * Stores a graph: the external data first, so a present model entry has its data beside it. Each
 * entry is written whole (a Cache API `put` is atomic). When `signal` fires before the model entry
 * is written, or a write fails, the data entry just written is deleted again, so the cache never
 * holds half a graph.
 */
export async function storeGraph(cache: ModelCache, key: string, graph: GraphBlobs, signal?: AbortSignalLike): Promise<void> {
  throwIfAborted(signal, 'graph caching');
  const forget = async () => {
    await (cache as { delete?: (k: string) => Promise<unknown> }).delete?.(`${key}.data`)?.catch(() => undefined);
  };
  try {
    if (graph.externalData) {
      await cache.put(`${key}.data`, blobByteSource(graph.externalData.blob));
      throwIfAborted(signal, 'graph caching');
    }
    await cache.put(key, blobByteSource(graph.model));
  } catch (error) {
    if (graph.externalData) await forget();
    throw error;
  }
}
