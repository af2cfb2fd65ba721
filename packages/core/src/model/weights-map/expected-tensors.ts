import type {
  BackboneConfig,
  CameraDecoderConfig,
  CameraEncoderConfig,
  GsHeadConfig,
  HeadConfig,
  ModelConfig,
  NetConfig,
} from '../../config/schema.js';

/**
 * What a parameter is, so a random initialiser (or a converter) can treat it sensibly without
 * parsing its name:
 * - `linear`: torch `Linear.weight` [out, in];
 * - `conv`: torch `Conv2d.weight` [out, in, kh, kw];
 * - `conv-transpose`: torch `ConvTranspose2d.weight` [in, out, kh, kw];
 * - `bias`: the bias of any of the above, [out];
 * - `norm-weight` / `norm-bias`: LayerNorm affine parameters, [width];
 * - `layerscale`: LayerScale `gamma`, [width];
 * - `cls-token` [1, 1, D], `camera-token` [1, 2, D], `register-tokens` [1, R, D];
 * - `pos-embed`: the learned position embedding [1, 1 + rows·cols, D].
 */
export type TensorRole =
  | 'linear'
  | 'conv'
  | 'conv-transpose'
  | 'bias'
  | 'norm-weight'
  | 'norm-bias'
  | 'layerscale'
  | 'cls-token'
  | 'camera-token'
  | 'register-tokens'
  | 'pos-embed';

/** One tensor a checkpoint must hold: full name (prefix included), shape and role. */
export interface ExpectedTensor {
  /** Full safetensors key, e.g. `model.backbone.pretrained.blocks.0.attn.qkv.weight`. */
  readonly name: string;
  /** Shape in torch's layout (see {@link TensorRole}). */
  readonly shape: readonly number[];
  readonly role: TensorRole;
}

/** Which network of a checkpoint a key prefix selects. `net` is the only network of a plain model. */
export type NetworkRole = 'net' | 'anyview' | 'metric';

/** One `DepthAnything3Net` inside a checkpoint: its key prefix and configuration. */
export interface CheckpointNetwork {
  readonly role: NetworkRole;
  /** Full key prefix of this network, e.g. `model.` or `model.da3_metric.`. */
  readonly prefix: string;
  readonly config: NetConfig;
}

/** Key segments under the checkpoint prefix for the two networks of a Nested model (da3.py). */
export const NESTED_KEY_PREFIXES: Readonly<Record<'anyview' | 'metric', string>> = Object.freeze({ anyview: 'da3.', metric: 'da3_metric.' });

/** The default checkpoint prefix: the Hub mixin keeps the network in `DepthAnything3.model`. */
export const DEFAULT_CHECKPOINT_PREFIX = 'model.';

/** Width of the hidden layer of every DPT-style output branch (`head_features_2` in dpt.py). */
const HEAD_FEATURES_2 = 32;

/**
 * Splits a configuration into the networks its checkpoint holds: one `net` under `prefix`, or for
 * Nested the `anyview` network under `prefix + 'da3.'` and the `metric` network under
 * `prefix + 'da3_metric.'`.
 */
export function checkpointNetworks(config: ModelConfig, prefix = DEFAULT_CHECKPOINT_PREFIX): CheckpointNetwork[] {
  if (config.kind === 'NestedDepthAnything3Net') {
    return [
      { role: 'anyview', prefix: prefix + NESTED_KEY_PREFIXES.anyview, config: config.anyview },
      { role: 'metric', prefix: prefix + NESTED_KEY_PREFIXES.metric, config: config.metric },
    ];
  }
  return [{ role: 'net', prefix, config }];
}

type Emit = (name: string, shape: readonly number[], role: TensorRole) => void;

const linear = (t: Emit, name: string, outDim: number, inDim: number, bias = true) => {
  t(`${name}.weight`, [outDim, inDim], 'linear');
  if (bias) t(`${name}.bias`, [outDim], 'bias');
};

const conv = (t: Emit, name: string, outCh: number, inCh: number, k: number, bias = true) => {
  t(`${name}.weight`, [outCh, inCh, k, k], 'conv');
  if (bias) t(`${name}.bias`, [outCh], 'bias');
};

