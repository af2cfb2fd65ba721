import type { BackboneConfig } from '../../config/schema.js';
import type { RefViewStrategy } from '../host/ref-view.js';
import type { WeightProvider } from '../checkpoint.js';
import type { GraphBuilder, Value } from '../graph/builder.js';
import { concat, conv2d, gelu, layerNorm, reshape, shapeOf, slice, toFloat32, toGraphFloat, transpose } from '../graph/ops.js';
import { type RopeTables, attention, feedForward, ropeTables } from './attention.js';

const P = 'backbone.pretrained';

/** What the backbone hands on: four tapped features (original view order) plus their camera tokens. */
export interface BackboneOutputs {
  /** [B, S, h·w, featureDim] patch features (cat_token: `[local_x, norm(x)]`), original view order. */
  readonly features: readonly Value[];
  /** [B, S, featureDim] token 0 of each tapped layer, before any norm, original view order. */
  readonly cameraTokens: readonly Value[];
  /** Exported layers (`exportFeatLayers`): [B, S, h, w, D] = norm(x) of that block, working order. */
  readonly aux: ReadonlyMap<number, Value>;
  /** Patch grid height and width as int64 [1] values. */
  readonly gridH: Value;
  readonly gridW: Value;
}

/** Build-time choices of the backbone graph. */
export interface BackboneOptions {
  /** Reference-view strategy baked into the graph (N ≥ 3, unposed). */
  readonly refViewStrategy: RefViewStrategy;
  /** Camera tokens from the camera encoder ([B, S, D]) for the pose-conditioned graph, else null. */
  readonly cameraEncoderTokens: Value | null;
  /** Blocks whose normalised output is exported. */
  readonly exportFeatLayers: readonly number[];
}

/**
 * The [n, size] matrix of PyTorch's bicubic resize of one axis of `size` samples to n (A = −0.75,
 * align_corners=False, no antialias, border-clamped taps) for the source step `scale` (float32
 * [1]): row i holds the four tap weights of output i at their clamped source columns (taps that
 * clamp to the same column add up). Output i samples `real = scale·(i + ½) − ½`, i₀ = ⌊real⌋,
 * t = real − i₀, taps i₀−1..i₀+2 with the weights of PyTorch's `get_cubic_upsample_coefficients`
 * (evaluated in the same order). With scale 1 the matrix is exactly the identity.
 * @param n output length as int64 [1]
 */
function cubicResizeMatrix(g: GraphBuilder, n: Value, size: number, scale: Value): Value {
  const A = -0.75;
  const f32 = (v: number[], dims?: number[]) => g.float32(v, dims);
  const i = g.op('Cast', [g.op('Range', [g.int64([0], []), g.op('Squeeze', [n]), g.int64([1], [])])], { to: 1 });
  const real = g.op('Sub', [g.op('Mul', [scale, g.op('Add', [i, f32([0.5], [])])]), f32([0.5], [])]);
  const i0 = g.op('Floor', [real]);
  const t = g.op('Unsqueeze', [g.op('Sub', [real, i0]), g.int64([1])]); // [n, 1]
  // x = [t + 1, t, 1 − t, (1 − t) + 1] (PyTorch's arguments of the two cubic pieces).
  const oneMinusT = g.op('Sub', [f32([1], []), t]);
  const x = concat(g, [g.op('Add', [t, f32([1], [])]), t, oneMinusT, g.op('Add', [oneMinusT, f32([1], [])])], 1); // [n, 4]
  // cubic_convolution1(x) = ((A + 2)·x − (A + 3))·x·x + 1 (inner taps), cubic_convolution2(x) =
  // ((A·x − 5A)·x + 8A)·x − 4A (outer taps); each tap takes its piece through a 0/1 mask (exact).
  const c1 = g.op('Add', [g.op('Mul', [g.op('Mul', [g.op('Sub', [g.op('Mul', [x, f32([A + 2], [])]), f32([A + 3], [])]), x]), x]), f32([1], [])]);
  const c2 = g.op('Sub', [g.op('Mul', [g.op('Add', [g.op('Mul', [g.op('Sub', [g.op('Mul', [x, f32([A], [])]), f32([5 * A], [])]), x]), f32([8 * A], [])]), x]), f32([4 * A], [])]);
  const weights = g.op('Add', [g.op('Mul', [c1, f32([0, 1, 1, 0], [1, 4])]), g.op('Mul', [c2, f32([1, 0, 0, 1], [1, 4])])]); // [n, 4]
  // Clamped tap columns [n, 4, 1] against every source column [size]: one-hot rows, weighted and summed.
  const taps = g.op('Clip', [g.op('Add', [g.op('Unsqueeze', [i0, g.int64([1])]), f32([-1, 0, 1, 2], [1, 4])]), f32([0], []), f32([size - 1], [])]);
  const columns = f32(Array.from({ length: size }, (_, k) => k), [1, 1, size]);
  const oneHot = g.op('Relu', [g.op('Sub', [f32([1], []), g.op('Abs', [g.op('Sub', [g.op('Unsqueeze', [taps, g.int64([2])]), columns])])])]); // [n, 4, size]
  return reshape(g, g.op('MatMul', [g.op('Unsqueeze', [weights, g.int64([1])]), oneHot]), [-1, size]); // [n, 1, 4]·[n, 4, size]
}

