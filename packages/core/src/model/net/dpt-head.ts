import type { DptHeadConfig, DualDptHeadConfig, GsHeadConfig, HeadConfig } from '../../config/schema.js';
import { Da3Error } from '../../errors.js';
import type { WeightProvider } from '../checkpoint.js';
import type { GraphBuilder, Value } from '../graph/builder.js';
import { concat, conv2d, convTranspose2d, gelu, layerNorm, reshape, shapeOf, slice, toFloat32, toGraphFloat, transpose } from '../graph/ops.js';

/**
 * The DPT-style depth heads of DA3 as graph modules: `DualDPT` (any-view models; model/dualdpt.py)
 * and plain `DPT` with the sky head (mono/metric; model/dpt.py), with the building blocks of
 * model/dpt.py and the UV position embedding of model/utils/head_utils.py.
 *
 * Every spatial size is dynamic (the patch grid h×w, the image H×W = 14h×14w); only channel counts
 * are static. Scopes mirror the reference module tree (`head/scratch/refinenet3_aux/…`) and the
 * debug taps carry the fixture names (`head.stage0`, `head.fused_main`, `head.main_logits`, …).
 * Activations run in float32, so the head outputs are float32 even in fp16 graphs.
 */

const HEAD = 'head';

/** The patch grid the backbone hands on (`BackboneOutputs` from `buildBackbone` satisfies it). */
export interface PatchGrid {
  /** Patch rows h = H/14 as int64 [1]. */
  readonly gridH: Value;
  /** Patch columns w = W/14 as int64 [1]. */
  readonly gridW: Value;
}

/** Outputs of {@link buildDualDptHead} (float32). */
export interface DualDptHeadOutputs {
  /** [B, S, H, W] depth = exp(logit 0). */
  readonly depth: Value;
  /** [B, S, H, W] depth confidence = exp(logit 1) + 1. */
  readonly depthConf: Value;
  /** [B, S, 8h, 8w, 6] ray map, channels-last `[direction xyz, origin xyz]`, linear; null without `rays`. */
  readonly ray: Value | null;
  /** [B, S, 8h, 8w] ray confidence = exp(logit 6) + 1; null without `rays`. */
  readonly rayConf: Value | null;
}

/** Build-time choices of the heads. */
export interface HeadOptions {
  /**
   * Build the DualDPT ray branch (`ray`, `ray_conf`; default true). Without it the whole aux
   * chain (refinenet*_aux, output_conv1_aux, output_conv2_aux) is left out: 17.2 of the 82.4
   * GFLOP of DA3-SMALL at 504×336, for callers that take cameras from the camera head.
   */
  readonly rays?: boolean;
}

/** Outputs of {@link buildDptHead} (float32). */
export interface DptHeadOutputs {
  /** [B, S, H, W] depth = exp(logit 0). */
  readonly depth: Value;
  /** [B, S, H, W] confidence when `outputDim` is 2, else null (no official config has one). */
  readonly depthConf: Value | null;
  /** [B, S, H, W] sky = ReLU(sky logit) when the config has the sky head, else null. */
  readonly sky: Value | null;
}

/** Outputs of {@link buildHead}: the union of both heads, absent fields null. */
export interface HeadOutputs {
  readonly depth: Value;
  readonly depthConf: Value | null;
  readonly ray: Value | null;
  readonly rayConf: Value | null;
  readonly sky: Value | null;
}

/** Options of {@link uvPosEmbedding}. */
export interface UvPosEmbeddingOptions {
  /** Multiplier of the embedding (0.1 in every DA3 head). */
  readonly ratio: number;
  /** Frequency base ω₀ (100). */
  readonly omega0: number;
}

// ---------------------------------------------------------------------------------------------
// UV position embedding
// ---------------------------------------------------------------------------------------------

/** The UV embedding as two zero-padded, broadcastable halves (see {@link uvPosEmbeddingParts}). */
export interface UvPosEmbeddingParts {
  /** [C, 1, w] float32: the x channels `[sin(xω), cos(xω)]·ratio`, zeros in the y channels. */
  readonly x: Value;
  /** [C, h, 1] float32: zeros in the x channels, the y channels `[sin(yω), cos(yω)]·ratio`. */
  readonly y: Value;
}

