import { Da3Error } from '../errors.js';
import type { Sink } from '../io.js';
import { DTYPE_BYTES, type NativeArray, type SafetensorsDtype, isSafetensorsDtype } from './dtype.js';

/** One tensor to write: dtype, shape and data in the dtype's native typed array. */
export interface SafetensorsEntry {
  readonly dtype: SafetensorsDtype;
  readonly shape: readonly number[];
  /** Row-major data; F16/BF16 as raw `Uint16Array` bits, BOOL as 0/1 bytes. */
  readonly data: NativeArray;
}

/** A lazily produced entry, so a writer never needs every tensor in memory at once. */
export interface LazySafetensorsEntry {
  readonly dtype: SafetensorsDtype;
  readonly shape: readonly number[];
  /** Produces the data when the writer reaches this tensor. */
  readonly load: () => NativeArray | Promise<NativeArray>;
}

const NAME = 'safetensors writer';

function entryBytes(name: string, dtype: SafetensorsDtype, shape: readonly number[], data: NativeArray): Uint8Array {
  const numel = shape.reduce((a, b) => a * b, 1);
  const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  if (bytes.byteLength !== numel * DTYPE_BYTES[dtype]) {
    throw new Da3Error('BAD_SHAPE', `${NAME}: "${name}" shape [${shape}] × ${dtype} needs ${numel * DTYPE_BYTES[dtype]} bytes, data has ${bytes.byteLength}`);
  }
  return bytes;
}

/**
 * Builds the header bytes (8-byte length + JSON padded with spaces to a multiple of 8) for
 * tensors written in the given order, the layout `safetensors.torch.save_file` produces when
 * names are sorted.
 */
export function encodeSafetensorsHeader(
  tensors: ReadonlyArray<readonly [string, { dtype: SafetensorsDtype; shape: readonly number[] }]>,
  metadata?: Readonly<Record<string, string>>,
): Uint8Array {
  const header: Record<string, unknown> = {};
  if (metadata && Object.keys(metadata).length > 0) header.__metadata__ = metadata;
  let offset = 0;
  for (const [name, { dtype, shape }] of tensors) {
    if (name === '__metadata__') throw new Da3Error('BAD_VALUE', `${NAME}: "__metadata__" is reserved`);
    if (!isSafetensorsDtype(dtype)) throw new Da3Error('UNSUPPORTED_DTYPE', `${NAME}: "${name}" has dtype ${String(dtype)}`);
    if (!shape.every((d) => Number.isSafeInteger(d) && d >= 0)) throw new Da3Error('BAD_SHAPE', `${NAME}: "${name}" has shape [${shape}]`);
    const size = shape.reduce((a, b) => a * b, 1) * DTYPE_BYTES[dtype];
    header[name] = { dtype, shape: [...shape], data_offsets: [offset, offset + size] };
    offset += size;
  }
  let json = JSON.stringify(header);
  const raw = new TextEncoder().encode(json);
  const padded = Math.ceil(raw.byteLength / 8) * 8;
  json += ' '.repeat(padded - raw.byteLength);
  const out = new Uint8Array(8 + padded);
  new DataView(out.buffer).setBigUint64(0, BigInt(padded), true);
  out.set(new TextEncoder().encode(json), 8);
  return out;
}

/**
 * Serialises tensors into one safetensors file in memory. Names are written in sorted order.
 * For large models use {@link writeSafetensorsToSink}.
 */
export function writeSafetensors(tensors: Readonly<Record<string, SafetensorsEntry>>, metadata?: Readonly<Record<string, string>>): Uint8Array {
  const names = Object.keys(tensors).sort();
  const parts = names.map((n) => entryBytes(n, tensors[n].dtype, tensors[n].shape, tensors[n].data));
  const header = encodeSafetensorsHeader(
    names.map((n) => [n, tensors[n]] as const),
    metadata,
  );
  const total = header.byteLength + parts.reduce((a, p) => a + p.byteLength, 0);
  const out = new Uint8Array(total);
  out.set(header, 0);
  let at = header.byteLength;
  for (const p of parts) {
    out.set(p, at);
    at += p.byteLength;
  }
  return out;
}

/**
 * Streams a safetensors file into a sink: the header first, then each tensor's data produced
 * by its `load()` just in time, so only one tensor is in memory at once. Names are sorted.
 * On error the sink is aborted.
 */
export async function writeSafetensorsToSink(
  tensors: Readonly<Record<string, LazySafetensorsEntry>>,
  sink: Sink,
  metadata?: Readonly<Record<string, string>>,
): Promise<void> {
  try {
    const names = Object.keys(tensors).sort();
    await sink.write(encodeSafetensorsHeader(names.map((n) => [n, tensors[n]] as const), metadata));
    for (const n of names) {
      const { dtype, shape, load } = tensors[n];
      await sink.write(entryBytes(n, dtype, shape, await load()));
    }
    await sink.close?.();
  } catch (error) {
    await sink.abort?.(error);
    throw error;
  }
}
