import type { BackboneConfig } from '../../config/schema.js';
import { Da3Error } from '../../errors.js';
import { type GraphBuilder, type Value, attr } from '../graph/builder.js';
import { type TensorRef, concat, layerNorm, linear, reshape, shapeOf, slice, softmax, toFloat32, toGraphFloat, transpose } from '../graph/ops.js';
import type { WeightProvider } from '../checkpoint.js';

/**
 * Per-token RoPE tables broadcastable against `[..., N, heads, headDim]`, both of shape
 * [N, 1, headDim]: `cos` = `[cos y-angles, cos x-angles]` and `sin` the matching sines with the
 * rotate-half sign folded in (`[−sin, +sin]` within each axis half), so that
 * `rope(t) = t·cos + swapPairs(t)·sin` (see {@link applyRope}).
 */
export interface RopeTables {
  readonly cos: Value;
  readonly sin: Value;
}

/**
 * Largest patch-grid coordinate the RoPE tables cover: 1024 patches per side (14,336 pixels). The
 * pipeline refuses larger inputs.
 */
export const ROPE_MAX_POSITION = 1024;

/**
 * cos and sin of `pos · invFreq` for integer positions 0…maxPos, rows `[cos|sin](angles, angles)`
 * of width `half` (the sin rows as `[−sin, +sin]`: the sign of `rotate_half`), as float32
 * constants. Computed here in float64 from the float32 angle and rounded once, so every runtime
 * gets the same correctly rounded values; GPU `Sin`/`Cos` are only accurate to about 2^-11 (the
 * Vulkan bound), which moved WebGPU poses by 2e-4.
 */
function ropeLookup(invFreq: readonly number[], maxPos: number): { cos: number[]; sin: number[] } {
  const cos: number[] = [];
  const sin: number[] = [];
  for (let p = 0; p <= maxPos; p++) {
    const angles = invFreq.map((f) => Math.fround(p * f));
    for (const a of [...angles, ...angles]) cos.push(Math.fround(Math.cos(a)));
    for (const a of angles) sin.push(-Math.fround(Math.sin(a)));
    for (const a of angles) sin.push(Math.fround(Math.sin(a)));
  }
  return { cos, sin };
}

/**
 * RoPE tables for `1 + h·w` tokens from positions computed in-graph (h, w dynamic): token 0 at
 * (0, 0); patches at (row+1, col+1) for local layers or all (1, 1) for global layers
 * (layers/rope.py, vision_transformer.py `_prepare_rope`). Angles are float32 `pos · invFreq`;
 * their cos/sin are gathered from precomputed tables ({@link ROPE_MAX_POSITION}), once per graph
 * for all the blocks that use them.
 */
export function ropeTables(g: GraphBuilder, gridH: Value, gridW: Value, headDim: number, frequency: number, global: boolean): RopeTables {
  return g.scope(global ? 'rope_global' : 'rope_local', () => {
    const half = headDim / 2;
    const invFreq: number[] = [];
    for (let i = 0; i < half / 2; i++) invFreq.push(Math.fround(1 / Math.fround(frequency ** Math.fround((2 * i) / half))));
    const maxPos = global ? 1 : ROPE_MAX_POSITION;
    const lookup = ropeLookup(invFreq, maxPos);
    const cosTable = g.float32(lookup.cos, [maxPos + 1, half]);
    const sinTable = g.float32(lookup.sin, [maxPos + 1, half]);
    const one = g.int64([1], []);
    let ys: Value;
    let xs: Value;
    const hw = g.op('Concat', [gridH, gridW], { axis: 0 });
    if (global) {
      const ones = g.op('Expand', [g.int64([1], [1, 1]), hw]);
      ys = ones;
      xs = ones;
    } else {
      const rows = g.op('Range', [one, g.op('Add', [g.op('Squeeze', [gridH]), one]), one]);
      const cols = g.op('Range', [one, g.op('Add', [g.op('Squeeze', [gridW]), one]), one]);
      ys = g.op('Expand', [g.op('Unsqueeze', [rows, g.int64([1])]), hw]);
      xs = g.op('Expand', [g.op('Unsqueeze', [cols, g.int64([0])]), hw]);
    }
    const zero = g.int64([0], [1]);
    const flat = (v: Value) => concat(g, [zero, reshape(g, v, [-1])], 0);
    const toPrecision = (v: Value) => (g.precision === 'float16' ? g.op('Cast', [v], { to: 10 }) : v);
    // [N, 1, headDim]: the y-axis half from the row positions, the x-axis half from the columns.
    const table = (t: Value) => toPrecision(reshape(g, concat(g, [g.op('Gather', [t, flat(ys)], { axis: 0 }), g.op('Gather', [t, flat(xs)], { axis: 0 })], 1), [-1, 1, headDim]));
    return { cos: table(cosTable), sin: table(sinTable) };
  });
}