/**
 * The ViT position embedding for an image of H×W pixels, inside the graph: the 37×37 grid is
 * resized as PyTorch's bicubic with `scale_factor` (n + 0.1)/37 (A = −0.75, half-pixel, clamped
 * taps) computed from the dynamic shape, as two small matrix products (rows, then columns) with
 * the per-axis interpolation matrices of `cubicResizeMatrix`; the table stays token-major,
 * so no transposes. (onnxruntime's cubic `Resize` did the same in ~60–90 ms on 2 CPU threads,
 * about a tenth of the whole network; this takes well under 1 ms.) For 518×518 (h·w = 37² and
 * H = W) the step becomes exactly 1, the matrices the identity, and the table passes through
 * unchanged, as the reference skips the resize there.
 * @returns [1, 1 + h·w, D] in float32
 */
export function positionEmbedding(g: GraphBuilder, w: WeightProvider, cfg: BackboneConfig, gridH: Value, gridW: Value, imageH: Value, imageW: Value): Value {
  return g.scope('pos_embed', () => {
    const pe = w.get(`${P}.pos_embed`);
    const table = g.weightFloat32(pe.name, pe.dims, pe.load);
    const [gh, gw] = cfg.posEmbedGrid;
    const D = cfg.embedDim;
    const cls = slice(g, table, [0], [1], [1]);
    const grid = reshape(g, slice(g, table, [1], [1 + gh * gw], [1]), [gh, gw * D]);
    // Source steps [gh/(h + 0.1), gw/(w + 0.1)] (PyTorch: 1/scale_factor, in double, rounded to
    // float32), or 1 at the training size. Written as (gh·K)/(h·K + 0.1·K) with K = 10 so both
    // operands are exact integers in float32 and the one division rounds the exact quotient, as
    // PyTorch's does (h + 0.1 rounded to float32 first moved the interpolants by up to 7e-5).
    let K = 1;
    while (K < 1e6 && Math.abs(cfg.interpolateOffset * K - Math.round(cfg.interpolateOffset * K)) > 1e-9) K *= 10;
    const sizes = g.op('Cast', [concat(g, [gridH, gridW], 0)], { to: 1 });
    const offset = Math.round(cfg.interpolateOffset * K);
    const steps = g.op('Div', [g.float32([gh * K, gw * K], [2]), g.op('Add', [g.op('Mul', [sizes, g.float32([K, K], [2])]), g.float32([offset, offset], [2])])]);
    const trainingSize = g.op('And', [
      g.op('Equal', [g.op('Mul', [gridH, gridW]), g.int64([gh * gw], [1])]),
      g.op('Equal', [imageH, imageW]),
    ]);
    const step = g.op('Where', [trainingSize, g.float32([1, 1], [2]), steps]);
    const rows = cubicResizeMatrix(g, gridH, gh, slice(g, step, [0], [1], [0])); // [h, gh]
    const cols = cubicResizeMatrix(g, gridW, gw, slice(g, step, [1], [2], [0])); // [w, gw]
    const byRows = reshape(g, g.op('MatMul', [rows, grid]), [-1, gw, D]); // [h, gw, D]
    const resized = g.op('MatMul', [cols, byRows]); // [w, gw]·[h, gw, D] → [h, w, D]
    const patches = reshape(g, resized, [1, -1, D]);
    return g.tap('backbone.pos_embed_interp', concat(g, [cls, patches], 1), 'float32');
  });
}

