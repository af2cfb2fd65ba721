import type { ModelConfig } from '../config/schema.js';
import { Da3Error } from '../errors.js';
import type { Da3Runner } from '../io.js';
import { GRAPH_QUANTIZATIONS, type GraphDtype, type GraphQuantization } from '../model/quantize/dtype.js';

/**
 * What a DA3 model is to the pipeline: which kind of network(s) it is and how to run them.
 * - `anyview`: SMALL/BASE/LARGE/GIANT (depth, confidence, rays, camera head).
 * - `mono`: MONO-LARGE (relative depth + sky).
 * - `metric`: METRIC-LARGE (focal-normalised depth + sky; metres need intrinsics).
 * - `nested`: NESTED (an any-view graph and a metric graph, aligned to metres).
 */
export type ModelKind = 'anyview' | 'mono' | 'metric' | 'nested';

/** Graph roles a runtime provides runners for. */
export type GraphRole = 'net' | 'netPosed' | 'anyview' | 'anyviewPosed' | 'metric';

/**
 * A loaded model as the runtime (node, web, GPU worker) hands it to {@link runInference}:
 * the config, its kind, and a runner per graph. Posed runners are created on first use (a
 * separate graph, since an ONNX input cannot be optional).
 */
export interface Da3Model {
  readonly config: ModelConfig;
  readonly kind: ModelKind;
  /**
   * Returns the runner of a graph, building/loading it when first asked. `gaussians` asks for the
   * graph with the GS head's `gs_raw` output (GIANT / NESTED any-view). `rays` says whether the
   * call reads the ray map (`ray`, `ray_conf`); when false a runtime may run a graph built without
   * the ray branch (`GraphBuild.rays`), and a runner that ignores it is still correct.
   */
  runner(role: GraphRole, options?: { readonly gaussians?: boolean; readonly rays?: boolean }): Promise<Da3Runner>;
}

/**
 * The `rays` choice of a {@link GraphRole}'s build (core's `GraphBuild.rays`): `wanted` for
 * networks with a DualDPT head (any-view), undefined for heads without a ray branch (mono,
 * metric), whose builds and cache names it does not touch.
 */
export function raysChoice(config: ModelConfig, role: GraphRole, wanted: boolean): boolean | undefined {
  if (role === 'metric') return undefined;
  const net = config.kind === 'NestedDepthAnything3Net' ? config.anyview : config;
  return net.head.type === 'DualDPT' ? wanted : undefined;
}

/**
 * The kind of a checkpoint from its config (and the raw config.json, whose `model_name` tells
 * METRIC from MONO: they share an architecture).
 */
export function modelKindOf(config: ModelConfig, configJson: Readonly<Record<string, unknown>>): ModelKind {
  if (config.kind === 'NestedDepthAnything3Net') return 'nested';
  if (config.head.type === 'DualDPT') return 'anyview';
  const name = `${configJson.model_name ?? ''} ${configJson.variant ?? ''}`.toLowerCase();
  return name.includes('metric') && !name.includes('mono') ? 'metric' : 'mono';
}

/** The build choices a da3js-written ONNX graph records in its metadata (`da3js.*` keys). */
export interface BuiltGraphChoices {
  /** The model config (`da3js.config`). */
  readonly configJson: Record<string, unknown>;
  readonly refViewStrategy: string;
  readonly posed: boolean;
  /** Backbone layers exported as `feat_<i>`. */
  readonly exportFeatLayers: readonly number[];
  /** Whether it has the GS head's `gs_raw` output. */
  readonly gaussians: boolean;
  /** Weight type: `fp32`, `fp16`, or the quantization (`da3js.precision`, `da3js.quantization`). */
  readonly dtype: GraphDtype;
  /** Whether it has the ray map outputs (`ray`, `ray_conf`; DualDPT heads built with `rays`). */
  readonly rays: boolean;
}

/**
 * Reads the build choices from a da3js graph's metadata (`readOnnxMetadata`).
 * @throws Da3Error `BAD_CONFIG` when the graph was not written by da3js
 */
export function builtGraphChoices(metadata: Readonly<Record<string, string>>, where: string): BuiltGraphChoices {
  const json = metadata['da3js.config'];
  if (!json) throw new Da3Error('BAD_CONFIG', `${where} was not written by da3js (no da3js.config metadata); load the checkpoint instead`);
  const outputs = (metadata['da3js.outputs'] ?? '').split(',');
  const quantization = metadata['da3js.quantization'];
  if (quantization !== undefined && !GRAPH_QUANTIZATIONS.includes(quantization as GraphQuantization)) {
    throw new Da3Error('UNSUPPORTED', `${where} is quantized "${quantization}", which this version of da3js does not know (it knows ${GRAPH_QUANTIZATIONS.join(', ')})`);
  }
  return {
    configJson: JSON.parse(json) as Record<string, unknown>,
    refViewStrategy: metadata['da3js.ref_view_strategy'] ?? 'saddle_balanced',
    posed: metadata['da3js.pose_conditioned'] === 'true',
    exportFeatLayers: outputs.filter((o) => o.startsWith('feat_')).map((o) => Number(o.slice(5))),
    gaussians: outputs.includes('gs_raw'),
    dtype: (quantization as GraphQuantization | undefined) ?? (metadata['da3js.precision'] === 'float16' ? 'fp16' : 'fp32'),
    rays: outputs.includes('ray'),
  };
}
