import type { ModelConfig } from '../config/schema.js';
import { type AbortSignalLike, Da3Error, throwIfAborted } from '../errors.js';
import type { Sink } from '../io.js';
import type { SafetensorsFile } from '../weights/safetensors-reader.js';
import { type NetGraphOptions, buildNetGraph, netGraphOutputs } from './net/da3-net.js';
import { initializerBytes, needsExternalData, writeOnnxModel } from './onnx/onnx-writer.js';
import type { FloatPrecision } from './graph/builder.js';
import type { RefViewStrategy } from './host/ref-view.js';
import type { OnnxModel } from './onnx/types.js';
import type { NetworkRole } from './weights-map/expected-tensors.js';
import { openCheckpoint } from './weights-map/validate-checkpoint.js';
import { GRAPH_QUANTIZATIONS, type GraphQuantization, assertDtype, graphDtypeOf, quantizeNetGraph } from './quantize/dtype.js';

/** Where one converted graph is written. */
export interface ConvertOutput {
  /** Receives the `.onnx` bytes. */
  readonly sink: Sink;
  /** Receives the external data file; required when the graph needs (or is asked for) external data. */
  readonly externalDataSink?: Sink;
  /** Name of the external data file as recorded in the model, relative to it (e.g. `model.onnx.data`). */
  readonly externalDataLocation?: string;
}

/** A progress event of {@link convertCheckpoint}: `done` of `total` initializers written for `role`. */
export interface ConvertProgress {
  readonly status: 'convert';
  readonly role: NetworkRole;
  readonly done: number;
  readonly total: number;
  readonly tensor: string;
}

/** Options of {@link convertCheckpoint}. */
export interface ConvertOptions extends NetGraphOptions {
  /** Opens the output of each graph (`net`, or `anyview` + `metric` for Nested). */
  readonly output: (role: NetworkRole) => ConvertOutput | Promise<ConvertOutput>;
  /** `auto` (default) uses external data only when the model would pass protobuf's 2 GB limit. */
  readonly externalData?: 'auto' | 'always' | 'never';
  readonly onProgress?: (event: ConvertProgress) => void;
  /** Refuse tensors the model does not use (`UNEXPECTED_TENSOR`) instead of warning (default false). */
  readonly strict?: boolean;
  /** Stops the conversion between tensors (`ABORTED`); every sink opened so far is aborted. */
  readonly signal?: AbortSignalLike;
  /**
   * Weight quantization (`q8`: int8 backbone linears, see {@link GraphQuantization}); needs
   * `precision` float32. Default none.
   */
  readonly quantization?: GraphQuantization;
}

/** What {@link convertCheckpoint} wrote for one graph. */
export interface ConvertedGraph {
  readonly role: NetworkRole;
  readonly outputs: readonly string[];
  readonly initializers: number;
  /** Bytes of initializer data (weights and constants). */
  readonly weightBytes: number;
  readonly externalData: boolean;
  /** Checkpoint keys no graph op used (e.g. unused aux levels, or extras in a published file). */
  readonly unusedTensors: readonly string[];
}

/** The checkpoint's unknown extra keys, reported instead of failing (published files may carry a few). */
export interface ConvertResult {
  readonly graphs: readonly ConvertedGraph[];
  readonly warnings: readonly string[];
}

/**
 * Converts an official DA3 checkpoint into ONNX graph(s), streaming: the checkpoint is validated
 * (every expected key present with its shape; unknown extras become warnings), the graph is built
 * with lazily loaded initializers, and each tensor goes from the checkpoint to the output in turn —
 * the weights are never held twice. Nested configs produce two graphs (`anyview`, `metric`).
 *
 * @throws Da3Error `MISSING_TENSOR` / `BAD_SHAPE` for an incomplete checkpoint, `BAD_VALUE` when a
 *   graph needs external data but its output has no external data sink, or for `quantization` with
 *   a float16 `precision`; `UNSUPPORTED` / `BAD_VALUE` for a quantization other than `q8`;
 *   `ABORTED` when `signal` fired
 */
export async function convertCheckpoint(file: SafetensorsFile, config: ModelConfig, options: ConvertOptions): Promise<ConvertResult> {
  throwIfAborted(options.signal, 'convertCheckpoint');
  assertQuantizable(options.quantization, options.precision, 'convertCheckpoint');
  const opened = openCheckpoint(file, config, { strict: options.strict });
  const graphs: ConvertedGraph[] = [];
  for (const net of opened.networks) {
    const built = buildNetGraph(net.config, net.weights, { ...options, name: net.role === 'net' ? 'da3' : `da3_${net.role}` });
    const model = options.quantization ? quantizeNetGraph(built, options.quantization) : built;
    const weightBytes = initializerBytes(model);
    const mode = options.externalData ?? 'auto';
    const external = mode === 'always' || (mode === 'auto' && needsExternalData(model));
    if (mode === 'never' && external) {
      throw new Da3Error('BAD_VALUE', `convertCheckpoint: the ${net.role} graph holds ${weightBytes} bytes of weights, over the 2 GB protobuf limit; use externalData`);
    }
    throwIfAborted(options.signal, 'convertCheckpoint');
    const out = await options.output(net.role);
    if (external && (!out.externalDataSink || !out.externalDataLocation)) {
      await out.sink.abort?.(new Error('missing external data sink'));
      throw new Da3Error('BAD_VALUE', `convertCheckpoint: the ${net.role} graph needs external data (${weightBytes} bytes) but its output has no externalDataSink/externalDataLocation`);
    }
    await writeOnnxModel(model, out.sink, {
      externalData: external ? { sink: out.externalDataSink!, location: out.externalDataLocation! } : undefined,
      onInitializer: (done, total, tensor) => {
        throwIfAborted(options.signal, 'convertCheckpoint');
        options.onProgress?.({ status: 'convert', role: net.role, done, total, tensor });
      },
    });
    if (!external) await out.externalDataSink?.close?.();
    graphs.push({
      role: net.role,
      outputs: netGraphOutputs(net.config, options),
      initializers: model.graph.initializers.length,
      weightBytes,
      externalData: external,
      unusedTensors: net.weights.unused(),
    });
  }
  return { graphs, warnings: opened.report.warnings };
}

