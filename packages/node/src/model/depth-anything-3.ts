import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import {
  type ConvertProgress,
  Da3Error,
  type Da3Model,
  type GraphRole,
  type ImageU8,
  type InferenceOptions,
  type InferenceProgress,
  type ModelConfig,
  type ModelKind,
  type NetworkRole,
  type Prediction,
  type RefViewStrategy,
  type StreamEvent,
  type StreamSummary,
  SafetensorsFile,
  DEFAULT_PIPELINE_MODEL,
  abortedError,
  assertDtype,
  graphDtypeChoice,
  assertValidCheckpoint,
  graphConfigDigest,
  isDa3Error,
  loadConfig,
  networkWorkUnits,
  throwIfAborted,
  builtGraphChoices,
  raysChoice,
  modelKindOf,
  readOnnxMetadata,
  runInference,
} from '@da3js/core';
import { fileByteSource } from '../hub/fs.js';
import { type ExportToDirectoryOptions, exportToDirectory } from '../export/export-dir.js';
import type { HubProgressEvent } from '../hub/index.js';
import { decodeImage } from '../input/index.js';
import { DEVICES, type Device, type DeviceInfo, type OrtRunner, createRunner } from '../runtime/ort-runner.js';
import { ensureGraph } from './graph-cache.js';
import { NetworkTimings } from './timings.js';
import { type NodeStreamOptions, streamFrames } from '../stream/stream.js';

/** Progress events of loading and inference (transformers.js `status` names plus `convert`, `infer`). */
export type Da3ProgressEvent =
  | { readonly status: 'initiate' | 'download' | 'progress' | 'done' | 'ready'; readonly name?: string; readonly file?: string; readonly loaded?: number; readonly total?: number; readonly device?: DeviceInfo }
  /** Something the user should know but that does not stop loading (e.g. checkpoint tensors the model does not use). */
  | { readonly status: 'warning'; readonly message: string }
  | HubProgressEvent
  | ConvertProgress
  | InferenceProgress;

/**
 * Weight type of the converted graph (transformers.js's names): `fp32`; `fp16` (for CUDA: on the
 * CPU it is no faster than fp32); `q8` — int8 backbone weights run by onnxruntime's integer
 * kernels, CPU only: about 0.8× fp32's time and 0.41× its size, depth within ~0.5% (DA3-SMALL
 * shapes; docs/model-graph.md, "Weight types").
 */
export type NodeDtype = 'fp32' | 'fp16' | 'q8';

/** The dtypes {@link DepthAnything3.fromPretrained} accepts. */
export const NODE_DTYPES: readonly NodeDtype[] = Object.freeze(['fp32', 'fp16', 'q8']);

const KINDS: readonly ModelKind[] = ['anyview', 'mono', 'metric', 'nested'];

/**
 * Refuses option values this package does not support, before anything is downloaded or read:
 * an unknown `device`, `dtype` or `kind` (`BAD_VALUE`), a dtype or device of another runtime or one
 * da3js does not build (`UNSUPPORTED`: `q4`, `webgpu`, …), `q8` on CUDA (`UNSUPPORTED`: no int8
 * kernels there), and a `threads` that is not a positive integer (`BAD_VALUE`).
 * @throws Da3Error as above
 */
export function assertNodeOptions(options: FromPretrainedOptions, where: string): void {
  const device = options.device ?? 'auto';
  if (!DEVICES.includes(device)) {
    if (typeof device === 'string' && ['webgpu', 'wasm', 'webnn', 'gpu'].includes(device)) {
      throw new Da3Error('UNSUPPORTED', `${where}: device "${device}" is not supported by @da3js/node (use @da3js/web in browsers); should be one of ${DEVICES.join(', ')}`);
    }
    throw new Da3Error('BAD_VALUE', `${where}: unknown device ${JSON.stringify(device)}; should be one of ${DEVICES.join(', ')}`);
  }
  const dtype: unknown = options.dtype ?? 'fp32';
  assertDtype(dtype, NODE_DTYPES, where);
  if (dtype === 'q8' && device === 'cuda') {
    throw new Da3Error('UNSUPPORTED', `${where}: dtype "q8" runs on the CPU only (onnxruntime's CUDA provider has no DynamicQuantizeMatMul kernel); use device "cpu" (or "auto"), or dtype "fp16" on CUDA`);
  }
  if (options.threads !== undefined && !(Number.isSafeInteger(options.threads) && options.threads >= 1)) {
    throw new Da3Error('BAD_VALUE', `${where}: threads must be a positive integer, got ${JSON.stringify(options.threads)}`);
  }
  if (options.kind !== undefined && !KINDS.includes(options.kind)) {
    throw new Da3Error('BAD_VALUE', `${where}: unknown kind ${JSON.stringify(options.kind)}; should be one of ${KINDS.join(', ')}`);
  }
}