/**
 * The UV sin/cos embedding of a `channels`×h×w map of an image with aspect `W/H`, computed in the
 * graph from dynamic sizes (dualdpt.py `_add_pos_embed`, head_utils.py `create_uv_grid` +
 * `position_grid_to_embed`; host twin: `uvPosEmbed`). With a = W/H, x runs over
 * `±a/√(a²+1)·(w−1)/w` and y over `±1/√(a²+1)·(h−1)/h` in equal steps (evaluated as
 * `span·(2i − n + 1)/n`, within a few float32 ulps of torch's `linspace`), and the channels are
 * `[sin(xω), cos(xω), sin(yω), cos(yω)]·ratio` with ω_k = ω₀^(−k/(C/4)), k < C/4.
 *
 * It comes as two halves that broadcast over the map, so `x + parts.x + parts.y` adds the
 * embedding exactly (each element gets its one non-zero term) without materialising [C, h, w].
 * @param mapH map rows as int64 [1]
 * @param mapW map columns as int64 [1]
 * @param aspect W/H as float32 [1]
 */
export function uvPosEmbeddingParts(g: GraphBuilder, mapH: Value, mapW: Value, channels: number, aspect: Value, options: UvPosEmbeddingOptions): UvPosEmbeddingParts {
  if (channels % 4 !== 0) throw new Da3Error('BAD_CONFIG', `dpt-head: UV position embedding needs a channel count divisible by 4, got ${channels}`);
  return g.scope('uv_pos_embed', () => {
    const quarter = channels / 4;
    const f = Math.fround;
    const omega: number[] = [];
    for (let k = 0; k < quarter; k++) omega.push(f(1 / f(options.omega0 ** f(k / quarter))));
    const omegaRow = g.float32(omega, [1, quarter]);
    const ratio = g.float32([options.ratio], []);
    const one = g.float32([1], []);
    const diag = g.op('Sqrt', [g.op('Add', [g.op('Mul', [aspect, aspect]), one])]);
    const spanX = g.op('Div', [aspect, diag]);
    const spanY = g.op('Div', [one, diag]);
    // [C, n]: sin and cos of the n coordinates times every ω, scaled, in the rows of the first
    // (x) or second (y) half of the channels and zeros in the other half.
    const axis = (n: Value, span: Value, first: boolean) => {
      const nf = g.op('Cast', [n], { to: 1 });
      const i = g.op('Cast', [g.op('Range', [g.int64([0], []), g.op('Squeeze', [n]), g.int64([1], [])])], { to: 1 });
      const centred = g.op('Sub', [g.op('Mul', [i, g.float32([2], [])]), g.op('Sub', [nf, one])]);
      const coord = g.op('Div', [g.op('Mul', [span, centred]), nf]);
      const angle = g.op('Mul', [g.op('Unsqueeze', [coord, g.int64([1])]), omegaRow]);
      const emb = g.op('Mul', [concat(g, [g.op('Sin', [angle]), g.op('Cos', [angle])], 1), ratio]);
      const zeros = g.op('ConstantOfShape', [concat(g, [n, g.int64([channels / 2])], 0)]);
      return transpose(g, concat(g, first ? [emb, zeros] : [zeros, emb], 1), [1, 0]);
    };
    return {
      x: g.op('Unsqueeze', [axis(mapW, spanX, true), g.int64([1])]),
      y: g.op('Unsqueeze', [axis(mapH, spanY, false), g.int64([2])]),
    };
  });
}

/** The UV embedding as one [C, h, w] float32 tensor (see {@link uvPosEmbeddingParts}). */
export function uvPosEmbedding(g: GraphBuilder, mapH: Value, mapW: Value, channels: number, aspect: Value, options: UvPosEmbeddingOptions): Value {
  const parts = uvPosEmbeddingParts(g, mapH, mapW, channels, aspect, options);
  return g.op('Add', [parts.x, parts.y]);
}

/** `x + uvPosEmbedding(x)` for x [N, C, h, w] in the graph's float precision. */
function addUvPosEmbed(g: GraphBuilder, x: Value, channels: number, aspect: Value, cfg: HeadConfig): Value {
  const parts = uvPosEmbeddingParts(g, shapeOf(g, x, 2, 3), shapeOf(g, x, 3, 4), channels, aspect, { ratio: cfg.posEmbedRatio, omega0: cfg.posEmbedOmega0 });
  return g.op('Add', [g.op('Add', [x, toGraphFloat(g, parts.x)]), toGraphFloat(g, parts.y)]);
}