/**
 * Applies 2D RoPE to `t` laid out [B, S, N, heads, headDim] (5-D): y rotates the first half of
 * headDim, x the second, each with `rotate_half` = `[−b, a]` of its halves `[a, b]`. Computed as
 * `t·cos + swapPairs(t)·sin`, where `swapPairs` exchanges the quarters a↔b of each axis half (one
 * Gather) and `sin` carries the sign: the same products and sums as the reference, in one pass.
 */
export function applyRope(g: GraphBuilder, t: Value, tables: RopeTables, headDim: number): Value {
  const quarter = headDim / 4;
  const swapped = reshape(g, g.op('Gather', [reshape(g, t, [0, 0, 0, 0, 4, quarter]), g.int64([1, 0, 3, 2])], { axis: 4 }), [0, 0, 0, 0, headDim]);
  return g.op('Add', [g.op('Mul', [t, tables.cos]), g.op('Mul', [swapped, tables.sin])]);
}

/**
 * A torch `Linear` weight [out, in] (or a bias [out]) split into equal row blocks, one lazily
 * loaded {@link TensorRef} per tag (`qkv` → q, k, v). The tensor is read once for all the blocks
 * (held only until each block has been loaded), so a conversion streaming the checkpoint (over
 * HTTP Range reads in browsers) does not fetch it once per block.
 */
export function rowBlocks(ref: TensorRef, tags: readonly string[]): TensorRef[] {
  const [rows, ...rest] = ref.dims;
  if (rows % tags.length !== 0) throw new Da3Error('BAD_VALUE', `rowBlocks: ${rows} rows of ${ref.name} do not split into ${tags.length} blocks`);
  const size = (rows / tags.length) * rest.reduce((a, b) => a * b, 1);
  let whole: Promise<Float32Array> | null = null;
  let pending = tags.length;
  return tags.map((tag, i) => ({
    name: `${ref.name}[${tag}]`,
    dims: [rows / tags.length, ...rest],
    load: async () => {
      whole ??= Promise.resolve(ref.load());
      const data = await whole;
      if (--pending === 0) whole = null;
      return data.slice(i * size, (i + 1) * size);
    },
  }));
}

/** Options for one attention call. */
export interface AttentionOptions {
  /** Per-view (`local`) or all views jointly (`global`). */
  readonly kind: 'local' | 'global';
  readonly qkNorm: boolean;
  readonly rope: RopeTables | null;
  /** A LayerScale γ applied to the output, folded into the `proj` weights (`(xWᵀ + b)·γ`). */
  readonly outScale?: TensorRef | null;
}

/**
 * DINOv2 attention on x [B, S, N, C] (`attn.qkv`, optional `attn.q_norm`/`attn.k_norm`
 * LayerNorm(head_dim) before RoPE, scaled dot product with scale head_dim^−½, `attn.proj`).
 * Local attention keeps views apart (batch B·S); global attention attends over all S·N tokens.
 */