/** Options of {@link DepthAnything3.fromPretrained}. */
export interface FromPretrainedOptions {
  /** `auto` (CUDA when it loads, else CPU; always the CPU for `q8`), `cuda` or `cpu`. */
  readonly device?: Device;
  /** Weight type of the converted graph (default fp32); see {@link NodeDtype}. */
  readonly dtype?: NodeDtype;
  /** Cache folder for downloads and converted graphs (default `$DA3_CACHE` or `~/.cache/da3js`). */
  readonly cacheDir?: string;
  /** Hub revision (branch, tag or commit; default `main`). */
  readonly revision?: string;
  /** Never touch the network: use the cache or fail. */
  readonly localFilesOnly?: boolean;
  /** Hub base URL (default `$HF_ENDPOINT`, else https://huggingface.co). */
  readonly endpoint?: string;
  /** Hub token for gated/private repos (default `$HF_TOKEN`). */
  readonly token?: string;
  /** CPU threads (default: all cores). */
  readonly threads?: number;
  /** Override the model kind when the config cannot tell MONO from METRIC. */
  readonly kind?: ModelKind;
  /**
   * Refuse a checkpoint holding tensors the model does not use (`UNEXPECTED_TENSOR`). Default
   * false: they are ignored, as the reference does, and reported as a `warning` event (or with
   * `console.warn` when there is no `progress` callback).
   */
  readonly strict?: boolean;
  readonly progress?: (event: Da3ProgressEvent) => void;
  /**
   * Cancels loading: downloads stop (the partial blob is kept for resuming), nothing else is
   * written; rejects with `ABORTED`. Not kept for later calls (each call takes its own `signal`).
   */
  readonly signal?: AbortSignal;
}

/** An image the node package accepts: a path, a URL, encoded bytes, or raw RGB(A) pixels. */
export type NodeImageInput = string | URL | Uint8Array | ImageU8;

/** Options of {@link DepthAnything3.inference} (the reference's names in camelCase). */
export interface NodeInferenceOptions extends InferenceOptions {
  /** Reference-view strategy for N ≥ 3 views (default `saddle_balanced`). */
  readonly refViewStrategy?: RefViewStrategy;
  /** Backbone layers to export as `aux.feat_layer_<i>`. */
  readonly exportFeatLayers?: readonly number[];
  /** Apply EXIF orientation when decoding files (the reference does not; default false). */
  readonly applyExifOrientation?: boolean;
  /** Largest image decoded, in pixels (default 178,956,970: Pillow's decompression-bomb limit, as the reference). */
  readonly maxPixels?: number;
  /**
   * Cancels the call (`ABORTED`): decoding, a first-use graph conversion (temp files removed) and
   * the stages of core's `runInference`. A graph already running on onnxruntime finishes first.
   * The model stays usable.
   */
  readonly signal?: AbortSignal;
}

/** Decodes one input into pixels (provided by the input module). */
export type ImageDecoder = (input: NodeImageInput, options: { applyExifOrientation?: boolean; maxPixels?: number; signal?: AbortSignal }) => Promise<ImageU8>;

/** Resolved model files (provided by the hub module). */
export interface ModelFiles {
  readonly configPath: string;
  readonly weightsPath: string;
}

/** A {@link Prediction} with the reference's `export`: `await prediction.export({ dir, formats })`. */
export interface NodePrediction extends Prediction {
  /** Writes the prediction into `dir` (atomic files; see `exportToDirectory`); returns the paths. */
  export(options: ExportToDirectoryOptions): Promise<string[]>;
}

/** The model the CLI and `pipeline` use by default (CPU-friendly; the reference defaults to NESTED-GIANT-LARGE-1.1). */
export const DEFAULT_MODEL = DEFAULT_PIPELINE_MODEL;

/** The default cache folder: `$DA3_CACHE`, else `~/.cache/da3js`. */
export function defaultCacheDir(): string {
  return process.env.DA3_CACHE ?? join(homedir(), '.cache', 'da3js');
}

/** MONO and METRIC share an architecture: tell them apart by the config's names. */
/** The kind of a checkpoint from its config (core's `modelKindOf`, re-exported). */
export { modelKindOf };