const layerNorm = (t: Emit, name: string, width: number) => {
  t(`${name}.weight`, [width], 'norm-weight');
  t(`${name}.bias`, [width], 'norm-bias');
};

/** A ViT block as dinov2/layers/block.py and utils/block.py build it. */
function vitBlock(
  t: Emit,
  p: string,
  dim: number,
  opts: { ffn: 'mlp' | 'swiglu'; hidden: number; layerscale: boolean; qkNormDim: number | null },
) {
  layerNorm(t, `${p}.norm1`, dim);
  linear(t, `${p}.attn.qkv`, 3 * dim, dim);
  if (opts.qkNormDim !== null) {
    layerNorm(t, `${p}.attn.q_norm`, opts.qkNormDim);
    layerNorm(t, `${p}.attn.k_norm`, opts.qkNormDim);
  }
  linear(t, `${p}.attn.proj`, dim, dim);
  if (opts.layerscale) t(`${p}.ls1.gamma`, [dim], 'layerscale');
  layerNorm(t, `${p}.norm2`, dim);
  if (opts.ffn === 'swiglu') {
    linear(t, `${p}.mlp.w12`, 2 * opts.hidden, dim);
    linear(t, `${p}.mlp.w3`, dim, opts.hidden);
  } else {
    linear(t, `${p}.mlp.fc1`, opts.hidden, dim);
    linear(t, `${p}.mlp.fc2`, dim, opts.hidden);
  }
  if (opts.layerscale) t(`${p}.ls2.gamma`, [dim], 'layerscale');
}

function backboneTensors(t: Emit, b: BackboneConfig) {
  const p = 'backbone.pretrained';
  const D = b.embedDim;
  conv(t, `${p}.patch_embed.proj`, D, 3, b.patchSize);
  t(`${p}.cls_token`, [1, 1, D], 'cls-token');
  if (b.numRegisterTokens > 0) t(`${p}.register_tokens`, [1, b.numRegisterTokens, D], 'register-tokens');
  if (b.cameraToken) t(`${p}.camera_token`, [1, 2, D], 'camera-token');
  t(`${p}.pos_embed`, [1, 1 + b.posEmbedGrid[0] * b.posEmbedGrid[1], D], 'pos-embed');
  const qk = new Set(b.qkNormLayers);
  for (let i = 0; i < b.depth; i++) {
    vitBlock(t, `${p}.blocks.${i}`, D, { ffn: b.ffn, hidden: b.ffnHidden, layerscale: b.layerscale, qkNormDim: qk.has(i) ? b.headDim : null });
  }
  layerNorm(t, `${p}.norm`, D);
}

/** The parts every DPT-style head shares: projections, resize layers, scratch and fusion chain. */
function dptTrunk(t: Emit, p: string, dimIn: number, features: number, oc: readonly number[], fusionSuffixes: readonly string[]) {
  oc.forEach((c, i) => {
    conv(t, `${p}.projects.${i}`, c, dimIn, 1);
  });
  t(`${p}.resize_layers.0.weight`, [oc[0], oc[0], 4, 4], 'conv-transpose');
  t(`${p}.resize_layers.0.bias`, [oc[0]], 'bias');
  t(`${p}.resize_layers.1.weight`, [oc[1], oc[1], 2, 2], 'conv-transpose');
  t(`${p}.resize_layers.1.bias`, [oc[1]], 'bias');
  // resize_layers.2 is an Identity.
  conv(t, `${p}.resize_layers.3`, oc[3], oc[3], 3);
  oc.forEach((c, i) => {
    conv(t, `${p}.scratch.layer${i + 1}_rn`, features, c, 3, false);
  });
  for (const suffix of fusionSuffixes) {
    for (let level = 1; level <= 4; level++) {
      const r = `${p}.scratch.refinenet${level}${suffix}`;
      const units = level === 4 ? ['resConfUnit2'] : ['resConfUnit1', 'resConfUnit2'];
      for (const u of units) {
        conv(t, `${r}.${u}.conv1`, features, features, 3);
        conv(t, `${r}.${u}.conv2`, features, features, 3);
      }
      conv(t, `${r}.out_conv`, features, features, 1);
    }
  }
  conv(t, `${p}.scratch.output_conv1`, features / 2, features, 3);
}

