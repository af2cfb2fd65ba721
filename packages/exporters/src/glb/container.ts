/**
 * The GLB container (glTF 2.0 binary): a 12-byte header, one JSON chunk, one BIN chunk. The BIN
 * layout is planned up front (every buffer view's offset and length), so the header and JSON go
 * out first and the binary payload is streamed after them through a {@link ChunkWriter}.
 */
import { Da3Error } from '@da3js/core';
import type { ChunkWriter } from '../writer.js';

/** glTF component types. */
export const GL_UNSIGNED_BYTE = 5121;
export const GL_UNSIGNED_SHORT = 5123;
export const GL_FLOAT = 5126;
/** bufferView.target for vertex attributes. */
export const GL_ARRAY_BUFFER = 34962;
/** Primitive modes. */
export const GL_POINTS = 0;
export const GL_LINES = 1;

const GLB_MAGIC = 0x46546c67; // 'glTF'
const CHUNK_JSON = 0x4e4f534a; // 'JSON'
const CHUNK_BIN = 0x004e4942; // 'BIN\0'
/** A GLB's total length is a uint32. */
export const GLB_MAX_BYTES = 0xffffffff;

/** One planned buffer view of the BIN chunk. */
export interface PlannedView {
  buffer: 0;
  byteOffset: number;
  byteLength: number;
  target?: number;
}

/** Plans the BIN chunk: views laid end to end, each 4-byte aligned. */
export class BinPlan {
  readonly views: PlannedView[] = [];
  byteLength = 0;

  /** Adds a view of `byteLength` bytes; returns its index. */
  add(byteLength: number, target?: number): number {
    const view: PlannedView = { buffer: 0, byteOffset: this.byteLength, byteLength };
    if (target !== undefined) view.target = target;
    this.views.push(view);
    this.byteLength += pad4(byteLength);
    return this.views.length - 1;
  }
}

export function pad4(n: number): number {
  return Math.ceil(n / 4) * 4;
}

/**
 * Writes the GLB header, the JSON chunk (space padded) and, when `binLength > 0`, the BIN chunk
 * header. The caller then writes exactly `binLength` bytes (a multiple of 4). `json` gets its
 * `buffers`/`bufferViews` from `plan` here. Returns the total file length.
 * @throws Da3Error `BAD_VALUE` when the file would exceed the GLB's 4 GiB limit.
 */
export function writeGlbHead(out: ChunkWriter, json: Record<string, unknown>, plan: BinPlan, where: string): number {
  if (plan.byteLength > 0) {
    json.buffers = [{ byteLength: plan.byteLength }];
    json.bufferViews = plan.views;
  }
  const text = new TextEncoder().encode(JSON.stringify(json));
  const jsonLength = pad4(text.byteLength);
  const total = 12 + 8 + jsonLength + (plan.byteLength > 0 ? 8 + plan.byteLength : 0);
  if (total > GLB_MAX_BYTES) {
    throw new Da3Error('BAD_VALUE', `${where}: the GLB would be ${total} bytes, over the format's limit of ${GLB_MAX_BYTES} (lower numMaxPoints / write fewer elements)`);
  }
  out.u32(GLB_MAGIC);
  out.u32(2);
  out.u32(total);
  out.u32(jsonLength);
  out.u32(CHUNK_JSON);
  out.bytes(text);
  for (let i = text.byteLength; i < jsonLength; i++) out.u8(0x20);
  if (plan.byteLength > 0) {
    out.u32(plan.byteLength);
    out.u32(CHUNK_BIN);
  }
  return total;
}

/** Guards the stream against planning bugs: a wrong length would leave a corrupt file. */
export function assertWritten(out: ChunkWriter, start: number, expected: number, what: string): void {
  const got = out.written - start;
  if (got !== expected) throw new Da3Error('IO', `${what}: wrote ${got} bytes where ${expected} were planned (internal error)`);
}
