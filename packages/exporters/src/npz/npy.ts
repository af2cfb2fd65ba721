/**
 * *The `.npy` array format (NumPy's `numpy.lib.format`), version 1.0 written byte-for-byte as
 * NumPy 1.x writes it; versions 1.0, 2.0 and 3.0 read.*
 *
 * A `.npy` file is the magic `\x93NUMPY`, a version (major, minor), a little-endian header length
 * (u16 for 1.0, u32 for 2.0/3.0), then a Python dict literal
 * `{'descr': '<f4', 'fortran_order': False, 'shape': (3, 56, 84), }` — keys sorted, NumPy ≥ 1.23's
 * 21-digit growth room (`GROWTH_AXIS_MAX_DIGITS − len(repr(shape[0]))` spaces), padded with spaces
 * and a final `\n` so that magic + length + header is a multiple of 64 bytes — and then the raw
 * C-order data.
 *
 * References: https://numpy.org/doc/stable/reference/generated/numpy.lib.format.html
 */
import { Da3Error } from '@da3js/core';

/** The element types da3js reads and writes (NumPy `descr` in brackets). */
export type NpyDtype =
  | 'float32' // <f4
  | 'float64' // <f8
  | 'int8' // |i1
  | 'uint8' // |u1
  | 'int16' // <i2
  | 'uint16' // <u2
  | 'int32' // <i4
  | 'uint32' // <u4
  | 'int64' // <i8
  | 'uint64' // <u8
  | 'bool'; // |b1, stored one byte per element (0 or 1) in a Uint8Array

/** The typed array holding each {@link NpyDtype}. */
export interface NpyDataOf {
  float32: Float32Array;
  float64: Float64Array;
  int8: Int8Array;
  uint8: Uint8Array;
  int16: Int16Array;
  uint16: Uint16Array;
  int32: Int32Array;
  uint32: Uint32Array;
  int64: BigInt64Array;
  uint64: BigUint64Array;
  bool: Uint8Array;
}

/** Any typed array an {@link NpyArray} may hold. */
export type NpyData = NpyDataOf[NpyDtype];

/**
 * An n-dimensional array: element type, shape (row-major, C order) and the flat data
 * (`data.length` = product of `shape`; `shape` `[]` is a 0-d scalar holding one value).
 */
export interface NpyArray<D extends NpyDtype = NpyDtype> {
  readonly dtype: D;
  readonly shape: readonly number[];
  readonly data: NpyDataOf[D];
}

interface DtypeInfo {
  /** NumPy's `descr` as written (little-endian, or `|` for one-byte types). */
  descr: string;
  size: number;
  make: (buffer: ArrayBuffer, length: number) => NpyData;
  is: (data: unknown) => boolean;
}

const DTYPES: Record<NpyDtype, DtypeInfo> = {
  float32: { descr: '<f4', size: 4, make: (b, n) => new Float32Array(b, 0, n), is: (d) => d instanceof Float32Array },
  float64: { descr: '<f8', size: 8, make: (b, n) => new Float64Array(b, 0, n), is: (d) => d instanceof Float64Array },
  int8: { descr: '|i1', size: 1, make: (b, n) => new Int8Array(b, 0, n), is: (d) => d instanceof Int8Array },
  uint8: { descr: '|u1', size: 1, make: (b, n) => new Uint8Array(b, 0, n), is: (d) => d instanceof Uint8Array },
  int16: { descr: '<i2', size: 2, make: (b, n) => new Int16Array(b, 0, n), is: (d) => d instanceof Int16Array },
  uint16: { descr: '<u2', size: 2, make: (b, n) => new Uint16Array(b, 0, n), is: (d) => d instanceof Uint16Array },
  int32: { descr: '<i4', size: 4, make: (b, n) => new Int32Array(b, 0, n), is: (d) => d instanceof Int32Array },
  uint32: { descr: '<u4', size: 4, make: (b, n) => new Uint32Array(b, 0, n), is: (d) => d instanceof Uint32Array },
  int64: { descr: '<i8', size: 8, make: (b, n) => new BigInt64Array(b, 0, n), is: (d) => d instanceof BigInt64Array },
  uint64: { descr: '<u8', size: 8, make: (b, n) => new BigUint64Array(b, 0, n), is: (d) => d instanceof BigUint64Array },
  bool: { descr: '|b1', size: 1, make: (b, n) => new Uint8Array(b, 0, n), is: (d) => d instanceof Uint8Array },
};

