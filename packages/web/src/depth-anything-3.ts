import {
  type AbortSignalLike,
  Da3Error,
  type Da3Model,
  type FloatPrecision,
  type GraphDtype,
  type GraphRole,
  type InferenceOptions,
  type InferenceProgress,
  type ModelCache,
  type ModelConfig,
  type ModelKind,
  type NetworkRole,
  type Prediction,
  type RefViewStrategy,
  SafetensorsFile,
  assertValidCheckpoint,
  builtGraphChoices,
  raysChoice,
  graphConfigDigest,
  graphDtypeChoice,
  graphDtypeOf,
  loadConfig,
  modelKindOf,
  readOnnxMetadata,
  runInference,
  type StreamEvent,
  type StreamSummary,
  throwIfAborted,
} from '@da3js/core';
import { abortable, asAborted, fetchAbortable, responseBytes } from './abort.js';
import type { ExportOptions } from '@da3js/exporters';
import { type WebDevice, type WebDtype, type WebRunner, assertWebDeviceDtype, createWebRunner, executionProviders, resolveDtype } from './backend.js';
import { defaultModelCache } from './cache.js';
import { exportToFiles } from './export.js';
import { type GraphBlobs, type GraphBuild, cachedGraph, convertGraph, graphCacheKey, storeGraph } from './graph.js';
import { decodeImage, type WebImageInput } from './input.js';
import { type WebStreamOptions, type WebStreamSource, streamVideo } from './stream.js';
import { type AbortableByteSource, blobByteSource, httpRangeByteSource, withReadProgress, withSignal } from './io.js';
import { type TimingStore, defaultTimingStore, networkUnits } from './timings.js';

/** Progress events (transformers.js `status` names, plus `convert` and `cache`). */
export type WebProgressEvent =
  | { readonly status: 'initiate' | 'done'; readonly file: string }
  /** Bytes of `file` read so far (weights are range-read while graphs are converted). */
  | { readonly status: 'progress'; readonly file: string; readonly loaded: number; readonly total: number; readonly progress: number }
  | { readonly status: 'convert'; readonly role: NetworkRole; readonly done: number; readonly total: number }
  | { readonly status: 'cache'; readonly role: NetworkRole; readonly hit: boolean; readonly key: string }
  | { readonly status: 'ready'; readonly providers: readonly string[]; readonly precision: FloatPrecision; readonly dtype: GraphDtype }
  /** Something the user should know that does not stop loading (e.g. checkpoint tensors the model does not use). */
  | { readonly status: 'warning'; readonly message: string };

/**
 * Per-view progress of {@link DepthAnything3.inference}'s decoding (before core's `preprocess`
 * stage): `done` of `views` inputs decoded.
 */
export interface DecodeProgress {
  readonly status: 'decode';
  readonly done: number;
  readonly views: number;
  /** Milliseconds since the inference started. */
  readonly elapsedMs: number;
}

/**
 * Validates a checkpoint's header against the config (no tensor is read), so a wrong file fails
 * at load time; unused tensors become `warning` events, or `UNEXPECTED_TENSOR` with `strict`.
 */
function checkWeights(weights: SafetensorsFile, config: ModelConfig, options: WebFromPretrainedOptions): void {
  for (const message of assertValidCheckpoint(weights, config, { strict: options.strict }).warnings) {
    if (options.progress) options.progress({ status: 'warning', message });
    else console.warn(`da3js: ${message}`);
  }
}