// ---------------------------------------------------------------------------------------------
// Building blocks (model/dpt.py)
// ---------------------------------------------------------------------------------------------

/** A torch Conv2d `key` with "same" padding for odd kernels (stride 1 unless given). */
function conv(g: GraphBuilder, w: WeightProvider, x: Value, key: string, options: { bias?: boolean; stride?: number } = {}): Value {
  const weight = w.get(`${key}.weight`);
  const k = weight.dims[2];
  const bias = options.bias === false ? null : w.get(`${key}.bias`);
  return conv2d(g, x, weight, bias, { stride: options.stride ?? 1, padding: (k - 1) / 2 });
}

/** Bilinear resize of x [N, C, h, w] to `size` (int64 [2]) with align_corners=True (head_utils.py `custom_interpolate`). */
function resizeBilinear(g: GraphBuilder, x: Value, size: Value): Value {
  const sizes = concat(g, [shapeOf(g, x, 0, 2), size], 0);
  return g.op('Resize', [x, '', '', sizes], { mode: 'linear', coordinate_transformation_mode: 'align_corners' });
}

/** `ResidualConvUnit`: x + conv2(relu(conv1(relu(x)))), both 3×3 with bias. */
function residualConvUnit(g: GraphBuilder, w: WeightProvider, x: Value, key: string, scopeName: string): Value {
  return g.scope(scopeName, () => {
    const h = conv(g, w, g.op('Relu', [x]), `${key}.conv1`);
    return g.op('Add', [conv(g, w, g.op('Relu', [h]), `${key}.conv2`), x]);
  });
}

/**
 * `FeatureFusionBlock` `scratch.<name>`: y = top (+ RCU1(lateral)), y = RCU2(y), bilinear
 * (align_corners) resize to `size` (int64 [2]) or ×2 when null, then the 1×1 `out_conv`. The
 * 1×1 conv is applied before the resize here: both are linear, the conv mixes channels per pixel
 * and the resize mixes pixels per channel with weights summing to 1 (so the bias passes through),
 * hence they commute; at the lower resolution the conv does a quarter of the work.
 */
function fusionBlock(g: GraphBuilder, w: WeightProvider, name: string, top: Value, lateral: Value | null, size: Value | null): Value {
  const key = `${HEAD}.scratch.${name}`;
  return g.scope(`scratch.${name}`, () => {
    let y = lateral ? g.op('Add', [top, residualConvUnit(g, w, lateral, `${key}.resConfUnit1`, 'resConfUnit1')]) : top;
    y = residualConvUnit(g, w, y, `${key}.resConfUnit2`, 'resConfUnit2');
    const target = size ?? g.op('Mul', [shapeOf(g, y, 2, 4), g.int64([2])]);
    y = g.scope('out_conv', () => conv(g, w, y, `${key}.out_conv`));
    return resizeBilinear(g, y, target);
  });
}

/** The top-down chain refinenet4 → 3 → 2 → 1 (names suffixed by `suffix`) over the `layer*_rn` maps. */
function fusionChain(g: GraphBuilder, w: WeightProvider, rn: readonly Value[], suffix: string): Value {
  const [l1, l2, l3, l4] = rn;
  const sizeOf = (v: Value) => shapeOf(g, v, 2, 4);
  let out = fusionBlock(g, w, `refinenet4${suffix}`, l4, null, sizeOf(l3));
  out = fusionBlock(g, w, `refinenet3${suffix}`, out, l3, sizeOf(l2));
  out = fusionBlock(g, w, `refinenet2${suffix}`, out, l2, sizeOf(l1));
  return fusionBlock(g, w, `refinenet1${suffix}`, out, l1, null);
}

/** Image-level sizes shared by a head's stages. */
interface HeadContext {
  /** [B, S] as int64 [2]. */
  readonly batchViews: Value;
  /** Output rows and columns H/downRatio, W/downRatio as int64 [2]. */
  readonly outSize: Value;
  /** W/H as float32 [1]. */
  readonly aspect: Value;
}

