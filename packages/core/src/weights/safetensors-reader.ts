import { Da3Error } from '../errors.js';
import type { ByteSource } from '../io.js';
import {
  DTYPE_BYTES,
  type NativeArray,
  type NativeArrayOf,
  SAFETENSORS_DTYPES,
  type SafetensorsDtype,
  bfloat16ToFloat32,
  float16ToFloat32,
  isSafetensorsDtype,
  viewAsNative,
} from './dtype.js';

/** Where one tensor lives in a safetensors file. */
export interface SafetensorsTensorInfo {
  readonly name: string;
  readonly dtype: SafetensorsDtype;
  readonly shape: readonly number[];
  /** Number of elements (product of `shape`; 1 for a scalar). */
  readonly numel: number;
  /** Absolute byte offset of the data in the file. */
  readonly byteOffset: number;
  readonly byteLength: number;
}

/** The parsed, validated header of a safetensors file. */
export interface SafetensorsHeader {
  /** Byte length of the JSON header (the little-endian u64 at the start of the file). */
  readonly headerLength: number;
  /** Absolute offset where tensor data begins (`8 + headerLength`). */
  readonly dataOffset: number;
  /** Tensors in file order (by data offset). */
  readonly tensors: readonly SafetensorsTensorInfo[];
  /** The optional `__metadata__` string map (empty when absent). */
  readonly metadata: Readonly<Record<string, string>>;
}

/** Options for {@link parseSafetensorsHeader} and {@link SafetensorsFile.open}. */
export interface SafetensorsReadOptions {
  /** Largest accepted JSON header in bytes (default 100 MiB, the format's own limit). */
  maxHeaderBytes?: number;
}

const DEFAULT_MAX_HEADER_BYTES = 100 * 1024 * 1024;
const NAME = 'safetensors';

function fail(message: string): never {
  throw new Da3Error('BAD_SAFETENSORS', `${NAME}: ${message}`);
}

/**
 * Reads the header length from the first 8 bytes (little-endian u64) and checks it against the
 * file size and `maxHeaderBytes` before anything is allocated for it.
 */
export function readHeaderLength(prefix: Uint8Array, fileSize: number, maxHeaderBytes = DEFAULT_MAX_HEADER_BYTES): number {
  if (fileSize < 8 || prefix.byteLength < 8) fail(`file is ${fileSize} bytes, shorter than the 8-byte header length`);
  const view = new DataView(prefix.buffer, prefix.byteOffset, 8);
  const n = view.getBigUint64(0, true);
  if (n > BigInt(maxHeaderBytes)) fail(`header length ${n} exceeds the limit of ${maxHeaderBytes} bytes`);
  const headerLength = Number(n);
  if (headerLength < 2) fail(`header length ${headerLength} is too small for a JSON object`);
  if (8 + headerLength > fileSize) fail(`header length ${headerLength} runs past the end of the ${fileSize}-byte file`);
  return headerLength;
}

/**
 * The first key that appears twice in the top-level object of `text` (valid JSON, as checked by
 * `JSON.parse`, which silently keeps the last of duplicates), or undefined.
 */
function firstDuplicateTopLevelKey(text: string): string | undefined {
  const seen = new Set<string>();
  let depth = 0;
  let expectKey = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22) {
      const start = i++;
      while (text.charCodeAt(i) !== 0x22) i += text.charCodeAt(i) === 0x5c ? 2 : 1;
      if (depth === 1 && expectKey) {
        const key = JSON.parse(text.slice(start, i + 1)) as string;
        if (seen.has(key)) return key;
        seen.add(key);
        expectKey = false;
      }
    } else if (c === 0x7b || c === 0x5b) {
      depth++;
      expectKey = depth === 1 && c === 0x7b;
    } else if (c === 0x7d || c === 0x5d) {
      depth--;
    } else if (c === 0x2c && depth === 1) {
      expectKey = true;
    }
  }
  return undefined;
}

