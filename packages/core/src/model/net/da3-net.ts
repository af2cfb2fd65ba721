import type { NetConfig } from '../../config/schema.js';
import { Da3Error } from '../../errors.js';
import type { WeightProvider } from '../checkpoint.js';
import { type FloatPrecision, GraphBuilder, type Value } from '../graph/builder.js';
import { REF_VIEW_STRATEGIES, type RefViewStrategy } from '../host/ref-view.js';
import type { OnnxModel } from '../onnx/types.js';
import { buildBackbone } from './backbone.js';
import { buildCameraDecoder } from './camera-decoder.js';
import { buildCameraEncoder } from './camera-encoder.js';
import { buildGsHead, buildHead } from './dpt-head.js';

/** Version of the graph contract (inputs/outputs below); stored in the model's metadata. */
export const GRAPH_CONTRACT_VERSION = '1';

/** Build-time choices of a DA3 graph. */
export interface NetGraphOptions {
  /** Reference-view strategy baked into the graph for N ≥ 3 unposed views (default `saddle_balanced`). */
  readonly refViewStrategy?: RefViewStrategy;
  /** Build the pose-conditioned graph (inputs `extrinsics`, `intrinsics`; needs a camera encoder). */
  readonly poseConditioned?: boolean;
  /** Backbone blocks exported as `feat_<layer>` outputs ([B, N, h, w, D], working view order). */
  readonly exportFeatLayers?: readonly number[];
  /** Weight and compute precision (default float32; LayerNorm/Softmax stay float32). */
  readonly precision?: FloatPrecision;
  /** Add the Gaussian-splatting head's raw map as output `gs_raw` (GIANT only). */
  readonly gaussians?: boolean;
  /**
   * Any-view (DualDPT) heads: build the ray branch and its outputs `ray`, `ray_conf` (default
   * true). False leaves the branch out (about a fifth of the network's work) for callers that
   * take cameras from `pose_enc`; the other outputs are unchanged.
   */
  readonly rays?: boolean;
  /** Debug taps (fixture names) as extra outputs, for parity bisection. */
  readonly taps?: boolean | ReadonlySet<string>;
  /**
   * Use onnxruntime's fused `com.microsoft.MultiHeadAttention` (CPU, CUDA and WebGPU implement it):
   * far less memory for many views, since the score matrix is never materialised on the CPU.
   * Default true; false writes plain MatMul–Softmax–MatMul (default-domain ops only).
   */
  readonly fusedAttention?: boolean;
  /** Graph name (default `da3`). */
  readonly name?: string;
}

/** Names of the graph's outputs for a config (the contract in docs/architecture.md). */
export function netGraphOutputs(config: NetConfig, options: NetGraphOptions = {}): string[] {
  const outs = ['depth'];
  if (config.head.type === 'DualDPT') outs.push('depth_conf', ...(options.rays === false ? [] : ['ray', 'ray_conf']));
  else if (config.head.outputDim === 2) outs.push('depth_conf');
  if (config.head.type === 'DPT' && config.head.useSkyHead) outs.push('sky');
  if (config.camDec) outs.push('pose_enc');
  if (options.gaussians && config.gsHead) outs.push('gs_raw');
  for (const l of options.exportFeatLayers ?? []) outs.push(`feat_${l}`);
  return outs;
}

/**
 * Builds one DA3 network (`DepthAnything3Net`) as an ONNX graph from its config and checkpoint.
 *
 * Inputs: `images` float32 [B, N, 3, H, W] (ImageNet-normalised, H and W multiples of 14; B, N,
 * H, W dynamic); pose-conditioned graphs add `extrinsics` float32 [B, N, 4, 4] (world→camera,
 * normalised as the reference's `_normalize_extrinsics`) and `intrinsics` float32 [B, N, 3, 3]
 * (processed pixels).
 * Outputs (float32): any-view `depth`, `depth_conf` [B, N, H, W], `ray` [B, N, 8h, 8w, 6]
 * (direction xyz, origin xyz) and `ray_conf` [B, N, 8h, 8w] (unless `rays: false`), `pose_enc` [B, N, 9] (t xyz, quaternion
 * xyzw, fov_h, fov_w, radians); mono/metric `depth`, `sky` [B, N, H, W]; GIANT optionally
 * `gs_raw` [B, N, H, W, 38] (the GS head's logits); and `feat_<layer>`.
 *
 * Initializers load lazily from `weights`, so writing the model streams the checkpoint.
 * @throws Da3Error `BAD_CONFIG` for options the config cannot honour
 */