/**
 * Token 0 of every view → the reference view index per batch (`[B]` int64) for the build-time
 * strategy (model/reference_view_selector.py); 0 when fewer than `minViews` views are given (the
 * config's `ref_view_selection_min_views`, the reference's `THRESH_FOR_REF_SELECTION` = 3).
 */
function selectReference(g: GraphBuilder, x: Value, strategy: RefViewStrategy, views: Value, minViews: number): Value {
  return g.scope('ref_view', () => {
    const batch = shapeOf(g, x, 0, 1);
    const enough = g.op('Cast', [g.op('GreaterOrEqual', [views, g.int64([minViews], [1])])], { to: 7 });
    let ref: Value;
    if (strategy === 'first') {
      ref = g.op('Expand', [g.int64([0], [1]), batch]);
    } else if (strategy === 'middle') {
      ref = g.op('Expand', [g.op('Div', [views, g.int64([2], [1])]), batch]);
    } else {
      const cls = toFloat32(g, g.op('Squeeze', [slice(g, x, [0], [1], [2]), g.int64([2])]));
      const norm = g.op('ReduceL2', [cls], { axes: [-1], keepdims: 1 });
      const unit = g.op('Div', [cls, norm]);
      const sim = g.op('MatMul', [unit, transpose(g, unit, [0, 2, 1])]);
      const range = g.op('Range', [g.int64([0], []), g.op('Squeeze', [views]), g.int64([1], [])]);
      const eye = g.op('Cast', [g.op('Equal', [g.op('Unsqueeze', [range, g.int64([1])]), g.op('Unsqueeze', [range, g.int64([0])])])], { to: 1 });
      const simNoDiag = g.op('Sub', [sim, eye]);
      if (strategy === 'saddle_sim_range') {
        const spread = g.op('Sub', [g.op('ReduceMax', [simNoDiag], { axes: [-1], keepdims: 0 }), g.op('ReduceMin', [simNoDiag], { axes: [-1], keepdims: 0 })]);
        ref = g.op('ArgMax', [spread], { axis: 1, keepdims: 0, select_last_index: 0 });
      } else {
        const viewsF = g.op('Cast', [views], { to: 1 });
        const simScore = g.op('Div', [g.op('ReduceSum', [simNoDiag, g.int64([-1])], { keepdims: 0 }), g.op('Sub', [viewsF, g.float32([1], [1])])]);
        const featNorm = g.op('Squeeze', [norm, g.int64([-1])]);
        const mean = g.op('ReduceMean', [unit], { axes: [-1], keepdims: 1 });
        const centred = g.op('Sub', [unit, mean]);
        const channels = g.op('Cast', [shapeOf(g, unit, 2, 3)], { to: 1 });
        const variance = g.op('Div', [
          g.op('ReduceSum', [g.op('Mul', [centred, centred]), g.int64([-1])], { keepdims: 0 }),
          g.op('Sub', [channels, g.float32([1], [1])]),
        ]);
        const normalise = (m: Value) => {
          const lo = g.op('ReduceMin', [m], { axes: [1], keepdims: 1 });
          const hi = g.op('ReduceMax', [m], { axes: [1], keepdims: 1 });
          return g.op('Div', [g.op('Sub', [m, lo]), g.op('Add', [g.op('Sub', [hi, lo]), g.float32([1e-8], [])])]);
        };
        const half = g.float32([0.5], []);
        const dist = (m: Value) => g.op('Abs', [g.op('Sub', [normalise(m), half])]);
        const balance = g.op('Add', [g.op('Add', [dist(simScore), dist(featNorm)]), dist(variance)]);
        ref = g.op('ArgMin', [balance], { axis: 1, keepdims: 0, select_last_index: 0 });
      }
    }
    return g.op('Mul', [ref, enough]);
  });
}

/**
 * Per-batch view orders as flat indices into a [B·S, ...] batch: `order` puts the reference first
 * (`[ref, 0..ref−1, ref+1..]`), `restore` is its inverse.
 */