/** `descr` kind + size → dtype, for reading (`f4` → float32 …). */
const BY_CODE: Record<string, NpyDtype> = {
  f4: 'float32',
  f8: 'float64',
  i1: 'int8',
  u1: 'uint8',
  i2: 'int16',
  u2: 'uint16',
  i4: 'int32',
  u4: 'uint32',
  i8: 'int64',
  u8: 'uint64',
  b1: 'bool',
};

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY
const ARRAY_ALIGN = 64;
const GROWTH_AXIS_MAX_DIGITS = 21;

/**
 * Largest `.npy` header read, in bytes: NumPy's own `max_header_size` (`np.load` refuses longer
 * headers as unsafe). A real header is under 200 bytes; this also bounds the header parser's work.
 */
export const NPY_MAX_HEADER_BYTES = 10_000;

/** True on little-endian hosts (every platform da3js targets; big-endian hosts byte-swap). */
export const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** NumPy's `descr` string for a dtype (`'<f4'`, `'|u1'`, …). */
export function npyDescr(dtype: NpyDtype): string {
  return DTYPES[dtype].descr;
}

/** Bytes per element of a dtype. */
export function npyItemSize(dtype: NpyDtype): number {
  return DTYPES[dtype].size;
}

/**
 * Checks an {@link NpyArray}: known dtype, the matching typed array, non-negative integer shape
 * whose product is `data.length`, bool values 0/1.
 * @throws Da3Error `BAD_VALUE` (dtype, data type, bool values), `BAD_SHAPE` (shape, length)
 */
export function validateNpyArray(where: string, array: NpyArray): void {
  const info = DTYPES[array.dtype as NpyDtype];
  if (!info) throw new Da3Error('BAD_VALUE', `${where}: unknown dtype ${JSON.stringify(array.dtype)}`);
  if (!info.is(array.data)) {
    const got = (array.data as object | null)?.constructor?.name ?? String(array.data);
    throw new Da3Error('BAD_VALUE', `${where}: dtype ${array.dtype} needs its typed array, got ${got}`);
  }
  if (!Array.isArray(array.shape)) throw new Da3Error('BAD_SHAPE', `${where}: shape must be an array, got ${String(array.shape)}`);
  let count = 1;
  for (const d of array.shape) {
    if (!Number.isSafeInteger(d) || d < 0) throw new Da3Error('BAD_SHAPE', `${where}: shape [${array.shape.join(', ')}] has a bad dimension ${d}`);
    count *= d;
  }
  if (count !== array.data.length) {
    throw new Da3Error('BAD_SHAPE', `${where}: shape [${array.shape.join(', ')}] holds ${count} values, data has ${array.data.length}`);
  }
  if (array.dtype === 'bool') {
    const d = array.data as Uint8Array;
    for (let i = 0; i < d.length; i++) {
      if (d[i] > 1) throw new Da3Error('BAD_VALUE', `${where}: bool data[${i}] is ${d[i]} (must be 0 or 1)`);
    }
  }
}

/** Python's `repr` of a shape tuple: `()`, `(5,)`, `(3, 56, 84)`. */
function shapeRepr(shape: readonly number[]): string {
  if (shape.length === 1) return `(${shape[0]},)`;
  return `(${shape.join(', ')})`;
}

/**
 * The `.npy` header (magic, version, length, padded dict) exactly as NumPy 1.x's `np.save` writes
 * it for a C-ordered array: version 1.0, or 2.0 when the header exceeds 65535 bytes.
 */
