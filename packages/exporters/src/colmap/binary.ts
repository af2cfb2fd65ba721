/**
 * COLMAP binary files (`cameras.bin`, `images.bin`, `points3D.bin`), little-endian, laid out as
 * COLMAP's `reconstruction_io_binary.cc` reads them:
 *
 * - `cameras.bin`: `uint64 count`, then per camera `uint32 id, int32 model_id, uint64 width,
 *   uint64 height, double params[num_params(model)]`;
 * - `images.bin`: `uint64 count`, then per image `uint32 id, double qw qx qy qz tx ty tz,
 *   uint32 camera_id, name bytes + NUL, uint64 num_points2D`, then per keypoint
 *   `double x, double y, uint64 point3D_id` (`2^64 − 1`: none);
 * - `points3D.bin`: `uint64 count`, then per point `uint64 id, double x y z, uint8 r g b,
 *   double error, uint64 track_length`, then per element `uint32 image_id, uint32 point2D_idx`.
 *
 * The reader checks every count against the bytes left before it allocates or loops, so a
 * truncated or corrupt file fails at once with `IO` instead of hanging or exhausting memory.
 */
import { Da3Error } from '@da3js/core';
import type { ChunkWriter } from '../writer.js';
import { type ColmapCamera, type ColmapImage, type ColmapModel, type ColmapPoints, colmapCameraModelById, colmapCameraModelByName } from './model.js';

const TWO32 = 4294967296;

/** uint64 from a safe integer (or `-1` → `2^64 − 1`), as two uint32 (no BigInt in the hot loop). */
function u64(out: ChunkWriter, v: number): void {
  if (v === -1) {
    out.u32(0xffffffff);
    out.u32(0xffffffff);
    return;
  }
  out.u32(v % TWO32);
  out.u32(Math.floor(v / TWO32));
}

/** Writes `cameras.bin`. */
export async function writeCamerasBinary(cameras: readonly ColmapCamera[], out: ChunkWriter): Promise<void> {
  u64(out, cameras.length);
  for (const c of cameras) {
    const m = colmapCameraModelByName(c.model);
    if (!m) throw new Da3Error('BAD_VALUE', `writeColmap: unknown camera model ${JSON.stringify(c.model)}`);
    out.u32(c.id);
    out.i32(m.id);
    u64(out, c.width);
    u64(out, c.height);
    for (let k = 0; k < c.params.length; k++) out.f64(c.params[k]);
    await out.flushIfFull();
  }
}

/** Writes `images.bin`. */
export async function writeImagesBinary(images: readonly ColmapImage[], out: ChunkWriter): Promise<void> {
  const enc = new TextEncoder();
  u64(out, images.length);
  for (const im of images) {
    out.u32(im.id);
    for (let k = 0; k < 4; k++) out.f64(im.qvec[k]);
    for (let k = 0; k < 3; k++) out.f64(im.tvec[k]);
    out.u32(im.cameraId);
    out.bytes(enc.encode(im.name));
    out.u8(0);
    const K = im.point3DIds.length;
    u64(out, K);
    for (let j = 0; j < K; j++) {
      out.f64(im.xys[2 * j]);
      out.f64(im.xys[2 * j + 1]);
      u64(out, im.point3DIds[j]);
      if ((j & 0x3fff) === 0x3fff) await out.flushIfFull();
    }
    await out.flushIfFull();
  }
}

/** Writes `points3D.bin`. */
export async function writePoints3DBinary(p: ColmapPoints, out: ChunkWriter): Promise<void> {
  u64(out, p.count);
  for (let i = 0; i < p.count; i++) {
    u64(out, p.ids[i]);
    out.f64(p.xyz[3 * i]);
    out.f64(p.xyz[3 * i + 1]);
    out.f64(p.xyz[3 * i + 2]);
    out.u8(p.rgb[3 * i]);
    out.u8(p.rgb[3 * i + 1]);
    out.u8(p.rgb[3 * i + 2]);
    out.f64(p.error[i]);
    const o = p.trackOffsets[i];
    const e = p.trackOffsets[i + 1];
    u64(out, e - o);
    for (let t = o; t < e; t++) {
      out.u32(p.trackImageIds[t]);
      out.u32(p.trackPoint2DIdx[t]);
    }
    if ((i & 0x3fff) === 0x3fff) await out.flushIfFull();
  }
}