/** A `conv3×3 → ReLU → conv1×1` output branch (`output_conv2`, `sky_output_conv2`). */
function outputBranch(t: Emit, p: string, features: number, outDim: number) {
  conv(t, `${p}.0`, HEAD_FEATURES_2, features / 2, 3);
  conv(t, `${p}.2`, outDim, HEAD_FEATURES_2, 1);
}

function headTensors(t: Emit, h: HeadConfig) {
  const p = 'head';
  if (h.tokenNorm === 'layernorm') layerNorm(t, `${p}.norm`, h.dimIn);
  const F = h.features;
  if (h.type === 'DualDPT') {
    dptTrunk(t, p, h.dimIn, F, h.outChannels, ['', '_aux']);
    outputBranch(t, `${p}.scratch.output_conv2`, F, h.outputDim);
    for (let level = 0; level < h.auxLevels; level++) {
      for (let i = 0; i < h.auxOut1ConvNum; i++) {
        const [inCh, outCh] = i % 2 === 0 ? [F, F / 2] : [F / 2, F];
        conv(t, `${p}.scratch.output_conv1_aux.${level}.${i}`, outCh, inCh, 3);
      }
      // Sequential(conv3×3, Permute, LayerNorm, Permute, ReLU, conv1×1); the LayerNorm is one
      // module shared by every level, stored once under level 0 (see dualDptTies).
      const a = `${p}.scratch.output_conv2_aux.${level}`;
      conv(t, `${a}.0`, HEAD_FEATURES_2, F / 2, 3);
      if (level === 0) layerNorm(t, `${a}.2`, HEAD_FEATURES_2);
      conv(t, `${a}.5`, h.auxOutputDim, HEAD_FEATURES_2, 1);
    }
  } else {
    dptTrunk(t, p, h.dimIn, F, h.outChannels, ['']);
    outputBranch(t, `${p}.scratch.output_conv2`, F, h.outputDim);
    if (h.useSkyHead) outputBranch(t, `${p}.scratch.sky_output_conv2`, F, 1);
  }
}

function camEncTensors(t: Emit, c: CameraEncoderConfig) {
  const p = 'cam_enc';
  linear(t, `${p}.pose_branch.fc1`, c.poseBranchHidden, c.dimIn);
  linear(t, `${p}.pose_branch.fc2`, c.dimOut, c.poseBranchHidden);
  layerNorm(t, `${p}.token_norm`, c.dimOut);
  for (let i = 0; i < c.trunkDepth; i++) {
    vitBlock(t, `${p}.trunk.${i}`, c.dimOut, { ffn: 'mlp', hidden: c.mlpHidden, layerscale: c.layerscale, qkNormDim: null });
  }
  layerNorm(t, `${p}.trunk_norm`, c.dimOut);
}

function camDecTensors(t: Emit, c: CameraDecoderConfig) {
  const p = 'cam_dec';
  const D = c.dimIn;
  linear(t, `${p}.backbone.0`, D, D);
  linear(t, `${p}.backbone.2`, D, D);
  linear(t, `${p}.fc_t`, 3, D);
  linear(t, `${p}.fc_qvec`, 4, D);
  linear(t, `${p}.fc_fov.0`, 2, D);
}

function gsHeadTensors(t: Emit, g: GsHeadConfig) {
  const p = 'gs_head';
  const F = g.features;
  // GSDPT is a DPT with norm_type "idt" (no token norm) and no sky head.
  dptTrunk(t, p, g.dimIn, F, g.outChannels, ['']);
  outputBranch(t, `${p}.scratch.output_conv2`, F, g.outputDim);
  const m = F / 2; // merger_out_dim (feature_only = False)
  conv(t, `${p}.images_merger.0`, m / 4, 3, 3);
  conv(t, `${p}.images_merger.2`, m / 2, m / 4, 3);
  conv(t, `${p}.images_merger.4`, m, m / 2, 3);
}

