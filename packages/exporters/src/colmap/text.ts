/**
 * COLMAP text files (`cameras.txt`, `images.txt`, `points3D.txt`), written and parsed as COLMAP's
 * `reconstruction_io_text.cc` does:
 *
 * - `cameras.txt`: `CAMERA_ID MODEL WIDTH HEIGHT PARAMS[]`, one line per camera;
 * - `images.txt`: two lines per image, `IMAGE_ID QW QX QY QZ TX TY TZ CAMERA_ID NAME` and then the
 *   keypoints `X Y POINT3D_ID …` (`-1`: no point; the line is empty when there are none);
 * - `points3D.txt`: `POINT3D_ID X Y Z R G B ERROR TRACK[]` with the track as `IMAGE_ID POINT2D_IDX …`.
 *
 * `#` lines are comments (the writer puts COLMAP's header comments first). Numbers are written as
 * the shortest decimal that reads back to the same double (JavaScript's `String(x)`, `-0` kept), so
 * a text round trip is exact; COLMAP itself prints 17 significant digits — the same doubles, other
 * digits. Image names may not contain whitespace in text files (COLMAP reads the name as one
 * token); the binary files have no such limit.
 */
import { Da3Error } from '@da3js/core';
import type { ChunkWriter } from '../writer.js';
import { type ColmapCamera, type ColmapImage, type ColmapModel, type ColmapPoints, colmapCameraModelByName } from './model.js';

/** `String(x)` that keeps the sign of zero (as C++ streams do). */
export function formatColmapNumber(x: number): string {
  return Object.is(x, -0) ? '-0' : String(x);
}

const f = formatColmapNumber;

/** Batches lines into large text writes, handing full chunks to the sink as it goes. */
class LineBatch {
  private parts: string[] = [];
  private size = 0;
  constructor(private readonly out: ChunkWriter) {}
  async line(s: string): Promise<void> {
    this.parts.push(s, '\n');
    this.size += s.length + 1;
    if (this.size >= 1 << 16) await this.flush();
  }
  async flush(): Promise<void> {
    if (this.parts.length === 0) return;
    this.out.text(this.parts.join(''));
    this.parts = [];
    this.size = 0;
    await this.out.flushIfFull();
  }
}

function observationCount(model: ColmapModel): number {
  let n = 0;
  for (const im of model.images) for (let j = 0; j < im.point3DIds.length; j++) if (im.point3DIds[j] !== -1) n++;
  return n;
}

/** Writes `cameras.txt`. */
export async function writeCamerasText(cameras: readonly ColmapCamera[], out: ChunkWriter): Promise<void> {
  const b = new LineBatch(out);
  await b.line('# Camera list with one line of data per camera:');
  await b.line('#   CAMERA_ID, MODEL, WIDTH, HEIGHT, PARAMS[]');
  await b.line(`# Number of cameras: ${cameras.length}`);
  for (const c of cameras) {
    await b.line([c.id, c.model, c.width, c.height, ...Array.from(c.params, f)].join(' '));
  }
  await b.flush();
}

/** Writes `images.txt`. Names with whitespace are refused (`BAD_VALUE`). */
export async function writeImagesText(model: ColmapModel, out: ChunkWriter): Promise<void> {
  const b = new LineBatch(out);
  const n = model.images.length;
  await b.line('# Image list with two lines of data per image:');
  await b.line('#   IMAGE_ID, QW, QX, QY, QZ, TX, TY, TZ, CAMERA_ID, NAME');
  await b.line('#   POINTS2D[] as (X, Y, POINT3D_ID)');
  await b.line(`# Number of images: ${n}, mean observations per image: ${f(n === 0 ? 0 : observationCount(model) / n)}`);
  for (const im of model.images) {
    if (/\s/.test(im.name)) {
      throw new Da3Error('BAD_VALUE', `writeColmap: image name ${JSON.stringify(im.name)} contains whitespace, which COLMAP text files cannot hold (use the binary format)`);
    }
    const q = im.qvec;
    const t = im.tvec;
    await b.line(`${im.id} ${f(q[0])} ${f(q[1])} ${f(q[2])} ${f(q[3])} ${f(t[0])} ${f(t[1])} ${f(t[2])} ${im.cameraId} ${im.name}`);
    const parts: string[] = new Array(im.point3DIds.length);
    for (let j = 0; j < im.point3DIds.length; j++) {
      parts[j] = `${f(im.xys[2 * j])} ${f(im.xys[2 * j + 1])} ${im.point3DIds[j]}`;
    }
    await b.line(parts.join(' '));
  }
  await b.flush();
}