/**
 * Depth Anything 3 on onnxruntime-node. Converted graphs are cached per build choice (precision,
 * reference-view strategy, posed or not, exported layers) and sessions are kept for the model's
 * lifetime.
 *
 * Usage:
 * ```ts
 * const model = await DepthAnything3.fromPretrained('depth-anything/DA3-SMALL', { device: 'auto' });
 * const prediction = await model.inference(['a.jpg', 'b.jpg']);
 * prediction.depth; // Float32Array [2, H, W]
 * await model.dispose();
 * ```
 */
export class DepthAnything3 {
  private readonly runners = new Map<string, OrtRunner>();
  /** Sessions created so far (a run that created one also converted/loaded: not a timing sample). */
  private sessionsCreated = 0;
  private deviceInfo: DeviceInfo | undefined;
  /** Set when loaded from a ready `.onnx`: the only graph this model can run. */
  private fixedGraph: { path: string; strategy: string; posed: boolean; layers: readonly number[]; gaussians: boolean; rays: boolean } | undefined;

  private constructor(
    readonly config: ModelConfig,
    readonly kind: ModelKind,
    private readonly files: ModelFiles,
    private readonly options: FromPretrainedOptions,
    private readonly decode: ImageDecoder,
  ) {}

  /**
   * Loads a model: a Hugging Face id (`depth-anything/DA3-SMALL`; `HF_ENDPOINT`, `HF_TOKEN`
   * honoured), a local folder with config.json + model.safetensors, or a `.safetensors` file.
   * Files are downloaded once into the cache; graphs are converted once, when first used.
   */
  static async fromPretrained(idOrPath: string, options: FromPretrainedOptions = {}): Promise<DepthAnything3> {
    const { signal, ...kept } = options;
    throwIfAborted(signal, 'fromPretrained');
    assertNodeOptions(options, 'fromPretrained');
    const { resolveModelSource } = await import('./from-pretrained.js');
    const files = await resolveModelSource(idOrPath, {
      cacheDir: options.cacheDir ? join(options.cacheDir, 'hub') : undefined,
      revision: options.revision,
      localFilesOnly: options.localFilesOnly,
      endpoint: options.endpoint,
      token: options.token,
      progress: options.progress as never,
      signal,
    });
    throwIfAborted(signal, 'fromPretrained');
    const decode: ImageDecoder = (input, o) => decodeImage(input as never, o);
    if ('onnxPath' in files) return DepthAnything3.fromOnnx(files.onnxPath, kept, decode);
    const model = DepthAnything3.fromFiles(files, kept, decode);
    await model.checkWeights();
    return model;
  }

  /**
   * Validates the checkpoint's header against the config (no tensor is read), so a wrong file
   * fails at load time; unused tensors become warnings, or `UNEXPECTED_TENSOR` with `strict`.
   */
  private async checkWeights(): Promise<void> {
    const source = fileByteSource(this.files.weightsPath);
    try {
      const report = assertValidCheckpoint(await SafetensorsFile.open(source), this.config, { strict: this.options.strict });
      for (const message of report.warnings) {
        if (this.options.progress) this.options.progress({ status: 'warning', message });
        else console.warn(`da3js: ${message}`);
      }
    } finally {
      source.close();
    }
  }

  /**
   * Loads a graph written by da3js (`da3 convert`, `convertCheckpoint`): the config and build
   * choices are read from its metadata. Only that graph's choices can run (e.g. its reference-view
   * strategy, unposed); other choices need the checkpoint.
   */
  static async fromOnnx(onnxPath: string, options: FromPretrainedOptions, decode: ImageDecoder): Promise<DepthAnything3> {
    assertNodeOptions(options, 'DepthAnything3.fromOnnx');
    const source = fileByteSource(onnxPath);
    let meta: Record<string, string>;
    try {
      meta = await readOnnxMetadata(source);
    } catch (error) {
      if (isDa3Error(error)) throw new Da3Error(error.code, `DepthAnything3: ${onnxPath}: ${error.message.replace(/^readOnnxMetadata: /, '')}`, { cause: error });
      throw error;
    } finally {
      source.close();
    }
    const choices = builtGraphChoices(meta, `DepthAnything3: ${onnxPath}`);
    if (options.dtype !== undefined && options.dtype !== choices.dtype) {
      throw new Da3Error('BAD_CONFIG', `DepthAnything3: ${onnxPath} was built with dtype "${choices.dtype}", not "${options.dtype}"; leave dtype out, or load the checkpoint to convert a ${options.dtype} graph`);
    }
    // A graph's dtype is the model's: a q8 graph picks the CPU under device auto, and refuses cuda.
    const effective = { ...options, dtype: choices.dtype };
    assertNodeOptions(effective, `DepthAnything3: ${onnxPath}`);
    const config = loadConfig(choices.configJson);
    if (config.kind === 'NestedDepthAnything3Net') throw new Da3Error('BAD_CONFIG', `DepthAnything3: ${onnxPath} holds one graph; NESTED needs both (load the checkpoint)`);
    const kind = options.kind ?? (config.head.type === 'DualDPT' ? 'anyview' : 'mono');
    const built = { strategy: choices.refViewStrategy, posed: choices.posed, layers: choices.exportFeatLayers, gaussians: choices.gaussians, rays: choices.rays };
    const model = new DepthAnything3(config, kind, { configPath: '', weightsPath: '' }, effective, decode);
    model.fixedGraph = { path: onnxPath, ...built };
    return model;
  }