function viewOrders(g: GraphBuilder, ref: Value, views: Value, batch: Value): { order: Value; restore: Value } {
  const k = g.op('Unsqueeze', [g.op('Range', [g.int64([0], []), g.op('Squeeze', [views]), g.int64([1], [])]), g.int64([0])]);
  const r = g.op('Unsqueeze', [ref, g.int64([1])]);
  const zero = g.int64([0], []);
  const one = g.int64([1], []);
  const order = g.op('Where', [g.op('Equal', [k, zero]), r, g.op('Where', [g.op('LessOrEqual', [k, r]), g.op('Sub', [k, one]), k])]);
  const restore = g.op('Where', [g.op('Equal', [k, r]), g.op('Mul', [k, zero]), g.op('Where', [g.op('Less', [k, r]), g.op('Add', [k, one]), k])]);
  const base = g.op('Mul', [g.op('Unsqueeze', [g.op('Range', [zero, g.op('Squeeze', [batch]), one]), g.int64([1])]), views]);
  const flat = (o: Value) => reshape(g, g.op('Add', [o, base]), [-1]);
  return { order: flat(order), restore: flat(restore) };
}

/** Gathers views of x [B, S, ...] by flat indices over B·S. */
function gatherViews(g: GraphBuilder, x: Value, flatIndex: Value): Value {
  const shape = shapeOf(g, x);
  const flat = reshape(g, x, concat(g, [g.int64([-1]), shapeOf(g, x, 2)], 0));
  return reshape(g, g.op('Gather', [flat, flatIndex], { axis: 0 }), shape);
}

/**
 * The DINOv2 backbone of DA3 (vision_transformer.py `_get_intermediate_layers_not_chunked` +
 * `get_intermediate_layers`) on `images` `[B, S, 3, H, W]`: patch embedding, cls token, resized
 * position embedding, blocks with QK-norm / 2D RoPE / alternating local–global attention from
 * the config's starts, reference-view reorder before block alt_start−1 (unposed graphs), camera
 * tokens at alt_start, and the tapped features with the cat-token half-normalisation.
 */
