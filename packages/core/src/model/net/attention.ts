import type { BackboneConfig } from '../../config/schema.js';
import { type GraphBuilder, type Value, attr } from '../graph/builder.js';
import { type TensorRef, concat, layerNorm, linear, reshape, shapeOf, slice, softmax, toFloat32, toGraphFloat, transpose } from '../graph/ops.js';
import type { WeightProvider } from '../checkpoint.js';

/** Per-token RoPE tables broadcastable against `[..., N, heads, headDim]`: cos/sin of shape [N, 1, headDim/2] per axis. */
export interface RopeTables {
  readonly cosY: Value;
  readonly sinY: Value;
  readonly cosX: Value;
  readonly sinX: Value;
}

/**
 * Largest patch-grid coordinate the RoPE tables cover: 1024 patches per side (14,336 pixels). The
 * pipeline refuses larger inputs.
 */
export const ROPE_MAX_POSITION = 1024;

/**
 * cos and sin of `pos · invFreq` for integer positions 0…maxPos, rows `[cos|sin](angles, angles)`
 * of width `half`, as float32 constants. Computed here in float64 from the float32 angle and
 * rounded once, so every runtime gets the same correctly rounded values; GPU `Sin`/`Cos` are only
 * accurate to about 2^-11 (the Vulkan bound), which moved WebGPU poses by 2e-4.
 */
function ropeLookup(invFreq: readonly number[], maxPos: number): { cos: number[]; sin: number[] } {
  const cos: number[] = [];
  const sin: number[] = [];
  for (let p = 0; p <= maxPos; p++) {
    const angles = invFreq.map((f) => Math.fround(p * f));
    for (const a of [...angles, ...angles]) {
      cos.push(Math.fround(Math.cos(a)));
      sin.push(Math.fround(Math.sin(a)));
    }
  }
  return { cos, sin };
}

/**
 * RoPE tables for `1 + h·w` tokens from positions computed in-graph (h, w dynamic): token 0 at
 * (0, 0); patches at (row+1, col+1) for local layers or all (1, 1) for global layers
 * (layers/rope.py, vision_transformer.py `_prepare_rope`). Angles are float32 `pos · invFreq`;
 * their cos/sin are gathered from precomputed tables ({@link ROPE_MAX_POSITION}).
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
    const table = (pos: Value) => {
      const rows = (t: Value) => toPrecision(reshape(g, g.op('Gather', [t, pos], { axis: 0 }), [-1, 1, half]));
      return { cos: rows(cosTable), sin: rows(sinTable) };
    };
    const y = table(flat(ys));
    const x = table(flat(xs));
    return { cosY: y.cos, sinY: y.sin, cosX: x.cos, sinX: x.sin };
  });
}

function rotateHalf(g: GraphBuilder, t: Value, half: number): Value {
  const q = half / 2;
  const a = slice(g, t, [0], [q], [-1]);
  const b = slice(g, t, [q], [half], [-1]);
  return concat(g, [g.op('Neg', [b]), a], -1);
}

/** Applies 2D RoPE to `t` laid out [..., N, heads, headDim]: y rotates the first half, x the second. */
export function applyRope(g: GraphBuilder, t: Value, tables: RopeTables, headDim: number): Value {
  const half = headDim / 2;
  const ty = slice(g, t, [0], [half], [-1]);
  const tx = slice(g, t, [half], [headDim], [-1]);
  const ry = g.op('Add', [g.op('Mul', [ty, tables.cosY]), g.op('Mul', [rotateHalf(g, ty, half), tables.sinY])]);
  const rx = g.op('Add', [g.op('Mul', [tx, tables.cosX]), g.op('Mul', [rotateHalf(g, tx, half), tables.sinX])]);
  return concat(g, [ry, rx], -1);
}

/** Options for one attention call. */
export interface AttentionOptions {
  /** Per-view (`local`) or all views jointly (`global`). */
  readonly kind: 'local' | 'global';
  readonly qkNorm: boolean;
  readonly rope: RopeTables | null;
}

/**
 * DINOv2 attention on x [B, S, N, C] (`attn.qkv`, optional `attn.q_norm`/`attn.k_norm`
 * LayerNorm(head_dim) before RoPE, scaled dot product with scale head_dim^−½, `attn.proj`).
 * Local attention keeps views apart (batch B·S); global attention attends over all S·N tokens.
 */
export function attention(g: GraphBuilder, x: Value, w: WeightProvider, prefix: string, cfg: BackboneConfig, options: AttentionOptions): Value {
  const { numHeads: heads, headDim: hd, embedDim: C } = cfg;
  const lead = shapeOf(g, x, 0, 3);
  const qkv = reshape(g, linear(g, x, w.get(`${prefix}.qkv.weight`), w.get(`${prefix}.qkv.bias`)), [0, 0, 0, 3, heads, hd]);
  const pick = (i: number) => g.op('Squeeze', [slice(g, qkv, [i], [i + 1], [3]), g.int64([3])]);
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
    const mergedF = reshape(g, toGraphFloat(g, att), concat(g, [lead, g.int64([C])], 0));
    return linear(g, mergedF, w.get(`${prefix}.proj.weight`), w.get(`${prefix}.proj.bias`));
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
  const merged = reshape(g, out, concat(g, [lead, g.int64([C])], 0));
  return linear(g, merged, w.get(`${prefix}.proj.weight`), w.get(`${prefix}.proj.bias`));
}

/** The FFN of a block: Mlp (fc1 → GELU(erf) → fc2) or SwiGLU (w12 → silu(a)·b → w3). */
export function feedForward(g: GraphBuilder, x: Value, w: WeightProvider, prefix: string, cfg: BackboneConfig, geluFn: (v: Value) => Value): Value {
  if (cfg.ffn === 'mlp') {
    const h = geluFn(linear(g, x, w.get(`${prefix}.fc1.weight`), w.get(`${prefix}.fc1.bias`)));
    return linear(g, h, w.get(`${prefix}.fc2.weight`), w.get(`${prefix}.fc2.bias`));
  }
  const h = linear(g, x, w.get(`${prefix}.w12.weight`), w.get(`${prefix}.w12.bias`));
  const hidden = cfg.ffnHidden;
  const a = slice(g, h, [0], [hidden], [-1]);
  const b = slice(g, h, [hidden], [2 * hidden], [-1]);
  const silu = g.op('Mul', [a, g.op('Sigmoid', [a])]);
  return linear(g, g.op('Mul', [silu, b]), w.get(`${prefix}.w3.weight`), w.get(`${prefix}.w3.bias`));
}

/** `x · gamma` for a LayerScale, or `x` without one. */
export function layerScale(g: GraphBuilder, x: Value, gamma: TensorRef | null): Value {
  return gamma ? g.op('Mul', [x, g.weight(gamma.name, gamma.dims, gamma.load)]) : x;
}