// ---------------------------------------------------------------------------------------------
// Reading

class Cursor {
  private readonly view: DataView;
  at = 0;
  constructor(
    readonly name: string,
    readonly bytes: Uint8Array,
  ) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  get left(): number {
    return this.bytes.byteLength - this.at;
  }

  /** Fails with `IO` unless `n` more bytes are there (`what` names the record). */
  need(n: number, what: string): void {
    if (n > this.left) {
      throw new Da3Error('IO', `readColmap: ${this.name} is truncated: ${what} needs ${n} bytes at offset ${this.at}, ${this.left} left (file size ${this.bytes.byteLength})`);
    }
  }

  u8(): number {
    return this.bytes[this.at++];
  }
  u32(): number {
    const v = this.view.getUint32(this.at, true);
    this.at += 4;
    return v;
  }
  i32(): number {
    const v = this.view.getInt32(this.at, true);
    this.at += 4;
    return v;
  }
  f64(): number {
    const v = this.view.getFloat64(this.at, true);
    this.at += 8;
    return v;
  }
  /** uint64 as a number; `2^64 − 1` → `-1` when `allowInvalid`, anything above 2^53 − 1 fails. */
  u64(what: string, allowInvalid = false): number {
    const lo = this.view.getUint32(this.at, true);
    const hi = this.view.getUint32(this.at + 4, true);
    this.at += 8;
    if (allowInvalid && lo === 0xffffffff && hi === 0xffffffff) return -1;
    if (hi >= 0x200000) {
      throw new Da3Error('BAD_VALUE', `readColmap: ${this.name}: ${what} at offset ${this.at - 8} is ${(BigInt(hi) << 32n) | BigInt(lo)}, above 2^53 − 1`);
    }
    return hi * TWO32 + lo;
  }

  /** A uint64 count of records of at least `minBytes` each, checked against the bytes left. */
  count(what: string, minBytes: number): number {
    this.need(8, `${what} count`);
    const n = this.u64(`${what} count`);
    if (n * minBytes > this.left) {
      throw new Da3Error('IO', `readColmap: ${this.name} is truncated or corrupt: ${n} ${what} need at least ${n * minBytes} bytes at offset ${this.at}, ${this.left} left`);
    }
    return n;
  }

  finish(): void {
    if (this.left !== 0) throw new Da3Error('BAD_VALUE', `readColmap: ${this.name} has ${this.left} bytes after its last record (offset ${this.at})`);
  }
}

/** Parses `cameras.bin`. @throws Da3Error `IO` (truncated), `BAD_VALUE` (unknown model id, trailing bytes). */
export function parseCamerasBinary(bytes: Uint8Array, name = 'cameras.bin'): ColmapCamera[] {
  const c = new Cursor(name, bytes);
  const n = c.count('cameras', 24);
  const cameras: ColmapCamera[] = [];
  for (let i = 0; i < n; i++) {
    c.need(24, `camera ${i}`);
    const id = c.u32();
    const modelId = c.i32();
    const m = colmapCameraModelById(modelId);
    if (!m) throw new Da3Error('BAD_VALUE', `readColmap: ${name}: camera ${id} has unknown model id ${modelId} (offset ${c.at - 4})`);
    const width = c.u64(`camera ${id} width`);
    const height = c.u64(`camera ${id} height`);
    c.need(8 * m.numParams, `camera ${id} (${m.name}) params`);
    const params = new Float64Array(m.numParams);
    for (let k = 0; k < m.numParams; k++) params[k] = c.f64();
    cameras.push({ id, model: m.name, width, height, params });
  }
  c.finish();
  return cameras;
}