function headContext(g: GraphBuilder, feature0: Value, grid: PatchGrid, cfg: HeadConfig): HeadContext {
  if (!Number.isInteger(cfg.downRatio) || cfg.downRatio < 1) throw new Da3Error('BAD_CONFIG', `dpt-head: downRatio must be a positive integer, got ${cfg.downRatio}`);
  const patch = g.int64([cfg.patchSize], [1]);
  const imageH = g.op('Mul', [grid.gridH, patch]);
  const imageW = g.op('Mul', [grid.gridW, patch]);
  const image = concat(g, [imageH, imageW], 0);
  const outSize = cfg.downRatio === 1 ? image : g.op('Div', [image, g.int64([cfg.downRatio])]);
  const aspect = g.op('Div', [g.op('Cast', [imageW], { to: 1 }), g.op('Cast', [imageH], { to: 1 })]);
  return { batchViews: shapeOf(g, feature0, 0, 2), outSize, aspect };
}

/**
 * Token norm, 1×1 `projects.i`, UV embedding (when `posEmbed`), `resize_layers.i` (ConvT ×4,
 * ConvT ×2, identity, 3×3 stride-2 conv) and `scratch.layer{i+1}_rn` (3×3, no bias) for the
 * four features [B, S, h·w, dimIn]. Taps `<tapPrefix>.stage{i}` [B·S, C_i, h_i, w_i] (`head` or `gs_head`).
 * @returns the four `layer*_rn` maps [B·S, F, h_i, w_i]
 */
function reassemble(g: GraphBuilder, w: WeightProvider, features: readonly Value[], grid: PatchGrid, ctx: HeadContext, cfg: HeadConfig, tapPrefix = HEAD): Value[] {
  if (features.length !== 4) throw new Da3Error('BAD_VALUE', `dpt-head: expected 4 features, got ${features.length}`);
  if (cfg.outChannels.length !== 4) throw new Da3Error('BAD_CONFIG', `dpt-head: expected 4 outChannels, got ${cfg.outChannels.length}`);
  const mapShape = concat(g, [g.int64([-1, cfg.dimIn]), grid.gridH, grid.gridW], 0);
  return features.map((feature, i) => {
    const stage = g.scope(`stage${i}`, () => {
      let x = feature;
      if (cfg.tokenNorm === 'layernorm') {
        x = g.scope('norm', () => layerNorm(g, x, w.get(`${HEAD}.norm.weight`), w.get(`${HEAD}.norm.bias`), cfg.tokenNormEps ?? 1e-5));
      }
      x = reshape(g, transpose(g, x, [0, 1, 3, 2]), mapShape);
      x = g.scope(`projects.${i}`, () => conv(g, w, x, `${HEAD}.projects.${i}`));
      if (cfg.posEmbed) x = addUvPosEmbed(g, x, cfg.outChannels[i], ctx.aspect, cfg);
      x = g.scope(`resize_layers.${i}`, () => {
        const key = `${HEAD}.resize_layers.${i}`;
        if (i === 0 || i === 1) return convTranspose2d(g, x, w.get(`${key}.weight`), w.get(`${key}.bias`), i === 0 ? 4 : 2);
        if (i === 3) return conv(g, w, x, key, { stride: 2 });
        return x;
      });
      return g.tap(`${tapPrefix}.stage${i}`, x);
    });
    return g.scope(`scratch.layer${i + 1}_rn`, () => conv(g, w, stage, `${HEAD}.scratch.layer${i + 1}_rn`, { bias: false }));
  });
}

/** `Conv3×3 → ReLU → Conv1×1` (`scratch.<name>`, keys `.0` and `.2`). */
function outputConv2(g: GraphBuilder, w: WeightProvider, x: Value, name: string): Value {
  const key = `${HEAD}.scratch.${name}`;
  return g.scope(`scratch.${name}`, () => conv(g, w, g.op('Relu', [conv(g, w, x, `${key}.0`)]), `${key}.2`));
}

