/**
 * A minimal protobuf (proto3 wire format) encoder: exactly what writing ONNX needs, and built so a
 * message's length is known before its bytes exist — which lets the ONNX writer stream multi-GB
 * initializers instead of assembling the model in memory (protobufjs must hold it all at once).
 * @internal
 */

const WIRE_VARINT = 0;
const WIRE_64 = 1;
const WIRE_LEN = 2;
const WIRE_32 = 5;

const encoder = new TextEncoder();

/** Bytes needed for `value` as an unsigned varint (value < 2^53). */
export function varintLength(value: number): number {
  let n = 1;
  while (value >= 128) {
    value = Math.floor(value / 128);
    n++;
  }
  return n;
}

/** Grows a byte buffer as fields are appended. */
export class ProtoWriter {
  private buf = new Uint8Array(64);
  private len = 0;

  private ensure(extra: number): void {
    if (this.len + extra <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.len + extra) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.len));
    this.buf = next;
  }

  /** Appends an unsigned varint (no tag). Negative int64 values use 10-byte two's complement. */
  rawVarint(value: number | bigint): this {
    let v = typeof value === 'bigint' ? value : BigInt(value);
    if (v < 0n) v = BigInt.asUintN(64, v);
    this.ensure(10);
    while (v >= 128n) {
      this.buf[this.len++] = Number(v & 127n) | 128;
      v >>= 7n;
    }
    this.buf[this.len++] = Number(v);
    return this;
  }

  private tag(field: number, wire: number): void {
    this.rawVarint(field * 8 + wire);
  }

  /** int32 / int64 / enum / bool field. */
  int(field: number, value: number | bigint | boolean): this {
    this.tag(field, WIRE_VARINT);
    return this.rawVarint(typeof value === 'boolean' ? (value ? 1 : 0) : value);
  }

  /** float (fixed32) field. */
  float(field: number, value: number): this {
    this.tag(field, WIRE_32);
    this.ensure(4);
    new DataView(this.buf.buffer).setFloat32(this.len, value, true);
    this.len += 4;
    return this;
  }

  /** double (fixed64) field. */
  double(field: number, value: number): this {
    this.tag(field, WIRE_64);
    this.ensure(8);
    new DataView(this.buf.buffer).setFloat64(this.len, value, true);
    this.len += 8;
    return this;
  }

  /** bytes / embedded message field. */
  bytes(field: number, value: Uint8Array): this {
    this.tag(field, WIRE_LEN);
    this.rawVarint(value.byteLength);
    this.ensure(value.byteLength);
    this.buf.set(value, this.len);
    this.len += value.byteLength;
    return this;
  }

  /** string field (UTF-8). */
  string(field: number, value: string): this {
    return this.bytes(field, encoder.encode(value));
  }

  /** Embedded message built by another writer. */
  message(field: number, value: ProtoWriter): this {
    return this.bytes(field, value.finish());
  }

  /** Packed repeated int64 field. */
  packedInts(field: number, values: ArrayLike<number | bigint>): this {
    const inner = new ProtoWriter();
    for (let i = 0; i < values.length; i++) inner.rawVarint(values[i]);
    return this.bytes(field, inner.finish());
  }

  /** Packed repeated float field. */
  packedFloats(field: number, values: ArrayLike<number>): this {
    const data = new Uint8Array(values.length * 4);
    const view = new DataView(data.buffer);
    for (let i = 0; i < values.length; i++) view.setFloat32(i * 4, values[i], true);
    return this.bytes(field, data);
  }

  /** Tag and length prefix of a length-delimited field whose `length` payload bytes follow separately. */
  lengthPrefix(field: number, length: number): this {
    this.tag(field, WIRE_LEN);
    return this.rawVarint(length);
  }

  /** Bytes written so far. */
  get length(): number {
    return this.len;
  }

  /** The encoded bytes (a view; the writer must not be reused afterwards). */
  finish(): Uint8Array {
    return this.buf.subarray(0, this.len);
  }
}