/** Options of {@link DepthAnything3.fromPretrained} (web). */
export interface WebFromPretrainedOptions {
  /** `auto` (default): WebGPU when the page has an adapter, else WASM. */
  readonly device?: WebDevice;
  /**
   * `auto` (default: fp16 on WebGPU adapters with `shader-f16`, else fp32), `fp32`, `fp16`, or `q8`
   * (int8 backbone weights, WASM only: `device` `auto` then picks WASM). See {@link WebDtype}.
   */
  readonly dtype?: WebDtype;
  /** Hub base URL (default https://huggingface.co). */
  readonly endpoint?: string;
  readonly revision?: string;
  /** Extra request headers (e.g. `Authorization`). */
  readonly headers?: Record<string, string>;
  /** WASM threads (more than 1 needs a cross-origin-isolated page). */
  readonly threads?: number;
  /** Where onnxruntime-web's `.wasm` files are served from (default: next to its bundle). */
  readonly wasmPaths?: string;
  /** MONO and METRIC share an architecture: say which one a custom checkpoint is. */
  readonly kind?: ModelKind;
  /**
   * Where converted graphs are kept: the browser's Cache API by default (when the context has
   * one), any {@link ModelCache}, or `false` for none.
   */
  readonly cache?: ModelCache | false;
  /**
   * Refuse a checkpoint holding tensors the model does not use (`UNEXPECTED_TENSOR`). Default
   * false: they are ignored, as the reference does, and reported as a `warning` event (or with
   * `console.warn` when there is no `progress` callback).
   */
  readonly strict?: boolean;
  readonly progress?: (event: WebProgressEvent) => void;
  /**
   * Cancels loading (`ABORTED`): the config and header requests in flight are cancelled; nothing
   * is cached. Only for this call: graph conversions happen on first use, under the signal of the
   * {@link DepthAnything3.inference} call that needs them.
   */
  readonly signal?: AbortSignalLike;
  /**
   * Where measured network timings are remembered, to give `estimatedMs` on the next run's
   * `network` event (default: memory + the Cache API, see {@link defaultTimingStore}); `false`
   * for no estimates.
   */
  readonly timings?: TimingStore | false;
}

/** Options of {@link DepthAnything3.inference} (web). */
export interface WebInferenceOptions extends InferenceOptions {
  readonly refViewStrategy?: RefViewStrategy;
  readonly exportFeatLayers?: readonly number[];
  /** Rotate JPEG inputs by their EXIF orientation (default false, like the reference). */
  readonly applyExifOrientation?: boolean;
  /**
   * Progress: `decode` after each input is decoded, then core's `infer` events per stage
   * (`preprocess`, `network` — with `estimatedMs` when this model ran on this device before —
   * and `postprocess`), each with the view count. A first-use graph conversion reports to the
   * model's `progress` callback.
   */
  readonly onProgress?: (event: InferenceProgress | DecodeProgress) => void;
  /**
   * Cancels the call (`ABORTED`): decoding, a first-use graph conversion (its tensor downloads are
   * cancelled; nothing half-converted is cached), and every stage of the pipeline. A graph already
   * running on onnxruntime finishes in the background (it cannot be interrupted), but the call
   * rejects at once. The model stays usable.
   */
  readonly signal?: AbortSignalLike;
}

/** A {@link Prediction} with `export`, producing `File`s in the reference's formats and layout. */
export interface WebPrediction extends Prediction {
  /** `await prediction.export('glb-depth_vis')` → `[File scene.glb, File depth_vis/0000.jpg, …]`. */
  export(formats: string | readonly string[], options?: ExportOptions): Promise<File[]>;
}

/** Bytes a safetensors header may take before its first tensor (the core reader's default cap). */
const MAX_HEAD_BYTES = 100 * 2 ** 20;

/**
 * Opens a safetensors file and keeps its head (length prefix + JSON header) in memory, so later
 * conversions can re-open it over a source bound to their own signal without another request.
 */
async function openWeights(source: AbortableByteSource, signal?: AbortSignalLike): Promise<{ weights: SafetensorsFile; head?: Uint8Array }> {
  if (source.size >= 8) {
    const prefix = await source.read(0, 8, signal);
    const len = Number(new DataView(prefix.buffer, prefix.byteOffset, 8).getBigUint64(0, true));
    if (len > 0 && len <= Math.min(MAX_HEAD_BYTES, source.size - 8)) {
      const head = new Uint8Array(8 + len);
      head.set(prefix, 0);
      head.set(await source.read(8, len, signal), 8);
      return { weights: await SafetensorsFile.open(withSignal(source, signal, head)), head };
    }
  }
  // A bad length: let the reader say what is wrong.
  return { weights: await SafetensorsFile.open(withSignal(source, signal)) };
}

const KINDS: readonly ModelKind[] = ['anyview', 'mono', 'metric', 'nested'];

/**
 * Refuses option values @da3js/web does not support, before anything is fetched (see
 * `assertWebDeviceDtype`), and `threads` / `kind` values that are not ones it knows.
 */
function assertWebOptions(options: WebFromPretrainedOptions, where: string): void {
  assertWebDeviceDtype(options.device ?? 'auto', options.dtype ?? 'auto', where);
  if (options.threads !== undefined && !(Number.isSafeInteger(options.threads) && options.threads >= 1)) {
    throw new Da3Error('BAD_VALUE', `${where}: threads must be a positive integer, got ${JSON.stringify(options.threads)}`);
  }
  if (options.kind !== undefined && !KINDS.includes(options.kind)) {
    throw new Da3Error('BAD_VALUE', `${where}: unknown kind ${JSON.stringify(options.kind)}; should be one of ${KINDS.join(', ')}`);
  }
}

