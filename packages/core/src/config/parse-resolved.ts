import type {
  BackboneConfig,
  CameraDecoderConfig,
  CameraEncoderConfig,
  DptHeadConfig,
  DualDptHeadConfig,
  GsAdapterConfig,
  GsHeadConfig,
  HeadConfig,
  MetricScalingConfig,
  ModelConfig,
  NestedConfig,
  NetConfig,
} from './schema.js';
import {
  type Obj,
  bool,
  has,
  inconsistent,
  int,
  intList,
  lookup,
  nullableNum,
  num,
  object,
  oneOf,
  optionalObject,
  str,
} from './reader.js';

/** Most transformer blocks a backbone (or camera-encoder trunk) may declare. */
export const MAX_BLOCKS = 1024;

const range = (from: number, to: number) => (from < 0 ? [] : Array.from({ length: Math.max(0, to - from) }, (_, i) => from + i));

/** Global attention layers of the alternating scheme: i ≥ altStart and i odd. */
export function globalAttentionLayers(altStart: number, depth: number): number[] {
  return altStart < 0 ? [] : range(altStart, depth).filter((i) => i % 2 === 1);
}

/** Checks an optional derived field: absent → the derived value; present → must equal it. */
function derived<T>(obj: Obj, key: string, path: string, expected: T): T {
  const { value, name } = lookup(obj, key);
  if (value === undefined) return expected;
  if (JSON.stringify(value) !== JSON.stringify(expected)) {
    inconsistent(`${path}.${name}`, `is ${JSON.stringify(value)} but the other fields give ${JSON.stringify(expected)}`);
  }
  return expected;
}

function parseFfn(obj: Obj, path: string): 'mlp' | 'swiglu' {
  const raw = str(obj, 'ffn', path, 'mlp');
  if (raw === 'mlp' || raw.startsWith('mlp_')) return 'mlp';
  if (raw.startsWith('swiglu')) return 'swiglu';
  return inconsistent(`${path}.ffn`, `must be "mlp" or "swiglu", got ${JSON.stringify(raw)}`);
}

