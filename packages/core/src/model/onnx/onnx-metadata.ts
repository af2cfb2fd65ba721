import { Da3Error } from '../../errors.js';
import type { ByteSource } from '../../io.js';

/** Largest metadata entry read (a da3js config is a few KB). */
const MAX_METADATA_ENTRY_BYTES = 16 * 2 ** 20;

/**
 * Reads the `metadata_props` (string → string) of an ONNX model without decoding its graph: the
 * top-level ModelProto fields are walked and every other field (the graph, possibly gigabytes) is
 * skipped by its length. da3js graphs store their config and build choices there
 * (`da3js.config`, `da3js.ref_view_strategy`, …).
 * @throws Da3Error `UNKNOWN_FORMAT` when the bytes are not a protobuf ModelProto
 */
export async function readOnnxMetadata(source: ByteSource): Promise<Record<string, string>> {
  const where = 'readOnnxMetadata';
  const bad = (why: string): never => {
    throw new Da3Error('UNKNOWN_FORMAT', `${where}: not an ONNX model (${why})`);
  };
  let pos = 0;
  const WINDOW = 1 << 16;
  let buf: Uint8Array = new Uint8Array(0);
  let bufStart = 0;
  const byte = async (at: number): Promise<number> => {
    if (at >= source.size) bad(`truncated at byte ${at}`);
    if (at < bufStart || at >= bufStart + buf.length) {
      bufStart = at;
      buf = await source.read(at, Math.min(WINDOW, source.size - at));
    }
    return buf[at - bufStart];
  };
  const varint = async (): Promise<number> => {
    let result = 0;
    let mul = 1;
    for (let i = 0; i < 10; i++) {
      const b = await byte(pos++);
      result += (b & 0x7f) * mul;
      if (b < 0x80) return result;
      mul *= 128;
    }
    return bad('varint too long');
  };
  const decodeEntry = (bytes: Uint8Array): [string, string] => {
    let p = 0;
    let key = '';
    let value = '';
    const rv = () => {
      let r = 0;
      let m = 1;
      for (let i = 0; i < 10; i++) {
        if (p >= bytes.length) bad('metadata entry ends inside a varint');
        const b = bytes[p++];
        r += (b & 0x7f) * m;
        if (b < 0x80) return r;
        m *= 128;
      }
      return bad('varint too long in a metadata entry');
    };
    while (p < bytes.length) {
      const tag = rv();
      if ((tag & 7) !== 2) bad('metadata entry field is not a string');
      const len = rv();
      if (len > bytes.length - p) bad('metadata entry string runs past its entry');
      const text = new TextDecoder().decode(bytes.subarray(p, p + len));
      p += len;
      if (tag >>> 3 === 1) key = text;
      else if (tag >>> 3 === 2) value = text;
    }
    return [key, value];
  };
  const out: Record<string, string> = {};
  while (pos < source.size) {
    const tag = await varint();
    const field = Math.floor(tag / 8);
    const wire = tag & 7;
    if (field === 0) bad('field number 0');
    if (wire === 0) await varint();
    else if (wire === 1) pos += 8;
    else if (wire === 5) pos += 4;
    else if (wire === 3 || wire === 4) bad(`group wire type ${wire} (not used by ModelProto)`);
    else if (wire === 2) {
      const len = await varint();
      if (pos + len > source.size) bad(`field ${field} runs past the end`);
      if (field === 14) {
        if (len > MAX_METADATA_ENTRY_BYTES) bad(`a metadata entry of ${len} bytes (at most ${MAX_METADATA_ENTRY_BYTES})`);
        const [k, v] = decodeEntry(await source.read(pos, len));
        out[k] = v;
      }
      pos += len;
    } else bad(`wire type ${wire}`);
  }
  if (pos > source.size) bad(`truncated: a fixed-size field runs past byte ${source.size}`);
  return out;
}