function urlsFor(idOrUrl: string, options: WebFromPretrainedOptions): { config: string; weights: string } {
  if (/^(https?:|blob:|data:)/.test(idOrUrl) || idOrUrl.startsWith('/') || idOrUrl.startsWith('.')) {
    const base = idOrUrl.replace(/\/$/, '');
    return { config: `${base}/config.json`, weights: `${base}/model.safetensors` };
  }
  if (!/^[\w.-]+\/[\w.-]+$/.test(idOrUrl)) throw new Da3Error('BAD_VALUE', `fromPretrained: "${idOrUrl}" is neither a hub id (owner/name) nor a URL`);
  const endpoint = (options.endpoint ?? 'https://huggingface.co').replace(/\/$/, '');
  const rev = encodeURIComponent(options.revision ?? 'main');
  return { config: `${endpoint}/${idOrUrl}/resolve/${rev}/config.json`, weights: `${endpoint}/${idOrUrl}/resolve/${rev}/model.safetensors` };
}

function parseConfigJson(text: string, where: string): Record<string, unknown> {
  try {
    const json = JSON.parse(text);
    if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new Error('not a JSON object');
    return json as Record<string, unknown>;
  } catch (cause) {
    throw new Da3Error('BAD_CONFIG', `DepthAnything3: ${where} is not a valid config.json: ${(cause as Error).message}`, { cause });
  }
}

/** Weights a WASM session can hold: WebAssembly memory stops at 4 GiB, runtime and activations included. */
const WASM_MAX_GRAPH_BYTES = 3 * 2 ** 30;

/**
 * About the bytes of a build's weights: 2 per parameter in fp16, 4 in fp32; `q8` stores the
 * backbone's linear weights (its 2-D tensors) in 1 byte.
 */
function graphWeightBytes(weights: SafetensorsFile, build: GraphBuild): number {
  let bytes = 0;
  for (const t of weights.header.tensors) {
    if (build.precision === 'float16') bytes += 2 * t.numel;
    else if (build.quantization === 'q8' && t.shape.length === 2 && t.name.includes('backbone.')) bytes += t.numel;
    else bytes += 4 * t.numel;
  }
  return bytes;
}

/** Where a model's graphs come from: a checkpoint to convert, or one pre-converted graph. */
type GraphSource =
  | { readonly kind: 'checkpoint'; readonly weights: SafetensorsFile; readonly source: AbortableByteSource; readonly head?: Uint8Array; readonly weightsId?: string }
  | { readonly kind: 'onnx'; readonly graph: GraphBlobs; readonly name: string; readonly built: Omit<GraphBuild, 'role' | 'precision' | 'quantization'> };

/**
 * Depth Anything 3 in the browser (or any JS runtime with `fetch`): the official checkpoint is
 * read with HTTP range requests and converted **in the page** into ONNX graphs, run with
 * onnxruntime-web (WebGPU when available, else WASM). Each graph is converted on first use per
 * build choice and kept in the Cache API, so later visits skip the conversion.
 *
 * ```ts
 * const model = await DepthAnything3.fromPretrained('depth-anything/DA3-SMALL', { device: 'auto' });
 * const prediction = await model.inference([fileA, fileB]);
 * const [glb] = await prediction.export('glb');
 * ```
 */
export class DepthAnything3 {
  private readonly runners = new Map<string, WebRunner>();
  private readonly cache: ModelCache | undefined;
  private readonly timings: TimingStore | undefined;

  private constructor(
    /** The model's architecture (the reference's config). */
    readonly config: ModelConfig,
    readonly kind: ModelKind,
    private readonly source: GraphSource,
    private readonly options: WebFromPretrainedOptions,
  ) {
    this.cache = options.cache === false ? undefined : (options.cache ?? defaultModelCache());
    this.timings = options.timings === false ? undefined : (options.timings ?? defaultTimingStore());
  }

