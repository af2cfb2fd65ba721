import { Da3Error } from '../../errors.js';
import type { OnnxAttribute, OnnxInitializer, OnnxModel, OnnxNode } from '../onnx/types.js';
import { quantizeBlockwise, quantizePerColumn, quantizePerOutputChannel } from './weights.js';

/**
 * How the MatMuls with a constant weight are quantized:
 * - `dynamic`: `com.microsoft.DynamicQuantizeMatMul` — int8 weights with one scale per output
 *   column; the activations are quantized to uint8 on the fly and the product runs on
 *   onnxruntime's integer GEMM (the fastest on x86 AVX2 and on WASM SIMD).
 * - `nbits`: `com.microsoft.MatMulNBits` — 8- or 4-bit weights in blocks along K, dequantized in
 *   the kernel (`accuracyLevel` 4: int8 activations per block).
 * - `qdq`: int8 weights behind a `DequantizeLinear` (per column) feeding a plain MatMul.
 */
export type MatMulQuantization =
  | {
      readonly kind: 'dynamic';
      /** Largest code magnitude (127, or 63 to keep x86 AVX2's int8 kernels from saturating). */
      readonly qmax?: 127 | 63;
      /** Store the codes as uint8 with zero point 128 (onnxruntime's U8U8 kernels: no saturation, slower on AVX2). */
      readonly unsigned?: boolean;
      /**
       * Quantize an activation read by several quantized MatMuls once (attention's q, k and v):
       * one `DynamicQuantizeLinear` (uint8, per tensor, as `DynamicQuantizeMatMul` does inside)
       * feeds a `com.microsoft.MatMulIntegerToFloat` per MatMul (bias folded). Default false.
       */
      readonly shareActivations?: boolean;
    }
  | { readonly kind: 'nbits'; readonly bits: 4 | 8; readonly blockSize: 16 | 32 | 64 | 128 | 256; readonly accuracyLevel?: 0 | 1 | 2 | 3 | 4 }
  | { readonly kind: 'qdq' };

/** Options of {@link quantizeGraph}. */
export interface QuantizeGraphOptions {
  /** MatMul scheme; `null` leaves MatMuls in float32. */
  readonly matmul: MatMulQuantization | null;
  /**
   * Store Conv weights as int8 (one scale per output channel) behind a `DequantizeLinear`:
   * compute stays float32 (onnxruntime folds the dequantization when the session is created), the
   * file shrinks. Default false.
   */
  readonly convWeights?: boolean;
  /**
   * Compute the attention scores q·kᵀ of every `com.microsoft.MultiHeadAttention` node (q, k, v
   * inputs [B, L, C], a `scale` attribute) on the integer GEMM: q and k quantized to uint8 per
   * tensor (`DynamicQuantizeLinear`), multiplied by `com.microsoft.MatMulIntegerToFloat`, the
   * softmax and the product with v in float32 (probabilities do not survive 8 bits). Default false.
   */
  readonly attentionScores?: boolean;
  /** Which candidate nodes (MatMul / Conv with a float32 initializer weight) to quantize (default: all). */
  readonly include?: (node: OnnxNode, weight: OnnxInitializer) => boolean;
  /** Value of the `da3js.quantization` metadata entry (default: unchanged metadata). */
  readonly label?: string;
}

/** What {@link quantizeGraph} changed. */
export interface QuantizeGraphReport {
  readonly matmuls: number;
  readonly convs: number;
  /** MultiHeadAttention nodes rewritten by `attentionScores` (absent when that option is off). */
  readonly attentions?: number;
}

const int = (value: number): OnnxAttribute => ({ type: 'int', value });

function float32View(bytes: Uint8Array): Float32Array {
  if (bytes.byteOffset % 4 === 0) return new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
  return new Float32Array(bytes.slice().buffer);
}

const bytesOf = (a: ArrayBufferView) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);

/**
 * Derives several initializers from one float32 source, loading and quantizing it once while the
 * writer takes them in turn (the result is kept only until every part has been read).
 */
function derived<T>(source: OnnxInitializer, compute: (w: Float32Array) => T, parts: number): (pick: (t: T) => ArrayBufferView) => () => Promise<Uint8Array> {
  let pending: Promise<T> | undefined;
  let left = 0;
  return (pick) => async () => {
    if (!pending) {
      pending = Promise.resolve(source.load()).then((b) => compute(float32View(b)));
      left = parts;
    }
    const result = await pending;
    if (--left === 0) pending = undefined;
    return bytesOf(pick(result)).slice();
  };
}

/**
 * A quantization pass over a built float32 graph: every `MatMul` whose second input is a 2-D
 * float32 initializer (a linear layer's weight) is rewritten per `options.matmul`, folding a
 * following `Add` of a [N] initializer (the bias) into the quantized op where it takes one; with
 * `convWeights`, `Conv` weights are stored as int8. Weights stay lazy: each is read from the
 * source initializer and quantized when the model is written, so converting streams as before.
 *
 * @throws Da3Error `BAD_VALUE` for a graph whose float weights are not float32 (fp16 graphs)
 */
