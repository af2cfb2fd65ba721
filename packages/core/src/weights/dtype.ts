import { Da3Error } from '../errors.js';

/** Element types of the safetensors format (names as the format spells them). */
export type SafetensorsDtype =
  | 'F64'
  | 'F32'
  | 'F16'
  | 'BF16'
  | 'I64'
  | 'I32'
  | 'I16'
  | 'I8'
  | 'U64'
  | 'U32'
  | 'U16'
  | 'U8'
  | 'BOOL';

/** Bytes per element of each dtype. */
export const DTYPE_BYTES: Readonly<Record<SafetensorsDtype, number>> = Object.freeze({
  F64: 8,
  F32: 4,
  F16: 2,
  BF16: 2,
  I64: 8,
  I32: 4,
  I16: 2,
  I8: 1,
  U64: 8,
  U32: 4,
  U16: 2,
  U8: 1,
  BOOL: 1,
});

/** The dtypes this library reads and writes, in a stable order (used in error messages). */
export const SAFETENSORS_DTYPES = Object.freeze(Object.keys(DTYPE_BYTES) as SafetensorsDtype[]);

/** True when `value` names a supported safetensors dtype. */
export function isSafetensorsDtype(value: unknown): value is SafetensorsDtype {
  return typeof value === 'string' && Object.hasOwn(DTYPE_BYTES, value);
}

/** The typed array holding each dtype natively (F16/BF16 as raw `Uint16Array` bits, BOOL as bytes). */
export type NativeArrayOf<D extends SafetensorsDtype> = D extends 'F64'
  ? Float64Array
  : D extends 'F32'
    ? Float32Array
    : D extends 'F16' | 'BF16' | 'U16'
      ? Uint16Array
      : D extends 'I64'
        ? BigInt64Array
        : D extends 'U64'
          ? BigUint64Array
          : D extends 'I32'
            ? Int32Array
            : D extends 'U32'
              ? Uint32Array
              : D extends 'I16'
                ? Int16Array
                : D extends 'I8'
                  ? Int8Array
                  : Uint8Array;

/** Any typed array a tensor can be read into. */
export type NativeArray =
  | Float64Array
  | Float32Array
  | Uint16Array
  | BigInt64Array
  | BigUint64Array
  | Int32Array
  | Uint32Array
  | Int16Array
  | Int8Array
  | Uint8Array;

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/**
 * Views little-endian bytes as the dtype's native typed array. Copies when the bytes are not
 * aligned for the element size (or on a big-endian host, where it byte-swaps).
 */
export function viewAsNative<D extends SafetensorsDtype>(bytes: Uint8Array, dtype: D): NativeArrayOf<D> {
  const size = DTYPE_BYTES[dtype];
  if (bytes.byteLength % size !== 0) {
    throw new Da3Error('BAD_SAFETENSORS', `viewAsNative: ${bytes.byteLength} bytes is not a multiple of ${size} (${dtype})`);
  }
  let source = bytes;
  if (bytes.byteOffset % size !== 0) source = bytes.slice();
  if (!LITTLE_ENDIAN && size > 1) {
    source = bytes.slice();
    for (let i = 0; i < source.length; i += size) source.subarray(i, i + size).reverse();
  }
  const { buffer, byteOffset, byteLength } = source;
  const n = byteLength / size;
  switch (dtype) {
    case 'F64':
      return new Float64Array(buffer, byteOffset, n) as NativeArrayOf<D>;
    case 'F32':
      return new Float32Array(buffer, byteOffset, n) as NativeArrayOf<D>;
    case 'F16':
    case 'BF16':
    case 'U16':
      return new Uint16Array(buffer, byteOffset, n) as NativeArrayOf<D>;
    case 'I64':
      return new BigInt64Array(buffer, byteOffset, n) as NativeArrayOf<D>;
    case 'U64':
      return new BigUint64Array(buffer, byteOffset, n) as NativeArrayOf<D>;
    case 'I32':
      return new Int32Array(buffer, byteOffset, n) as NativeArrayOf<D>;
    case 'U32':
      return new Uint32Array(buffer, byteOffset, n) as NativeArrayOf<D>;
    case 'I16':
      return new Int16Array(buffer, byteOffset, n) as NativeArrayOf<D>;
    case 'I8':
      return new Int8Array(buffer, byteOffset, n) as NativeArrayOf<D>;
    default:
      return new Uint8Array(buffer, byteOffset, n) as NativeArrayOf<D>;
  }
}

/** Converts one IEEE-754 half-precision bit pattern to a number (exact). */
export function float16BitsToNumber(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exponent = (h >> 10) & 0x1f;
  const fraction = h & 0x3ff;
  if (exponent === 0) return sign * fraction * 2 ** -24;
  if (exponent === 0x1f) return fraction ? Number.NaN : sign * Number.POSITIVE_INFINITY;
  return sign * (1 + fraction / 1024) * 2 ** (exponent - 15);
}

let f16Table: Float32Array | undefined;

/** Converts raw F16 bits to float32 (exact; a 65,536-entry table built on first use). */
export function float16ToFloat32(bits: Uint16Array, out = new Float32Array(bits.length)): Float32Array {
  if (!f16Table) {
    f16Table = new Float32Array(65536);
    for (let i = 0; i < 65536; i++) f16Table[i] = float16BitsToNumber(i);
  }
  const table = f16Table;
  for (let i = 0; i < bits.length; i++) out[i] = table[bits[i]];
  return out;
}

/** Converts raw BF16 bits to float32 (exact: bf16 is the top half of a float32). */
export function bfloat16ToFloat32(bits: Uint16Array, out = new Float32Array(bits.length)): Float32Array {
  const u32 = new Uint32Array(out.buffer, out.byteOffset, out.length);
  for (let i = 0; i < bits.length; i++) u32[i] = bits[i] << 16;
  return out;
}

/**
 * Rounds float32 values to IEEE half precision (round to nearest even; overflow → ±Infinity),
 * returning the raw bits. Used by the writer and for fp16 weights.
 */
export function float32ToFloat16Bits(values: Float32Array, out = new Uint16Array(values.length)): Uint16Array {
  const u32 = new Uint32Array(values.buffer, values.byteOffset, values.length);
  for (let i = 0; i < values.length; i++) {
    const x = u32[i];
    const sign = (x >>> 16) & 0x8000;
    const exp = (x >>> 23) & 0xff;
    let mant = x & 0x7fffff;
    if (exp === 0xff) {
      out[i] = sign | 0x7c00 | (mant ? 0x200 : 0);
      continue;
    }
    const e = exp - 127 + 15;
    if (e >= 0x1f) {
      out[i] = sign | 0x7c00;
      continue;
    }
    if (e <= 0) {
      if (e < -10) {
        out[i] = sign;
        continue;
      }
      mant |= 0x800000;
      const shift = 14 - e;
      let half = mant >>> shift;
      const rem = mant & ((1 << shift) - 1);
      const mid = 1 << (shift - 1);
      if (rem > mid || (rem === mid && half & 1)) half++;
      out[i] = sign | half;
      continue;
    }
    let half = (e << 10) | (mant >>> 13);
    const rem = mant & 0x1fff;
    if (rem > 0x1000 || (rem === 0x1000 && half & 1)) half++;
    out[i] = sign | half;
  }
  return out;
}