  /**
   * Loads `owner/name` from the hub (or a base URL holding config.json + model.safetensors). Only
   * the config and the safetensors header are fetched here; tensors are read when a graph is
   * converted (not at all when the graph is cached).
   * @throws Da3Error `IO` (HTTP errors, no Range support), `BAD_CONFIG`, `BAD_SAFETENSORS`,
   *   `ABORTED` when `options.signal` fired
   */
  static async fromPretrained(idOrUrl: string, options: WebFromPretrainedOptions = {}): Promise<DepthAnything3> {
    const { signal, ...kept } = options;
    const what = 'fromPretrained';
    try {
      throwIfAborted(signal, what);
      assertWebOptions(options, what);
      const urls = urlsFor(idOrUrl, options);
      options.progress?.({ status: 'initiate', file: urls.config });
      const res = await fetchAbortable(urls.config, { headers: options.headers ?? {} }, signal, what);
      if (!res.ok) throw new Da3Error('IO', `fromPretrained: ${urls.config} answered HTTP ${res.status}`);
      const json = parseConfigJson(new TextDecoder().decode(await responseBytes(res, signal, what)), urls.config);
      options.progress?.({ status: 'done', file: urls.config });
      const config = loadConfig(json);
      const source = await httpRangeByteSource(urls.weights, { headers: options.headers, signal });
      const progress = options.progress;
      const tracked = progress ? withReadProgress(source, (loaded, total) => progress({ status: 'progress', file: urls.weights, loaded, total, progress: (100 * loaded) / total })) : source;
      const { weights, head } = await openWeights(tracked, signal);
      checkWeights(weights, config, options);
      throwIfAborted(signal, what);
      return new DepthAnything3(config, options.kind ?? modelKindOf(config, json), { kind: 'checkpoint', weights, source: tracked, head, weightsId: `${urls.weights}@${source.etag ?? source.size}` }, kept);
    } catch (error) {
      throw asAborted(error, signal, what);
    }
  }

  /**
   * Loads a checkpoint from local files (`<input type=file>`): `config` is the config.json file
   * (or its parsed object), `weights` the model.safetensors file, read lazily by `Blob.slice`.
   */
  static async fromBlobs(files: { readonly config: Blob | Record<string, unknown>; readonly weights: Blob }, options: WebFromPretrainedOptions = {}): Promise<DepthAnything3> {
    const { signal, ...kept } = options;
    try {
      throwIfAborted(signal, 'fromBlobs');
      assertWebOptions(options, 'fromBlobs');
      const json = files.config instanceof Blob ? parseConfigJson(await files.config.text(), 'the config file') : files.config;
      const config = loadConfig(json);
      const source = blobByteSource(files.weights);
      const { weights, head } = await openWeights(source, signal);
      checkWeights(weights, config, options);
      const file = files.weights as Partial<File>;
      const weightsId = file.name && file.lastModified ? `file:${file.name}:${files.weights.size}:${file.lastModified}` : undefined;
      throwIfAborted(signal, 'fromBlobs');
      return new DepthAnything3(config, options.kind ?? modelKindOf(config, json), { kind: 'checkpoint', weights, source, head, weightsId }, kept);
    } catch (error) {
      throw asAborted(error, signal, 'fromBlobs');
    }
  }

  /**
   * Loads a graph written by da3js (`da3 convert`, `convertCheckpoint`): a `Blob`/`File` or a URL,
   * with its external data file when it has one. Config and build choices come from the graph's
   * metadata; only those choices can run.
   */
  static async fromOnnx(
    model: Blob | string,
    options: WebFromPretrainedOptions & {
      /** The external data file (`<name>.onnx.data`) of a graph over 2 GB. */
      readonly externalData?: Blob | string;
      /** The data file's name as recorded in the graph (default: the URL's or File's name). */
      readonly externalDataLocation?: string;
    } = {},
  ): Promise<DepthAnything3> {
    const { signal } = options;
    try {
      return await DepthAnything3.loadOnnx(model, options);
    } catch (error) {
      throw asAborted(error, signal, 'fromOnnx');
    }
  }

