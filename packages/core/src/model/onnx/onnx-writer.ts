import { Da3Error } from '../../errors.js';
import type { Sink } from '../../io.js';
import { ProtoWriter, varintLength } from './protobuf.js';
import {
  ONNX_DATA_TYPES,
  ONNX_TYPE_BYTES,
  type OnnxAttribute,
  type OnnxGraph,
  type OnnxInitializer,
  type OnnxModel,
  type OnnxNode,
  type OnnxValueInfo,
  numelOf,
} from './types.js';

const NAME = 'onnx writer';
/** Protobuf messages cannot exceed 2 GiB; stay clear of it. */
export const MAX_EMBEDDED_BYTES = 2 ** 31 - 64 * 2 ** 20;

/** Bytes of all initializers of `model` (what the weights take in the graph). */
export function initializerBytes(model: OnnxModel): number {
  return model.graph.initializers.reduce((a, t) => a + numelOf(t.dims) * ONNX_TYPE_BYTES[t.dataType], 0);
}

/**
 * Whether `model` must be written with external data: its initializers alone come within 16 MiB
 * of {@link MAX_EMBEDDED_BYTES} (protobuf's 2 GB limit, less room for the graph itself).
 */
export function needsExternalData(model: OnnxModel): boolean {
  return initializerBytes(model) > MAX_EMBEDDED_BYTES - 16 * 2 ** 20;
}

const ATTR_TYPE = { float: 1, int: 2, string: 3, tensor: 4, floats: 6, ints: 7 } as const;

/** Where initializer bytes go when the model is written with external data. */
export interface ExternalDataTarget {
  /** Receives the concatenated initializer bytes (the `.onnx.data` file). */
  readonly sink: Sink;
  /** File name recorded in the model, relative to the `.onnx` file (e.g. `model.onnx.data`). */
  readonly location: string;
  /** Tensors smaller than this stay inside the model (default 1024 bytes). */
  readonly threshold?: number;
  /** Offset alignment for tensors of at least 1 MiB (default 4096, mmap-friendly). */
  readonly alignment?: number;
}

/** Options of {@link writeOnnxModel}. */
export interface WriteOnnxOptions {
  /** Put large initializers in a separate file (required above ~2 GB). */
  readonly externalData?: ExternalDataTarget;
  /** Called after each initializer is written (`done` of `total`), for progress bars. */
  readonly onInitializer?: (done: number, total: number, name: string) => void;
}

function encodeAttribute(name: string, attr: OnnxAttribute): ProtoWriter {
  const w = new ProtoWriter().string(1, name).int(20, ATTR_TYPE[attr.type]);
  switch (attr.type) {
    case 'float':
      return w.float(2, attr.value);
    case 'int':
      return w.int(3, attr.value);
    case 'string':
      return w.string(4, attr.value);
    case 'floats':
      return w.packedFloats(7, attr.value);
    case 'ints':
      return w.packedInts(8, attr.value);
    case 'tensor':
      throw new Da3Error('BAD_VALUE', `${NAME}: tensor attributes must be encoded with their data (use encodeTensorAttribute)`);
  }
}

async function encodeNode(node: OnnxNode): Promise<Uint8Array> {
  const w = new ProtoWriter();
  for (const i of node.inputs) w.string(1, i);
  for (const o of node.outputs) w.string(2, o);
  if (node.name) w.string(3, node.name);
  w.string(4, node.opType);
  for (const [name, attr] of Object.entries(node.attributes ?? {})) {
    if (attr.type === 'tensor') {
      const t = await tensorWithData(attr.value);
      w.bytes(5, new ProtoWriter().string(1, name).int(20, ATTR_TYPE.tensor).bytes(5, t).finish());
    } else {
      w.message(5, encodeAttribute(name, attr));
    }
  }
  if (node.domain) w.string(7, node.domain);
  return w.finish();
}

function encodeValueInfo(v: OnnxValueInfo): Uint8Array {
  const tensorType = new ProtoWriter().int(1, ONNX_DATA_TYPES[v.dataType]);
  if (v.shape) {
    const shape = new ProtoWriter();
    for (const d of v.shape) shape.message(1, typeof d === 'number' ? new ProtoWriter().int(1, d) : new ProtoWriter().string(2, d));
    tensorType.message(2, shape);
  }
  const type = new ProtoWriter().message(1, tensorType);
  return new ProtoWriter().string(1, v.name).message(2, type).finish();
}

function byteLengthOf(t: OnnxInitializer): number {
  return numelOf(t.dims) * ONNX_TYPE_BYTES[t.dataType];
}

/** TensorProto fields before raw_data: dims, data_type, name. */
function tensorHeader(t: OnnxInitializer): ProtoWriter {
  const w = new ProtoWriter();
  if (t.dims.length) w.packedInts(1, t.dims);
  return w.int(2, ONNX_DATA_TYPES[t.dataType]).string(8, t.name);
}

async function loadChecked(t: OnnxInitializer): Promise<Uint8Array> {
  const data = await t.load();
  const want = byteLengthOf(t);
  if (data.byteLength !== want) {
    throw new Da3Error('BAD_SHAPE', `${NAME}: initializer "${t.name}" [${t.dims}] ${t.dataType} needs ${want} bytes, load() gave ${data.byteLength}`);
  }
  return data;
}

async function tensorWithData(t: OnnxInitializer): Promise<Uint8Array> {
  return tensorHeader(t).bytes(9, await loadChecked(t)).finish();
}

function externalTensor(t: OnnxInitializer, location: string, offset: number, length: number): Uint8Array {
  const entry = (k: string, v: string) => new ProtoWriter().string(1, k).string(2, v);
  return tensorHeader(t)
    .message(13, entry('location', location))
    .message(13, entry('offset', String(offset)))
    .message(13, entry('length', String(length)))
    .int(14, 1)
    .finish();
}