export function quantizeGraph(model: OnnxModel, options: QuantizeGraphOptions): { model: OnnxModel; report: QuantizeGraphReport } {
  const { graph } = model;
  const inits = new Map(graph.initializers.map((i) => [i.name, i]));
  const consumers = new Map<string, number>();
  for (const n of graph.nodes) for (const i of n.inputs) consumers.set(i, (consumers.get(i) ?? 0) + 1);
  const graphOutputs = new Set(graph.outputs.map((o) => o.name));
  const consumerOf = new Map<string, number>();
  graph.nodes.forEach((n, i) => {
    for (const input of n.inputs) consumerOf.set(input, i);
  });

  const nodes: (OnnxNode | null)[] = [...graph.nodes];
  // Activations read by two or more MatMuls that this pass quantizes with `shareActivations`:
  // quantized once, by one DynamicQuantizeLinear placed before the first of them.
  const sharedQuant = new Map<string, { first: number; outputs: [string, string, string] }>();
  if (options.matmul?.kind === 'dynamic' && options.matmul.shareActivations) {
    const readers = new Map<string, number[]>();
    graph.nodes.forEach((node, i) => {
      const weight = inits.get(node.inputs[1] ?? '');
      if (node.opType !== 'MatMul' || node.domain || !weight || weight.dataType !== 'float32' || weight.dims.length !== 2) return;
      if (options.include && !options.include(node, weight)) return;
      readers.set(node.inputs[0], [...(readers.get(node.inputs[0]) ?? []), i]);
    });
    for (const [input, at] of readers) {
      if (at.length < 2) continue;
      const q = `${input}.quantized`;
      sharedQuant.set(input, { first: at[0], outputs: [q, `${q}.scale`, `${q}.zero`] });
    }
  }
  /** Nodes to insert before node i (dequantizations). */
  const before = new Map<number, OnnxNode[]>();
  const added: OnnxInitializer[] = [];
  /** Quantized initializers already made, by `<weight>.<scheme>` (a weight shared by several nodes is stored once). */
  const made = new Set<string>();
  const addOnce = (name: string, make: () => OnnxInitializer[]) => {
    if (made.has(name)) return;
    made.add(name);
    added.push(...make());
  };
  const replaced = new Set<string>();
  const madeConstant = (name: string, make: () => OnnxInitializer) => addOnce(name, () => [make()]);
  let matmuls = 0;
  let convs = 0;
  let usesContrib = false;
  let usesDq = false;

  let attentions = 0;
  for (let idx = 0; idx < nodes.length; idx++) {
    const node = nodes[idx];
    if (node && options.attentionScores && node.opType === 'MultiHeadAttention' && node.domain === 'com.microsoft') {
      const rewritten = integerScoresAttention(node, added, madeConstant);
      if (rewritten) {
        before.set(idx, rewritten);
        nodes[idx] = null;
        usesContrib = true;
        attentions++;
      }
      continue;
    }
    if (!node || node.domain) continue;
    const weight = inits.get(node.inputs[1] ?? '');
    if (!weight) continue;
    if (weight.dataType === 'float16') throw new Da3Error('BAD_VALUE', 'quantizeGraph: the graph has float16 weights; quantize a float32 graph');
    if (weight.dataType !== 'float32') continue;
    if (node.opType === 'MatMul' && options.matmul && weight.dims.length === 2) {
      if (options.include && !options.include(node, weight)) continue;
      const [K, N] = weight.dims;
      const y = node.outputs[0];
      // A bias Add that only this MatMul feeds.
      let bias: OnnxInitializer | undefined;
      let out = y;
      const addIdx = consumerOf.get(y);
      const add = addIdx !== undefined ? nodes[addIdx] : null;
      if (add && add.opType === 'Add' && !add.domain && consumers.get(y) === 1 && !graphOutputs.has(y)) {
        const other = add.inputs[0] === y ? add.inputs[1] : add.inputs[0];
        const b = inits.get(other);
        if (b && b.dataType === 'float32' && b.dims.length === 1 && b.dims[0] === N && options.matmul.kind !== 'qdq') {
          bias = b;
          out = add.outputs[0];
          nodes[addIdx!] = null;
        }
      }
      const base = `${weight.name}.${options.matmul.kind === 'nbits' ? `q${options.matmul.bits}` : 'q8'}`;
      const scaleName = `${base}.scale`;
      let replacement: OnnxNode;
      if (options.matmul.kind === 'nbits') {
        const { bits, blockSize, accuracyLevel = 4 } = options.matmul;
        const blocks = Math.ceil(K / blockSize);
        addOnce(base, () => {
          const part = derived(weight, (w) => quantizeBlockwise(w, K, N, bits, blockSize), 2);
          return [
            { name: base, dataType: 'uint8', dims: [N, blocks, (blockSize * bits) / 8], load: part((r) => r.packed) },
            { name: scaleName, dataType: 'float32', dims: [N * blocks], load: part((r) => r.scales) },
          ];
        });
        replacement = {
          opType: 'MatMulNBits',
          domain: 'com.microsoft',
          inputs: bias ? [node.inputs[0], base, scaleName, '', '', bias.name] : [node.inputs[0], base, scaleName],
          outputs: [out],
          name: node.name,
          attributes: { K: int(K), N: int(N), bits: int(bits), block_size: int(blockSize), accuracy_level: int(accuracyLevel) },
        };
        usesContrib = true;
      } else {
        const qmax = options.matmul.kind === 'dynamic' ? (options.matmul.qmax ?? 127) : 127;
        const unsigned = options.matmul.kind === 'dynamic' && options.matmul.unsigned === true;
        const zeroName = `${base}.zero`;
        addOnce(base, () => {
          const part = derived(weight, (w) => quantizePerColumn(w, K, N, qmax), 2);
          const codes: OnnxInitializer = unsigned
            ? { name: base, dataType: 'uint8', dims: [K, N], load: part((r) => Uint8Array.from(r.q, (v) => v + 128)) }
            : { name: base, dataType: 'int8', dims: [K, N], load: part((r) => r.q) };
          const zero: OnnxInitializer[] = unsigned ? [{ name: zeroName, dataType: 'uint8', dims: [N], load: () => new Uint8Array(N).fill(128) }] : [];
          return [codes, { name: scaleName, dataType: 'float32', dims: [N], load: part((r) => r.scale) }, ...zero];
        });
        const shared = options.matmul.kind === 'dynamic' ? sharedQuant.get(node.inputs[0]) : undefined;
        if (shared) {
          if (shared.first === idx) {
            before.set(idx, [{ opType: 'DynamicQuantizeLinear', inputs: [node.inputs[0]], outputs: [...shared.outputs], name: `${node.name}/quantize_input` }]);
          }
          const [qa, qaScale, qaZero] = shared.outputs;
          replacement = {
            opType: 'MatMulIntegerToFloat',
            domain: 'com.microsoft',
            inputs: [qa, base, qaScale, scaleName, qaZero, unsigned ? zeroName : '', ...(bias ? [bias.name] : [])],
            outputs: [out],
            name: node.name,
          };
          usesContrib = true;
        } else if (options.matmul.kind === 'dynamic') {
          const zp = unsigned ? zeroName : '';
          replacement = {
            opType: 'DynamicQuantizeMatMul',
            domain: 'com.microsoft',
            inputs: bias ? [node.inputs[0], base, scaleName, zp, bias.name] : unsigned ? [node.inputs[0], base, scaleName, zp] : [node.inputs[0], base, scaleName],
            outputs: [out],
            name: node.name,
          };
          usesContrib = true;
        } else {
          const deq = `${base}.dequantized.${idx}`;
          before.set(idx, [{ opType: 'DequantizeLinear', inputs: [base, scaleName], outputs: [deq], name: `${node.name}/dequantize`, attributes: { axis: int(1) } }]);
          replacement = { ...node, inputs: [node.inputs[0], deq, ...node.inputs.slice(2)] };
          usesDq = true;
        }
      }
      nodes[idx] = replacement;
      replaced.add(weight.name);
      if (bias) replaced.add(bias.name);
      matmuls++;
    } else if (node.opType === 'Conv' && options.convWeights && weight.dims.length === 4) {
      if (options.include && !options.include(node, weight)) continue;
      const base = `${weight.name}.q8`;
      const scaleName = `${base}.scale`;
      addOnce(base, () => {
        const part = derived(weight, (w) => quantizePerOutputChannel(w, weight.dims[0]), 2);
        return [
          { name: base, dataType: 'int8', dims: weight.dims, load: part((r) => r.q) },
          { name: scaleName, dataType: 'float32', dims: [weight.dims[0]], load: part((r) => r.scale) },
        ];
      });
      const deq = `${base}.dequantized.${idx}`;
      before.set(idx, [{ opType: 'DequantizeLinear', inputs: [base, scaleName], outputs: [deq], name: `${node.name}/dequantize`, attributes: { axis: int(0) } }]);
      nodes[idx] = { ...node, inputs: [node.inputs[0], deq, ...node.inputs.slice(2)] };
      replaced.add(weight.name);
      usesDq = true;
      convs++;
    }
  }

  const kept: OnnxNode[] = [];
  nodes.forEach((n, i) => {
    kept.push(...(before.get(i) ?? []));
    if (n) kept.push(n);
  });
  const stillUsed = new Set<string>();
  for (const n of kept) for (const i of n.inputs) stillUsed.add(i);
  const initializers = [...graph.initializers.filter((i) => !replaced.has(i.name) || stillUsed.has(i.name)), ...added];
  const opsets: Record<string, number> = { ...model.opsets };
  // DequantizeLinear with a per-axis scale needs opset 13; the graph is opset 17 already.
  if (usesDq && (opsets[''] ?? 0) < 13) opsets[''] = 13;
  if (usesContrib) opsets['com.microsoft'] = Math.max(opsets['com.microsoft'] ?? 1, 1);
  const metadata = options.label ? { ...model.metadata, 'da3js.quantization': options.label } : model.metadata;
  return {
    model: { ...model, opsets, metadata, graph: { ...graph, nodes: kept, initializers } },
    report: options.attentionScores ? { matmuls, convs, attentions } : { matmuls, convs },
  };
}