  private static async loadOnnx(
    model: Blob | string,
    options: WebFromPretrainedOptions & { readonly externalData?: Blob | string; readonly externalDataLocation?: string },
  ): Promise<DepthAnything3> {
    const { signal } = options;
    assertWebOptions(options, 'fromOnnx');
    const fetchBlob = async (src: Blob | string): Promise<Blob> => {
      if (typeof src !== 'string') return src;
      options.progress?.({ status: 'initiate', file: src });
      const res = await fetchAbortable(src, { headers: options.headers ?? {} }, signal, 'fromOnnx');
      if (!res.ok) throw new Da3Error('IO', `fromOnnx: ${src} answered HTTP ${res.status}`);
      const blob = await abortable(res.blob(), signal, 'fromOnnx');
      options.progress?.({ status: 'done', file: src });
      return blob;
    };
    const name = typeof model === 'string' ? model : ((model as Partial<File>).name ?? 'the graph');
    const modelBlob = await fetchBlob(model);
    const choices = builtGraphChoices(await readOnnxMetadata(blobByteSource(modelBlob)), `DepthAnything3: ${name}`);
    if (options.dtype !== undefined && options.dtype !== 'auto' && options.dtype !== choices.dtype) {
      throw new Da3Error('BAD_CONFIG', `DepthAnything3: ${name} was built with dtype "${choices.dtype}", not "${options.dtype}"; leave dtype out, or load the checkpoint to convert a ${options.dtype} graph`);
    }
    // The graph's dtype is the model's (a q8 graph runs on WASM; an fp16 one needs shader-f16 on WebGPU).
    assertWebOptions({ ...options, dtype: choices.dtype }, `DepthAnything3: ${name}`);
    const config = loadConfig(choices.configJson);
    if (config.kind === 'NestedDepthAnything3Net') throw new Da3Error('BAD_CONFIG', `DepthAnything3: ${name} holds one graph; NESTED needs both (load the checkpoint)`);
    const data = options.externalData === undefined ? undefined : await fetchBlob(options.externalData);
    const ext = options.externalData;
    const location = options.externalDataLocation ?? (typeof ext === 'string' ? decodeURIComponent(new URL(ext, 'http://x/').pathname.split('/').pop() ?? '') : (ext as Partial<File> | undefined)?.name);
    if (data && !location) throw new Da3Error('BAD_VALUE', 'fromOnnx: say externalDataLocation (the data file name recorded in the graph)');
    const graph: GraphBlobs = { model: modelBlob, externalData: data ? { location: location!, blob: data } : undefined };
    const built = { posed: choices.posed, refViewStrategy: choices.refViewStrategy as RefViewStrategy, exportFeatLayers: choices.exportFeatLayers, gaussians: choices.gaussians, rays: choices.rays };
    throwIfAborted(signal, 'fromOnnx');
    return new DepthAnything3(config, options.kind ?? (config.head.type === 'DualDPT' ? 'anyview' : 'mono'), { kind: 'onnx', graph, name, built }, { ...options, dtype: choices.dtype, signal: undefined, cache: false });
  }

  private async graphFor(build: GraphBuild, signal?: AbortSignalLike): Promise<{ graph: GraphBlobs; key?: string }> {
    const src = this.source;
    if (src.kind === 'onnx') {
      const b = src.built;
      // A graph with the ray branch serves calls that do not read it too.
      if (build.posed !== b.posed || build.refViewStrategy !== b.refViewStrategy || build.exportFeatLayers.join(',') !== b.exportFeatLayers.join(',') || build.gaussians !== b.gaussians || (build.rays === true && !b.rays)) {
        throw new Da3Error(
          'BAD_CONFIG',
          `DepthAnything3: ${src.name} was built ${b.posed ? 'pose-conditioned' : 'unposed'} with refViewStrategy ${b.refViewStrategy}, exportFeatLayers [${b.exportFeatLayers}]${b.gaussians ? ', gs_raw' : ''}; this call needs ${build.posed ? 'pose-conditioned' : 'unposed'}, ${build.refViewStrategy}, [${build.exportFeatLayers}]${build.gaussians ? ', gs_raw' : ''} — load the checkpoint to convert other graphs`,
        );
      }
      return { graph: src.graph };
    }
    const key = this.cache && src.weightsId ? graphCacheKey(src.weightsId, this.config, build) : undefined;
    if (key && this.cache) {
      const hit = await cachedGraph(this.cache, key).catch(() => undefined);
      this.options.progress?.({ status: 'cache', role: build.role, hit: hit !== undefined, key });
      if (hit) return { graph: hit, key };
    }
    // Tensors are read over a source bound to this call's signal (the header comes from memory).
    const weights = signal || src.head ? await SafetensorsFile.open(withSignal(src.source, signal, src.head)) : src.weights;
    const graph = await convertGraph(weights, this.config, build, (done, total) => this.options.progress?.({ status: 'convert', role: build.role, done, total }), signal);
    if (key && this.cache) {
      // A full disk or a quota error must not stop the page: the graph is simply not kept.
      await storeGraph(this.cache, key, graph, signal).catch((error) => {
        if (signal?.aborted) throw asAborted(error, signal, 'graph caching');
        console.warn(`da3js: could not cache ${key}: ${(error as Error).message}`);
      });
    }
    return { graph };
  }

