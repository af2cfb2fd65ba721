/**
 * An in-memory ONNX model description (the subset da3js writes): nodes and value infos are small
 * and held; initializer data is produced lazily (`load`) when the writer reaches it, so weights
 * stream from the checkpoint to the output without being held twice.
 */

/** ONNX tensor element types used by da3js, with their `TensorProto.DataType` codes. */
export const ONNX_DATA_TYPES = Object.freeze({
  float32: 1,
  uint8: 2,
  int8: 3,
  int32: 6,
  int64: 7,
  bool: 9,
  float16: 10,
  double: 11,
} as const);

/** An ONNX element type name. */
export type OnnxDataType = keyof typeof ONNX_DATA_TYPES;

/** Bytes per element of each type. */
export const ONNX_TYPE_BYTES: Readonly<Record<OnnxDataType, number>> = Object.freeze({
  float32: 4,
  uint8: 1,
  int8: 1,
  int32: 4,
  int64: 8,
  bool: 1,
  float16: 2,
  double: 8,
});

/** One node attribute, tagged with its ONNX attribute type. */
export type OnnxAttribute =
  | { readonly type: 'int'; readonly value: number }
  | { readonly type: 'float'; readonly value: number }
  | { readonly type: 'string'; readonly value: string }
  | { readonly type: 'ints'; readonly value: readonly number[] }
  | { readonly type: 'floats'; readonly value: readonly number[] }
  | { readonly type: 'tensor'; readonly value: OnnxInitializer };

/** A graph node. */
export interface OnnxNode {
  readonly opType: string;
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
  readonly name?: string;
  readonly domain?: string;
  readonly attributes?: Readonly<Record<string, OnnxAttribute>>;
}

/** A constant tensor stored in the model (weights, shape vectors, tables). */
export interface OnnxInitializer {
  readonly name: string;
  readonly dataType: OnnxDataType;
  readonly dims: readonly number[];
  /** Produces the raw little-endian bytes (exactly numel × element size) when written. */
  readonly load: () => Uint8Array | Promise<Uint8Array>;
}

/** A graph input or output: name, element type and shape (a string names a dynamic dimension). */
export interface OnnxValueInfo {
  readonly name: string;
  readonly dataType: OnnxDataType;
  /** Dimensions; `null` leaves the shape (and rank) unspecified. */
  readonly shape: readonly (number | string)[] | null;
}

/** A whole graph. */
export interface OnnxGraph {
  readonly name: string;
  readonly nodes: readonly OnnxNode[];
  readonly inputs: readonly OnnxValueInfo[];
  readonly outputs: readonly OnnxValueInfo[];
  readonly initializers: readonly OnnxInitializer[];
}

/** A model: a graph plus its opset imports and metadata. */
export interface OnnxModel {
  readonly graph: OnnxGraph;
  /** Opset per domain; `''` is the default ai.onnx domain. */
  readonly opsets: Readonly<Record<string, number>>;
  readonly irVersion?: number;
  readonly producerName?: string;
  readonly producerVersion?: string;
  readonly docString?: string;
  /** `metadata_props` (string → string). */
  readonly metadata?: Readonly<Record<string, string>>;
}

/** Number of elements of `dims`. */
export function numelOf(dims: readonly number[]): number {
  return dims.reduce((a, b) => a * b, 1);
}
