/**
 * The DA3 architecture as typed data: what the graph builder needs to build any official variant
 * (or a custom one) from its checkpoint. Field meanings follow the reference modules; sizes are
 * element counts, layer indices are 0-based block numbers.
 */

/** Feed-forward network of a ViT block: `mlp` = fc1 → GELU(erf) → fc2; `swiglu` = w12 → silu(a)·b → w3. */
export type FfnKind = 'mlp' | 'swiglu';

/** The DINOv2 backbone with DA3's alternating attention, QK-norm, 2D RoPE and camera token. */
export interface BackboneConfig {
  /** DINOv2 factory name (`vits`, `vitb`, `vitl`, `vitg`; informational). */
  readonly name: string;
  /** Token width D. */
  readonly embedDim: number;
  /** Number of transformer blocks. */
  readonly depth: number;
  readonly numHeads: number;
  /** Per-head width (D / numHeads; 64 in every official model). */
  readonly headDim: number;
  /** Patch size in pixels (14). */
  readonly patchSize: number;
  /** Training image size [H, W] in pixels (518×518): fixes the position-embedding grid. */
  readonly imgSize: readonly [number, number];
  /** Position-embedding grid [rows, cols] (37×37). */
  readonly posEmbedGrid: readonly [number, number];
  readonly numRegisterTokens: number;
  /** DINOv2's `interpolate_offset` (0.1): bicubic scale factor = (n + offset) / grid. */
  readonly interpolateOffset: number;
  readonly interpolateAntialias: boolean;
  readonly ffn: FfnKind;
  /** Hidden width of the FFN (4D for mlp; (int(4D·2/3)+7)//8·8 for swiglu). */
  readonly ffnHidden: number;
  /** Whether blocks carry LayerScale (`ls1`, `ls2`). */
  readonly layerscale: boolean;
  /** LayerNorm eps inside blocks (1e-6). */
  readonly blockLnEps: number;
  /** LayerNorm eps of the final backbone norm (1e-5). */
  readonly finalNormEps: number;
  /** LayerNorm eps of QK-norm (1e-5), `null` without QK-norm. */
  readonly qkNormEps: number | null;
  /** The four tapped block indices handed to the head. */
  readonly outLayers: readonly number[];
  /** First block with alternating local/global attention; −1 disables it (mono/metric). */
  readonly altStart: number;
  /** First block with QK-norm; −1 disables it. */
  readonly qknormStart: number;
  /** First block with 2D RoPE; −1 disables it. */
  readonly ropeStart: number;
  /** Tapped features are `[local_x, norm(x)]` (2D wide) when true, `norm(x)` otherwise. */
  readonly catToken: boolean;
  /** Whether the backbone has the learned `camera_token` (1, 2, D). */
  readonly cameraToken: boolean;
  /** RoPE base frequency (100), `null` without RoPE. */
  readonly ropeFrequency: number | null;
  /** Blocks with QK-norm (derived: qknormStart..depth−1). */
  readonly qkNormLayers: readonly number[];
  /** Blocks with RoPE (derived: ropeStart..depth−1). */
  readonly ropeLayers: readonly number[];
  /** Global (cross-view) attention blocks (derived: i ≥ altStart and i odd). */
  readonly globalAttentionLayers: readonly number[];
  /** Block before which the reference view is chosen (altStart − 1), `null` when altStart is off. */
  readonly refViewSelectionLayer: number | null;
  /** Minimum view count that triggers reference-view selection (3). */
  readonly refViewSelectionMinViews: number;
  /** Width of each tapped feature (2D with catToken, else D). */
  readonly featureDim: number;
}

/** Settings shared by the DPT-style heads. */
interface DptHeadCommon {
  /** Input feature width (= backbone featureDim). */
  readonly dimIn: number;
  /** Fusion width F. */
  readonly features: number;
  /** Per-stage projection widths (4 values). */
  readonly outChannels: readonly number[];
  readonly patchSize: number;
  /** Whether the UV sin/cos position embedding is added (DualDPT, GSDPT). */
  readonly posEmbed: boolean;
  readonly downRatio: number;
  /** Depth activation (`exp`). */
  readonly activation: string;
  /** Confidence activation (`expp1` = exp(x) + 1). */
  readonly confActivation: string;
  /** Token norm before projection: LayerNorm with `tokenNormEps`, or identity. */
  readonly tokenNorm: 'layernorm' | 'identity';
  readonly tokenNormEps: number | null;
  /** Channels of the main output conv. */
  readonly outputDim: number;
  /** UV embedding multiplier (0.1). */
  readonly posEmbedRatio: number;
  /** UV embedding base ω₀ (100). */
  readonly posEmbedOmega0: number;
}

