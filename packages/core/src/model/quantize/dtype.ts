import { Da3Error } from '../../errors.js';
import type { FloatPrecision } from '../graph/builder.js';
import type { OnnxModel, OnnxNode } from '../onnx/types.js';
import { type QuantizeGraphOptions, quantizeGraph } from './quantize-graph.js';

/**
 * Weight quantization of a converted DA3 graph. `q8`: the backbone's linear layers (attention
 * qkv/proj, MLP) as int8 weights with one scale per output column, run by onnxruntime's
 * `DynamicQuantizeMatMul` (activations quantized to uint8 on the fly, integer GEMM) on the CPU and
 * WASM execution providers. Everything else (patch embedding, camera encoder/decoder, DPT head
 * convolutions) stays float32: the head's convolutions gain no speed from int8 on these
 * runtimes and lose accuracy.
 */
export type GraphQuantization = 'q8';

/** The quantizations {@link quantizeNetGraph} makes. */
export const GRAPH_QUANTIZATIONS: readonly GraphQuantization[] = Object.freeze(['q8']);

/** A graph's weight type as users name it (transformers.js's `dtype` names). */
export type GraphDtype = 'fp32' | 'fp16' | GraphQuantization;

/** Every {@link GraphDtype}. */
export const GRAPH_DTYPES: readonly GraphDtype[] = Object.freeze(['fp32', 'fp16', 'q8']);

/**
 * dtype names transformers.js (and onnx-community model repos) use that da3js does not build, with
 * why — asked for, they are refused with `UNSUPPORTED` rather than silently run as something else.
 */
const NOT_BUILT: Readonly<Record<string, string>> = Object.freeze({
  q4: '4-bit weights (MatMulNBits) moved DA3-SMALL depth 2.4% and poses 1.6e-2 from fp32, past the 2% / 1e-2 bar, and run no faster than fp32 on CPU or WASM; use "q8"',
  q4f16: '4-bit weights are not built (see "q4"); use "q8", or "fp16" on WebGPU',
  bnb4: '4-bit weights are not built (see "q4"); use "q8"',
  int8: 'the int8 graph is called "q8" here',
  uint8: 'uint8 weights are not built; use "q8" (int8 weights, uint8 activations)',
});

/**
 * Checks a user's `dtype` option against what a runtime supports (`allowed`, which may add
 * `auto`), naming the option's owner in the message.
 * @throws Da3Error `UNSUPPORTED` for a dtype da3js knows but does not offer here (e.g. `q4`, or
 *   `q8` where the runtime has no int8 kernels), `BAD_VALUE` for anything else
 */
export function assertDtype<T extends string>(value: unknown, allowed: readonly T[], where: string): asserts value is T {
  if (allowed.includes(value as T)) return;
  const list = allowed.map((a) => `"${a}"`).join(', ');
  if (typeof value === 'string' && (NOT_BUILT[value] || GRAPH_DTYPES.includes(value as GraphDtype))) {
    const why = NOT_BUILT[value] ?? 'not available on this runtime';
    throw new Da3Error('UNSUPPORTED', `${where}: dtype "${value}" is not supported (${why}); supported: ${list}`);
  }
  throw new Da3Error('BAD_VALUE', `${where}: unknown dtype ${JSON.stringify(value)}; should be one of ${list}`);
}

/**
 * The float precision and quantization of a dtype (both keys always present, so spreading it over
 * a build replaces both).
 */
export function graphDtypeChoice(dtype: GraphDtype): { readonly precision: FloatPrecision; readonly quantization: GraphQuantization | undefined } {
  if (dtype === 'fp16') return { precision: 'float16', quantization: undefined };
  if (dtype === 'q8') return { precision: 'float32', quantization: 'q8' };
  return { precision: 'float32', quantization: undefined };
}

/** The dtype name of a build's precision and quantization. */
export function graphDtypeOf(build: { readonly precision: FloatPrecision; readonly quantization?: GraphQuantization }): GraphDtype {
  return build.quantization ?? (build.precision === 'float16' ? 'fp16' : 'fp32');
}

/** Node-name scope of the backbone's ops (the token-wise linears quantized by `q8`). */
const inBackbone = (node: OnnxNode) => node.name?.startsWith('backbone/') === true;

/** The {@link quantizeGraph} options of each quantization of a DA3 network graph. */
export const DA3_QUANTIZATION: Readonly<Record<GraphQuantization, QuantizeGraphOptions>> = Object.freeze({
  // 7-bit codes: x86 AVX2 (no VNNI) multiplies uint8 × int8 pairs into saturating int16 lanes, and
  // full-range int8 weights moved DA3 depth by 4% there; 63 never saturates and costs ~0.1% depth.
  q8: { matmul: { kind: 'dynamic', qmax: 63 }, include: inBackbone, label: 'q8' },
});

/**
 * Quantizes a float32 DA3 network graph (`buildNetGraph`'s output) per {@link DA3_QUANTIZATION};
 * the result records `da3js.quantization` in its metadata.
 * @throws Da3Error `BAD_VALUE` for an fp16 graph or an unknown quantization, `UNSUPPORTED` for
 *   one da3js knows but does not build (`q4`)
 */
export function quantizeNetGraph(model: OnnxModel, quantization: GraphQuantization): OnnxModel {
  assertDtype(quantization, GRAPH_QUANTIZATIONS, 'quantizeNetGraph');
  const options = DA3_QUANTIZATION[quantization];
  if (model.metadata?.['da3js.precision'] === 'float16') throw new Da3Error('BAD_VALUE', `quantizeNetGraph: ${quantization} quantizes a float32 graph; this one is float16`);
  return quantizeGraph(model, options).model;
}