/** The activations of dualdpt.py/dpt.py `_apply_activation_single` (and `_apply_sky_activation`), in float32. */
function activate(g: GraphBuilder, x: Value, activation: string): Value {
  const v = toFloat32(g, x);
  switch (activation.toLowerCase()) {
    case 'exp':
      return g.op('Exp', [v]);
    case 'expp1':
      return g.op('Add', [g.op('Exp', [v]), g.float32([1], [])]);
    case 'expm1':
      return g.op('Sub', [g.op('Exp', [v]), g.float32([1], [])]);
    case 'relu':
      return g.op('Relu', [v]);
    case 'sigmoid':
      return g.op('Sigmoid', [v]);
    case 'softplus':
      return g.op('Softplus', [v]);
    case 'tanh':
      return g.op('Tanh', [v]);
    case 'linear':
      return v;
    default:
      throw new Da3Error('BAD_CONFIG', `dpt-head: unknown activation "${activation}"`);
  }
}

/** Channel `c` of logits [B·S, K, H, W], activated, as [B, S, H, W]. */
function channelMap(g: GraphBuilder, logits: Value, c: number, activation: string, ctx: HeadContext): Value {
  const ch = activate(g, slice(g, logits, [c], [c + 1], [1]), activation);
  return reshape(g, ch, concat(g, [ctx.batchViews, shapeOf(g, logits, 2, 4)], 0));
}

// ---------------------------------------------------------------------------------------------
// Heads
// ---------------------------------------------------------------------------------------------

/**
 * The DualDPT head (dualdpt.py `DualDPT`) on the four backbone features [B, S, h·w, dimIn]:
 * reassembly with LayerNorm and UV embeddings, two independent fusion chains over shared
 * `layer*_rn` maps, then
 * - main: `output_conv1` at 8h×8w, bilinear (align_corners) to H×W, UV embedding,
 *   `output_conv2` (3×3 → ReLU → 1×1 → 2 logits), depth = exp, conf = exp + 1;
 * - aux (last pyramid level only): `output_conv1_aux[L−1]` (plain 3×3 convs, no activations),
 *   UV embedding, `output_conv2_aux[L−1]` (3×3 → LayerNorm over channels → ReLU → 1×1 → 7),
 *   ray linear, ray conf = exp + 1, at 8h×8w.
 *
 * The aux levels 0..L−2 only feed outputs the reference discards, so they are not built (their
 * weights stay unused); with `rays: false` no aux level is. Taps: `head.stage0..3`,
 * `head.fused_main`, `head.fused_aux_last`, `head.main_logits` [B·S, 2, H, W], `head.aux_logits`
 * [B·S, 7, 8h, 8w].
 */
export function buildDualDptHead(g: GraphBuilder, features: readonly Value[], grid: PatchGrid, w: WeightProvider, cfg: DualDptHeadConfig, options: HeadOptions = {}): DualDptHeadOutputs {
  if (cfg.outputDim !== 2) throw new Da3Error('BAD_CONFIG', `dpt-head: DualDPT expects outputDim 2 (depth + confidence), got ${cfg.outputDim}`);
  if (cfg.auxOutputDim !== 7) throw new Da3Error('BAD_CONFIG', `dpt-head: DualDPT expects auxOutputDim 7 (6 ray + confidence), got ${cfg.auxOutputDim}`);
  if (!(cfg.auxLevels >= 1 && cfg.auxLevels <= 4)) throw new Da3Error('BAD_CONFIG', `dpt-head: auxLevels must be 1..4, got ${cfg.auxLevels}`);
  return g.scope(HEAD, () => {
    const ctx = headContext(g, features[0], grid, cfg);
    const rn = reassemble(g, w, features, grid, ctx, cfg);
    const half = cfg.features / 2;

    // Main (depth) branch.
    const fusedMain = g.tap('head.fused_main', g.scope('scratch.output_conv1', () => conv(g, w, fusionChain(g, w, rn, ''), `${HEAD}.scratch.output_conv1`)));
    let main = resizeBilinear(g, fusedMain, ctx.outSize);
    if (cfg.posEmbed) main = addUvPosEmbed(g, main, half, ctx.aspect, cfg);
    const mainLogits = g.tap('head.main_logits', outputConv2(g, w, main, 'output_conv2'));
    if (options.rays === false) {
      return g.scope('outputs', () => ({
        depth: channelMap(g, mainLogits, 0, cfg.activation, ctx),
        depthConf: channelMap(g, mainLogits, 1, cfg.confActivation, ctx),
        ray: null,
        rayConf: null,
      }));
    }

    // Aux (ray) branch, last level.
    const level = cfg.auxLevels - 1;
    let aux = fusionChain(g, w, rn, '_aux');
    aux = g.scope(`scratch.output_conv1_aux.${level}`, () => {
      let y = aux;
      for (let j = 0; j < cfg.auxOut1ConvNum; j++) y = conv(g, w, y, `${HEAD}.scratch.output_conv1_aux.${level}.${j}`);
      return y;
    });
    aux = g.tap('head.fused_aux_last', aux);
    if (cfg.posEmbed) aux = addUvPosEmbed(g, aux, half, ctx.aspect, cfg);
    const auxLogits = g.tap(
      'head.aux_logits',
      g.scope(`scratch.output_conv2_aux.${level}`, () => {
        const key = `${HEAD}.scratch.output_conv2_aux.${level}`;
        const h = transpose(g, conv(g, w, aux, `${key}.0`), [0, 2, 3, 1]);
        const normed = layerNorm(g, h, w.get(`${key}.2.weight`), w.get(`${key}.2.bias`), cfg.auxLayernormEps);
        return conv(g, w, g.op('Relu', [transpose(g, normed, [0, 3, 1, 2])]), `${key}.5`);
      }),
    );

    return g.scope('outputs', () => {
      const depth = channelMap(g, mainLogits, 0, cfg.activation, ctx);
      const depthConf = channelMap(g, mainLogits, 1, cfg.confActivation, ctx);
      const rayNhwc = transpose(g, activate(g, slice(g, auxLogits, [0], [6], [1]), 'linear'), [0, 2, 3, 1]);
      const ray = reshape(g, rayNhwc, concat(g, [ctx.batchViews, shapeOf(g, rayNhwc, 1, 4)], 0));
      const rayConf = channelMap(g, auxLogits, 6, cfg.confActivation, ctx);
      return { depth, depthConf, ray, rayConf };
    });
  });
}