  /** The build (graph choices) a role runs with, and its execution providers. */
  private async buildFor(role: GraphRole, strategy: RefViewStrategy, layers: readonly number[], gaussians: boolean, rays: boolean): Promise<{ build: GraphBuild; providers: ('webgpu' | 'wasm')[] }> {
    const netRole: NetworkRole = role.startsWith('anyview') ? 'anyview' : role === 'metric' ? 'metric' : 'net';
    const providers = await executionProviders(this.options.device, this.options.dtype);
    const build: GraphBuild = {
      role: netRole,
      posed: role.endsWith('Posed'),
      ...graphDtypeChoice(await resolveDtype(this.options.dtype, providers)),
      refViewStrategy: strategy,
      exportFeatLayers: netRole === 'metric' ? [] : layers,
      gaussians: gaussians && netRole !== 'metric',
      rays: raysChoice(this.config, role, rays),
    };
    return { build, providers };
  }

  private async runnerFor(role: GraphRole, strategy: RefViewStrategy, layers: readonly number[], gaussians = false, rays = true, signal?: AbortSignalLike): Promise<WebRunner> {
    const { build, providers } = await this.buildFor(role, strategy, layers, gaussians, rays);
    const runnerKey = JSON.stringify(build);
    const known = this.runners.get(runnerKey);
    if (known) return known;
    // A conversion started by another call is not shared: each call converts under its own signal,
    // so cancelling one never cancels another's.
    throwIfAborted(signal, 'inference');
    return this.createRunner(build, providers, runnerKey, signal);
  }

  private async createRunner(build: GraphBuild, providers: ('webgpu' | 'wasm')[], runnerKey: string, signal?: AbortSignalLike): Promise<WebRunner> {
    if (providers[0] === 'wasm' && this.source.kind === 'checkpoint') {
      const bytes = graphWeightBytes(this.source.weights, build);
      if (bytes > WASM_MAX_GRAPH_BYTES) {
        throw new Da3Error('UNSUPPORTED', `DepthAnything3: this model needs about ${(bytes / 2 ** 30).toFixed(1)} GiB for its weights, over what WebAssembly can address (4 GiB with the runtime); run it on WebGPU (device "webgpu", dtype "fp16")${build.quantization ? '' : ', or try dtype "q8"'}`);
      }
    }
    const wasm = { threads: this.options.threads, wasmPaths: this.options.wasmPaths };
    let { graph, key } = await this.graphFor(build, signal); // key: set when the graph came from the cache
    throwIfAborted(signal, 'inference');
    let runner: WebRunner;
    try {
      runner = await createWebRunner(graph, { providers, ...wasm });
    } catch (error) {
      // A cached entry that no longer loads (evicted data, a browser update): convert again.
      if (!key || error instanceof Da3Error) throw error;
      await (this.cache as { delete?: (k: string) => Promise<unknown> } | undefined)?.delete?.(key);
      ({ graph } = await this.graphFor(build, signal));
      runner = await createWebRunner(graph, { providers, ...wasm });
    }
    const other = this.runners.get(runnerKey);
    if (other) {
      // Another call made the same session meanwhile: keep one.
      await runner.dispose();
      return other;
    }
    this.runners.set(runnerKey, runner);
    this.options.progress?.({ status: 'ready', providers: runner.providers, precision: build.precision, dtype: graphDtypeOf(build) });
    // Cancelled while the session was being created: it is kept for the next call.
    throwIfAborted(signal, 'inference');
    return runner;
  }