  /** Builds a model from resolved files with a given image decoder (tests, custom decoders). */
  static fromFiles(files: ModelFiles, options: FromPretrainedOptions, decode: ImageDecoder): DepthAnything3 {
    assertNodeOptions(options, 'DepthAnything3.fromFiles');
    let json: Record<string, unknown>;
    try {
      json = JSON.parse(readFileSync(files.configPath, 'utf8'));
    } catch (cause) {
      throw new Da3Error('BAD_CONFIG', `DepthAnything3: cannot read ${files.configPath}: ${(cause as Error).message}`, { cause });
    }
    const config = loadConfig(json);
    const kind = options.kind ?? modelKindOf(config, json);
    return new DepthAnything3(config, kind, files, options, decode);
  }

  /** The device asked of onnxruntime: `q8` graphs run on the CPU (`auto` picks it). */
  private get runDevice(): Device | undefined {
    return this.options.dtype === 'q8' ? 'cpu' : this.options.device;
  }

  /** Weight/compute precision of the converted graphs. */
  get dtype(): NodeDtype {
    return this.options.dtype ?? 'fp32';
  }

  /**
   * DA3-Streaming: runs a long sequence (a video's frames, a folder) in overlapping chunks in
   * bounded memory and yields each chunk, then its frames in one world frame (core's
   * `streamInference`; see `streamFrames`). With `stateDir` finished chunks are spilled to disk
   * and a rerun continues after them. `streamToDirectory` writes the reference's output files.
   *
   * ```ts
   * for await (const e of model.streamInference(videoFrames('walk.mp4', { fps: 5 }), { chunkSize: 60, overlap: 30 })) {
   *   if (e.type === 'frame') use(e.frame.depth, e.frame.extrinsics);
   * }
   * ```
   */
  streamInference(frames: AsyncIterable<NodeImageInput> | Iterable<NodeImageInput>, options: NodeStreamOptions = {}): AsyncGenerator<StreamEvent, StreamSummary, undefined> {
    return streamFrames(this, frames, options);
  }

  /** The device sessions run on (known after the first graph is loaded). */
  get device(): DeviceInfo | undefined {
    return this.deviceInfo;
  }

  private async runnerFor(role: GraphRole, strategy: RefViewStrategy, exportFeatLayers: readonly number[], gaussians = false, rays = true, signal?: AbortSignal): Promise<OrtRunner> {
    const posed = role.endsWith('Posed');
    const netRole: NetworkRole = role.startsWith('anyview') ? 'anyview' : role === 'metric' ? 'metric' : 'net';
    const variant = {
      role: netRole,
      posed,
      ...graphDtypeChoice(this.options.dtype ?? 'fp32'),
      refViewStrategy: strategy,
      exportFeatLayers: netRole === 'metric' ? [] : exportFeatLayers,
      gaussians: gaussians && netRole !== 'metric',
      rays: raysChoice(this.config, role, rays),
    };
    const key = JSON.stringify(variant);
    let runner = this.runners.get(key);
    if (!runner && this.fixedGraph) {
      const f = this.fixedGraph;
      // A graph with the ray branch serves calls that do not read it too.
      if (posed !== f.posed || netRole !== 'net' || strategy !== f.strategy || variant.exportFeatLayers.join(',') !== f.layers.join(',') || variant.gaussians !== f.gaussians || (variant.rays === true && !f.rays)) {
        throw new Da3Error(
          'BAD_CONFIG',
          `DepthAnything3: ${f.path} was built ${f.posed ? 'pose-conditioned' : 'unposed'} with refViewStrategy ${f.strategy} and exportFeatLayers [${f.layers}]; this call needs ${posed ? 'pose-conditioned' : 'unposed'}, ${strategy}, [${variant.exportFeatLayers}] — load the checkpoint to convert other graphs`,
        );
      }
      runner = await createRunner(f.path, { device: this.runDevice, threads: this.options.threads, onDevice: (d) => (this.deviceInfo = d) });
      this.sessionsCreated++;
      this.runners.set(key, runner);
    }
    if (!runner) {
      const path = await ensureGraph(this.files.weightsPath, this.config, variant, join(this.options.cacheDir ?? defaultCacheDir(), 'graphs'), this.options.progress, signal);
      runner = await createRunner(path, {
        device: this.runDevice,
        threads: this.options.threads,
        cacheOptimizedGraph: true,
        onDevice: (d) => {
          this.deviceInfo = d;
          this.options.progress?.({ status: 'ready', file: path, device: d });
        },
      });
      this.sessionsCreated++;
      this.runners.set(key, runner);
    }
    return runner;
  }