/** Writes `points3D.txt`. */
export async function writePoints3DText(p: ColmapPoints, out: ChunkWriter): Promise<void> {
  const b = new LineBatch(out);
  const T = p.trackOffsets[p.count];
  await b.line('# 3D point list with one line of data per point:');
  await b.line('#   POINT3D_ID, X, Y, Z, R, G, B, ERROR, TRACK[] as (IMAGE_ID, POINT2D_IDX)');
  await b.line(`# Number of points: ${p.count}, mean track length: ${f(p.count === 0 ? 0 : T / p.count)}`);
  for (let i = 0; i < p.count; i++) {
    let s = `${p.ids[i]} ${f(p.xyz[3 * i])} ${f(p.xyz[3 * i + 1])} ${f(p.xyz[3 * i + 2])} ${p.rgb[3 * i]} ${p.rgb[3 * i + 1]} ${p.rgb[3 * i + 2]} ${f(p.error[i])}`;
    for (let t = p.trackOffsets[i]; t < p.trackOffsets[i + 1]; t++) s += ` ${p.trackImageIds[t]} ${p.trackPoint2DIdx[t]}`;
    await b.line(s);
  }
  await b.flush();
}

// ---------------------------------------------------------------------------------------------
// Parsing

// The fraction's digits follow the dot only (`\d+\.?\d*` backtracked quadratically on a long
// run of digits that fails at its end).
const FLOAT_RE = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;
const UINT_RE = /^\d+$/;

class TextFile {
  readonly lines: string[];
  constructor(
    readonly name: string,
    bytes: Uint8Array,
  ) {
    let s: string;
    try {
      s = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    } catch (e) {
      throw new Da3Error('BAD_VALUE', `readColmap: ${name} is not UTF-8 text`, { cause: e });
    }
    this.lines = s.split('\n');
  }

  bad(line: number, what: string): Da3Error {
    const text = this.lines[line] ?? '';
    return new Da3Error('BAD_VALUE', `readColmap: ${this.name} line ${line + 1}: ${what}: ${JSON.stringify(text.length > 200 ? `${text.slice(0, 200)}…` : text)}`);
  }

  float(line: number, tok: string, what: string): number {
    if (!FLOAT_RE.test(tok)) throw this.bad(line, `${what} is not a number (${JSON.stringify(tok)})`);
    const v = Number(tok);
    if (!Number.isFinite(v)) throw new Da3Error('NON_FINITE', `readColmap: ${this.name} line ${line + 1}: ${what} ${tok} is not finite`);
    return v;
  }

  uint(line: number, tok: string, what: string, max: number): number {
    const v = UINT_RE.test(tok) ? Number(tok) : Number.NaN;
    if (!(v <= max)) throw this.bad(line, `${what} must be an integer in [0, ${max}] (got ${JSON.stringify(tok)})`);
    return v;
  }
}

function tokens(line: string): string[] {
  const s = line.trim();
  return s.length === 0 ? [] : s.split(/\s+/);
}

function isSkipped(line: string): boolean {
  const s = line.trim();
  return s.length === 0 || s[0] === '#';
}

const U32_MAX = 0xffffffff;

/** Parses `cameras.txt`. @throws Da3Error `BAD_VALUE`, `NON_FINITE` naming the line. */
export function parseCamerasText(bytes: Uint8Array, name = 'cameras.txt'): ColmapCamera[] {
  const file = new TextFile(name, bytes);
  const cameras: ColmapCamera[] = [];
  file.lines.forEach((line, i) => {
    if (isSkipped(line)) return;
    const t = tokens(line);
    if (t.length < 4) throw file.bad(i, 'a camera needs CAMERA_ID MODEL WIDTH HEIGHT PARAMS[]');
    const id = file.uint(i, t[0], 'CAMERA_ID', U32_MAX);
    const m = colmapCameraModelByName(t[1]);
    if (!m) throw file.bad(i, `unknown camera model ${JSON.stringify(t[1])}`);
    const width = file.uint(i, t[2], 'WIDTH', Number.MAX_SAFE_INTEGER);
    const height = file.uint(i, t[3], 'HEIGHT', Number.MAX_SAFE_INTEGER);
    if (t.length - 4 !== m.numParams) throw file.bad(i, `${m.name} needs ${m.numParams} params, got ${t.length - 4}`);
    const params = new Float64Array(m.numParams);
    for (let k = 0; k < m.numParams; k++) params[k] = file.float(i, t[4 + k], `param ${k}`);
    cameras.push({ id, model: m.name, width, height, params });
  });
  return cameras;
}

/**
 * Parses `images.txt`. As in COLMAP, the line right after an image line is its keypoint line,
 * whatever it holds; at the end of the file a missing keypoint line counts as empty.
 * @throws Da3Error `BAD_VALUE`, `NON_FINITE` naming the line.
 */