export function npyHeader(dtype: NpyDtype, shape: readonly number[]): Uint8Array {
  let dict = `{'descr': '${DTYPES[dtype].descr}', 'fortran_order': False, 'shape': ${shapeRepr(shape)}, }`;
  if (shape.length > 0) dict += ' '.repeat(Math.max(0, GROWTH_AXIS_MAX_DIGITS - String(shape[0]).length));
  const hlen = dict.length + 1; // + '\n'
  let major = 1;
  let prefix = 10; // magic 6 + version 2 + u16 length
  let padlen = ARRAY_ALIGN - ((prefix + hlen) % ARRAY_ALIGN);
  if (hlen + padlen > 0xffff) {
    major = 2;
    prefix = 12;
    padlen = ARRAY_ALIGN - ((prefix + hlen) % ARRAY_ALIGN);
  }
  const out = new Uint8Array(prefix + hlen + padlen);
  out.set(MAGIC, 0);
  out[6] = major;
  out[7] = 0;
  const view = new DataView(out.buffer);
  if (major === 1) view.setUint16(8, hlen + padlen, true);
  else view.setUint32(8, hlen + padlen, true);
  for (let i = 0; i < dict.length; i++) out[prefix + i] = dict.charCodeAt(i); // ASCII only
  out.fill(0x20, prefix + dict.length, out.length - 1);
  out[out.length - 1] = 0x0a;
  return out;
}

/**
 * The raw little-endian bytes of an array's data (a view on little-endian hosts, a swapped copy on
 * big-endian ones).
 */
export function npyDataBytes(array: NpyArray): Uint8Array {
  const d = array.data;
  const bytes = new Uint8Array(d.buffer, d.byteOffset, d.byteLength);
  const size = DTYPES[array.dtype].size;
  if (LITTLE_ENDIAN || size === 1) return bytes;
  return swapped(bytes, size);
}

function swapped(bytes: Uint8Array, size: number): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(bytes.length);
  for (let i = 0; i < bytes.length; i += size) for (let k = 0; k < size; k++) out[i + k] = bytes[i + size - 1 - k];
  return out;
}

/**
 * Encodes one array as a complete `.npy` file (header + data), as `np.save` writes it.
 * @throws Da3Error `BAD_VALUE`, `BAD_SHAPE` for a bad dtype, shape or value count
 */
export function encodeNpy(array: NpyArray): Uint8Array {
  validateNpyArray('encodeNpy', array);
  const header = npyHeader(array.dtype, array.shape);
  const data = npyDataBytes(array);
  const out = new Uint8Array(header.length + data.length);
  out.set(header, 0);
  out.set(data, header.length);
  return out;
}

// ------------------------------------------------------------------------------------------------
// Reading

/** A tiny parser for the header's Python literal: a dict of str keys to str / bool / int-tuple. */
type PyValue = string | boolean | number[];

class HeaderParser {
  private at = 0;
  constructor(
    private readonly s: string,
    private readonly where: string,
  ) {}

  private fail(what: string): never {
    throw new Da3Error('UNKNOWN_FORMAT', `${this.where}: bad .npy header (${what} at ${this.at}): ${JSON.stringify(this.s)}`);
  }

  private ws(): void {
    while (this.at < this.s.length && /\s/.test(this.s[this.at])) this.at++;
  }

  private eat(c: string): boolean {
    this.ws();
    if (this.s[this.at] === c) {
      this.at++;
      return true;
    }
    return false;
  }

  private expect(c: string): void {
    if (!this.eat(c)) this.fail(`expected '${c}'`);
  }

  private str(): string {
    this.ws();
    const q = this.s[this.at];
    if (q !== "'" && q !== '"') this.fail('expected a string');
    const end = this.s.indexOf(q, this.at + 1);
    if (end < 0) this.fail('unterminated string');
    const v = this.s.slice(this.at + 1, end);
    if (v.includes('\\')) this.fail('escapes are not supported');
    this.at = end + 1;
    return v;
  }

  private int(): number {
    this.ws();
    const m = /^[0-9]+L?/.exec(this.s.slice(this.at));
    if (!m) this.fail('expected an integer');
    this.at += m[0].length;
    const v = Number.parseInt(m[0], 10);
    if (!Number.isSafeInteger(v)) this.fail(`dimension ${m[0]} is too large`);
    return v;
  }