  /**
   * Predicts depth, confidence and cameras (and sky / metric depth where the model has them) for
   * one or more views of a scene. See core's `runInference` for the post-processing.
   */
  async inference(images: NodeImageInput | readonly NodeImageInput[], options: NodeInferenceOptions = {}): Promise<NodePrediction> {
    const list = Array.isArray(images) ? images : [images as NodeImageInput];
    if (list.length === 0) throw new Da3Error('EMPTY_INPUT', 'DepthAnything3.inference: no images');
    const { signal } = options;
    try {
      throwIfAborted(signal, 'inference');
      const decoded = await Promise.all(list.map((i) => this.decode(i, { applyExifOrientation: options.applyExifOrientation, maxPixels: options.maxPixels, signal })));
      const strategy = options.refViewStrategy ?? 'saddle_balanced';
      const layers = options.exportFeatLayers ?? [];
      const model: Da3Model = { config: this.config, kind: this.kind, runner: (role, o) => this.runnerFor(role, strategy, layers, o?.gaussians, o?.rays ?? true, signal) };
      const timed = await this.timedProgress(options);
      const prediction = await runInference(model, decoded, { ...options, onProgress: timed.onProgress });
      await timed.recorded();
      return Object.freeze({ ...prediction, export: (o: ExportToDirectoryOptions) => exportToDirectory(prediction, o) });
    } catch (error) {
      // Decoders reject with the signal's own reason: give every abort the one typed error.
      if (signal?.aborted && !isDa3Error(error, 'ABORTED')) throw abortedError(signal, 'inference');
      throw error;
    }
  }

  /**
   * The progress callback of one inference, with `estimatedMs` added to the first `network` event
   * (from earlier runs of this model on this machine) and this run's network time remembered.
   */
  private async timedProgress(options: NodeInferenceOptions): Promise<{ onProgress: (event: InferenceProgress) => void; recorded: () => Promise<void> }> {
    const user = options.onProgress ?? this.options.progress;
    const timings = new NetworkTimings(
      this.options.cacheDir ?? defaultCacheDir(),
      `${graphConfigDigest(this.config)}|${this.options.device ?? 'auto'}|${this.options.dtype ?? 'fp32'}|${this.options.threads ?? 'all'}`,
    );
    const msPerUnit = await timings.msPerUnit();
    let networkStart = 0;
    let sessionsAtStart = 0;
    let units = 0;
    let recording: Promise<void> = Promise.resolve();
    const onProgress = (event: InferenceProgress) => {
      let shown = event;
      if (event.stage === 'network' && event.graphsDone === 0) {
        networkStart = Date.now();
        sessionsAtStart = this.sessionsCreated;
        units = networkWorkUnits(event.views, event.height ?? 0, event.width ?? 0);
        if (msPerUnit !== undefined) shown = { ...event, estimatedMs: Math.round(msPerUnit * units) };
      }
      // Runs that created a session (graph conversion, session start) are not timing samples.
      if (event.stage === 'postprocess' && networkStart && this.sessionsCreated === sessionsAtStart) recording = timings.record(units, Date.now() - networkStart);
      user?.(shown);
    };
    return { onProgress, recorded: () => recording };
  }

  /** Releases every session. */
  async dispose(): Promise<void> {
    for (const r of this.runners.values()) await r.dispose();
    this.runners.clear();
  }
}
