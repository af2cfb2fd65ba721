import { Da3Error } from '../../errors.js';
import { float32ToFloat16Bits } from '../../weights/dtype.js';
import type { OnnxAttribute, OnnxDataType, OnnxInitializer, OnnxModel, OnnxNode, OnnxValueInfo } from '../onnx/types.js';

/** A tensor in the graph under construction (its ONNX value name). */
export type Value = string;

/** Attribute shorthands: integers and integer lists are inferred; floats must be explicit. */
export type AttrInput = OnnxAttribute | number | readonly number[] | string;

/** Explicit attribute constructors. */
export const attr = Object.freeze({
  int: (value: number): OnnxAttribute => ({ type: 'int', value }),
  float: (value: number): OnnxAttribute => ({ type: 'float', value }),
  ints: (value: readonly number[]): OnnxAttribute => ({ type: 'ints', value }),
  floats: (value: readonly number[]): OnnxAttribute => ({ type: 'floats', value }),
  string: (value: string): OnnxAttribute => ({ type: 'string', value }),
});

function toAttribute(name: string, v: AttrInput): OnnxAttribute {
  if (typeof v === 'string') return { type: 'string', value: v };
  if (typeof v === 'number') {
    if (!Number.isInteger(v)) throw new Da3Error('BAD_VALUE', `graph: attribute ${name}=${v} is not an integer; use attr.float()`);
    return { type: 'int', value: v };
  }
  if (Array.isArray(v)) {
    if (!v.every(Number.isInteger)) throw new Da3Error('BAD_VALUE', `graph: attribute ${name} has non-integers; use attr.floats()`);
    return { type: 'ints', value: v as number[] };
  }
  return v as OnnxAttribute;
}

/** Float precision of weights and compute. */
export type FloatPrecision = 'float32' | 'float16';

/** Options of {@link GraphBuilder}. */
export interface GraphBuilderOptions {
  readonly name: string;
  /** Weight and activation precision (default float32). */
  readonly precision?: FloatPrecision;
  /**
   * Debug taps to expose as extra outputs (`true` for all): intermediate tensors named like the
   * fixtures (`backbone.block03`, `head.stage0`, …) for parity bisection.
   */
  readonly taps?: boolean | ReadonlySet<string>;
  /**
   * Attention as the `com.microsoft.MultiHeadAttention` contrib op (onnxruntime's fused kernels:
   * no materialised score matrix on CPU, flash attention on GPUs) instead of MatMul–Softmax–MatMul.
   */
  readonly fusedAttention?: boolean;
}

const bytesOf = (a: ArrayBufferView) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);

/**
 * Builds an ONNX graph op by op. Values are plain names; node and value names are made unique
 * and carry the current scope (`backbone/blocks.3/attn/...`), so a profile or a Netron view reads
 * like the reference's module tree. Small constants are de-duplicated.
 *
 * Usage:
 * ```ts
 * const g = new GraphBuilder({ name: 'da3' });
 * const x = g.input('images', 'float32', ['B', 'N', 3, 'H', 'W']);
 * const y = g.op('Relu', [x]);
 * g.output(y, 'y', 'float32', ['B', 'N', 3, 'H', 'W']);
 * const model = g.build();
 * ```
 */
export class GraphBuilder {
  readonly precision: FloatPrecision;
  private readonly name: string;
  private readonly nodes: OnnxNode[] = [];
  private readonly inputs: OnnxValueInfo[] = [];
  private readonly outputs: OnnxValueInfo[] = [];
  private readonly initializers: OnnxInitializer[] = [];
  private readonly initializerByName = new Map<string, OnnxInitializer>();
  private readonly constants = new Map<string, Value>();
  private readonly scopes: string[] = [];
  private counter = 0;

  private readonly taps: boolean | ReadonlySet<string>;
  /** See {@link GraphBuilderOptions.fusedAttention}. */
  readonly fusedAttention: boolean;

  constructor(options: GraphBuilderOptions) {
    this.name = options.name;
    this.precision = options.precision ?? 'float32';
    this.taps = options.taps ?? false;
    this.fusedAttention = options.fusedAttention ?? false;
  }

  /**
   * Exposes `value` as the extra output `name` when taps are enabled for it (shape unspecified;
   * float values are cast to float32). Returns `value` so calls can be inlined.
   */
  tap(name: string, value: Value, dataType: OnnxDataType = this.floatType): Value {
    const on = this.taps === true || (this.taps instanceof Set && this.taps.has(name));
    if (!on) return value;
    const out = dataType === 'float16' ? this.op('Cast', [value], { to: 1 }) : value;
    this.nodes.push({ opType: 'Identity', inputs: [out], outputs: [name], name: `tap/${name}` });
    this.outputs.push({ name, dataType: dataType === 'float16' ? 'float32' : dataType, shape: null });
    return value;
  }

  /** The ONNX element type of float activations and weights. */
  get floatType(): OnnxDataType {
    return this.precision === 'float16' ? 'float16' : 'float32';
  }

  /** Runs `fn` with `name` appended to the naming scope. */
  scope<T>(name: string, fn: () => T): T {
    this.scopes.push(name);
    try {
      return fn();
    } finally {
      this.scopes.pop();
    }
  }