/** Parses and validates a backbone block. */
export function parseBackbone(b: Obj, path: string): BackboneConfig {
  const embedDim = int(b, 'embed_dim', path);
  const depth = int(b, 'depth', path, { max: MAX_BLOCKS });
  const numHeads = int(b, 'num_heads', path);
  const headDim = int(b, 'head_dim', path, { fallback: embedDim / numHeads });
  if (headDim * numHeads !== embedDim) inconsistent(`${path}.head_dim`, `× num_heads (${headDim} × ${numHeads}) must equal embed_dim ${embedDim}`);
  const ffn = parseFfn(b, path);
  const swigluHidden = Math.floor((Math.floor((4 * embedDim * 2) / 3) + 7) / 8) * 8;
  const ffnHidden = int(b, 'ffn_hidden', path, { fallback: ffn === 'mlp' ? 4 * embedDim : swigluHidden });
  const outLayers = intList(b, 'out_layers', path, { length: 4 });
  for (let i = 0; i < 4; i++) {
    if (outLayers[i] >= depth || (i > 0 && outLayers[i] <= outLayers[i - 1])) {
      inconsistent(`${path}.out_layers`, `must be 4 increasing block indices below depth ${depth}, got [${outLayers}]`);
    }
  }
  const start = (key: string) => {
    const v = int(b, key, path, { min: -1, fallback: -1 });
    if (v >= depth) inconsistent(`${path}.${key}`, `(${v}) must be −1 or below depth ${depth}`);
    return v;
  };
  const altStart = start('alt_start');
  const qknormStart = start('qknorm_start');
  const ropeStart = start('rope_start');
  if (altStart === 0) inconsistent(`${path}.alt_start`, 'must be −1 or ≥ 1 (the reference view is chosen before block alt_start − 1)');
  const catToken = bool(b, 'cat_token', path, false);
  const cameraToken = derived(b, 'camera_token', path, altStart >= 0);
  const ropeFrequency = ropeStart >= 0 ? num(b, 'rope_frequency', path, { positive: true, fallback: 100 }) : null;
  const qkNormEps = qknormStart >= 0 ? (nullableNum(b, 'qk_norm_eps', path) ?? 1e-5) : null;
  const imgSize = intList(b, 'img_size', path, { length: 2, min: 1, fallback: [518, 518] }) as [number, number];
  const patchSize = int(b, 'patch_size', path, { fallback: 14 });
  const posEmbedGrid = intList(b, 'pos_embed_grid', path, {
    length: 2,
    min: 1,
    fallback: [Math.floor(imgSize[0] / patchSize), Math.floor(imgSize[1] / patchSize)],
  }) as [number, number];
  return {
    name: str(b, 'name', path, 'custom'),
    embedDim,
    depth,
    numHeads,
    headDim,
    patchSize,
    imgSize,
    posEmbedGrid,
    numRegisterTokens: derived(b, 'num_register_tokens', path, 0),
    interpolateOffset: num(b, 'interpolate_offset', path, { fallback: 0.1 }),
    interpolateAntialias: derived(b, 'interpolate_antialias', path, false),
    ffn,
    ffnHidden,
    layerscale: bool(b, 'layerscale', path, true),
    blockLnEps: num(b, 'block_ln_eps', path, { positive: true, fallback: 1e-6 }),
    finalNormEps: num(b, 'final_norm_eps', path, { positive: true, fallback: 1e-5 }),
    qkNormEps,
    outLayers,
    altStart,
    qknormStart,
    ropeStart,
    catToken,
    cameraToken,
    ropeFrequency,
    qkNormLayers: derived(b, 'qk_norm_layers', path, range(qknormStart, depth)),
    ropeLayers: derived(b, 'rope_layers', path, range(ropeStart, depth)),
    globalAttentionLayers: derived(b, 'global_attention_layers', path, globalAttentionLayers(altStart, depth)),
    refViewSelectionLayer: derived(b, 'ref_view_selection_layer', path, altStart > 0 ? altStart - 1 : null),
    refViewSelectionMinViews: int(b, 'ref_view_selection_min_views', path, { fallback: 3 }),
    featureDim: derived(b, 'feature_dim', path, catToken ? 2 * embedDim : embedDim),
  };
}

function parseTokenNorm(h: Obj, path: string, fallback: 'layernorm' | 'identity'): { tokenNorm: 'layernorm' | 'identity'; eps: number | null } {
  const { value } = lookup(h, 'token_norm');
  if (value === undefined) return { tokenNorm: fallback, eps: fallback === 'layernorm' ? 1e-5 : null };
  if (value === 'identity' || value === 'idt') return { tokenNorm: 'identity', eps: null };
  const m = typeof value === 'string' ? /^(?:layernorm|LayerNorm)(?:\(eps=([0-9.eE+-]+)\))?$/.exec(value) : null;
  if (!m) return inconsistent(`${path}.token_norm`, `must be "layernorm", "LayerNorm(eps=…)" or "identity", got ${JSON.stringify(value)}`);
  return { tokenNorm: 'layernorm', eps: m[1] ? Number(m[1]) : num(h, 'token_norm_eps', path, { positive: true, fallback: 1e-5 }) };
}