/** DualDPT: depth + confidence at H×W and ray + ray confidence at 8h×8w (any-view models). */
export interface DualDptHeadConfig extends DptHeadCommon {
  readonly type: 'DualDPT';
  readonly auxLevels: number;
  /** Plain 3×3 convs in `output_conv1_aux` (5). */
  readonly auxOut1ConvNum: number;
  /** Ray logits: 6 ray channels + 1 confidence. */
  readonly auxOutputDim: number;
  readonly auxLayernormEps: number;
}

/** Plain DPT: depth (+ sky) at H×W (mono/metric models). */
export interface DptHeadConfig extends DptHeadCommon {
  readonly type: 'DPT';
  readonly useSkyHead: boolean;
  readonly skyActivation: string;
}

/** Any depth head. */
export type HeadConfig = DualDptHeadConfig | DptHeadConfig;

/** Camera encoder (pose conditioning): 9-d pose encoding → one token per view. */
export interface CameraEncoderConfig {
  readonly dimIn: number;
  /** Token width (= backbone embedDim). */
  readonly dimOut: number;
  readonly poseBranchHidden: number;
  readonly trunkDepth: number;
  /** Attention heads of the trunk blocks (16 for every size). */
  readonly numHeads: number;
  readonly mlpHidden: number;
  readonly layerscale: boolean;
  readonly lnEps: number;
  readonly tokenNormEps: number;
}

/** Camera decoder: last tapped camera token (featureDim wide) → pose encoding. */
export interface CameraDecoderConfig {
  readonly dimIn: number;
}

/** Gaussian-splatting head (GIANT): a DPT with pos-embed and an image merger, 38 raw channels. */
export interface GsHeadConfig {
  readonly type: 'GSDPT';
  readonly dimIn: number;
  readonly features: number;
  readonly outChannels: readonly number[];
  readonly outputDim: number;
}

/** Gaussian adapter settings (raw GS map → Gaussians). */
export interface GsAdapterConfig {
  readonly shDegree: number;
  readonly predColor: boolean;
  readonly predOffsetDepth: boolean;
  readonly predOffsetXy: boolean;
  readonly scaleMin: number;
  readonly scaleMax: number;
}

/** One DA3 network (`DepthAnything3Net`). */
export interface NetConfig {
  readonly kind: 'DepthAnything3Net';
  readonly backbone: BackboneConfig;
  readonly head: HeadConfig;
  readonly camEnc: CameraEncoderConfig | null;
  readonly camDec: CameraDecoderConfig | null;
  readonly gsHead: GsHeadConfig | null;
  readonly gsAdapter: GsAdapterConfig | null;
}

/** Constants of the Nested metric alignment (da3.py `NestedDepthAnything3Net`). */
export interface MetricScalingConfig {
  /** metric depth = net · focal / focalDivisor (300). */
  readonly focalDivisor: number;
  /** sky < skyThreshold counts as non-sky (0.3). */
  readonly skyThreshold: number;
  readonly confQuantile: number;
  readonly minDepth: number;
  readonly minMetricDepth: number;
  readonly skyDepthQuantile: number;
  /** Sky depth cap in metres (200). */
  readonly skyDepthCap: number;
  readonly quantileMaxSamples: number;
}

/** The any-view network plus the metric network (`NestedDepthAnything3Net`), two graphs. */
export interface NestedConfig {
  readonly kind: 'NestedDepthAnything3Net';
  readonly anyview: NetConfig;
  readonly metric: NetConfig;
  readonly metricScaling: MetricScalingConfig;
}

/** Any DA3 model configuration. */
export type ModelConfig = NetConfig | NestedConfig;
