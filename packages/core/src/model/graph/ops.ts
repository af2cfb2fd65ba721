import { type GraphBuilder, type Value, attr } from './builder.js';

/**
 * Composite ops on top of {@link GraphBuilder}, each one ONNX-opset-17 pattern that the CPU,
 * CUDA and WebGPU execution providers all implement. Float tensors are in the builder's
 * precision; LayerNorm and Softmax run in float32 even in fp16 graphs.
 */

/** A lazily loaded float32 tensor from the checkpoint. */
export interface TensorRef {
  readonly name: string;
  readonly dims: readonly number[];
  readonly load: () => Promise<Float32Array>;
}

/** Transposes a row-major [rows, cols] matrix. */
export function transposeMatrix(data: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(data.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = data[r * cols + c];
  return out;
}

/**
 * `x · Wᵀ + b` for a torch `Linear` (weight [out, in], stored transposed for MatMul). With
 * `outScale` (a per-output γ such as a LayerScale), `(x · Wᵀ + b)·γ` is computed as
 * `x · (Wᵀγ) + bγ`: γ is folded into the stored weights (in float32, before any fp16 rounding).
 */
export function linear(g: GraphBuilder, x: Value, weight: TensorRef, bias?: TensorRef | null, outScale?: TensorRef | null): Value {
  const [outDim, inDim] = weight.dims;
  const scaled = (data: Float32Array, gamma: Float32Array | null, rowLength: number) => {
    if (!gamma) return data;
    for (let i = 0; i < data.length; i++) data[i] = Math.fround(data[i] * gamma[i % rowLength]);
    return data;
  };
  const gammaOf = async () => (outScale ? outScale.load() : null);
  const tag = outScale ? `*${outScale.name}` : '';
  const w = g.weight(`${weight.name}.T${tag}`, [inDim, outDim], async () => scaled(transposeMatrix(await weight.load(), outDim, inDim), await gammaOf(), outDim));
  const y = g.op('MatMul', [x, w]);
  if (!bias) return outScale ? g.op('Mul', [y, g.weight(outScale.name, outScale.dims, outScale.load)]) : y;
  return g.op('Add', [y, g.weight(`${bias.name}${tag}`, bias.dims, async () => scaled(Float32Array.from(await bias.load()), await gammaOf(), outDim))]);
}

/** Casts to float32 when the graph is fp16 (no-op otherwise). */
export function toFloat32(g: GraphBuilder, x: Value): Value {
  return g.precision === 'float16' ? g.op('Cast', [x], { to: 1 }) : x;
}

/** Casts a float32 value back to the graph's precision (no-op for fp32 graphs). */
export function toGraphFloat(g: GraphBuilder, x: Value): Value {
  return g.precision === 'float16' ? g.op('Cast', [x], { to: 10 }) : x;
}

/** LayerNorm over the last axis (float32 compute, affine). */
export function layerNorm(g: GraphBuilder, x: Value, weight: TensorRef, bias: TensorRef, eps: number): Value {
  const w = g.weightFloat32(weight.name, weight.dims, weight.load);
  const b = g.weightFloat32(bias.name, bias.dims, bias.load);
  const y = g.op('LayerNormalization', [toFloat32(g, x), w, b], { axis: -1, epsilon: attr.float(eps) });
  return toGraphFloat(g, y);
}

/** Softmax over `axis` (float32 compute). */
export function softmax(g: GraphBuilder, x: Value, axis = -1): Value {
  return toGraphFloat(g, g.op('Softmax', [toFloat32(g, x)], { axis }));
}

/**
 * Exact (erf) GELU: 0.5·x·(1 + erf(x/√2)), written as the pattern onnxruntime's GeluFusion matches
 * (`Div(√2) → Erf → Add(1) → Mul(Mul(x, 0.5))`), so it runs as one fused `Gelu` kernel (and
 * `BiasGelu` with the preceding bias Add) where the provider has one.
 */
export function gelu(g: GraphBuilder, x: Value): Value {
  const e = g.op('Erf', [g.op('Div', [x, g.floatConst([Math.SQRT2], [])])]);
  const onePlus = g.op('Add', [e, g.floatConst([1], [])]);
  return g.op('Mul', [g.op('Mul', [x, g.floatConst([0.5], [])]), onePlus]);
}

/** Reshape to a static/with-zero-copy shape (0 keeps a dim, −1 infers one) or a computed shape. */
export function reshape(g: GraphBuilder, x: Value, shape: readonly number[] | Value): Value {
  return g.op('Reshape', [x, typeof shape === 'string' ? shape : g.int64(shape)]);
}

/** Transpose with a permutation. */
export function transpose(g: GraphBuilder, x: Value, perm: readonly number[]): Value {
  return g.op('Transpose', [x], { perm });
}

/** Concatenate along `axis`. */
export function concat(g: GraphBuilder, xs: readonly Value[], axis: number): Value {
  return g.op('Concat', xs, { axis });
}

/** Static slice `x[starts:ends]` along `axes`. */
export function slice(g: GraphBuilder, x: Value, starts: readonly number[], ends: readonly number[], axes: readonly number[]): Value {
  return g.op('Slice', [x, g.int64(starts), g.int64(ends), g.int64(axes)]);
}

/** `Shape(x)[start:end]` as an int64 vector. */
export function shapeOf(g: GraphBuilder, x: Value, start?: number, end?: number): Value {
  const a: Record<string, number> = {};
  if (start !== undefined) a.start = start;
  if (end !== undefined) a.end = end;
  return g.op('Shape', [x], a);
}

/** Conv2d (torch layout weights [out, in, kh, kw]) with symmetric padding. */
export function conv2d(
  g: GraphBuilder,
  x: Value,
  weight: TensorRef,
  bias: TensorRef | null,
  options: { stride?: number; padding?: number } = {},
): Value {
  const [, , kh, kw] = weight.dims;
  const s = options.stride ?? 1;
  const p = options.padding ?? 0;
  const inputs = [x, g.weight(weight.name, weight.dims, weight.load)];
  if (bias) inputs.push(g.weight(bias.name, bias.dims, bias.load));
  return g.op('Conv', inputs, { kernel_shape: [kh, kw], strides: [s, s], pads: [p, p, p, p], dilations: [1, 1], group: 1 });
}

/** ConvTranspose2d (torch layout weights [in, out, kh, kw]), no padding. */
export function convTranspose2d(g: GraphBuilder, x: Value, weight: TensorRef, bias: TensorRef | null, stride: number): Value {
  const [, , kh, kw] = weight.dims;
  const inputs = [x, g.weight(weight.name, weight.dims, weight.load)];
  if (bias) inputs.push(g.weight(bias.name, bias.dims, bias.load));
  return g.op('ConvTranspose', inputs, { kernel_shape: [kh, kw], strides: [stride, stride], pads: [0, 0, 0, 0], dilations: [1, 1], group: 1 });
}