/** Parses and validates a head block; `featureDim` is the backbone's tapped width. */
export function parseHead(h: Obj, path: string, featureDim: number): HeadConfig {
  const type = oneOf(h, 'type', path, ['DualDPT', 'DPT'] as const);
  const dimIn = int(h, 'dim_in', path);
  if (dimIn !== featureDim) inconsistent(`${path}.dim_in`, `(${dimIn}) must equal the backbone feature_dim ${featureDim}`);
  const isDual = type === 'DualDPT';
  const { tokenNorm, eps } = parseTokenNorm(h, path, isDual ? 'layernorm' : 'identity');
  const common = {
    dimIn,
    features: int(h, 'features', path),
    outChannels: intList(h, 'out_channels', path, { length: 4, min: 1 }),
    patchSize: int(h, 'patch_size', path, { fallback: 14 }),
    posEmbed: bool(h, 'pos_embed', path, isDual),
    downRatio: int(h, 'down_ratio', path, { fallback: 1 }),
    activation: str(h, 'activation', path, 'exp'),
    confActivation: str(h, 'conf_activation', path, 'expp1'),
    tokenNorm,
    tokenNormEps: eps,
    outputDim: int(h, 'output_dim', path, { fallback: isDual ? 2 : 1 }),
    posEmbedRatio: num(h, 'pos_embed_ratio', path, { fallback: 0.1 }),
    posEmbedOmega0: num(h, 'pos_embed_omega0', path, { positive: true, fallback: 100 }),
  };
  if (common.features % 2 !== 0) inconsistent(`${path}.features`, `(${common.features}) must be even (output_conv1 halves it)`);
  if (isDual) {
    const head: DualDptHeadConfig = {
      type: 'DualDPT',
      ...common,
      auxLevels: int(h, 'aux_levels', path, { fallback: 4 }),
      auxOut1ConvNum: int(h, 'aux_out1_conv_num', path, { fallback: 5 }),
      auxOutputDim: int(h, 'aux_output_dim', path, { fallback: 7 }),
      auxLayernormEps: num(h, 'aux_layernorm_eps', path, { positive: true, fallback: 1e-5 }),
    };
    return head;
  }
  const head: DptHeadConfig = {
    type: 'DPT',
    ...common,
    useSkyHead: bool(h, 'use_sky_head', path, true),
    skyActivation: str(h, 'sky_activation', path, 'relu'),
  };
  return head;
}

function parseCamEnc(c: Obj, path: string, embedDim: number): CameraEncoderConfig {
  const dimOut = int(c, 'dim_out', path);
  if (dimOut !== embedDim) inconsistent(`${path}.dim_out`, `(${dimOut}) must equal the backbone embed_dim ${embedDim}`);
  const numHeads = int(c, 'num_heads', path, { fallback: 16 });
  if (dimOut % numHeads !== 0) inconsistent(`${path}.num_heads`, `(${numHeads}) must divide dim_out ${dimOut}`);
  return {
    dimIn: int(c, 'dim_in', path, { fallback: 9 }),
    dimOut,
    poseBranchHidden: int(c, 'pose_branch_hidden', path, { fallback: dimOut / 2 }),
    trunkDepth: int(c, 'trunk_depth', path, { max: MAX_BLOCKS, fallback: 4 }),
    numHeads,
    mlpHidden: int(c, 'mlp_hidden', path, { fallback: 4 * dimOut }),
    layerscale: bool(c, 'layerscale', path, true),
    lnEps: num(c, 'ln_eps', path, { positive: true, fallback: 1e-5 }),
    tokenNormEps: num(c, 'token_norm_eps', path, { positive: true, fallback: 1e-5 }),
  };
}

function parseCamDec(c: Obj, path: string, featureDim: number): CameraDecoderConfig {
  const dimIn = int(c, 'dim_in', path);
  if (dimIn !== featureDim) inconsistent(`${path}.dim_in`, `(${dimIn}) must equal the backbone feature_dim ${featureDim}`);
  return { dimIn };
}

function parseGsHead(g: Obj, path: string, head: HeadConfig): GsHeadConfig {
  oneOf(g, 'type', path, ['GSDPT'] as const, 'GSDPT');
  return {
    type: 'GSDPT',
    dimIn: int(g, 'dim_in', path, { fallback: head.dimIn }),
    features: int(g, 'features', path, { fallback: head.features }),
    outChannels: intList(g, 'out_channels', path, { length: 4, min: 1, fallback: [...head.outChannels] }),
    outputDim: int(g, 'output_dim', path, { fallback: 38 }),
  };
}

function parseGsAdapter(g: Obj, path: string): GsAdapterConfig {
  return {
    shDegree: int(g, 'sh_degree', path, { min: 0, max: 4, fallback: 2 }),
    predColor: bool(g, 'pred_color', path, false),
    predOffsetDepth: bool(g, 'pred_offset_depth', path, true),
    predOffsetXy: bool(g, 'pred_offset_xy', path, true),
    scaleMin: num(g, 'gaussian_scale_min', path, { positive: true, fallback: 1e-5 }),
    scaleMax: num(g, 'gaussian_scale_max', path, { positive: true, fallback: 30 }),
  };
}