export function buildBackbone(g: GraphBuilder, images: Value, w: WeightProvider, cfg: BackboneConfig, options: BackboneOptions): BackboneOutputs {
  return g.scope('backbone', () => {
    const D = cfg.embedDim;
    const imgShape = shapeOf(g, images);
    const batch = slice(g, imgShape, [0], [1], [0]);
    const views = slice(g, imgShape, [1], [2], [0]);
    const imageH = slice(g, imgShape, [3], [4], [0]);
    const imageW = slice(g, imgShape, [4], [5], [0]);
    const patch = g.int64([cfg.patchSize], [1]);
    const gridH = g.op('Div', [imageH, patch]);
    const gridW = g.op('Div', [imageW, patch]);

    // Patch embedding per view: [B·S, 3, H, W] → [B·S, P, D]
    const flatImages = reshape(g, images, concat(g, [g.int64([-1, 3]), imageH, imageW], 0));
    const emb = conv2d(g, toGraphFloat(g, flatImages), w.get(`${P}.patch_embed.proj.weight`), w.get(`${P}.patch_embed.proj.bias`), { stride: cfg.patchSize });
    const tokens = g.tap('backbone.patch_embed', transpose(g, reshape(g, emb, [0, D, -1]), [0, 2, 1]));

    const clsRef = w.get(`${P}.cls_token`);
    const cls = g.op('Expand', [g.weight(clsRef.name, clsRef.dims, clsRef.load), concat(g, [g.op('Mul', [batch, views]), g.int64([1, D])], 0)]);
    const pos = toGraphFloat(g, positionEmbedding(g, w, cfg, gridH, gridW, imageH, imageW));
    const withCls = g.op('Add', [concat(g, [cls, tokens], 1), pos]);
    let x = g.tap('backbone.tokens_in', reshape(g, withCls, concat(g, [batch, views, g.int64([-1, D])], 0)));

    let localRope: RopeTables | null = null;
    let globalRope: RopeTables | null = null;
    if (cfg.ropeStart >= 0 && cfg.ropeFrequency) {
      localRope = ropeTables(g, gridH, gridW, cfg.headDim, cfg.ropeFrequency, false);
      globalRope = ropeTables(g, gridH, gridW, cfg.headDim, cfg.ropeFrequency, true);
    }

    const selectionLayer = options.cameraEncoderTokens ? null : cfg.refViewSelectionLayer;
    let restore: Value | null = null;
    let localX = x;
    const features: Value[] = [];
    const cameraTokens: Value[] = [];
    const aux = new Map<number, Value>();
    const globalLayers = new Set(cfg.globalAttentionLayers);
    const norm = (v: Value) => layerNorm(g, v, w.get(`${P}.norm.weight`), w.get(`${P}.norm.bias`), cfg.finalNormEps);

    for (let i = 0; i < cfg.depth; i++) {
      const tag = `backbone.block${String(i).padStart(2, '0')}`;
      if (selectionLayer !== null && i === selectionLayer && options.refViewStrategy !== 'first') {
        const ref = g.tap('backbone.ref_view_idx', selectReference(g, x, options.refViewStrategy, views, cfg.refViewSelectionMinViews), 'int64');
        const orders = viewOrders(g, ref, views, batch);
        x = gatherViews(g, x, orders.order);
        localX = gatherViews(g, localX, orders.order);
        restore = orders.restore;
      }
      if (cfg.cameraToken && i === cfg.altStart) {
        x = g.scope('camera_token', () => {
          let tok: Value;
          if (options.cameraEncoderTokens) {
            tok = options.cameraEncoderTokens;
          } else {
            const ct = w.get(`${P}.camera_token`);
            const table = g.weight(ct.name, ct.dims, ct.load);
            const refTok = slice(g, table, [0], [1], [1]);
            const srcTok = slice(g, table, [1], [2], [1]);
            const k = g.op('Range', [g.int64([0], []), g.op('Squeeze', [views]), g.int64([1], [])]);
            const isRef = reshape(g, g.op('Equal', [k, g.int64([0], [])]), [1, -1, 1]);
            tok = g.op('Where', [isRef, refTok, srcTok]);
            tok = g.op('Expand', [tok, concat(g, [batch, views, g.int64([D])], 0)]);
          }
          g.tap('backbone.cam_token_inserted', tok);
          return concat(g, [g.op('Unsqueeze', [tok, g.int64([2])]), slice(g, x, [1], [Number.MAX_SAFE_INTEGER], [2])], 2);
        });
        localX = x;
      }
      const isGlobal = globalLayers.has(i);
      x = g.scope(`blocks.${i}`, () => {
        const bp = `${P}.blocks.${i}`;
        const rope = i >= cfg.ropeStart && cfg.ropeStart >= 0 ? (isGlobal ? globalRope : localRope) : null;
        const ls = (name: string) => (cfg.layerscale ? w.get(`${bp}.${name}.gamma`) : null);
        const h1 = layerNorm(g, x, w.get(`${bp}.norm1.weight`), w.get(`${bp}.norm1.bias`), cfg.blockLnEps);
        // LayerScale γ is folded into the weights of proj and fc2 (`(xWᵀ + b)·γ`): no Mul per block.
        const a = attention(g, h1, w, `${bp}.attn`, cfg, { kind: isGlobal ? 'global' : 'local', qkNorm: cfg.qkNormLayers.includes(i), rope, outScale: ls('ls1') });
        const x1 = g.op('Add', [x, a]);
        const h2 = layerNorm(g, x1, w.get(`${bp}.norm2.weight`), w.get(`${bp}.norm2.bias`), cfg.blockLnEps);
        const m = feedForward(g, h2, w, `${bp}.mlp`, cfg, (v) => gelu(g, v), ls('ls2'));
        return g.op('Add', [x1, m]);
      });
      g.tap(tag, x);
      if (!isGlobal) localX = x;

      const outIndex = cfg.outLayers.indexOf(i);
      if (outIndex >= 0) {
        g.scope(`out${outIndex}`, () => {
          let outX = cfg.catToken ? concat(g, [localX, x], -1) : x;
          if (restore) outX = gatherViews(g, outX, restore);
          const camTok = g.op('Squeeze', [slice(g, outX, [0], [1], [2]), g.int64([2])]);
          const patches = slice(g, outX, [1], [Number.MAX_SAFE_INTEGER], [2]);
          const feat = cfg.catToken
            ? concat(g, [slice(g, patches, [0], [D], [-1]), norm(slice(g, patches, [D], [2 * D], [-1]))], -1)
            : norm(patches);
          features.push(g.tap(`backbone.feat${outIndex}`, feat));
          cameraTokens.push(g.tap(`backbone.feat${outIndex}_cam_token`, camTok));
        });
      }
      if (options.exportFeatLayers.includes(i)) {
        const normed = norm(slice(g, x, [1], [Number.MAX_SAFE_INTEGER], [2]));
        aux.set(i, reshape(g, normed, concat(g, [batch, views, gridH, gridW, g.int64([D])], 0)));
      }
    }
    return { features, cameraTokens, aux, gridH, gridW };
  });
}
