import {
  Da3Error,
  type Da3Model,
  type FloatPrecision,
  type GraphRole,
  type InferenceOptions,
  type ModelCache,
  type ModelConfig,
  type ModelKind,
  type NetworkRole,
  type Prediction,
  type RefViewStrategy,
  SafetensorsFile,
  assertValidCheckpoint,
  builtGraphChoices,
  loadConfig,
  modelKindOf,
  readOnnxMetadata,
  runInference,
} from '@da3js/core';
import type { ExportOptions } from '@da3js/exporters';
import { type WebDevice, type WebDtype, type WebRunner, createWebRunner, executionProviders, resolvePrecision } from './backend.js';
import { defaultModelCache } from './cache.js';
import { exportToFiles } from './export.js';
import { type GraphBlobs, type GraphBuild, cachedGraph, convertGraph, graphCacheKey, storeGraph } from './graph.js';
import { decodeImage, type WebImageInput } from './input.js';
import { blobByteSource, httpRangeByteSource, withReadProgress } from './io.js';

/** Progress events (transformers.js `status` names, plus `convert` and `cache`). */
export type WebProgressEvent =
  | { readonly status: 'initiate' | 'done'; readonly file: string }
  /** Bytes of `file` read so far (weights are range-read while graphs are converted). */
  | { readonly status: 'progress'; readonly file: string; readonly loaded: number; readonly total: number; readonly progress: number }
  | { readonly status: 'convert'; readonly role: NetworkRole; readonly done: number; readonly total: number }
  | { readonly status: 'cache'; readonly role: NetworkRole; readonly hit: boolean; readonly key: string }
  | { readonly status: 'ready'; readonly providers: readonly string[]; readonly precision: FloatPrecision }
  /** Something the user should know that does not stop loading (e.g. checkpoint tensors the model does not use). */
  | { readonly status: 'warning'; readonly message: string };

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
  /** `auto` (default: fp16 on WebGPU adapters with `shader-f16`, else fp32), `fp32` or `fp16`. */
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
}

/** Options of {@link DepthAnything3.inference} (web). */
export interface WebInferenceOptions extends InferenceOptions {
  readonly refViewStrategy?: RefViewStrategy;
  readonly exportFeatLayers?: readonly number[];
  /** Rotate JPEG inputs by their EXIF orientation (default false, like the reference). */
  readonly applyExifOrientation?: boolean;
}

/** A {@link Prediction} with `export`, producing `File`s in the reference's formats and layout. */
export interface WebPrediction extends Prediction {
  /** `await prediction.export('glb-depth_vis')` → `[File scene.glb, File depth_vis/0000.jpg, …]`. */
  export(formats: string | readonly string[], options?: ExportOptions): Promise<File[]>;
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

/** Where a model's graphs come from: a checkpoint to convert, or one pre-converted graph. */
type GraphSource =
  | { readonly kind: 'checkpoint'; readonly weights: SafetensorsFile; readonly weightsId?: string }
  | { readonly kind: 'onnx'; readonly graph: GraphBlobs; readonly name: string; readonly built: Omit<GraphBuild, 'role' | 'precision'> };

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

  private constructor(
    /** The model's architecture (the reference's config). */
    readonly config: ModelConfig,
    readonly kind: ModelKind,
    private readonly source: GraphSource,
    private readonly options: WebFromPretrainedOptions,
  ) {
    this.cache = options.cache === false ? undefined : (options.cache ?? defaultModelCache());
  }