const byName = (a: { name: string }, b: { name: string }) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);

/**
 * Every tensor of one `DepthAnything3Net`, keys relative to the network (no `model.` prefix), tied
 * duplicates left out, sorted by name.
 */
export function netTensors(net: NetConfig): ExpectedTensor[] {
  const out: ExpectedTensor[] = [];
  const t: Emit = (name, shape, role) => out.push({ name, shape: Object.freeze([...shape]), role });
  backboneTensors(t, net.backbone);
  headTensors(t, net.head);
  if (net.camEnc) camEncTensors(t, net.camEnc);
  if (net.camDec) camDecTensors(t, net.camDec);
  if (net.gsHead) gsHeadTensors(t, net.gsHead);
  // GaussianAdapter has no parameters.
  return out.sort(byName);
}

/**
 * Every tensor a `model.safetensors` of `config` must hold, as the Hub mixin writes it: keys are
 * `prefix` + the `DepthAnything3Net` state-dict key (Nested: `prefix + 'da3.'` and
 * `prefix + 'da3_metric.'`), and tied tensors appear once, under the name safetensors keeps (see
 * {@link tiedTensors}). Derived from the configuration alone; sorted by name (the file order).
 *
 * @param prefix key prefix of the checkpoint (`model.` for the official files)
 */
export function expectedTensors(config: NetConfig | ModelConfig, prefix = DEFAULT_CHECKPOINT_PREFIX): ExpectedTensor[] {
  return checkpointNetworks(config, prefix)
    .flatMap((n) => netTensors(n.config).map((e) => ({ ...e, name: n.prefix + e.name })))
    .sort(byName);
}

/** The tied duplicates of one network as `{removed: kept}`, keys relative to the network. */
export function netTies(net: NetConfig): Record<string, string> {
  const ties: Record<string, string> = {};
  if (net.head.type === 'DualDPT') {
    for (let level = 1; level < net.head.auxLevels; level++) {
      for (const p of ['weight', 'bias']) {
        ties[`head.scratch.output_conv2_aux.${level}.2.${p}`] = `head.scratch.output_conv2_aux.0.2.${p}`;
      }
    }
  }
  return ties;
}

/**
 * State-dict keys that share storage with another key and that `safetensors.torch.save_model`
 * therefore drops, as `{removed: kept}` with full names — the map the official files carry in
 * `__metadata__`. DualDPT builds one `LayerNorm(32)` for all aux levels, so
 * `head.scratch.output_conv2_aux.{1..L-1}.2.{weight,bias}` map to level 0.
 */
export function tiedTensors(config: NetConfig | ModelConfig, prefix = DEFAULT_CHECKPOINT_PREFIX): Record<string, string> {
  const ties: Record<string, string> = {};
  for (const n of checkpointNetworks(config, prefix)) {
    for (const [removed, kept] of Object.entries(netTies(n.config))) ties[n.prefix + removed] = n.prefix + kept;
  }
  return ties;
}

/** Product of a shape (1 for a scalar). */
export function shapeNumel(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** Number of stored parameters of `config` (tied tensors counted once), e.g. 34,299,463 for DA3-SMALL. */
export function expectedParameterCount(config: NetConfig | ModelConfig): number {
  return expectedTensors(config).reduce((sum, t) => sum + shapeNumel(t.shape), 0);
}

/**
 * The fan-in (inputs per output element) of a weight tensor: `in` for Linear, `in·kh·kw` for
 * Conv2d, `in` for ConvTranspose2d (each output pixel of a stride-k, kernel-k transpose conv sees
 * one tap per input channel). `null` for tensors that are not weights.
 */
export function tensorFanIn(t: Pick<ExpectedTensor, 'shape' | 'role'>): number | null {
  switch (t.role) {
    case 'linear':
      return t.shape[1];
    case 'conv':
      return t.shape[1] * t.shape[2] * t.shape[3];
    case 'conv-transpose':
      return t.shape[0];
    default:
      return null;
  }
}