export function attention(g: GraphBuilder, x: Value, w: WeightProvider, prefix: string, cfg: BackboneConfig, options: AttentionOptions): Value {
  const proj = (merged: Value) => linear(g, merged, w.get(`${prefix}.proj.weight`), w.get(`${prefix}.proj.bias`), options.outScale);
  const { numHeads: heads, headDim: hd, embedDim: C } = cfg;
  const lead = shapeOf(g, x, 0, 3);
  // q, k and v as three products with the row blocks of `qkv` (no split copy of a fused output).
  const qkvW = rowBlocks(w.get(`${prefix}.qkv.weight`), ['q', 'k', 'v']);
  const qkvB = rowBlocks(w.get(`${prefix}.qkv.bias`), ['q', 'k', 'v']);
  const pick = (i: number) => reshape(g, linear(g, x, qkvW[i], qkvB[i]), [0, 0, 0, heads, hd]);
  let q = pick(0);
  let k = pick(1);
  const v = pick(2);
  if (options.qkNorm) {
    const eps = cfg.qkNormEps ?? 1e-5;
    const ln = (t: Value, name: string): Value => layerNorm(g, t, w.get(`${prefix}.${name}.weight`), w.get(`${prefix}.${name}.bias`), eps);
    q = ln(q, 'q_norm');
    k = ln(k, 'k_norm');
  }
  if (options.rope) {
    q = applyRope(g, q, options.rope, hd);
    k = applyRope(g, k, options.rope, hd);
  }
  if (g.fusedAttention) {
    // [B, S, N, heads, hd] → [B·S, N, C] (local) or [B, S·N, C] (global), heads packed head-major.
    const [qp, kp, vp] = options.kind === 'local'
      ? [q, k, v].map((t) => reshape(g, reshape(g, t, concat(g, [g.int64([-1]), shapeOf(g, t, 2, 3), g.int64([C])], 0)), [0, 0, C]))
      : [q, k, v].map((t) => reshape(g, t, [0, -1, C]));
    // The fused kernel runs in float32 (fp16 graphs cast around it, like the softmax elsewhere).
    const [q32, k32, v32] = [qp, kp, vp].map((t) => toFloat32(g, t));
    const att = g.node('MultiHeadAttention', [q32, k32, v32], { num_heads: heads, scale: attr.float(hd ** -0.5) }, 1, 'com.microsoft')[0];
    return proj(reshape(g, toGraphFloat(g, att), concat(g, [lead, g.int64([C])], 0)));
  }
  q = g.op('Mul', [q, g.floatConst([hd ** -0.5], [])]);
  let out: Value;
  if (options.kind === 'local') {
    // [B, S, N, heads, hd] → [B, S, heads, N, hd]
    const qh = transpose(g, q, [0, 1, 3, 2, 4]);
    const kt = transpose(g, k, [0, 1, 3, 4, 2]);
    const vh = transpose(g, v, [0, 1, 3, 2, 4]);
    const p = softmax(g, g.op('MatMul', [qh, kt]), -1);
    out = transpose(g, g.op('MatMul', [p, vh]), [0, 1, 3, 2, 4]);
  } else {
    // [B, S, N, heads, hd] → [B, S·N, heads, hd] → [B, heads, S·N, hd]
    const flat = (t: Value) => reshape(g, t, [0, -1, heads, hd]);
    const qh = transpose(g, flat(q), [0, 2, 1, 3]);
    const kt = transpose(g, flat(k), [0, 2, 3, 1]);
    const vh = transpose(g, flat(v), [0, 2, 1, 3]);
    const p = softmax(g, g.op('MatMul', [qh, kt]), -1);
    out = transpose(g, g.op('MatMul', [p, vh]), [0, 2, 1, 3]);
  }
  return proj(reshape(g, out, concat(g, [lead, g.int64([C])], 0)));
}

/** The FFN of a block: Mlp (fc1 → GELU(erf) → fc2) or SwiGLU (w12 → silu(a)·b → w3), times `outScale` (LayerScale γ, folded into the last weights) when given. */
export function feedForward(g: GraphBuilder, x: Value, w: WeightProvider, prefix: string, cfg: BackboneConfig, geluFn: (v: Value) => Value, outScale: TensorRef | null = null): Value {
  if (cfg.ffn === 'mlp') {
    const h = geluFn(linear(g, x, w.get(`${prefix}.fc1.weight`), w.get(`${prefix}.fc1.bias`)));
    return linear(g, h, w.get(`${prefix}.fc2.weight`), w.get(`${prefix}.fc2.bias`), outScale);
  }
  const h = linear(g, x, w.get(`${prefix}.w12.weight`), w.get(`${prefix}.w12.bias`));
  const hidden = cfg.ffnHidden;
  const a = slice(g, h, [0], [hidden], [-1]);
  const b = slice(g, h, [hidden], [2 * hidden], [-1]);
  const silu = g.op('Mul', [a, g.op('Sigmoid', [a])]);
  return linear(g, g.op('Mul', [silu, b]), w.get(`${prefix}.w3.weight`), w.get(`${prefix}.w3.bias`), outScale);
}

/** `x · gamma` for a LayerScale, or `x` without one. */
export function layerScale(g: GraphBuilder, x: Value, gamma: TensorRef | null): Value {
  return gamma ? g.op('Mul', [x, g.weight(gamma.name, gamma.dims, gamma.load)]) : x;
}