  /**
   * Loads `owner/name` from the hub (or a base URL holding config.json + model.safetensors). Only
   * the config and the safetensors header are fetched here; tensors are read when a graph is
   * converted (not at all when the graph is cached).
   * @throws Da3Error `IO` (HTTP errors, no Range support), `BAD_CONFIG`, `BAD_SAFETENSORS`
   */
  static async fromPretrained(idOrUrl: string, options: WebFromPretrainedOptions = {}): Promise<DepthAnything3> {
    const urls = urlsFor(idOrUrl, options);
    options.progress?.({ status: 'initiate', file: urls.config });
    const res = await fetch(urls.config, { headers: options.headers ?? {} });
    if (!res.ok) throw new Da3Error('IO', `fromPretrained: ${urls.config} answered HTTP ${res.status}`);
    const json = parseConfigJson(await res.text(), urls.config);
    options.progress?.({ status: 'done', file: urls.config });
    const config = loadConfig(json);
    const source = await httpRangeByteSource(urls.weights, { headers: options.headers });
    const progress = options.progress;
    const tracked = progress ? withReadProgress(source, (loaded, total) => progress({ status: 'progress', file: urls.weights, loaded, total, progress: (100 * loaded) / total })) : source;
    const weights = await SafetensorsFile.open(tracked);
    checkWeights(weights, config, options);
    return new DepthAnything3(config, options.kind ?? modelKindOf(config, json), { kind: 'checkpoint', weights, weightsId: `${urls.weights}@${source.etag ?? source.size}` }, options);
  }

  /**
   * Loads a checkpoint from local files (`<input type=file>`): `config` is the config.json file
   * (or its parsed object), `weights` the model.safetensors file, read lazily by `Blob.slice`.
   */
  static async fromBlobs(files: { readonly config: Blob | Record<string, unknown>; readonly weights: Blob }, options: WebFromPretrainedOptions = {}): Promise<DepthAnything3> {
    const json = files.config instanceof Blob ? parseConfigJson(await files.config.text(), 'the config file') : files.config;
    const config = loadConfig(json);
    const weights = await SafetensorsFile.open(blobByteSource(files.weights));
    checkWeights(weights, config, options);
    const file = files.weights as Partial<File>;
    const weightsId = file.name && file.lastModified ? `file:${file.name}:${files.weights.size}:${file.lastModified}` : undefined;
    return new DepthAnything3(config, options.kind ?? modelKindOf(config, json), { kind: 'checkpoint', weights, weightsId }, options);
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
    const fetchBlob = async (src: Blob | string): Promise<Blob> => {
      if (typeof src !== 'string') return src;
      options.progress?.({ status: 'initiate', file: src });
      const res = await fetch(src, { headers: options.headers ?? {} });
      if (!res.ok) throw new Da3Error('IO', `fromOnnx: ${src} answered HTTP ${res.status}`);
      const blob = await res.blob();
      options.progress?.({ status: 'done', file: src });
      return blob;
    };
    const name = typeof model === 'string' ? model : ((model as Partial<File>).name ?? 'the graph');
    const modelBlob = await fetchBlob(model);
    const choices = builtGraphChoices(await readOnnxMetadata(blobByteSource(modelBlob)), `DepthAnything3: ${name}`);
    const config = loadConfig(choices.configJson);
    if (config.kind === 'NestedDepthAnything3Net') throw new Da3Error('BAD_CONFIG', `DepthAnything3: ${name} holds one graph; NESTED needs both (load the checkpoint)`);
    const data = options.externalData === undefined ? undefined : await fetchBlob(options.externalData);
    const ext = options.externalData;
    const location = options.externalDataLocation ?? (typeof ext === 'string' ? decodeURIComponent(new URL(ext, 'http://x/').pathname.split('/').pop() ?? '') : (ext as Partial<File> | undefined)?.name);
    if (data && !location) throw new Da3Error('BAD_VALUE', 'fromOnnx: say externalDataLocation (the data file name recorded in the graph)');
    const graph: GraphBlobs = { model: modelBlob, externalData: data ? { location: location!, blob: data } : undefined };
    const built = { posed: choices.posed, refViewStrategy: choices.refViewStrategy as RefViewStrategy, exportFeatLayers: choices.exportFeatLayers, gaussians: choices.gaussians };
    return new DepthAnything3(config, options.kind ?? (config.head.type === 'DualDPT' ? 'anyview' : 'mono'), { kind: 'onnx', graph, name, built }, { ...options, cache: false });
  }