  private value(): PyValue {
    this.ws();
    if (this.s.startsWith('True', this.at)) {
      this.at += 4;
      return true;
    }
    if (this.s.startsWith('False', this.at)) {
      this.at += 5;
      return false;
    }
    if (this.eat('(')) {
      const dims: number[] = [];
      if (this.eat(')')) return dims;
      for (;;) {
        dims.push(this.int());
        if (this.eat(')')) {
          if (dims.length === 1) this.fail("a 1-tuple needs a trailing ','");
          return dims;
        }
        this.expect(',');
        if (this.eat(')')) return dims;
      }
    }
    return this.str();
  }

  dict(): Map<string, PyValue> {
    const out = new Map<string, PyValue>();
    this.expect('{');
    if (this.eat('}')) return this.end(out);
    for (;;) {
      const key = this.str();
      this.expect(':');
      if (out.has(key)) this.fail(`duplicate key '${key}'`);
      out.set(key, this.value());
      if (this.eat('}')) return this.end(out);
      this.expect(',');
      if (this.eat('}')) return this.end(out);
    }
  }

  private end(out: Map<string, PyValue>): Map<string, PyValue> {
    this.ws();
    if (this.at !== this.s.length) this.fail('trailing characters');
    return out;
  }
}

/** The parsed header of a `.npy` file. */
export interface NpyHeaderInfo {
  readonly dtype: NpyDtype;
  readonly shape: readonly number[];
  readonly fortranOrder: boolean;
  readonly bigEndian: boolean;
  /** Byte offset of the data. */
  readonly dataOffset: number;
  readonly version: readonly [number, number];
}

/**
 * Parses and validates a `.npy` header.
 * @throws Da3Error `UNKNOWN_FORMAT` (magic, version, length — at most NumPy's 10000-byte
 *   `max_header_size` —, a 3.0 header that is not UTF-8, dict syntax, keys, unsupported dtype)
 */