interface PlannedInitializer {
  readonly init: OnnxInitializer;
  /** Encoded TensorProto for external tensors (no payload), or the header for embedded ones. */
  readonly head: Uint8Array;
  /** Whether the payload goes to the external data file. */
  readonly external: boolean;
  /** TensorProto length (head + raw_data field when embedded). */
  readonly messageLength: number;
  readonly externalOffset: number;
}

function planInitializers(graph: OnnxGraph, external?: ExternalDataTarget): { planned: PlannedInitializer[]; externalBytes: number } {
  const threshold = external?.threshold ?? 1024;
  const alignment = external?.alignment ?? 4096;
  let offset = 0;
  const seen = new Set<string>();
  const planned = graph.initializers.map((init) => {
    if (seen.has(init.name)) throw new Da3Error('BAD_VALUE', `${NAME}: duplicate initializer "${init.name}"`);
    seen.add(init.name);
    const size = byteLengthOf(init);
    if (external && size >= threshold) {
      if (size >= 1 << 20) offset = Math.ceil(offset / alignment) * alignment;
      const head = externalTensor(init, external.location, offset, size);
      const p = { init, head, external: true, messageLength: head.byteLength, externalOffset: offset };
      offset += size;
      return p;
    }
    const head = tensorHeader(init).finish();
    return { init, head, external: false, messageLength: head.byteLength + 1 + varintLength(size) + size, externalOffset: -1 };
  });
  return { planned, externalBytes: offset };
}

/**
 * Writes an ONNX model as a stream of chunks into `sink`, never holding more than one
 * initializer's bytes: message lengths are computed up front, then each initializer's data is
 * loaded and written in turn (into the model, or into `externalData.sink` at recorded offsets).
 * Both sinks are closed on success and aborted on failure.
 *
 * @throws Da3Error `BAD_VALUE` when an embedded model would exceed protobuf's 2 GB limit (use
 *   `externalData`), `BAD_SHAPE` when an initializer's bytes do not match its dims
 */
export async function writeOnnxModel(model: OnnxModel, sink: Sink, options: WriteOnnxOptions = {}): Promise<void> {
  const ext = options.externalData;
  try {
    const { graph } = model;
    const { planned, externalBytes } = planInitializers(graph, ext);
    const nodes = await Promise.all(graph.nodes.map(encodeNode));
    const inputs = graph.inputs.map(encodeValueInfo);
    const outputs = graph.outputs.map(encodeValueInfo);
    const nameField = new ProtoWriter().string(2, graph.name).finish();
    const fieldLen = (n: number) => 1 + varintLength(n) + n;
    let graphLength = nameField.byteLength;
    for (const n of nodes) graphLength += fieldLen(n.byteLength);
    for (const p of planned) graphLength += fieldLen(p.messageLength);
    for (const v of [...inputs, ...outputs]) graphLength += fieldLen(v.byteLength);
    if (graphLength > MAX_EMBEDDED_BYTES) {
      throw new Da3Error('BAD_VALUE', `${NAME}: the model would be ${graphLength} bytes, over protobuf's 2 GB limit; write it with externalData`);
    }

    const head = new ProtoWriter().int(1, model.irVersion ?? 8);
    for (const [domain, version] of Object.entries(model.opsets)) {
      const opset = new ProtoWriter();
      if (domain) opset.string(1, domain);
      head.message(8, opset.int(2, version));
    }
    head.string(2, model.producerName ?? 'da3js');
    if (model.producerVersion) head.string(3, model.producerVersion);
    if (model.docString) head.string(6, model.docString);
    head.lengthPrefix(7, graphLength);
    const body = new ProtoWriter();
    for (const n of nodes) body.bytes(1, n);
    await sink.write(concat(head.finish(), body.finish(), nameField));

    let externalCursor = 0;
    let done = 0;
    for (const p of planned) {
      const data = await loadChecked(p.init);
      if (p.external && ext) {
        await sink.write(new ProtoWriter().bytes(5, p.head).finish());
        if (p.externalOffset > externalCursor) await ext.sink.write(new Uint8Array(p.externalOffset - externalCursor));
        await ext.sink.write(data);
        externalCursor = p.externalOffset + data.byteLength;
      } else {
        const prefix = new ProtoWriter().lengthPrefix(5, p.messageLength);
        const rawPrefix = new ProtoWriter().lengthPrefix(9, data.byteLength);
        await sink.write(concat(prefix.finish(), p.head, rawPrefix.finish()));
        await sink.write(data);
      }
      done++;
      options.onInitializer?.(done, planned.length, p.init.name);
    }
    if (ext && externalCursor !== externalBytes) {
      throw new Da3Error('BAD_VALUE', `${NAME}: wrote ${externalCursor} external bytes, planned ${externalBytes}`);
    }

    const graphTail = new ProtoWriter();
    for (const v of inputs) graphTail.bytes(11, v);
    for (const v of outputs) graphTail.bytes(12, v);
    const modelTail = new ProtoWriter();
    for (const [key, value] of Object.entries(model.metadata ?? {})) modelTail.message(14, new ProtoWriter().string(1, key).string(2, value));
    await sink.write(concat(graphTail.finish(), modelTail.finish()));
    await sink.close?.();
    await ext?.sink.close?.();
  } catch (error) {
    await sink.abort?.(error);
    await ext?.sink.abort?.(error);
    throw error;
  }
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((a, p) => a + p.byteLength, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.byteLength;
  }
  return out;
}

/** Encodes a model fully in memory (small models and tests); large models should stream. */
export async function encodeOnnxModel(model: OnnxModel): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  await writeOnnxModel(model, { write: (c) => void chunks.push(c.slice()) });
  return concat(...chunks);
}