/** Parses one `DepthAnything3Net` block (resolved layout, snake_case or camelCase keys). */
export function parseNet(n: Obj, path: string): NetConfig {
  const backbone = parseBackbone(object(n, 'backbone', path), `${path}.backbone`);
  const head = parseHead(object(n, 'head', path), `${path}.head`, backbone.featureDim);
  const camEncObj = optionalObject(n, 'cam_enc', path);
  const camDecObj = optionalObject(n, 'cam_dec', path);
  const gsHeadObj = optionalObject(n, 'gs_head', path);
  const gsAdapterObj = optionalObject(n, 'gs_adapter', path);
  const camEnc = camEncObj ? parseCamEnc(camEncObj, `${path}.cam_enc`, backbone.embedDim) : null;
  const camDec = camDecObj ? parseCamDec(camDecObj, `${path}.cam_dec`, backbone.featureDim) : null;
  if (head.type === 'DualDPT' && !backbone.cameraToken && camDec) {
    inconsistent(`${path}.backbone.alt_start`, 'must be ≥ 1 for a model with a camera decoder (the camera token is inserted at alt_start)');
  }
  if (camEnc && backbone.altStart < 1) inconsistent(`${path}.cam_enc`, 'needs alternating attention (alt_start ≥ 1) to insert its tokens');
  const gsHead = gsHeadObj ? parseGsHead(gsHeadObj, `${path}.gs_head`, head) : null;
  const gsAdapter = gsAdapterObj ? parseGsAdapter(gsAdapterObj, `${path}.gs_adapter`) : null;
  if (!!gsHead !== !!gsAdapter) inconsistent(`${path}.gs_head`, 'and gs_adapter must be given together');
  return { kind: 'DepthAnything3Net', backbone, head, camEnc, camDec, gsHead, gsAdapter };
}

function parseMetricScaling(m: Obj | null, path: string): MetricScalingConfig {
  const o = m ?? {};
  return {
    focalDivisor: num(o, 'focal_divisor', path, { positive: true, fallback: 300 }),
    skyThreshold: num(o, 'sky_threshold', path, { fallback: 0.3 }),
    confQuantile: num(o, 'conf_quantile', path, { fallback: 0.5 }),
    minDepth: num(o, 'min_depth', path, { fallback: 1e-3 }),
    minMetricDepth: num(o, 'min_metric_depth', path, { fallback: 1e-2 }),
    skyDepthQuantile: num(o, 'sky_depth_quantile', path, { fallback: 0.99 }),
    skyDepthCap: num(o, 'sky_depth_cap', path, { positive: true, fallback: 200 }),
    quantileMaxSamples: int(o, 'quantile_max_samples', path, { max: 1 << 27, fallback: 100_000 }),
  };
}

/**
 * Parses a resolved architecture block (the `resolved` layout of the fixtures' manifests, with
 * snake_case or camelCase keys) into a validated {@link ModelConfig}. Derived fields (global
 * layers, feature width, …) may be omitted; when present they must agree with the rest.
 */
export function parseResolvedConfig(value: Obj, path = 'config'): ModelConfig {
  const kind = oneOf(value, 'kind', path, ['DepthAnything3Net', 'NestedDepthAnything3Net'] as const, 'DepthAnything3Net');
  if (kind === 'DepthAnything3Net') return parseNet(value, path);
  const anyview = parseNet(object(value, 'anyview', path), `${path}.anyview`);
  const metric = parseNet(object(value, 'metric', path), `${path}.metric`);
  if (anyview.head.type !== 'DualDPT') inconsistent(`${path}.anyview.head.type`, 'must be DualDPT');
  if (metric.head.type !== 'DPT') inconsistent(`${path}.metric.head.type`, 'must be DPT');
  const nested: NestedConfig = {
    kind,
    anyview,
    metric,
    metricScaling: parseMetricScaling(has(value, 'metric_scaling') ? object(value, 'metric_scaling', path) : null, `${path}.metric_scaling`),
  };
  return nested;
}