export function buildNetGraph(config: NetConfig, weights: WeightProvider, options: NetGraphOptions = {}): OnnxModel {
  const strategy = options.refViewStrategy ?? 'saddle_balanced';
  if (!REF_VIEW_STRATEGIES.includes(strategy)) {
    throw new Da3Error('BAD_CONFIG', `buildNetGraph: refViewStrategy ${JSON.stringify(strategy)} is not one of ${REF_VIEW_STRATEGIES.join(', ')}`);
  }
  const posed = options.poseConditioned ?? false;
  if (posed && !config.camEnc) throw new Da3Error('BAD_CONFIG', 'buildNetGraph: poseConditioned needs a model with a camera encoder (any-view variants)');
  if (options.gaussians && !config.gsHead) throw new Da3Error('BAD_CONFIG', 'buildNetGraph: gaussians needs a model with a GS head (GIANT, NESTED any-view)');
  const exportFeatLayers = options.exportFeatLayers ?? [];
  for (const l of exportFeatLayers) {
    if (!Number.isInteger(l) || l < 0 || l >= config.backbone.depth) {
      throw new Da3Error('BAD_CONFIG', `buildNetGraph: exportFeatLayers has ${l}, outside 0..${config.backbone.depth - 1}`);
    }
  }
  const g = new GraphBuilder({ name: options.name ?? 'da3', precision: options.precision, taps: options.taps, fusedAttention: options.fusedAttention ?? true });
  const dyn = ['B', 'N'];
  const images = g.input('images', 'float32', [...dyn, 3, 'H', 'W']);
  let camTokens: Value | null = null;
  if (posed && config.camEnc) {
    const extrinsics = g.input('extrinsics', 'float32', [...dyn, 4, 4]);
    const intrinsics = g.input('intrinsics', 'float32', [...dyn, 3, 3]);
    camTokens = buildCameraEncoder(g, extrinsics, intrinsics, images, weights, config.camEnc);
  }
  const bb = buildBackbone(g, images, weights, config.backbone, { refViewStrategy: strategy, cameraEncoderTokens: camTokens, exportFeatLayers });
  const head = buildHead(g, bb.features, bb, weights, config.head, { rays: options.rays });
  const map = [...dyn, 'H', 'W'];
  g.output(head.depth, 'depth', 'float32', map);
  if (head.depthConf) g.output(head.depthConf, 'depth_conf', 'float32', map);
  if (head.ray && head.rayConf) {
    g.output(head.ray, 'ray', 'float32', [...dyn, 'rayH', 'rayW', 6]);
    g.output(head.rayConf, 'ray_conf', 'float32', [...dyn, 'rayH', 'rayW']);
  }
  if (head.sky) g.output(head.sky, 'sky', 'float32', map);
  if (config.camDec) {
    const poseEnc = buildCameraDecoder(g, bb.cameraTokens[bb.cameraTokens.length - 1], weights, config.camDec);
    g.output(poseEnc, 'pose_enc', 'float32', [...dyn, 9]);
  }
  if (options.gaussians && config.gsHead) {
    const raw = buildGsHead(g, bb.features, bb, images, weights, config.gsHead);
    g.output(raw, 'gs_raw', 'float32', [...dyn, 'H', 'W', config.gsHead.outputDim]);
  }
  for (const [layer, v] of bb.aux) {
    const f32 = g.precision === 'float16' ? g.op('Cast', [v], { to: 1 }) : v;
    g.output(f32, `feat_${layer}`, 'float32', [...dyn, 'h', 'w', config.backbone.embedDim]);
  }
  return g.build({
    docString: 'Depth Anything 3 network built by da3js from the official checkpoint.',
    metadata: {
      'da3js.contract': GRAPH_CONTRACT_VERSION,
      'da3js.ref_view_strategy': strategy,
      'da3js.pose_conditioned': String(posed),
      'da3js.precision': g.precision,
      'da3js.fused_attention': String(g.fusedAttention),
      'da3js.outputs': netGraphOutputs(config, options).join(','),
      'da3js.config': JSON.stringify(config),
    },
  });
}