export function parseNpyHeader(bytes: Uint8Array, where = 'parseNpyHeader'): NpyHeaderInfo {
  if (bytes.length < 10 || MAGIC.some((m, i) => bytes[i] !== m)) {
    throw new Da3Error('UNKNOWN_FORMAT', `${where}: not a .npy file (no \\x93NUMPY magic)`);
  }
  const major = bytes[6];
  const minor = bytes[7];
  if (!(major >= 1 && major <= 3) || minor !== 0) {
    throw new Da3Error('UNKNOWN_FORMAT', `${where}: unsupported .npy version ${major}.${minor}`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const lenSize = major === 1 ? 2 : 4;
  if (bytes.length < 8 + lenSize) throw new Da3Error('UNKNOWN_FORMAT', `${where}: truncated .npy header`);
  const hlen = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const start = 8 + lenSize;
  if (hlen > NPY_MAX_HEADER_BYTES) {
    throw new Da3Error('UNKNOWN_FORMAT', `${where}: .npy header of ${hlen} bytes is longer than ${NPY_MAX_HEADER_BYTES} (NumPy's max_header_size)`);
  }
  if (start + hlen > bytes.length) {
    throw new Da3Error('UNKNOWN_FORMAT', `${where}: .npy header claims ${hlen} bytes, only ${bytes.length - start} present`);
  }
  const raw = bytes.subarray(start, start + hlen);
  let text: string;
  try {
    // Version 3.0 headers are UTF-8; 1.0 and 2.0 are latin-1.
    text = major === 3 ? new TextDecoder('utf-8', { fatal: true }).decode(raw) : String.fromCharCode(...raw);
  } catch (cause) {
    throw new Da3Error('UNKNOWN_FORMAT', `${where}: .npy ${major}.0 header is not valid UTF-8`, { cause });
  }
  const dict = new HeaderParser(text, where).dict();
  const keys = [...dict.keys()].sort().join(',');
  if (keys !== 'descr,fortran_order,shape') {
    throw new Da3Error('UNKNOWN_FORMAT', `${where}: .npy header keys must be descr, fortran_order, shape; got ${keys || 'none'}`);
  }
  const descr = dict.get('descr');
  const fortran = dict.get('fortran_order');
  const shape = dict.get('shape');
  if (typeof descr !== 'string') throw new Da3Error('UNKNOWN_FORMAT', `${where}: unsupported descr ${JSON.stringify(descr)} (structured dtypes are not read)`);
  if (typeof fortran !== 'boolean') throw new Da3Error('UNKNOWN_FORMAT', `${where}: fortran_order must be True or False`);
  if (!Array.isArray(shape)) throw new Da3Error('UNKNOWN_FORMAT', `${where}: shape must be a tuple of integers`);
  const m = /^([<>|=])([a-z])(\d+)$/.exec(descr);
  const dtype = m ? BY_CODE[m[2] + m[3]] : undefined;
  if (!m || !dtype) throw new Da3Error('UNKNOWN_FORMAT', `${where}: unsupported dtype descr '${descr}'`);
  const size = DTYPES[dtype].size;
  if (size > 1 && m[1] === '|') {
    throw new Da3Error('UNKNOWN_FORMAT', `${where}: descr '${descr}' needs a byte order`);
  }
  return {
    dtype,
    shape,
    fortranOrder: fortran,
    bigEndian: m[1] === '>' || (m[1] === '=' && !LITTLE_ENDIAN),
    dataOffset: start + hlen,
    version: [major, minor],
  };
}

/** Reorders Fortran-ordered (column-major) elements into C order. */
function fortranToC<T extends NpyData>(src: T, shape: readonly number[], make: (n: number) => T): T {
  const n = src.length;
  const out = make(n);
  const k = shape.length;
  if (k < 2) {
    (out as unknown as { set(a: T): void }).set(src);
    return out;
  }
  const fStride = new Array<number>(k);
  fStride[0] = 1;
  for (let j = 1; j < k; j++) fStride[j] = fStride[j - 1] * shape[j - 1];
  const idx = new Array<number>(k).fill(0);
  let f = 0;
  for (let c = 0; c < n; c++) {
    (out as unknown as number[])[c] = (src as unknown as number[])[f];
    for (let j = k - 1; j >= 0; j--) {
      idx[j]++;
      f += fStride[j];
      if (idx[j] < shape[j]) break;
      f -= fStride[j] * shape[j];
      idx[j] = 0;
    }
  }
  return out;
}

/**
 * Decodes a complete `.npy` file into a C-ordered {@link NpyArray} (the data is copied, aligned;
 * big-endian and Fortran-ordered files are converted).
 * @throws Da3Error `UNKNOWN_FORMAT` (header), `BAD_SHAPE` (data length ≠ shape), `BAD_VALUE`
 *   (bool bytes other than 0/1)
 */
export function decodeNpy(bytes: Uint8Array, where = 'decodeNpy'): NpyArray {
  const h = parseNpyHeader(bytes, where);
  const info = DTYPES[h.dtype];
  const count = h.shape.reduce((a, b) => a * b, 1);
  const nbytes = count * info.size;
  const have = bytes.length - h.dataOffset;
  if (have !== nbytes) {
    throw new Da3Error('BAD_SHAPE', `${where}: shape (${h.shape.join(', ')}) of ${h.dtype} needs ${nbytes} data bytes, the file has ${have}`);
  }
  let raw: Uint8Array<ArrayBuffer> = new Uint8Array(nbytes);
  raw.set(bytes.subarray(h.dataOffset, h.dataOffset + nbytes));
  if (info.size > 1 && h.bigEndian === LITTLE_ENDIAN) raw = swapped(raw, info.size);
  let data = info.make(raw.buffer, count);
  if (h.fortranOrder) data = fortranToC(data, h.shape, (n) => info.make(new ArrayBuffer(n * info.size), n));
  const array = { dtype: h.dtype, shape: h.shape, data } as NpyArray;
  if (h.dtype === 'bool') validateNpyArray(where, array);
  return array;
}