  /** A fresh unique value name in the current scope. */
  fresh(hint: string): Value {
    const prefix = this.scopes.length ? `${this.scopes.join('/')}/` : '';
    return `${prefix}${hint}_${this.counter++}`;
  }

  /** Declares a graph input. */
  input(name: string, dataType: OnnxDataType, shape: readonly (number | string)[]): Value {
    this.inputs.push({ name, dataType, shape });
    return name;
  }

  /** Declares `value` as a graph output named `name` (adds an Identity when the names differ). */
  output(value: Value, name: string, dataType: OnnxDataType, shape: readonly (number | string)[] | null): void {
    if (value !== name) this.nodes.push({ opType: 'Identity', inputs: [value], outputs: [name], name: `output/${name}` });
    this.outputs.push({ name, dataType, shape });
  }

  /**
   * Adds a raw initializer (any type). Asking again for a name already added with the same type
   * and dims returns it (a weight used twice is stored once); a conflicting one throws.
   */
  initializer(init: OnnxInitializer): Value {
    const prior = this.initializerByName.get(init.name);
    if (prior) {
      if (prior.dataType !== init.dataType || prior.dims.join(',') !== init.dims.join(',')) {
        throw new Da3Error('BAD_VALUE', `graph: initializer "${init.name}" added twice with different types or dims`);
      }
      return init.name;
    }
    this.initializerByName.set(init.name, init);
    this.initializers.push(init);
    return init.name;
  }

  /**
   * A float weight loaded lazily (converted to float16 when the graph is fp16). The loader must
   * return exactly numel(dims) float32 values.
   */
  weight(name: string, dims: readonly number[], load: () => Float32Array | Promise<Float32Array>): Value {
    const fp16 = this.precision === 'float16';
    return this.initializer({
      name,
      dataType: this.floatType,
      dims,
      load: async () => {
        const data = await load();
        return fp16 ? bytesOf(float32ToFloat16Bits(data)) : bytesOf(data);
      },
    });
  }

  /** A float weight kept in float32 even in fp16 graphs (LayerNorm parameters, tables). */
  weightFloat32(name: string, dims: readonly number[], load: () => Float32Array | Promise<Float32Array>): Value {
    return this.initializer({ name, dataType: 'float32', dims, load: async () => bytesOf(await load()) });
  }

  private constant(kind: 'i64' | 'f32' | 'fx', values: readonly number[], dims: readonly number[]): Value {
    const key = `${kind}|${dims.join(',')}|${values.join(',')}`;
    const hit = this.constants.get(key);
    if (hit) return hit;
    const name = `const/${kind}_${this.constants.size}`;
    let dataType: OnnxDataType;
    let bytes: Uint8Array;
    if (kind === 'i64') {
      dataType = 'int64';
      bytes = bytesOf(BigInt64Array.from(values, (v) => BigInt(v)));
    } else if (kind === 'fx' && this.precision === 'float16') {
      dataType = 'float16';
      bytes = bytesOf(float32ToFloat16Bits(Float32Array.from(values)));
    } else {
      dataType = 'float32';
      bytes = bytesOf(Float32Array.from(values));
    }
    this.initializer({ name, dataType, dims, load: () => bytes });
    this.constants.set(key, name);
    return name;
  }

  /** An int64 constant (a 1-D vector by default, or a scalar with `dims = []`). */
  int64(values: readonly number[], dims: readonly number[] = [values.length]): Value {
    return this.constant('i64', values, dims);
  }

  /** A float32 constant. */
  float32(values: readonly number[], dims: readonly number[] = [values.length]): Value {
    return this.constant('f32', values, dims);
  }

  /** A constant in the graph's float precision. */
  floatConst(values: readonly number[], dims: readonly number[] = [values.length]): Value {
    return this.constant('fx', values, dims);
  }

  /** Appends a node and returns its outputs. */
  node(opType: string, inputs: readonly Value[], attributes: Record<string, AttrInput> = {}, outputCount = 1, domain?: string): Value[] {
    const outputs = Array.from({ length: outputCount }, () => this.fresh(opType));
    const attrs: Record<string, OnnxAttribute> = {};
    for (const [k, v] of Object.entries(attributes)) attrs[k] = toAttribute(k, v);
    this.nodes.push({ opType, inputs, outputs, name: outputs[0], attributes: attrs, domain });
    return outputs;
  }

  /** Appends a single-output node. */
  op(opType: string, inputs: readonly Value[], attributes: Record<string, AttrInput> = {}): Value {
    return this.node(opType, inputs, attributes, 1)[0];
  }

  /** The finished model (opset 17, IR 8). */
  build(options: { metadata?: Record<string, string>; docString?: string; producerVersion?: string } = {}): OnnxModel {
    const usesContrib = this.nodes.some((n) => n.domain === 'com.microsoft');
    return {
      opsets: usesContrib ? { '': 17, 'com.microsoft': 1 } : { '': 17 },
      irVersion: 8,
      producerName: 'da3js',
      producerVersion: options.producerVersion,
      docString: options.docString,
      metadata: options.metadata,
      graph: { name: this.name, nodes: [...this.nodes], inputs: [...this.inputs], outputs: [...this.outputs], initializers: [...this.initializers] },
    };
  }
}