export function parseImagesText(bytes: Uint8Array, name = 'images.txt'): ColmapImage[] {
  const file = new TextFile(name, bytes);
  const images: ColmapImage[] = [];
  const lines = file.lines;
  for (let i = 0; i < lines.length; i++) {
    if (isSkipped(lines[i])) continue;
    const t = tokens(lines[i]);
    if (t.length < 10) throw file.bad(i, 'an image needs IMAGE_ID QW QX QY QZ TX TY TZ CAMERA_ID NAME');
    if (t.length > 10) throw file.bad(i, 'an image line has more than 10 fields (a name with whitespace?)');
    const id = file.uint(i, t[0], 'IMAGE_ID', U32_MAX);
    const qvec = new Float64Array(4);
    const tvec = new Float64Array(3);
    for (let k = 0; k < 4; k++) qvec[k] = file.float(i, t[1 + k], ['QW', 'QX', 'QY', 'QZ'][k]);
    for (let k = 0; k < 3; k++) tvec[k] = file.float(i, t[5 + k], ['TX', 'TY', 'TZ'][k]);
    const cameraId = file.uint(i, t[8], 'CAMERA_ID', U32_MAX);
    const imageName = t[9];
    i++;
    const p = i < lines.length ? tokens(lines[i]) : [];
    if (p.length % 3 !== 0) throw file.bad(i, `keypoints come as X Y POINT3D_ID triples, got ${p.length} fields`);
    const K = p.length / 3;
    const xys = new Float64Array(2 * K);
    const point3DIds = new Float64Array(K);
    for (let j = 0; j < K; j++) {
      xys[2 * j] = file.float(i, p[3 * j], `keypoint ${j} X`);
      xys[2 * j + 1] = file.float(i, p[3 * j + 1], `keypoint ${j} Y`);
      const tok = p[3 * j + 2];
      point3DIds[j] = tok === '-1' ? -1 : file.uint(i, tok, `keypoint ${j} POINT3D_ID`, Number.MAX_SAFE_INTEGER);
    }
    images.push({ id, qvec, tvec, cameraId, name: imageName, xys, point3DIds });
  }
  return images;
}

/** A typed array that grows by doubling. */
class Grow<T extends Float64Array | Uint8Array | Uint32Array> {
  length = 0;
  constructor(
    public data: T,
    private readonly make: (n: number) => T,
  ) {}
  push(v: number): void {
    if (this.length === this.data.length) {
      const next = this.make(Math.max(16, 2 * this.data.length));
      next.set(this.data);
      this.data = next;
    }
    this.data[this.length++] = v;
  }
  done(): T {
    return this.data.slice(0, this.length) as T;
  }
}

/** Parses `points3D.txt`. @throws Da3Error `BAD_VALUE`, `NON_FINITE` naming the line. */
export function parsePoints3DText(bytes: Uint8Array, name = 'points3D.txt'): ColmapPoints {
  const file = new TextFile(name, bytes);
  const f64 = (n: number) => new Float64Array(n);
  const u32 = (n: number) => new Uint32Array(n);
  const ids = new Grow(f64(0), f64);
  const xyz = new Grow(f64(0), f64);
  const rgb = new Grow(new Uint8Array(0), (n) => new Uint8Array(n));
  const error = new Grow(f64(0), f64);
  const offsets = new Grow(u32(16), u32);
  offsets.push(0);
  const trackImageIds = new Grow(u32(0), u32);
  const trackPoint2DIdx = new Grow(u32(0), u32);
  file.lines.forEach((line, i) => {
    if (isSkipped(line)) return;
    const t = tokens(line);
    if (t.length < 8) throw file.bad(i, 'a point needs POINT3D_ID X Y Z R G B ERROR TRACK[]');
    if ((t.length - 8) % 2 !== 0) throw file.bad(i, 'the track comes as IMAGE_ID POINT2D_IDX pairs, got an odd count');
    ids.push(file.uint(i, t[0], 'POINT3D_ID', Number.MAX_SAFE_INTEGER));
    for (let k = 0; k < 3; k++) xyz.push(file.float(i, t[1 + k], 'XYZ'[k]));
    for (let k = 0; k < 3; k++) rgb.push(file.uint(i, t[4 + k], 'RGB'[k], 255));
    error.push(file.float(i, t[7], 'ERROR'));
    for (let k = 8; k < t.length; k += 2) {
      trackImageIds.push(file.uint(i, t[k], 'track IMAGE_ID', U32_MAX));
      trackPoint2DIdx.push(file.uint(i, t[k + 1], 'track POINT2D_IDX', U32_MAX));
    }
    offsets.push(trackImageIds.length);
  });
  return {
    count: ids.length,
    ids: ids.done(),
    xyz: xyz.done(),
    rgb: rgb.done(),
    error: error.done(),
    trackOffsets: offsets.done(),
    trackImageIds: trackImageIds.done(),
    trackPoint2DIdx: trackPoint2DIdx.done(),
  };
}