/**
 * Parses and validates a safetensors JSON header: known dtypes, non-negative integer shapes,
 * offsets inside the data section, `numel × dtype size = byte length`, and no overlaps or holes.
 *
 * @param json the header bytes (without the 8-byte length prefix)
 * @param fileSize total file size in bytes, to bound the data offsets
 */
export function parseSafetensorsHeader(json: Uint8Array, fileSize: number): SafetensorsHeader {
  const headerLength = json.byteLength;
  const dataOffset = 8 + headerLength;
  const dataSize = fileSize - dataOffset;
  if (dataSize < 0) fail(`header of ${headerLength} bytes does not fit in a ${fileSize}-byte file`);
  // The format: the header "MUST begin with a { character (0x7B)" and may be padded with spaces.
  if (json[0] !== 0x7b) fail(`header must begin with "{" (0x7B), found byte 0x${(json[0] ?? 0).toString(16).padStart(2, '0')}`);
  let parsed: unknown;
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(json);
    parsed = JSON.parse(text);
  } catch (cause) {
    throw new Da3Error('BAD_SAFETENSORS', `${NAME}: header is not valid UTF-8 JSON (${(cause as Error).message})`, { cause });
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) fail('header is not a JSON object');
  const duplicate = firstDuplicateTopLevelKey(text);
  if (duplicate !== undefined) fail(`the header names tensor ${JSON.stringify(duplicate)} twice (duplicate keys are forbidden)`);
  const metadata: Record<string, string> = {};
  const tensors: SafetensorsTensorInfo[] = [];
  for (const [name, entry] of Object.entries(parsed as Record<string, unknown>)) {
    if (name === '__metadata__') {
      if (entry === null || typeof entry !== 'object' || Array.isArray(entry)) fail('__metadata__ is not an object');
      for (const [k, v] of Object.entries(entry as Record<string, unknown>)) {
        if (typeof v !== 'string') fail(`__metadata__["${k}"] is not a string`);
        metadata[k] = v;
      }
      continue;
    }
    if (entry === null || typeof entry !== 'object' || Array.isArray(entry)) fail(`tensor "${name}" entry is not an object`);
    const { dtype, shape, data_offsets: offsets } = entry as Record<string, unknown>;
    if (!isSafetensorsDtype(dtype)) {
      throw new Da3Error(
        'UNSUPPORTED_DTYPE',
        `${NAME}: tensor "${name}" has dtype ${JSON.stringify(dtype)}; supported: ${SAFETENSORS_DTYPES.join(', ')}`,
      );
    }
    if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
      fail(`tensor "${name}" has an invalid shape ${JSON.stringify(shape)}`);
    }
    if (
      !Array.isArray(offsets) ||
      offsets.length !== 2 ||
      !offsets.every((o) => Number.isSafeInteger(o) && o >= 0) ||
      offsets[0] > offsets[1]
    ) {
      fail(`tensor "${name}" has invalid data_offsets ${JSON.stringify(offsets)}`);
    }
    const [begin, end] = offsets as [number, number];
    if (end > dataSize) fail(`tensor "${name}" data_offsets [${begin}, ${end}] run past the ${dataSize}-byte data section`);
    const numel = (shape as number[]).reduce((a, b) => a * b, 1);
    const expected = numel * DTYPE_BYTES[dtype];
    if (expected !== end - begin) {
      fail(`tensor "${name}" shape [${shape}] × ${dtype} needs ${expected} bytes but data_offsets span ${end - begin}`);
    }
    tensors.push({ name, dtype, shape: Object.freeze([...(shape as number[])]), numel, byteOffset: dataOffset + begin, byteLength: end - begin });
  }
  tensors.sort((a, b) => a.byteOffset - b.byteOffset || a.byteLength - b.byteLength);
  let cursor = dataOffset;
  for (const t of tensors) {
    if (t.byteOffset < cursor) fail(`tensor "${t.name}" overlaps the previous tensor (starts at ${t.byteOffset - dataOffset}, previous ends at ${cursor - dataOffset})`);
    if (t.byteOffset > cursor) fail(`hole in the data section before tensor "${t.name}" (bytes ${cursor - dataOffset}..${t.byteOffset - dataOffset} are not indexed)`);
    cursor = t.byteOffset + t.byteLength;
  }
  if (cursor !== fileSize) fail(`data section is ${dataSize} bytes but tensors cover ${cursor - dataOffset}`);
  return { headerLength, dataOffset, tensors: Object.freeze(tensors), metadata: Object.freeze(metadata) };
}

