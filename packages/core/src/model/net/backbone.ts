import type { BackboneConfig } from '../../config/schema.js';
import type { RefViewStrategy } from '../host/ref-view.js';
import type { WeightProvider } from '../checkpoint.js';
import type { GraphBuilder, Value } from '../graph/builder.js';
import { attr } from '../graph/builder.js';
import { concat, conv2d, gelu, layerNorm, reshape, shapeOf, slice, toFloat32, toGraphFloat, transpose } from '../graph/ops.js';
import { type RopeTables, attention, feedForward, layerScale, ropeTables } from './attention.js';

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
 * The ViT position embedding for an image of H×W pixels, inside the graph: the 37×37 grid is
 * resized by ONNX `Resize` (cubic, A = −0.75, half_pixel, no exclusion) with scales
 * `(n + 0.1)/37` computed from the dynamic shape, which reproduces PyTorch's `scale_factor`
 * bicubic. For 518×518 (h·w = 37² and H = W) the scale becomes exactly 1 so the table passes
 * through unchanged, as the reference skips the resize there.
 * @returns [1, 1 + h·w, D] in float32
 */
function positionEmbedding(g: GraphBuilder, w: WeightProvider, cfg: BackboneConfig, gridH: Value, gridW: Value, imageH: Value, imageW: Value): Value {
  return g.scope('pos_embed', () => {
    const pe = w.get(`${P}.pos_embed`);
    const table = g.weightFloat32(pe.name, pe.dims, pe.load);
    const [gh, gw] = cfg.posEmbedGrid;
    const D = cfg.embedDim;
    const cls = slice(g, table, [0], [1], [1]);
    const grid = transpose(g, reshape(g, slice(g, table, [1], [1 + gh * gw], [1]), [1, gh, gw, D]), [0, 3, 1, 2]);
    // scales = [1, 1, (h + 0.1)/gh, (w + 0.1)/gw], computed as one 4-vector: the only Concat is of
    // int64 shape values (which every provider keeps on the CPU). Concatenating computed float
    // scalars instead came out shuffled on onnxruntime-web's WebGPU provider.
    const sizes = g.op('Cast', [concat(g, [g.int64([1, 1], [2]), gridH, gridW], 0)], { to: 1 });
    const scaleHW = g.op('Div', [g.op('Add', [sizes, g.float32([0, 0, cfg.interpolateOffset, cfg.interpolateOffset], [4])]), g.float32([1, 1, gh, gw], [4])]);
    const trainingSize = g.op('And', [
      g.op('Equal', [g.op('Mul', [gridH, gridW]), g.int64([gh * gw], [1])]),
      g.op('Equal', [imageH, imageW]),
    ]);
    const scales = g.op('Where', [trainingSize, g.float32([1, 1, 1, 1], [4]), scaleHW]);
    const resized = g.op('Resize', [grid, '', scales], {
      mode: 'cubic',
      cubic_coeff_a: attr.float(-0.75),
      coordinate_transformation_mode: 'half_pixel',
      exclude_outside: 0,
      nearest_mode: 'floor',
    });
    const patches = transpose(g, reshape(g, resized, [1, D, -1]), [0, 2, 1]);
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
        const a = attention(g, h1, w, `${bp}.attn`, cfg, { kind: isGlobal ? 'global' : 'local', qkNorm: cfg.qkNormLayers.includes(i), rope });
        const x1 = g.op('Add', [x, layerScale(g, a, ls('ls1'))]);
        const h2 = layerNorm(g, x1, w.get(`${bp}.norm2.weight`), w.get(`${bp}.norm2.bias`), cfg.blockLnEps);
        const m = feedForward(g, h2, w, `${bp}.mlp`, cfg, (v) => gelu(g, v));
        return g.op('Add', [x1, layerScale(g, m, ls('ls2'))]);
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
