import {
  Da3Error,
  type Da3Model,
  type GraphRole,
  type ImageU8,
  type InferenceOptions,
  type ModelConfig,
  type ModelKind,
  type NetworkRole,
  type Prediction,
  type RefViewStrategy,
  SafetensorsFile,
  buildNetGraph,
  loadConfig,
  openCheckpoint,
  runInference,
  writeOnnxModel,
} from '@da3js/core';
import { type WebDevice, type WebRunner, createWebRunner } from './backend.js';
import { httpRangeByteSource } from './io.js';

/** Progress events (transformers.js `status` names plus `convert`). */
export type WebProgressEvent =
  | { readonly status: 'initiate' | 'done'; readonly file: string }
  | { readonly status: 'convert'; readonly role: NetworkRole; readonly done: number; readonly total: number }
  | { readonly status: 'ready'; readonly providers: readonly string[] };

/** Options of {@link DepthAnything3.fromPretrained} (web). */
export interface WebFromPretrainedOptions {
  readonly device?: WebDevice;
  readonly dtype?: 'fp32' | 'fp16';
  /** Hub base URL (default https://huggingface.co). */
  readonly endpoint?: string;
  readonly revision?: string;
  /** Extra request headers (e.g. `Authorization`). */
  readonly headers?: Record<string, string>;
  /** WASM threads (needs a cross-origin-isolated page for more than 1). */
  readonly threads?: number;
  /** MONO and METRIC share an architecture: say which one a custom checkpoint is. */
  readonly kind?: ModelKind;
  readonly progress?: (event: WebProgressEvent) => void;
}

/** Options of {@link DepthAnything3.inference} (web). */
export interface WebInferenceOptions extends InferenceOptions {
  readonly refViewStrategy?: RefViewStrategy;
  readonly exportFeatLayers?: readonly number[];
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

function kindOf(config: ModelConfig, json: Record<string, unknown>): ModelKind {
  if (config.kind === 'NestedDepthAnything3Net') return 'nested';
  if (config.head.type === 'DualDPT') return 'anyview';
  const name = `${json.model_name ?? ''} ${json.variant ?? ''}`.toLowerCase();
  return name.includes('metric') && !name.includes('mono') ? 'metric' : 'mono';
}

/**
 * Depth Anything 3 in the browser (or any JS runtime with `fetch`): the official checkpoint is
 * read with HTTP range requests and converted **in the page** into ONNX graphs, run with
 * onnxruntime-web (WebGPU when available, else WASM). Graphs are converted on first use per
 * build choice; the converted bytes are handed to onnxruntime and released.
 */
export class DepthAnything3 {
  private readonly runners = new Map<string, WebRunner>();

  private constructor(
    readonly config: ModelConfig,
    readonly kind: ModelKind,
    private readonly weights: SafetensorsFile,
    private readonly options: WebFromPretrainedOptions,
  ) {}

  /** Loads `owner/name` from the hub (or a base URL holding config.json + model.safetensors). */
  static async fromPretrained(idOrUrl: string, options: WebFromPretrainedOptions = {}): Promise<DepthAnything3> {
    const urls = urlsFor(idOrUrl, options);
    options.progress?.({ status: 'initiate', file: urls.config });
    const res = await fetch(urls.config, { headers: options.headers ?? {} });
    if (!res.ok) throw new Da3Error('IO', `fromPretrained: ${urls.config} answered HTTP ${res.status}`);
    const json = JSON.parse(await res.text()) as Record<string, unknown>;
    options.progress?.({ status: 'done', file: urls.config });
    const config = loadConfig(json);
    const weights = await SafetensorsFile.open(await httpRangeByteSource(urls.weights, { headers: options.headers }));
    return new DepthAnything3(config, options.kind ?? kindOf(config, json), weights, options);
  }

  private async runnerFor(role: GraphRole, strategy: RefViewStrategy, layers: readonly number[], gaussians = false): Promise<WebRunner> {
    const netRole: NetworkRole = role.startsWith('anyview') ? 'anyview' : role === 'metric' ? 'metric' : 'net';
    const posed = role.endsWith('Posed');
    const gs = gaussians && netRole !== 'metric';
    const key = JSON.stringify([netRole, posed, strategy, layers, gs]);
    let runner = this.runners.get(key);
    if (runner) return runner;
    const net = openCheckpoint(this.weights, this.config).networks.find((n) => n.role === netRole);
    if (!net) throw new Da3Error('BAD_CONFIG', `DepthAnything3: the checkpoint has no "${netRole}" network`);
    const model = buildNetGraph(net.config, net.weights, {
      precision: this.options.dtype === 'fp16' ? 'float16' : 'float32',
      refViewStrategy: strategy,
      poseConditioned: posed,
      exportFeatLayers: netRole === 'metric' ? [] : layers,
      gaussians: gs,
    });
    let chunks: Uint8Array[] = [];
    await writeOnnxModel(model, { write: (c) => void chunks.push(c.slice()) }, {
      onInitializer: (done, total) => this.options.progress?.({ status: 'convert', role: netRole, done, total }),
    });
    let bytes: Uint8Array | undefined = new Uint8Array(chunks.reduce((a, c) => a + c.byteLength, 0));
    let at = 0;
    for (const c of chunks) {
      bytes.set(c, at);
      at += c.byteLength;
    }
    chunks = [];
    runner = await createWebRunner(bytes, { device: this.options.device, threads: this.options.threads });
    bytes = undefined;
    this.options.progress?.({ status: 'ready', providers: runner.providers });
    this.runners.set(key, runner);
    return runner;
  }

  /** Depth, confidence and cameras (and sky / metric depth where the model has them) for RGB(A) images. */
  async inference(images: readonly ImageU8[], options: WebInferenceOptions = {}): Promise<Prediction> {
    const strategy = options.refViewStrategy ?? 'saddle_balanced';
    const layers = options.exportFeatLayers ?? [];
    const model: Da3Model = { config: this.config, kind: this.kind, runner: (role, o) => this.runnerFor(role, strategy, layers, o?.gaussians) };
    return runInference(model, images, options);
  }

  /** Releases every session. */
  async dispose(): Promise<void> {
    for (const r of this.runners.values()) await r.dispose();
    this.runners.clear();
  }
}