/** Parses `images.bin`. @throws Da3Error `IO` (truncated), `BAD_VALUE` (bad name, trailing bytes). */
export function parseImagesBinary(bytes: Uint8Array, name = 'images.bin'): ColmapImage[] {
  const c = new Cursor(name, bytes);
  const n = c.count('images', 73);
  const dec = new TextDecoder('utf-8', { fatal: true });
  const images: ColmapImage[] = [];
  for (let i = 0; i < n; i++) {
    c.need(64, `image ${i}`);
    const id = c.u32();
    const qvec = new Float64Array(4);
    const tvec = new Float64Array(3);
    for (let k = 0; k < 4; k++) qvec[k] = c.f64();
    for (let k = 0; k < 3; k++) tvec[k] = c.f64();
    const cameraId = c.u32();
    const end = bytes.indexOf(0, c.at);
    if (end < 0) throw new Da3Error('IO', `readColmap: ${name} is truncated: image ${id}'s name has no terminating NUL (offset ${c.at})`);
    let imageName: string;
    try {
      imageName = dec.decode(bytes.subarray(c.at, end));
    } catch (e) {
      throw new Da3Error('BAD_VALUE', `readColmap: ${name}: image ${id}'s name is not UTF-8 (offset ${c.at})`, { cause: e });
    }
    c.at = end + 1;
    const K = c.count(`keypoints of image ${id}`, 24);
    const xys = new Float64Array(2 * K);
    const point3DIds = new Float64Array(K);
    for (let j = 0; j < K; j++) {
      xys[2 * j] = c.f64();
      xys[2 * j + 1] = c.f64();
      point3DIds[j] = c.u64(`image ${id} keypoint ${j} point id`, true);
    }
    images.push({ id, qvec, tvec, cameraId, name: imageName, xys, point3DIds });
  }
  c.finish();
  return images;
}

/** Parses `points3D.bin`. @throws Da3Error `IO` (truncated), `BAD_VALUE` (trailing bytes). */
export function parsePoints3DBinary(bytes: Uint8Array, name = 'points3D.bin'): ColmapPoints {
  const c = new Cursor(name, bytes);
  const P = c.count('points', 51);
  const ids = new Float64Array(P);
  const xyz = new Float64Array(3 * P);
  const rgb = new Uint8Array(3 * P);
  const error = new Float64Array(P);
  const trackOffsets = new Uint32Array(P + 1);
  // Every track element is 8 bytes, so the file size bounds the total.
  const maxT = Math.floor(c.left / 8);
  let trackImageIds = new Uint32Array(Math.min(maxT, Math.max(16, P)));
  let trackPoint2DIdx = new Uint32Array(trackImageIds.length);
  let T = 0;
  for (let i = 0; i < P; i++) {
    c.need(51, `point ${i}`);
    ids[i] = c.u64(`point ${i} id`);
    xyz[3 * i] = c.f64();
    xyz[3 * i + 1] = c.f64();
    xyz[3 * i + 2] = c.f64();
    rgb[3 * i] = c.u8();
    rgb[3 * i + 1] = c.u8();
    rgb[3 * i + 2] = c.u8();
    error[i] = c.f64();
    const L = c.count(`track elements of point ${ids[i]}`, 8);
    if (T + L > trackImageIds.length) {
      const size = Math.min(maxT, Math.max(T + L, 2 * trackImageIds.length));
      const a = new Uint32Array(size);
      a.set(trackImageIds.subarray(0, T));
      const b = new Uint32Array(size);
      b.set(trackPoint2DIdx.subarray(0, T));
      trackImageIds = a;
      trackPoint2DIdx = b;
    }
    for (let k = 0; k < L; k++) {
      trackImageIds[T] = c.u32();
      trackPoint2DIdx[T] = c.u32();
      T++;
    }
    trackOffsets[i + 1] = T;
  }
  c.finish();
  return { count: P, ids, xyz, rgb, error, trackOffsets, trackImageIds: trackImageIds.slice(0, T), trackPoint2DIdx: trackPoint2DIdx.slice(0, T) };
}

/** Bytes the three binary files of `model` take (for planning, e.g. a zip). */
export function colmapBinarySizes(model: ColmapModel): { cameras: number; images: number; points3D: number } {
  const enc = new TextEncoder();
  let cameras = 8;
  for (const c of model.cameras) cameras += 24 + 8 * c.params.length;
  let images = 8;
  for (const im of model.images) images += 73 + enc.encode(im.name).length + 24 * im.point3DIds.length;
  const points3D = 8 + 51 * model.points.count + 8 * model.points.trackOffsets[model.points.count];
  return { cameras, images, points3D };
}
