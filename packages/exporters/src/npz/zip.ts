/**
 * *A minimal ZIP writer and reader for `.npz` files: stored or deflated entries, ZIP64 when sizes
 * or offsets need it (or always, on request), no encryption, no multi-disk.*
 *
 * The writer lays entries out as Python's `zipfile` does for `np.savez_compressed`: a local header
 * with the final sizes and CRC (no data descriptor), the data, then the central directory. Each
 * entry is compressed in memory before its header is written, so a sink never needs to seek.
 *
 * References: PKWARE APPNOTE.TXT 6.3.x (§4.3 layout, §4.5.3 ZIP64 extra field).
 *
 * @hidden
 */
import { Da3Error } from '@da3js/core';
import { Deflate, inflateSync } from 'fflate';
import type { ChunkWriter } from '../writer.js';

const LOCAL_SIG = 0x04034b50;
const CENTRAL_SIG = 0x02014b50;
const EOCD_SIG = 0x06054b50;
const ZIP64_EOCD_SIG = 0x06064b50;
const ZIP64_LOCATOR_SIG = 0x07064b50;
const U32_MAX = 0xffffffff;
const U16_MAX = 0xffff;

// ------------------------------------------------------------------------------------------------
// CRC-32 (IEEE 802.3, reflected, the ZIP / zlib polynomial 0xEDB88320), slicing by 4 tables.