  private async graphFor(build: GraphBuild): Promise<{ graph: GraphBlobs; key?: string }> {
    const src = this.source;
    if (src.kind === 'onnx') {
      const b = src.built;
      if (build.posed !== b.posed || build.refViewStrategy !== b.refViewStrategy || build.exportFeatLayers.join(',') !== b.exportFeatLayers.join(',') || build.gaussians !== b.gaussians) {
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
    const graph = await convertGraph(src.weights, this.config, build, (done, total) => this.options.progress?.({ status: 'convert', role: build.role, done, total }));
    if (key && this.cache) {
      // A full disk or a quota error must not stop the page: the graph is simply not kept.
      await storeGraph(this.cache, key, graph).catch((error) => console.warn(`da3js: could not cache ${key}: ${(error as Error).message}`));
    }
    return { graph };
  }

  private async runnerFor(role: GraphRole, strategy: RefViewStrategy, layers: readonly number[], gaussians = false): Promise<WebRunner> {
    const netRole: NetworkRole = role.startsWith('anyview') ? 'anyview' : role === 'metric' ? 'metric' : 'net';
    const providers = await executionProviders(this.options.device);
    const build: GraphBuild = {
      role: netRole,
      posed: role.endsWith('Posed'),
      precision: await resolvePrecision(this.options.dtype, providers),
      refViewStrategy: strategy,
      exportFeatLayers: netRole === 'metric' ? [] : layers,
      gaussians: gaussians && netRole !== 'metric',
    };
    const runnerKey = JSON.stringify(build);
    const known = this.runners.get(runnerKey);
    if (known) return known;
    if (providers[0] === 'wasm' && this.source.kind === 'checkpoint') {
      const bytes = this.source.weights.header.tensors.reduce((a, t) => a + t.numel, 0) * (build.precision === 'float16' ? 2 : 4);
      if (bytes > WASM_MAX_GRAPH_BYTES) {
        throw new Da3Error('UNSUPPORTED', `DepthAnything3: this model needs about ${(bytes / 2 ** 30).toFixed(1)} GiB for its weights, over what WebAssembly can address (4 GiB with the runtime); run it on WebGPU (device "webgpu", dtype "fp16")`);
      }
    }
    const wasm = { threads: this.options.threads, wasmPaths: this.options.wasmPaths };
    let { graph, key } = await this.graphFor(build); // key: set when the graph came from the cache
    let runner: WebRunner;
    try {
      runner = await createWebRunner(graph, { providers, ...wasm });
    } catch (error) {
      // A cached entry that no longer loads (evicted data, a browser update): convert again.
      if (!key || error instanceof Da3Error) throw error;
      await (this.cache as { delete?: (k: string) => Promise<unknown> } | undefined)?.delete?.(key);
      ({ graph } = await this.graphFor(build));
      runner = await createWebRunner(graph, { providers, ...wasm });
    }
    this.options.progress?.({ status: 'ready', providers: runner.providers, precision: build.precision });
    this.runners.set(runnerKey, runner);
    return runner;
  }

  /**
   * Depth, confidence and cameras (and sky / metric depth where the model has them) for one or
   * more views. Inputs may be files, elements, bitmaps, video frames or RGB(A) arrays (see
   * {@link WebImageInput}); they are decoded one at a time.
   */
  async inference(images: WebImageInput | readonly WebImageInput[], options: WebInferenceOptions = {}): Promise<WebPrediction> {
    const list = Array.isArray(images) ? (images as readonly WebImageInput[]) : [images as WebImageInput];
    const decoded = [];
    for (const image of list) decoded.push(await decodeImage(image, { applyExifOrientation: options.applyExifOrientation }));
    const strategy = options.refViewStrategy ?? 'saddle_balanced';
    const layers = options.exportFeatLayers ?? [];
    const model: Da3Model = { config: this.config, kind: this.kind, runner: (role, o) => this.runnerFor(role, strategy, layers, o?.gaussians) };
    const prediction = await runInference(model, decoded, options);
    return Object.freeze({ ...prediction, export: (formats: string | readonly string[], o?: ExportOptions) => exportToFiles(prediction, formats, o) });
  }

  /** Releases every session. */
  async dispose(): Promise<void> {
    for (const r of this.runners.values()) await r.dispose();
    this.runners.clear();
  }
}