/**
 * The plain DPT head (dpt.py `DPT`, mono/metric models) on the four backbone features
 * `[B, S, h·w, dimIn]`: reassembly (token norm per config, identity for the official models; UV
 * embedding only when `posEmbed`), one fusion chain, `output_conv1` at 8h×8w, bilinear
 * (align_corners) to H×W, then `output_conv2` → depth = exp and `sky_output_conv2` → sky = ReLU.
 * Taps: `head.stage0..3`, `head.fused` [B·S, F, 8h, 8w], `head.neck` [B·S, F/2, 8h, 8w],
 * `head.main_logits`, `head.sky_logits` [B·S, 1, H, W].
 */
export function buildDptHead(g: GraphBuilder, features: readonly Value[], grid: PatchGrid, w: WeightProvider, cfg: DptHeadConfig): DptHeadOutputs {
  if (cfg.outputDim !== 1 && cfg.outputDim !== 2) throw new Da3Error('BAD_CONFIG', `dpt-head: DPT supports outputDim 1 or 2, got ${cfg.outputDim}`);
  return g.scope(HEAD, () => {
    const ctx = headContext(g, features[0], grid, cfg);
    const rn = reassemble(g, w, features, grid, ctx, cfg);
    const fused = g.tap('head.fused', fusionChain(g, w, rn, ''));
    const neck = g.tap('head.neck', g.scope('scratch.output_conv1', () => conv(g, w, fused, `${HEAD}.scratch.output_conv1`)));
    let up = resizeBilinear(g, neck, ctx.outSize);
    if (cfg.posEmbed) up = addUvPosEmbed(g, up, cfg.features / 2, ctx.aspect, cfg);
    const mainLogits = g.tap('head.main_logits', outputConv2(g, w, up, 'output_conv2'));
    const skyLogits = cfg.useSkyHead ? g.tap('head.sky_logits', outputConv2(g, w, up, 'sky_output_conv2')) : null;
    return g.scope('outputs', () => ({
      depth: channelMap(g, mainLogits, 0, cfg.activation, ctx),
      depthConf: cfg.outputDim === 2 ? channelMap(g, mainLogits, 1, cfg.confActivation, ctx) : null,
      sky: skyLogits ? channelMap(g, skyLogits, 0, cfg.skyActivation, ctx) : null,
    }));
  });
}