/**
 * A safetensors file over any {@link ByteSource}: the header is read and validated once, tensors
 * are read lazily, one range each, so a 5 GB checkpoint is never held in memory at once.
 *
 * Usage:
 * ```ts
 * const st = await SafetensorsFile.open(memoryByteSource(bytes));
 * const w = await st.readFloat32('model.backbone.pretrained.cls_token'); // Float32Array(384)
 * ```
 */
export class SafetensorsFile {
  private readonly byName: ReadonlyMap<string, SafetensorsTensorInfo>;

  private constructor(
    readonly source: ByteSource,
    readonly header: SafetensorsHeader,
  ) {
    this.byName = new Map(header.tensors.map((t) => [t.name, t]));
  }

  /** Reads and validates the header; throws `Da3Error('BAD_SAFETENSORS')` on a malformed file. */
  static async open(source: ByteSource, options: SafetensorsReadOptions = {}): Promise<SafetensorsFile> {
    const max = options.maxHeaderBytes ?? DEFAULT_MAX_HEADER_BYTES;
    if (source.size < 8) fail(`file is ${source.size} bytes, shorter than the 8-byte header length`);
    const prefix = await source.read(0, 8);
    const headerLength = readHeaderLength(prefix, source.size, max);
    const json = await source.read(8, headerLength);
    return new SafetensorsFile(source, parseSafetensorsHeader(json, source.size));
  }

  /** Tensor names in file order. */
  names(): string[] {
    return this.header.tensors.map((t) => t.name);
  }

  /** The `__metadata__` map. */
  get metadata(): Readonly<Record<string, string>> {
    return this.header.metadata;
  }

  /** True when the file holds a tensor of that name. */
  has(name: string): boolean {
    return this.byName.has(name);
  }

  /** Location, dtype and shape of a tensor; throws `MISSING_TENSOR` when absent. */
  info(name: string): SafetensorsTensorInfo {
    const info = this.byName.get(name);
    if (!info) throw new Da3Error('MISSING_TENSOR', `${NAME}: no tensor named "${name}"`);
    return info;
  }

  /** The tensor's raw little-endian bytes. */
  async readBytes(name: string): Promise<Uint8Array> {
    const info = this.info(name);
    return this.source.read(info.byteOffset, info.byteLength);
  }

  /** The tensor in its native typed array (F16/BF16 as raw `Uint16Array` bits). */
  async read<D extends SafetensorsDtype = SafetensorsDtype>(name: string): Promise<NativeArrayOf<D>> {
    const info = this.info(name);
    return viewAsNative(await this.readBytes(name), info.dtype as D);
  }

  /**
   * The tensor as float32. F32 is returned as is, F16/BF16 are widened exactly, F64 is rounded;
   * integer dtypes raise `UNSUPPORTED_DTYPE`.
   */
  async readFloat32(name: string): Promise<Float32Array> {
    const info = this.info(name);
    return nativeToFloat32(await this.read(name), info.dtype, name);
  }
}

/** Converts a natively read float tensor to float32 (see {@link SafetensorsFile.readFloat32}). */
export function nativeToFloat32(data: NativeArray, dtype: SafetensorsDtype, name = 'tensor'): Float32Array {
  switch (dtype) {
    case 'F32':
      return data as Float32Array;
    case 'F16':
      return float16ToFloat32(data as Uint16Array);
    case 'BF16':
      return bfloat16ToFloat32(data as Uint16Array);
    case 'F64':
      return Float32Array.from(data as Float64Array);
    default:
      throw new Da3Error('UNSUPPORTED_DTYPE', `${NAME}: "${name}" is ${dtype}; readFloat32 accepts F32, F16, BF16, F64`);
  }
}