/**
 * Version of the graphs {@link buildGraphFor} produces. Runtimes put it in their graph-cache keys,
 * so a cached graph from an older builder is converted again. Bump it whenever the builder's
 * output changes (2: RoPE from float32 tables, pos-embed scales as one vector; 3: pos-embed resize
 * as matrix products, fusable GELU, RoPE in one pass, q/k/v as separate products, LayerScale
 * folded into the weights, optional ray branch).
 */
export const GRAPH_BUILDER_VERSION = 3;

/** The build-time choices that make one graph of one network (what runtimes cache graphs by). */
export interface GraphBuild {
  readonly role: NetworkRole;
  /** Pose-conditioned (takes `extrinsics` / `intrinsics` inputs). */
  readonly posed: boolean;
  readonly precision: FloatPrecision;
  /** Weight quantization (with precision float32); absent for plain float graphs. */
  readonly quantization?: GraphQuantization;
  readonly refViewStrategy: RefViewStrategy;
  /** Backbone layers exported as `feat_<i>`. */
  readonly exportFeatLayers: readonly number[];
  /** Include the GS head's `gs_raw` output. */
  readonly gaussians?: boolean;
  /**
   * Any-view (DualDPT) heads: include the ray branch (`ray`, `ray_conf`; default true). Runtimes
   * ask for it only when a call needs the ray map (`useRayPose`, `keepRays`).
   */
  readonly rays?: boolean;
}

/** JSON with object keys sorted at every level: equal values give equal text. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v !== null && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) : v,
  );
}

/** FNV-1a (64-bit) of the UTF-8 bytes of `text`, as 16 hex digits. A cache-key digest, not a security hash. */
export function fnv1a64(text: string): string {
  let h = 0xcbf29ce484222325n;
  for (const b of new TextEncoder().encode(text)) h = ((h ^ BigInt(b)) * 0x100000001b3n) & 0xffffffffffffffffn;
  return h.toString(16).padStart(16, '0');
}

/**
 * A digest of everything besides the weights that decides a converted graph: the resolved model
 * config and the builder version. Graph caches key on it (with the weights' identity and
 * {@link graphBuildName}), so editing config.json next to the same weights converts again.
 */
export function graphConfigDigest(config: ModelConfig): string {
  return fnv1a64(`da3js graph builder v${GRAPH_BUILDER_VERSION}\n${canonicalJson(config)}`);
}

/**
 * A stable name for a build, e.g. `net-unposed-fp32-saddle_balanced-feat3_7-gs`, `…-norays` (cache
 * file names/keys); the dtype part is `fp32`, `fp16` or the quantization (`q8`).
 */
export function graphBuildName(build: GraphBuild): string {
  const parts = [build.role, build.posed ? 'posed' : 'unposed', graphDtypeOf(build), build.refViewStrategy];
  if (build.exportFeatLayers.length) parts.push(`feat${build.exportFeatLayers.join('_')}`);
  if (build.gaussians) parts.push('gs');
  if (build.rays === false) parts.push('norays');
  return parts.join('-');
}

/**
 * Builds the ONNX graph of one network of a checkpoint for a {@link GraphBuild} (weights stay
 * lazy: they are read when the model is written).
 * @throws Da3Error `BAD_CONFIG` when the checkpoint has no such network, or the checkpoint's errors;
 *   `BAD_VALUE` for a quantization with float16 precision
 */
export function buildGraphFor(file: SafetensorsFile, config: ModelConfig, build: GraphBuild): OnnxModel {
  assertQuantizable(build.quantization, build.precision, 'buildGraphFor');
  const net = openCheckpoint(file, config).networks.find((n) => n.role === build.role);
  if (!net) throw new Da3Error('BAD_CONFIG', `buildGraphFor: the checkpoint has no "${build.role}" network`);
  const model = buildNetGraph(net.config, net.weights, {
    precision: build.precision,
    refViewStrategy: build.refViewStrategy,
    poseConditioned: build.posed,
    exportFeatLayers: build.exportFeatLayers,
    gaussians: build.gaussians,
    rays: build.rays,
    name: `da3_${build.role}`,
  });
  return build.quantization ? quantizeNetGraph(model, build.quantization) : model;
}

function assertQuantizable(quantization: GraphQuantization | undefined, precision: FloatPrecision | undefined, where: string): void {
  if (quantization !== undefined) assertDtype(quantization, GRAPH_QUANTIZATIONS, `${where}: quantization`);
  if (quantization && precision === 'float16') throw new Da3Error('BAD_VALUE', `${where}: quantization ${quantization} quantizes float32 weights; precision must be float32, not float16`);
}