const CRC_TABLES = (() => {
  const t = new Uint32Array(4 * 256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  for (let n = 0; n < 256; n++) {
    let c = t[n];
    for (let k = 1; k < 4; k++) {
      c = t[c & 0xff] ^ (c >>> 8);
      t[k * 256 + n] = c >>> 0;
    }
  }
  return t;
})();

/** Updates a running CRC-32 (start with 0) with `bytes`. */
export function crc32(bytes: Uint8Array, crc = 0): number {
  const t = CRC_TABLES;
  let c = ~crc >>> 0;
  let i = 0;
  const n4 = bytes.length - (bytes.length % 4);
  for (; i < n4; i += 4) {
    c ^= bytes[i] | (bytes[i + 1] << 8) | (bytes[i + 2] << 16) | (bytes[i + 3] << 24);
    c = t[768 + (c & 0xff)] ^ t[512 + ((c >>> 8) & 0xff)] ^ t[256 + ((c >>> 16) & 0xff)] ^ t[c >>> 24];
  }
  for (; i < bytes.length; i++) c = t[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return ~c >>> 0;
}

// ------------------------------------------------------------------------------------------------
// Writing

/** Options of the ZIP container (shared by every `.npz` writer). */
export interface ZipWriteOptions {
  /**
   * `deflate` (default) compresses like `np.savez_compressed` (zlib level 6 by default);
   * `store` writes the raw bytes like `np.savez`.
   */
  compression?: 'deflate' | 'store';
  /** Deflate level 0–9, default 6 (zlib's default, what `zipfile` uses). */
  level?: number;
  /**
   * Modification time written into every entry (local time fields, 2 s resolution). Default:
   * 1980-01-01 00:00:00, so the same arrays always give the same bytes (`np.savez` uses "now").
   */
  modified?: Date;
  /**
   * `auto` (default) adds ZIP64 records only where a size or offset exceeds 4 GiB − 1 or there
   * are more than 65535 entries; `always` writes them for every entry and the directory (like
   * NumPy's `force_zip64=True` local headers; useful to test readers).
   */
  zip64?: 'auto' | 'always';
}

/** One entry to write: its name and its uncompressed bytes, in parts (never concatenated). */
export interface ZipEntryInput {
  readonly name: string;
  readonly parts: readonly Uint8Array[];
}

interface CentralRecord {
  nameBytes: Uint8Array;
  utf8: boolean;
  method: number;
  crc: number;
  csize: number;
  usize: number;
  offset: number;
}

function dosDateTime(d: Date | undefined): { date: number; time: number } {
  if (!d) return { date: (0 << 9) | (1 << 5) | 1, time: 0 };
  const year = d.getFullYear();
  if (!Number.isFinite(year) || year < 1980 || year > 2107) {
    throw new Da3Error('BAD_VALUE', `zip: modified must be a date in 1980–2107, got ${String(d)}`);
  }
  return {
    date: ((year - 1980) << 9) | ((d.getMonth() + 1) << 5) | d.getDate(),
    time: (d.getHours() << 11) | (d.getMinutes() << 5) | (d.getSeconds() >> 1),
  };
}

function u16(out: ChunkWriter, v: number): void {
  out.u8(v & 0xff);
  out.u8((v >>> 8) & 0xff);
}

const SLICE = 1 << 20;

interface EncodedEntry {
  chunks: Uint8Array[];
  crc: number;
  usize: number;
  csize: number;
}

/** The part of a WHATWG `TransformStream` of bytes used here (exporters compile without DOM or Node types). */
interface ByteTransformStream {
  readonly writable: { getWriter(): { write(chunk: Uint8Array): Promise<void>; close(): Promise<void>; abort(reason?: unknown): Promise<void> } };
  readonly readable: { getReader(): { read(): Promise<{ done: boolean; value?: Uint8Array }> } };
}

/** A `CompressionStream` constructor. */
type CompressionStreamCtor = new (format: 'deflate-raw') => ByteTransformStream;

/** `CompressionStream` where the platform has one that writes raw deflate (browsers, Node ≥ 20.12), else null. */
function nativeDeflateRaw(): CompressionStreamCtor | null {
  const Native = (globalThis as { CompressionStream?: CompressionStreamCtor }).CompressionStream;
  if (typeof Native !== 'function') return null;
  try {
    new Native('deflate-raw');
    return Native;
  } catch {
    return null;
  }
}

/**
 * Deflates with the platform's native zlib through `CompressionStream('deflate-raw')` (level 6,
 * the only level it offers): several times faster than fflate, and off the main thread in Node
 * (the zlib work runs on libuv's pool), so a writer overlaps with inference. The input is fed in
 * 1 MiB slices while the output is read, so at most a few slices are buffered.
 */
async function deflateNative(Native: CompressionStreamCtor, parts: readonly Uint8Array[]): Promise<EncodedEntry> {
  const stream = new Native('deflate-raw');
  const writer = stream.writable.getWriter();
  const reader = stream.readable.getReader();
  const chunks: Uint8Array[] = [];
  let csize = 0;
  const reading = (async () => {
    for (;;) {
      const { done, value } = await reader.read();
      if (done || !value) return;
      chunks.push(value);
      csize += value.length;
    }
  })();
  let crc = 0;
  let usize = 0;
  try {
    for (const p of parts) {
      crc = crc32(p, crc);
      usize += p.length;
      // Copies: the stream may hold a slice after write() resolves, and callers reuse their arrays.
      for (let at = 0; at < p.length; at += SLICE) await writer.write(p.slice(at, Math.min(p.length, at + SLICE)));
    }
    await writer.close();
  } catch (error) {
    await writer.abort(error).catch(() => {});
    throw error;
  } finally {
    await reading;
  }
  return { chunks, crc, usize, csize };
}

/**
 * Compresses (or not) the parts, returning the output chunks, CRC and sizes. Level 6 (the
 * default) uses the platform's native deflate where there is one ({@link deflateNative}); other
 * levels, and platforms without `CompressionStream('deflate-raw')`, use fflate. Both are zlib's
 * format: any reader inflates either (the bytes may differ between the two).
 */
async function encodeEntry(parts: readonly Uint8Array[], method: number, level: number): Promise<EncodedEntry> {
  let crc = 0;
  let usize = 0;
  const chunks: Uint8Array[] = [];
  let csize = 0;
  if (method === 0) {
    for (const p of parts) {
      crc = crc32(p, crc);
      usize += p.length;
      chunks.push(p);
    }
    return { chunks, crc, usize, csize: usize };
  }
  const Native = level === 6 ? nativeDeflateRaw() : null;
  if (Native) return deflateNative(Native, parts);
  const deflate = new Deflate({ level: level as 6 }, (chunk) => {
    chunks.push(chunk);
    csize += chunk.length;
  });
  for (const p of parts) {
    crc = crc32(p, crc);
    usize += p.length;
    for (let at = 0; at < p.length; at += SLICE) deflate.push(p.subarray(at, Math.min(p.length, at + SLICE)), false);
  }
  deflate.push(new Uint8Array(0), true);
  return { chunks, crc, usize, csize };
}

/**
 * Writes a complete ZIP archive of `entries` (in order) into `out`; returns the entry names.
 * Does not close `out`.
 * @throws Da3Error `BAD_VALUE` (empty or duplicate name, bad level/date)
 */
export async function writeZip(out: ChunkWriter, entries: Iterable<ZipEntryInput>, options: ZipWriteOptions = {}): Promise<string[]> {
  const method = (options.compression ?? 'deflate') === 'deflate' ? 8 : 0;
  if (options.compression !== undefined && options.compression !== 'deflate' && options.compression !== 'store') {
    throw new Da3Error('BAD_VALUE', `zip: compression must be 'deflate' or 'store', got ${String(options.compression)}`);
  }
  const level = options.level ?? 6;
  if (!Number.isInteger(level) || level < 0 || level > 9) throw new Da3Error('BAD_VALUE', `zip: level must be an integer 0–9, got ${level}`);
  const always = (options.zip64 ?? 'auto') === 'always';
  const { date, time } = dosDateTime(options.modified);
  const central: CentralRecord[] = [];
  const names = new Set<string>();
  const start = out.written;

  for (const entry of entries) {
    if (typeof entry.name !== 'string' || entry.name.length === 0) throw new Da3Error('BAD_VALUE', `zip: entry names must be non-empty strings, got ${JSON.stringify(entry.name)}`);
    if (names.has(entry.name)) throw new Da3Error('BAD_VALUE', `zip: duplicate entry name ${JSON.stringify(entry.name)}`);
    names.add(entry.name);
    const nameBytes = new TextEncoder().encode(entry.name);
    if (nameBytes.length > U16_MAX) throw new Da3Error('BAD_VALUE', `zip: entry name of ${nameBytes.length} bytes is too long`);
    // biome-ignore lint/suspicious/noControlCharactersInRegex: ASCII test
    const utf8 = !/^[\x00-\x7f]*$/.test(entry.name);
    const { chunks, crc, usize, csize } = await encodeEntry(entry.parts, method, level);
    const offset = out.written - start;
    const zip64 = always || usize >= U32_MAX || csize >= U32_MAX;
    // Local file header.
    out.u32(LOCAL_SIG);
    u16(out, zip64 ? 45 : 20); // version needed to extract (4.5 = ZIP64)
    u16(out, utf8 ? 0x800 : 0); // flags: bit 11 = UTF-8 name
    u16(out, method);
    u16(out, time);
    u16(out, date);
    out.u32(crc);
    out.u32(zip64 ? U32_MAX : csize);
    out.u32(zip64 ? U32_MAX : usize);
    u16(out, nameBytes.length);
    u16(out, zip64 ? 20 : 0); // extra length
    out.bytes(nameBytes);
    if (zip64) {
      u16(out, 1); // ZIP64 extended information
      u16(out, 16);
      out.u64(usize);
      out.u64(csize);
    }
    for (const c of chunks) {
      out.bytes(c);
      await out.flushIfFull();
    }
    central.push({ nameBytes, utf8, method, crc, csize, usize, offset });
  }

  const cdStart = out.written - start;
  for (const r of central) {
    const bigU = always || r.usize >= U32_MAX;
    const bigC = always || r.csize >= U32_MAX;
    const bigO = always || r.offset >= U32_MAX;
    const extraLen = (bigU ? 8 : 0) + (bigC ? 8 : 0) + (bigO ? 8 : 0);
    const zip64 = extraLen > 0;
    out.u32(CENTRAL_SIG);
    u16(out, (3 << 8) | (zip64 ? 45 : 20)); // made by: Unix, version
    u16(out, zip64 ? 45 : 20); // needed to extract
    u16(out, r.utf8 ? 0x800 : 0);
    u16(out, r.method);
    u16(out, time);
    u16(out, date);
    out.u32(r.crc);
    out.u32(bigC ? U32_MAX : r.csize);
    out.u32(bigU ? U32_MAX : r.usize);
    u16(out, r.nameBytes.length);
    u16(out, zip64 ? extraLen + 4 : 0);
    u16(out, 0); // comment length
    u16(out, 0); // disk number start
    u16(out, 0); // internal attributes
    out.u32(0o600 << 16); // external attributes: -rw------- (what zipfile.open('w') sets)
    out.u32(bigO ? U32_MAX : r.offset);
    out.bytes(r.nameBytes);
    if (zip64) {
      u16(out, 1);
      u16(out, extraLen);
      if (bigU) out.u64(r.usize);
      if (bigC) out.u64(r.csize);
      if (bigO) out.u64(r.offset);
    }
    await out.flushIfFull();
  }
  const cdEnd = out.written - start;
  const cdSize = cdEnd - cdStart;
  const count = central.length;
  const needs64 = always || count >= U16_MAX || cdSize >= U32_MAX || cdStart >= U32_MAX;
  if (needs64) {
    out.u32(ZIP64_EOCD_SIG);
    out.u64(44); // size of the remaining record
    u16(out, (3 << 8) | 45);
    u16(out, 45);
    out.u32(0); // this disk
    out.u32(0); // disk with the central directory
    out.u64(count);
    out.u64(count);
    out.u64(cdSize);
    out.u64(cdStart);
    out.u32(ZIP64_LOCATOR_SIG);
    out.u32(0);
    out.u64(cdEnd);
    out.u32(1); // total disks
  }
  out.u32(EOCD_SIG);
  out.u32(0); // disk numbers
  u16(out, needs64 ? U16_MAX : count); // entries on this disk
  u16(out, needs64 ? U16_MAX : count); // entries in all
  out.u32(needs64 ? U32_MAX : cdSize);
  out.u32(needs64 ? U32_MAX : cdStart);
  u16(out, 0); // comment length
  await out.flushIfFull();
  return [...names];
}

// ------------------------------------------------------------------------------------------------
// Reading

/** One entry of a ZIP archive's central directory. */
export interface ZipEntryInfo {
  readonly name: string;
  /** 0 = stored, 8 = deflate. */
  readonly method: number;
  readonly crc32: number;
  readonly compressedSize: number;
  readonly size: number;
  /** Offset of the entry's local header. */
  readonly headerOffset: number;
}

function bad(where: string, what: string): never {
  throw new Da3Error('UNKNOWN_FORMAT', `${where}: not a readable ZIP archive: ${what}`);
}

function u64(view: DataView, at: number, where: string): number {
  const v = view.getBigUint64(at, true);
  if (v > BigInt(Number.MAX_SAFE_INTEGER)) bad(where, `64-bit field ${v} out of range`);
  return Number(v);
}

/**
 * Lists the entries of a ZIP archive (central directory order), validating the structure.
 * @throws Da3Error `UNKNOWN_FORMAT` (no end record, truncated or inconsistent directory,
 *   encrypted or multi-disk archives)
 */
export function readZipDirectory(bytes: Uint8Array, where = 'readZip'): ZipEntryInfo[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = bytes.length;
  if (n < 22) bad(where, `${n} bytes is too short`);
  let eocd = -1;
  for (let i = n - 22; i >= Math.max(0, n - 22 - U16_MAX); i--) {
    if (view.getUint32(i, true) === EOCD_SIG && i + 22 + view.getUint16(i + 20, true) === n) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) bad(where, 'no end-of-central-directory record');
  if (view.getUint16(eocd + 4, true) !== 0 || view.getUint16(eocd + 6, true) !== 0) bad(where, 'multi-disk archives are not supported');
  let count = view.getUint16(eocd + 10, true);
  let cdSize = view.getUint32(eocd + 12, true);
  let cdOffset = view.getUint32(eocd + 16, true);
  if (count === U16_MAX || cdSize === U32_MAX || cdOffset === U32_MAX) {
    const loc = eocd - 20;
    if (loc < 0 || view.getUint32(loc, true) !== ZIP64_LOCATOR_SIG) bad(where, 'ZIP64 locator missing');
    const rec = u64(view, loc + 8, where);
    if (rec + 56 > loc || view.getUint32(rec, true) !== ZIP64_EOCD_SIG) bad(where, 'ZIP64 end record missing');
    count = u64(view, rec + 32, where);
    cdSize = u64(view, rec + 40, where);
    cdOffset = u64(view, rec + 48, where);
  }
  if (cdOffset + cdSize > n) bad(where, `central directory [${cdOffset}, +${cdSize}) runs past the end (${n} bytes)`);
  const entries: ZipEntryInfo[] = [];
  let at = cdOffset;
  for (let k = 0; k < count; k++) {
    if (at + 46 > cdOffset + cdSize || view.getUint32(at, true) !== CENTRAL_SIG) bad(where, `central directory entry ${k} is corrupt`);
    const flags = view.getUint16(at + 8, true);
    if (flags & 1) bad(where, 'encrypted entries are not supported');
    const method = view.getUint16(at + 10, true);
    const crc = view.getUint32(at + 16, true);
    let csize = view.getUint32(at + 20, true);
    let usize = view.getUint32(at + 24, true);
    const nameLen = view.getUint16(at + 28, true);
    const extraLen = view.getUint16(at + 30, true);
    const commentLen = view.getUint16(at + 32, true);
    let offset = view.getUint32(at + 42, true);
    const end = at + 46 + nameLen + extraLen + commentLen;
    if (end > cdOffset + cdSize) bad(where, `central directory entry ${k} runs past the directory`);
    const nameBytes = bytes.subarray(at + 46, at + 46 + nameLen);
    const name = flags & 0x800 ? new TextDecoder('utf-8').decode(nameBytes) : String.fromCharCode(...nameBytes);
    // ZIP64 extended information: only the fields whose 32-bit value is 0xFFFFFFFF, in order.
    let e = at + 46 + nameLen;
    const eEnd = e + extraLen;
    while (e + 4 <= eEnd) {
      const tag = view.getUint16(e, true);
      const size = view.getUint16(e + 2, true);
      if (e + 4 + size > eEnd) bad(where, `extra field of entry ${JSON.stringify(name)} is truncated`);
      if (tag === 1) {
        let f = e + 4;
        const take = (): number => {
          if (f + 8 > e + 4 + size) bad(where, `ZIP64 extra field of entry ${JSON.stringify(name)} is too short`);
          const v = u64(view, f, where);
          f += 8;
          return v;
        };
        if (usize === U32_MAX) usize = take();
        if (csize === U32_MAX) csize = take();
        if (offset === U32_MAX) offset = take();
      }
      e += 4 + size;
    }
    if (offset + 30 > n) bad(where, `entry ${JSON.stringify(name)} has a local header offset ${offset} past the end`);
    entries.push({ name, method, crc32: crc, compressedSize: csize, size: usize, headerOffset: offset });
    at = end;
  }
  return entries;
}

/** Deflate's largest possible expansion (a 258-byte match per 2 bits, rounded as zlib documents it). */
export const DEFLATE_MAX_RATIO = 1032;

/** Largest entry {@link readZipEntry} inflates by default (2 GiB). */
export const DEFAULT_MAX_ENTRY_BYTES = 2 ** 31;

/**
 * The uncompressed bytes of one entry (stored or deflated), CRC-checked. A deflated entry may not
 * declare more than {@link DEFLATE_MAX_RATIO}× its compressed size, nor more than `maxEntryBytes`.
 * @throws Da3Error `UNKNOWN_FORMAT` (bad local header, unsupported method, corrupt deflate
 *   stream, size or CRC mismatch)
 */
export function readZipEntry(bytes: Uint8Array, entry: ZipEntryInfo, where = 'readZip', maxEntryBytes = DEFAULT_MAX_ENTRY_BYTES): Uint8Array {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const at = entry.headerOffset;
  const label = JSON.stringify(entry.name);
  if (view.getUint32(at, true) !== LOCAL_SIG) bad(where, `entry ${label} has no local header at ${at}`);
  const start = at + 30 + view.getUint16(at + 26, true) + view.getUint16(at + 28, true);
  const end = start + entry.compressedSize;
  if (end > bytes.length) bad(where, `entry ${label} data [${start}, ${end}) runs past the end (${bytes.length} bytes)`);
  const raw = bytes.subarray(start, end);
  let data: Uint8Array;
  if (entry.method === 0) {
    if (entry.size !== entry.compressedSize) bad(where, `stored entry ${label} says ${entry.size} bytes but holds ${entry.compressedSize}`);
    data = raw;
  } else if (entry.method === 8) {
    // Checked before the output buffer is allocated: deflate cannot expand beyond 1032:1, so a
    // larger declared size is a lie (a "bomb" that would allocate and inflate for nothing).
    const most = entry.compressedSize * DEFLATE_MAX_RATIO + 64;
    if (entry.size > most) bad(where, `entry ${label} declares ${entry.size} bytes from ${entry.compressedSize} compressed (more than deflate's ${DEFLATE_MAX_RATIO}:1)`);
    if (entry.size > maxEntryBytes) bad(where, `entry ${label} declares ${entry.size} bytes, over the ${maxEntryBytes}-byte limit`);
    try {
      data = inflateSync(raw, { out: new Uint8Array(entry.size) });
    } catch (error) {
      throw new Da3Error('UNKNOWN_FORMAT', `${where}: entry ${label}: corrupt deflate stream (${(error as Error).message})`, { cause: error });
    }
  } else {
    bad(where, `entry ${label} uses compression method ${entry.method} (only stored and deflate are read)`);
  }
  if (data.length !== entry.size) bad(where, `entry ${label} inflates to ${data.length} bytes, the directory says ${entry.size}`);
  const crc = crc32(data);
  if (crc !== entry.crc32) bad(where, `entry ${label} CRC-32 ${crc.toString(16)} ≠ ${entry.crc32.toString(16)} (corrupt data)`);
  return data;
}