  /**
   * Depth, confidence and cameras (and sky / metric depth where the model has them) for one or
   * more views. Inputs may be files, elements, bitmaps, video frames or RGB(A) arrays (see
   * {@link WebImageInput}); they are decoded one at a time.
   */
  async inference(images: WebImageInput | readonly WebImageInput[], options: WebInferenceOptions = {}): Promise<WebPrediction> {
    const { signal } = options;
    try {
      throwIfAborted(signal, 'inference');
      const list = Array.isArray(images) ? (images as readonly WebImageInput[]) : [images as WebImageInput];
      if (list.length === 0) throw new Da3Error('EMPTY_INPUT', 'DepthAnything3.inference: no images');
      const started = Date.now();
      const decoded = [];
      for (const image of list) {
        decoded.push(await decodeImage(image, { applyExifOrientation: options.applyExifOrientation, signal }));
        throwIfAborted(signal, 'inference');
        options.onProgress?.({ status: 'decode', done: decoded.length, views: list.length, elapsedMs: Date.now() - started });
      }
      const strategy = options.refViewStrategy ?? 'saddle_balanced';
      const layers = options.exportFeatLayers ?? [];
      const model: Da3Model = {
        config: this.config,
        kind: this.kind,
        runner: async (role, o) => {
          const runner = await this.runnerFor(role, strategy, layers, o?.gaussians, o?.rays ?? true, signal);
          return {
            run: async (feeds) => {
              const t = performance.now();
              // onnxruntime cannot stop a run: the call rejects at once and the run ends in the background.
              const out = await abortable(runner.run(feeds), signal, 'inference');
              timed.networkMs += performance.now() - t;
              return out;
            },
          };
        },
      };
      const timed = await this.timedProgress(options, strategy, layers);
      const prediction = await runInference(model, decoded, { ...options, onProgress: timed.onProgress });
      await timed.record();
      return Object.freeze({ ...prediction, export: (formats: string | readonly string[], o?: ExportOptions) => exportToFiles(prediction, formats, o) });
    } catch (error) {
      throw asAborted(error, signal, 'inference');
    }
  }

  /** The key timings are remembered under: weights' config, providers, precision, threads. */
  private async timingKey(strategy: RefViewStrategy, layers: readonly number[]): Promise<string | undefined> {
    try {
      const { build, providers } = await this.buildFor(this.kind === 'nested' ? 'anyview' : 'net', strategy, layers, false, false);
      return `${graphConfigDigest(this.config)}|${providers[0]}|${build.quantization ?? build.precision}|${this.options.threads ?? 'default'}`;
    } catch {
      return undefined; // the run itself will say what is wrong
    }
  }

  /**
   * The progress callback of one inference, with `estimatedMs` added to the first `network` event
   * (from this model's earlier runs on this device), and `record()` to remember this run's network
   * time: the time spent in session runs only (`networkMs`, summed by the runner wrapper), so a
   * run that also converted a graph or started a session is a fair sample too.
   */
  private async timedProgress(
    options: WebInferenceOptions,
    strategy: RefViewStrategy,
    layers: readonly number[],
  ): Promise<{ onProgress: (e: InferenceProgress) => void; networkMs: number; record: () => Promise<void> }> {
    const user = options.onProgress;
    const store = this.timings;
    const key = store ? await this.timingKey(strategy, layers) : undefined;
    const msPerUnit = key && store ? await store.get(key) : undefined;
    let units = 0;
    const timed = {
      networkMs: 0,
      onProgress: (event: InferenceProgress) => {
        let shown = event;
        if (event.stage === 'network' && event.graphsDone === 0) {
          units = networkUnits(event.views, event.height ?? 0, event.width ?? 0);
          if (msPerUnit !== undefined) shown = { ...event, estimatedMs: Math.round(msPerUnit * units) };
        }
        user?.(shown);
      },
      record: async () => {
        if (key && store && units > 0 && timed.networkMs > 0) await store.set(key, timed.networkMs / units).catch(() => undefined);
      },
    };
    return timed;
  }

  /**
   * DA3-Streaming in bounded memory: a `<video>`, a video `File`, or an (async) iterable of
   * inputs, in overlapping chunks (default 16/8 here, see `WEB_STREAM_DEFAULTS`) aligned into one
   * world frame; yields each chunk, then its frames. See `streamVideo` and core's `streamInference`.
   *
   * ```ts
   * for await (const e of model.streamInference(videoElement, { video: { fps: 5 } })) {
   *   if (e.type === 'frame') show(e.frame.depth, e.frame.extrinsics);
   * }
   * ```
   */
  streamInference(frames: WebStreamSource, options: WebStreamOptions = {}): AsyncGenerator<StreamEvent, StreamSummary, undefined> {
    return streamVideo(this, frames, options);
  }

  /** Releases every session. */
  async dispose(): Promise<void> {
    for (const r of this.runners.values()) await r.dispose();
    this.runners.clear();
  }
}