/** Builds the head the config names (DualDPT or DPT); fields the head lacks (or was built without) are null. */
export function buildHead(g: GraphBuilder, features: readonly Value[], grid: PatchGrid, w: WeightProvider, cfg: HeadConfig, options: HeadOptions = {}): HeadOutputs {
  if (cfg.type === 'DualDPT') {
    const o = buildDualDptHead(g, features, grid, w, cfg, options);
    return { ...o, sky: null };
  }
  const o = buildDptHead(g, features, grid, w, cfg);
  return { ...o, ray: null, rayConf: null };
}

// ---------------------------------------------------------------------------------------------
// Gaussian-splatting head (GIANT)
// ---------------------------------------------------------------------------------------------

/** Reads `head.*` keys from `gs_head.*`: the GS head reuses the DPT building blocks. */
function gsWeights(w: WeightProvider): WeightProvider {
  const map = (key: string) => (key.startsWith(`${HEAD}.`) ? `gs_head.${key.slice(HEAD.length + 1)}` : key);
  return { get: (key) => w.get(map(key)), has: (key) => w.has(map(key)) };
}

/**
 * The Gaussian-splatting head of GIANT (gsdpt.py `GSDPT`): a DPT over the same four features
 * (identity token norm, UV embeddings, one fusion chain, `output_conv1`), bilinear (align_corners)
 * to H×W, plus `images_merger(images)` (3×3 convs 3 → F/8 → F/4 → F/2, each followed by GELU) on
 * the ImageNet-normalised input, a UV embedding, and `output_conv2` → 38 raw channels
 * `[off_x, off_y, s0..2, q0..3, SH (27, colour-major), d_off, opacity logit]`.
 * Taps (fixture names): `gs_head.stage0..3`, `gs_head.fused` [B·S, F/2, 8h, 8w] (after
 * `output_conv1`), `gs_head.images_merger` and `gs_head.feat` [B·S, F/2, H, W] (the input of
 * `output_conv2`).
 * @param images [B, S, 3, H, W] float32 network input
 * @returns `gs_raw` [B, S, H, W, outputDim] logits, channels-last (apply sigmoid to the last
 *   channel for opacity; the adapter in core/postprocess turns the rest into Gaussians)
 */
export function buildGsHead(g: GraphBuilder, features: readonly Value[], grid: PatchGrid, images: Value, w: WeightProvider, cfg: GsHeadConfig): Value {
  const dpt: DptHeadConfig = {
    type: 'DPT',
    dimIn: cfg.dimIn,
    features: cfg.features,
    outChannels: cfg.outChannels,
    patchSize: 14,
    posEmbed: true,
    downRatio: 1,
    activation: 'linear',
    confActivation: 'sigmoid',
    tokenNorm: 'identity',
    tokenNormEps: null,
    outputDim: cfg.outputDim,
    posEmbedRatio: 0.1,
    posEmbedOmega0: 100,
    useSkyHead: false,
    skyActivation: 'relu',
  };
  const gw = gsWeights(w);
  return g.scope('gs_head', () => {
    const ctx = headContext(g, features[0], grid, dpt);
    const rn = reassemble(g, gw, features, grid, ctx, dpt, 'gs_head');
    const neck = g.tap('gs_head.fused', g.scope('scratch.output_conv1', () => conv(g, gw, fusionChain(g, gw, rn, ''), `${HEAD}.scratch.output_conv1`)));
    let up = resizeBilinear(g, neck, ctx.outSize);
    const merged = g.tap(
      'gs_head.images_merger',
      g.scope('images_merger', () => {
        let x = toGraphFloat(g, reshape(g, images, concat(g, [g.int64([-1, 3]), ctx.outSize], 0)));
        for (const i of [0, 2, 4]) x = gelu(g, conv(g, gw, x, `${HEAD}.images_merger.${i}`));
        return x;
      }),
    );
    up = g.op('Add', [up, merged]);
    up = g.tap('gs_head.feat', addUvPosEmbed(g, up, cfg.features / 2, ctx.aspect, dpt));
    const logits = toFloat32(g, outputConv2(g, gw, up, 'output_conv2'));
    const nhwc = transpose(g, logits, [0, 2, 3, 1]);
    return reshape(g, nhwc, concat(g, [ctx.batchViews, shapeOf(g, nhwc, 1, 4)], 0));
  });
}