const int64s = (name: string, values: readonly number[]): OnnxInitializer => ({ name, dataType: 'int64', dims: [values.length], load: () => bytesOf(BigInt64Array.from(values, BigInt)) });

/**
 * The nodes computing a `com.microsoft.MultiHeadAttention` (q, k, v [B, L, C], `num_heads`,
 * `scale`) with q·kᵀ on the integer GEMM, or null for a node of another form (masks, biases,
 * past state, no `scale`), which stays as it is. Shared constants are added once through `constant`.
 */
function integerScoresAttention(node: OnnxNode, added: OnnxInitializer[], constant: (name: string, make: () => OnnxInitializer) => void): OnnxNode[] | null {
  const heads = node.attributes?.num_heads;
  const scale = node.attributes?.scale;
  if (node.inputs.length !== 3 || node.inputs.some((i) => !i) || node.outputs.length !== 1 || heads?.type !== 'int' || scale?.type !== 'float') return null;
  const [q, k, v] = node.inputs;
  const at = node.name ?? node.outputs[0];
  const headsShape = `attention.heads_shape.${heads.value}`;
  constant(headsShape, () => int64s(headsShape, [0, 0, heads.value, -1]));
  constant('attention.merged_shape', () => int64s('attention.merged_shape', [0, 0, -1]));
  const scaleName = `${at}/scale`;
  added.push({ name: scaleName, dataType: 'float32', dims: [], load: () => bytesOf(Float32Array.of(scale.value)) });
  const t = (name: string) => `${at}/${name}`;
  // [B, L, C] (uint8 or float) → [B, heads, L, d] (or [B, heads, d, L] for kᵀ).
  const split = (x: string, name: string, perm: number[]): OnnxNode[] => [
    { opType: 'Reshape', inputs: [x, headsShape], outputs: [t(`${name}.heads`)], name: t(`${name}/reshape`) },
    { opType: 'Transpose', inputs: [t(`${name}.heads`)], outputs: [t(name)], name: t(`${name}/transpose`), attributes: { perm: { type: 'ints', value: perm } } },
  ];
  return [
    // Quantized per tensor before the head split (the same numbers; a quarter of the bytes to move).
    { opType: 'DynamicQuantizeLinear', inputs: [q], outputs: [t('q.u8'), t('q.scale'), t('q.zero')], name: t('q/quantize') },
    { opType: 'DynamicQuantizeLinear', inputs: [k], outputs: [t('k.u8'), t('k.scale'), t('k.zero')], name: t('k/quantize') },
    ...split(t('q.u8'), 'qh', [0, 2, 1, 3]),
    ...split(t('k.u8'), 'kt', [0, 2, 3, 1]),
    ...split(v, 'vh', [0, 2, 1, 3]),
    { opType: 'Mul', inputs: [t('q.scale'), scaleName], outputs: [t('q.scale.scaled')], name: t('q/scale') },
    {
      opType: 'MatMulIntegerToFloat',
      domain: 'com.microsoft',
      inputs: [t('qh'), t('kt'), t('q.scale.scaled'), t('k.scale'), t('q.zero'), t('k.zero')],
      outputs: [t('scores')],
      name: t('scores'),
    },
    { opType: 'Softmax', inputs: [t('scores')], outputs: [t('probs')], name: t('softmax'), attributes: { axis: int(-1) } },
    { opType: 'MatMul', inputs: [t('probs'), t('vh')], outputs: [t('out.heads')], name: t('values') },
    { opType: 'Transpose', inputs: [t('out.heads')], outputs: [t('out')], name: t('out/transpose'), attributes: { perm: { type: 'ints', value: [0, 2, 1, 3] } } },
    { opType: 'Reshape', inputs: [t('out'), 'attention.merged_shape'], outputs: [node.outputs[0]], name: t('out/reshape') },
  ];
}
