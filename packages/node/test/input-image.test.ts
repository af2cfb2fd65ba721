/**
 * decodeImage: PIL `Image.open(p).convert('RGB')` (Pillow 9.4) behaviour. Expected pixel values
 * marked "PIL" were produced by Pillow 9.4.0 from byte-identical files built by the helpers here.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { deflateSync } from 'node:zlib';
import { isDa3Error, preprocessImages } from '@da3js/core';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FIXTURES, loadTensors } from '../../../test-utils/fixtures.js';
import { DEFAULT_MAX_PIXELS, decodeImage } from '../src/input/index.js';

const FIXTURE_PNG = join(FIXTURES, 'preprocess', 'synthetic_640x430.png');
let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'da3-input-image-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, bytes: Uint8Array | string): string {
  const p = join(dir, name);
  writeFileSync(p, bytes);
  return p;
}

/** Expects a rejected Da3Error with `code` whose message matches `re`. */
async function rejects(p: Promise<unknown>, code: string, re?: RegExp): Promise<void> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(isDa3Error(e), `expected a Da3Error ${code}, got ${String(e)}`).toBe(true);
  expect((e as { code: string }).code).toBe(code);
  if (re) expect((e as Error).message).toMatch(re);
}

// ---------------------------------------------------------------------------------------------
// Tiny encoders (test only)
// ---------------------------------------------------------------------------------------------

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
function crc32(b: Buffer): number {
  let c = 0xffffffff;
  for (const x of b) c = CRC_TABLE[(c ^ x) & 255] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
function pngChunk(type: string, data: Buffer): Buffer {
  const td = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const c = Buffer.alloc(4);
  c.writeUInt32BE(crc32(td));
  return Buffer.concat([len, td, c]);
}

/** A minimal PNG: 8/16-bit, colour type 0/2/3/4/6, no filtering, no interlace. */
function png(
  width: number,
  height: number,
  bitDepth: 8 | 16,
  colorType: 0 | 2 | 3 | 4 | 6,
  samples: number[],
  extra: { palette?: number[][]; trns?: number[] } = {},
): Buffer {
  const ch = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 }[colorType];
  const bps = bitDepth / 8;
  const rows = Buffer.alloc(height * (1 + width * ch * bps));
  let o = 0;
  let s = 0;
  for (let y = 0; y < height; y++) {
    rows[o++] = 0;
    for (let i = 0; i < width * ch; i++, s++) {
      if (bps === 2) {
        rows.writeUInt16BE(samples[s], o);
        o += 2;
      } else rows[o++] = samples[s];
    }
  }
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = bitDepth;
  ihdr[9] = colorType;
  const chunks = [pngChunk('IHDR', ihdr)];
  if (extra.palette) chunks.push(pngChunk('PLTE', Buffer.from(extra.palette.flat())));
  if (extra.trns) chunks.push(pngChunk('tRNS', Buffer.from(extra.trns)));
  chunks.push(pngChunk('IDAT', deflateSync(rows)), pngChunk('IEND', Buffer.alloc(0)));
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), ...chunks]);
}

interface BmpSpec {
  width: number;
  height: number;
  bits: number;
  compression?: number;
  masks?: number[];
  headerSize?: 12 | 40 | 124;
  palette?: number[][];
  colors?: number;
  topDown?: boolean;
  /** Pixel data exactly as stored (rows padded to 4 bytes, bottom-up unless topDown). */
  pixels: Buffer;
}
/** A BMP writer: file header, info header (12/40/124 bytes), masks, palette, pixel data. */
function bmp(s: BmpSpec): Buffer {
  const hs = s.headerSize ?? 40;
  const u32 = (v: number) => {
    const b = Buffer.alloc(4);
    b.writeUInt32LE(v >>> 0);
    return b;
  };
  const extraMasks = s.masks && hs === 40 ? Buffer.concat(s.masks.slice(0, 3).map(u32)) : Buffer.alloc(0);
  const pal = Buffer.concat((s.palette ?? []).map(([r, g, b]) => Buffer.from(hs === 12 ? [b, g, r] : [b, g, r, 0])));
  const h = Buffer.alloc(hs);
  h.writeUInt32LE(hs, 0);
  if (hs === 12) {
    h.writeUInt16LE(s.width, 4);
    h.writeUInt16LE(s.height, 6);
    h.writeUInt16LE(1, 8);
    h.writeUInt16LE(s.bits, 10);
  } else {
    h.writeInt32LE(s.width, 4);
    h.writeInt32LE(s.topDown ? -s.height : s.height, 8);
    h.writeUInt16LE(1, 12);
    h.writeUInt16LE(s.bits, 14);
    h.writeUInt32LE(s.compression ?? 0, 16);
    h.writeUInt32LE(s.pixels.length, 20);
    h.writeUInt32LE(s.colors ?? 0, 32);
    if (hs >= 56 && s.masks) {
      for (const [i, m] of s.masks.entries()) h.writeUInt32LE(m >>> 0, 40 + 4 * i);
    }
  }
  const off = 14 + hs + extraMasks.length + pal.length;
  const fh = Buffer.alloc(14);
  fh.write('BM', 0, 'latin1');
  fh.writeUInt32LE(off + s.pixels.length, 2);
  fh.writeUInt32LE(off, 10);
  return Buffer.concat([fh, h, extraMasks, pal, s.pixels]);
}

/** A baseline uncompressed little-endian TIFF with one strip (PhotometricInterpretation given). */
function tiff(width: number, height: number, samplesPerPixel: number, photometric: number, data: number[]): Buffer {
  const tags: [number, number, number, number[]][] = [
    [256, 3, 1, [width]],
    [257, 3, 1, [height]],
    [258, 3, samplesPerPixel, Array(samplesPerPixel).fill(8)],
    [259, 3, 1, [1]],
    [262, 3, 1, [photometric]],
    [273, 4, 1, [0]], // strip offset, patched below
    [277, 3, 1, [samplesPerPixel]],
    [278, 3, 1, [height]],
    [279, 4, 1, [data.length]],
    [284, 3, 1, [1]],
  ];
  if (photometric === 5) tags.push([332, 3, 1, [1]]);
  const ifdAt = 8;
  const ifdSize = 2 + tags.length * 12 + 4;
  let extraAt = ifdAt + ifdSize;
  const extra: Buffer[] = [];
  const ifd = Buffer.alloc(ifdSize);
  ifd.writeUInt16LE(tags.length, 0);
  const stripAt = extraAt + 8; // the only out-of-line value is BitsPerSample (≤ 4 shorts)
  tags.forEach(([tag, type, count, values], i) => {
    const e = 2 + i * 12;
    ifd.writeUInt16LE(tag, e);
    ifd.writeUInt16LE(type, e + 2);
    ifd.writeUInt32LE(count, e + 4);
    const vals = tag === 273 ? [stripAt] : values;
    const bytes = Buffer.alloc(type === 3 ? 2 * count : 4 * count);
    for (const [j, v] of vals.entries()) {
      if (type === 3) bytes.writeUInt16LE(v, 2 * j);
      else bytes.writeUInt32LE(v, 4 * j);
    }
    if (bytes.length <= 4) bytes.copy(ifd, e + 8);
    else {
      ifd.writeUInt32LE(extraAt, e + 8);
      extra.push(Buffer.concat([bytes, Buffer.alloc(8 - bytes.length)]));
      extraAt += 8;
    }
  });
  const head = Buffer.from([0x49, 0x49, 42, 0, ifdAt, 0, 0, 0]);
  return Buffer.concat([head, ifd, ...extra, Buffer.from(data)]);
}

const seq = (n: number, a: number, b: number) => Buffer.from(Array.from({ length: n }, (_, i) => (i * a + b) & 255));
/** 3 rows of `stride` bytes, the first `used` of each from `seq`, the padding zero. */
function rows3(stride: number, used: number, a = 37, b = 11): Buffer {
  const buf = Buffer.alloc(stride * 3);
  const s = seq(stride * 3, a, b);
  for (let y = 0; y < 3; y++) s.copy(buf, y * stride, y * stride, y * stride + used);
  return buf;
}
const pal = (n: number) => Array.from({ length: n }, (_, i) => [(i * 53 + 7) & 255, (i * 91 + 3) & 255, (i * 17 + 200) & 255]);

// ---------------------------------------------------------------------------------------------

describe('decodeImage → preprocessImages equals the reference network input', () => {
  it('synthetic_640x430.png, upper_bound_resize 504: bit for bit', async () => {
    const img = await decodeImage(FIXTURE_PNG);
    expect([img.width, img.height, img.channels]).toEqual([640, 430, 3]);
    const { tensor, shape } = preprocessImages([img], { processRes: 504, method: 'upper_bound_resize' });
    const want = (await loadTensors('preprocess/preprocess.safetensors'))['upper_bound_resize.network_input'];
    expect([...shape]).toEqual(want.shape);
    const a = new Uint32Array(tensor.buffer, tensor.byteOffset, tensor.length);
    const w = want.data as Float32Array;
    const b = new Uint32Array(w.buffer, w.byteOffset, w.length);
    expect(a.length).toBe(b.length);
    let diff = 0;
    for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) diff++;
    expect(diff).toBe(0);
  });

  it('paths, file: URLs (string and URL), bytes and http(s) give the same pixels', async () => {
    const ref = await decodeImage(FIXTURE_PNG);
    const bytes = await import('node:fs').then((fs) => fs.readFileSync(FIXTURE_PNG));
    for (const input of [pathToFileURL(FIXTURE_PNG), pathToFileURL(FIXTURE_PNG).href, bytes, new Uint8Array(bytes)]) {
      const img = await decodeImage(input);
      expect(Buffer.compare(Buffer.from(img.data), Buffer.from(ref.data))).toBe(0);
    }
  });
});

describe('EXIF orientation', () => {
  it('is ignored by default (stored W×H, like PIL) and applied on request', async () => {
    const w = 6;
    const h = 4;
    const raw = Buffer.from(Array.from({ length: w * h * 3 }, (_, i) => (i * 29) & 255));
    const plain = await sharp(raw, { raw: { width: w, height: h, channels: 3 } }).jpeg({ quality: 100 }).toBuffer();
    const tagged = await sharp(raw, { raw: { width: w, height: h, channels: 3 } }).jpeg({ quality: 100 }).withMetadata({ orientation: 6 }).toBuffer();
    expect((await sharp(tagged).metadata()).orientation).toBe(6);

    const stored = await decodeImage(tagged);
    expect([stored.width, stored.height]).toEqual([w, h]);
    const noTag = await decodeImage(plain);
    expect(Buffer.compare(Buffer.from(stored.data), Buffer.from(noTag.data))).toBe(0);

    const rotated = await decodeImage(tagged, { applyExifOrientation: true });
    expect([rotated.width, rotated.height]).toEqual([h, w]);
    // Orientation 6 = rotate 90° clockwise: rotated(x, y) = stored(y, h − 1 − x).
    for (let y = 0; y < w; y++) {
      for (let x = 0; x < h; x++) {
        for (let c = 0; c < 3; c++) {
          expect(rotated.data[(y * h + x) * 3 + c]).toBe(stored.data[((h - 1 - x) * w + y) * 3 + c]);
        }
      }
    }
  });
});

describe('PIL convert("RGB") semantics', () => {
  it('RGBA: alpha dropped without compositing (transparent pixels keep their colour)', async () => {
    const img = await decodeImage(png(3, 1, 8, 6, [10, 20, 30, 0, 40, 50, 60, 128, 70, 80, 90, 255]));
    expect([...img.data]).toEqual([10, 20, 30, 40, 50, 60, 70, 80, 90]);
    expect(img.channels).toBe(3);
  });

  it('gray, gray+alpha and palette (with tRNS) → RGB', async () => {
    expect([...(await decodeImage(png(3, 1, 8, 0, [0, 77, 255]))).data]).toEqual([0, 0, 0, 77, 77, 77, 255, 255, 255]);
    expect([...(await decodeImage(png(2, 1, 8, 4, [10, 0, 40, 128]))).data]).toEqual([10, 10, 10, 40, 40, 40]);
    const p = png(3, 1, 8, 3, [2, 0, 1], { palette: [[1, 2, 3], [4, 5, 6], [7, 8, 9]], trns: [0, 0, 0] });
    expect([...(await decodeImage(p)).data]).toEqual([7, 8, 9, 1, 2, 3, 4, 5, 6]);
  });

  it('16-bit: RGB(A) and gray+alpha keep the high byte, plain 16-bit gray is clipped to 255 (PIL mode I)', async () => {
    // PIL: 0x00ff→0, 0x0100→1, 0x7f80→127, 0x80ff→128, 0xff00→255 (not /257 rounding), 0xffff→255.
    const v = [0x0000, 0x00ff, 0x0100, 0x7f80, 0x80ff, 0xff00, 0xffff];
    const hi = v.map((x) => x >> 8);
    const rgb16 = await decodeImage(png(7, 1, 16, 2, v.flatMap((x) => [x, x, (x * 3) & 0xffff])));
    expect([...rgb16.data]).toEqual(v.flatMap((x) => [x >> 8, x >> 8, ((x * 3) & 0xffff) >> 8]));
    const rgba16 = await decodeImage(png(7, 1, 16, 6, v.flatMap((x) => [x, x, x, 0x1234])));
    expect([...rgba16.data]).toEqual(hi.flatMap((x) => [x, x, x]));
    const la16 = await decodeImage(png(7, 1, 16, 4, v.flatMap((x) => [x, 0x1234])));
    expect([...la16.data]).toEqual(hi.flatMap((x) => [x, x, x]));
    // PIL opens 16-bit gray as mode I; I → RGB clips (0, 100, 255, 256, 1000, 65535 → 0, 100, 255, 255, 255, 255).
    const g16 = await decodeImage(png(6, 1, 16, 0, [0, 100, 255, 256, 1000, 65535]));
    expect([...g16.data]).toEqual([0, 100, 255, 255, 255, 255].flatMap((x) => [x, x, x]));
  });

  it('CMYK uses PIL cmyk2rgb, not an ICC transform', async () => {
    const cmyk = [0, 0, 0, 0, 255, 0, 0, 0, 10, 200, 30, 100, 128, 128, 128, 128, 255, 255, 255, 255];
    const img = await decodeImage(tiff(5, 1, 4, 5, cmyk));
    // PIL 9.4 on this file.
    expect([...img.data]).toEqual([255, 255, 255, 0, 255, 255, 149, 33, 137, 63, 63, 63, 0, 0, 0]);
  });

  it('embedded ICC profiles are ignored (stored values, like PIL)', async () => {
    const raw = Buffer.from([0, 37, 74, 111, 148, 185, 222, 3, 40, 77, 114, 151]);
    const p3 = await sharp(raw, { raw: { width: 4, height: 1, channels: 3 } }).png().withIccProfile('p3').toBuffer();
    expect((await sharp(p3).metadata()).icc).toBeDefined();
    const stored = await sharp(p3, { ignoreIcc: true }).raw().toBuffer();
    expect([...(await decodeImage(p3)).data]).toEqual([...stored]);
  });
});

describe('BMP (sharp cannot read it): Pillow-compatible decoder', () => {
  const W = 5;
  const H = 3;
  // Expected values: Pillow 9.4 `Image.open(f).convert('RGB')` on these exact bytes.
  const CASES: Record<string, [Buffer, number[]]> = {
    'BGR 24-bit, bottom-up': [
      bmp({ width: W, height: H, bits: 24, pixels: rows3(16, 15) }),
      [245, 208, 171, 100, 63, 26, 211, 174, 137, 66, 29, 248, 177, 140, 103, 165, 128, 91, 20, 239, 202, 131, 94, 57, 242, 205, 168, 97, 60, 23, 85, 48, 11, 196, 159, 122, 51, 14, 233, 162, 125, 88, 17, 236, 199],
    ],
    'BGR 24-bit, top-down': [
      bmp({ width: W, height: H, bits: 24, topDown: true, pixels: rows3(16, 15) }),
      [85, 48, 11, 196, 159, 122, 51, 14, 233, 162, 125, 88, 17, 236, 199, 165, 128, 91, 20, 239, 202, 131, 94, 57, 242, 205, 168, 97, 60, 23, 245, 208, 171, 100, 63, 26, 211, 174, 137, 66, 29, 248, 177, 140, 103],
    ],
    'BGRX 32-bit': [
      bmp({ width: W, height: H, bits: 32, pixels: rows3(20, 20) }),
      [29, 248, 211, 177, 140, 103, 69, 32, 251, 217, 180, 143, 109, 72, 35, 57, 20, 239, 205, 168, 131, 97, 60, 23, 245, 208, 171, 137, 100, 63, 85, 48, 11, 233, 196, 159, 125, 88, 51, 17, 236, 199, 165, 128, 91],
    ],
    'XBGR 32-bit bitfields (40-byte header)': [
      bmp({ width: W, height: H, bits: 32, compression: 3, masks: [0xff000000, 0xff0000, 0xff00], pixels: rows3(20, 20) }),
      [66, 29, 248, 214, 177, 140, 106, 69, 32, 254, 217, 180, 146, 109, 72, 94, 57, 20, 242, 205, 168, 134, 97, 60, 26, 245, 208, 174, 137, 100, 122, 85, 48, 14, 233, 196, 162, 125, 88, 54, 17, 236, 202, 165, 128],
    ],
    'RGBA 32-bit bitfields (v5 header), alpha dropped': [
      bmp({ width: W, height: H, bits: 32, compression: 3, headerSize: 124, masks: [0xff, 0xff00, 0xff0000, 0xff000000], pixels: rows3(20, 20) }),
      [211, 248, 29, 103, 140, 177, 251, 32, 69, 143, 180, 217, 35, 72, 109, 239, 20, 57, 131, 168, 205, 23, 60, 97, 171, 208, 245, 63, 100, 137, 11, 48, 85, 159, 196, 233, 51, 88, 125, 199, 236, 17, 91, 128, 165],
    ],
    '16-bit 5-5-5': [
      bmp({ width: W, height: H, bits: 16, pixels: rows3(12, 10, 97, 5) }),
      [255, 131, 238, 131, 49, 255, 0, 172, 8, 139, 24, 24, 8, 139, 41, 230, 164, 139, 106, 16, 156, 238, 131, 172, 115, 49, 189, 246, 164, 205, 205, 131, 41, 82, 49, 57, 213, 164, 74, 90, 16, 90, 222, 131, 106],
    ],
    '16-bit 5-6-5 bitfields': [
      bmp({ width: W, height: H, bits: 16, compression: 3, masks: [0xf800, 0x7e0, 0x1f], pixels: rows3(12, 10, 97, 5) }),
      [123, 194, 238, 65, 24, 255, 0, 85, 8, 197, 141, 24, 131, 198, 41, 246, 80, 139, 180, 137, 156, 115, 194, 172, 57, 24, 189, 255, 80, 205, 98, 194, 41, 41, 24, 57, 238, 80, 74, 172, 137, 90, 106, 194, 106],
    ],
    '8-bit palette, OS/2 core header (3-byte entries)': [
      bmp({ width: W, height: H, bits: 8, headerSize: 12, palette: pal(256), pixels: Buffer.from([0, 1, 2, 3, 4, 0, 0, 0, 5, 6, 7, 0, 1, 0, 0, 0, 2, 3, 4, 5, 6, 0, 0, 0]) }),
      [113, 185, 234, 166, 20, 251, 219, 111, 12, 16, 202, 29, 69, 37, 46, 16, 202, 29, 69, 37, 46, 122, 128, 63, 7, 3, 200, 60, 94, 217, 7, 3, 200, 60, 94, 217, 113, 185, 234, 166, 20, 251, 219, 111, 12],
    ],
    '8-bit, 4-colour palette: indices past it read the grey ramp': [
      bmp({ width: W, height: H, bits: 8, colors: 4, palette: pal(4), pixels: Buffer.from([0, 1, 2, 3, 4, 0, 0, 0, 5, 6, 200, 0, 1, 0, 0, 0, 2, 3, 4, 5, 255, 0, 0, 0]) }),
      [113, 185, 234, 166, 20, 251, 4, 4, 4, 5, 5, 5, 255, 255, 255, 5, 5, 5, 6, 6, 6, 200, 200, 200, 7, 3, 200, 60, 94, 217, 7, 3, 200, 60, 94, 217, 113, 185, 234, 166, 20, 251, 4, 4, 4],
    ],
    '4-bit palette': [
      bmp({ width: W, height: H, bits: 4, palette: pal(16), pixels: Buffer.from([0x01, 0x23, 0x40, 0, 0x56, 0x78, 0x90, 0, 0xab, 0xcd, 0xe0, 0]) }),
      [25, 145, 114, 78, 236, 131, 131, 71, 148, 184, 162, 165, 237, 253, 182, 16, 202, 29, 69, 37, 46, 122, 128, 63, 175, 219, 80, 228, 54, 97, 7, 3, 200, 60, 94, 217, 113, 185, 234, 166, 20, 251, 219, 111, 12],
    ],
    '1-bit palette (two colours)': [
      bmp({ width: W, height: H, bits: 1, palette: [[10, 200, 30], [250, 5, 60]], pixels: Buffer.from([0b10110000, 0, 0, 0, 0b01001000, 0, 0, 0, 0b11111000, 0, 0, 0]) }),
      [250, 5, 60, 250, 5, 60, 250, 5, 60, 250, 5, 60, 250, 5, 60, 10, 200, 30, 250, 5, 60, 10, 200, 30, 10, 200, 30, 250, 5, 60, 250, 5, 60, 10, 200, 30, 250, 5, 60, 250, 5, 60, 10, 200, 30],
    ],
    'RLE8 with Pillow’s delta quirk': [
      bmp({ width: W, height: H, bits: 8, compression: 1, palette: pal(8), colors: 8, pixels: Buffer.from([3, 1, 0, 3, 2, 3, 4, 0, 0, 0, 0, 2, 1, 0, 2, 5, 0, 0, 2, 6, 0, 1]) }),
      [7, 3, 200, 7, 3, 200, 7, 3, 200, 7, 3, 200, 7, 3, 200, 219, 111, 12, 7, 3, 200, 7, 3, 200, 7, 3, 200, 7, 3, 200, 60, 94, 217, 60, 94, 217, 60, 94, 217, 113, 185, 234, 166, 20, 251],
    ],
    'RLE4 with an odd absolute run (Pillow reads count // 2 bytes)': [
      bmp({ width: W, height: H, bits: 4, compression: 2, palette: pal(16), pixels: Buffer.from([5, 0x12, 0, 0, 0, 3, 0x34, 0x56, 0, 0, 5, 0xab, 0, 1]) }),
      [25, 145, 114, 78, 236, 131, 25, 145, 114, 78, 236, 131, 25, 145, 114, 166, 20, 251, 219, 111, 12, 7, 3, 200, 7, 3, 200, 7, 3, 200, 60, 94, 217, 113, 185, 234, 60, 94, 217, 113, 185, 234, 60, 94, 217],
    ],
  };
  for (const [name, [bytes, want]] of Object.entries(CASES)) {
    it(name, async () => {
      const img = await decodeImage(bytes);
      expect([img.width, img.height, img.channels]).toEqual([W, H, 3]);
      expect([...img.data]).toEqual(want);
    });
  }

  it('a truncated BMP is refused before its pixel buffer is allocated; RLE skips cost nothing per pixel (fuzz finding)', async () => {
    // 12000 × 12000 × 3 = 432 MB that used to be allocated before the truncation check.
    const before = process.memoryUsage().arrayBuffers;
    await rejects(decodeImage(bmp({ width: 12000, height: 12000, bits: 24, pixels: Buffer.alloc(64) })), 'UNKNOWN_FORMAT', /truncated/);
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(100 * 2 ** 20);
    // fuzz/regressions/image: 264 bytes of RLE4 declaring 8388624 × 12 pixels, where each
    // end-of-line escape pushed 8 M zeros one by one. Still a full-size image (Pillow decodes it too).
    const rows = Buffer.from(Array.from({ length: 12 }, () => [4, 0x12, 0, 0]).flat());
    const wide = bmp({ width: 1_000_003, height: 12, bits: 4, compression: 2, palette: pal(16), pixels: rows });
    const img = await decodeImage(wide);
    expect([img.width, img.height]).toEqual([1_000_003, 12]);
    expect([...img.data.subarray(0, 6)]).toEqual([...pal(16)[1], ...pal(16)[2]]);
    expect([...img.data.subarray(12, 15)]).toEqual([...pal(16)[0]]);
  });

  it('refuses what Pillow refuses: 2-bit depth, truncated pixel data, RLE ending early', async () => {
    await rejects(decodeImage(bmp({ width: W, height: H, bits: 2, palette: pal(4), pixels: Buffer.alloc(12) }), { name: 'two.bmp' }), 'UNKNOWN_FORMAT', /two\.bmp.*pixel depth 2/);
    await rejects(decodeImage(bmp({ width: W, height: H, bits: 24, pixels: rows3(16, 15).subarray(0, 30) })), 'UNKNOWN_FORMAT', /truncated/);
    const early = bmp({ width: W, height: H, bits: 8, compression: 1, palette: pal(8), pixels: Buffer.from([5, 1, 0, 1]) });
    await rejects(decodeImage(early), 'UNKNOWN_FORMAT', /truncated/);
  });
});

describe('raw pixel input', () => {
  it('RGB is returned as is, RGBA loses alpha, Uint8ClampedArray is accepted', async () => {
    const data = new Uint8Array([1, 2, 3, 4, 5, 6]);
    const rgb = await decodeImage({ data, width: 2, height: 1, channels: 3 });
    expect(rgb.data).toBe(data);
    const rgba = await decodeImage({ data: new Uint8ClampedArray([1, 2, 3, 0, 4, 5, 6, 255]), width: 2, height: 1, channels: 4 });
    expect([...rgba.data]).toEqual([1, 2, 3, 4, 5, 6]);
    expect(rgba.channels).toBe(3);
  });

  it('is validated', async () => {
    const d = new Uint8Array(6);
    await rejects(decodeImage({ data: d, width: 3, height: 1, channels: 3 }), 'BAD_SHAPE', /data length 6 ≠/);
    await rejects(decodeImage({ data: d, width: 3, height: 1, channels: 2 as 3 }), 'BAD_SHAPE', /channels must be 3/);
    await rejects(decodeImage({ data: new Float32Array(6) as unknown as Uint8Array, width: 2, height: 1, channels: 3 }), 'BAD_VALUE', /Uint8Array/);
    await rejects(decodeImage({ data: d, width: 1.5, height: 1, channels: 3 }), 'BAD_SHAPE', /width/);
    await rejects(decodeImage({ data: new Uint8Array(0), width: 0, height: 1, channels: 3 }), 'EMPTY_INPUT');
    await rejects(decodeImage(42 as unknown as Uint8Array), 'BAD_VALUE', /expected a path/);
  });
});

describe('errors name the input', () => {
  it('missing file, directory, empty file → IO / EMPTY_INPUT', async () => {
    await rejects(decodeImage(join(dir, 'nope.png')), 'IO', /nope\.png': no such file/);
    await rejects(decodeImage(dir), 'IO', /is a directory/);
    await rejects(decodeImage(file('empty.png', '')), 'EMPTY_INPUT', /empty\.png/);
  });

  it('text named .png, random bytes, truncated PNG/JPEG, SVG → UNKNOWN_FORMAT', async () => {
    await rejects(decodeImage(file('text.png', 'this is not an image\n')), 'UNKNOWN_FORMAT', /text\.png/);
    const noise = Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7919 + 13) & 255));
    await rejects(decodeImage(noise), 'UNKNOWN_FORMAT', /4096-byte buffer/);
    const whole = await import('node:fs').then((fs) => fs.readFileSync(FIXTURE_PNG));
    await rejects(decodeImage(file('cut.png', whole.subarray(0, whole.length >> 1))), 'UNKNOWN_FORMAT', /cut\.png' is corrupt or truncated/);
    const jpg = await sharp(whole).jpeg().toBuffer();
    await rejects(decodeImage(jpg.subarray(0, jpg.length >> 1), { name: 'cut.jpg' }), 'UNKNOWN_FORMAT', /cut\.jpg' is corrupt or truncated/);
    const svg = '<svg xmlns="http://www.w3.org/2000/svg" width="4" height="4"><rect width="4" height="4"/></svg>';
    await rejects(decodeImage(file('v.svg', svg)), 'UNKNOWN_FORMAT', /vector SVG/);
  });

  it('huge dimensions → OUT_OF_RANGE from the header, before decoding', async () => {
    // A valid PNG header claiming 100 000 × 100 000 pixels (the pixel data is never read).
    const ihdr = Buffer.alloc(13);
    ihdr.writeUInt32BE(100_000, 0);
    ihdr.writeUInt32BE(100_000, 4);
    ihdr[8] = 8;
    ihdr[9] = 2;
    const bomb = Buffer.concat([
      Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
      pngChunk('IHDR', ihdr),
      pngChunk('IDAT', deflateSync(Buffer.alloc(16))),
      pngChunk('IEND', Buffer.alloc(0)),
    ]);
    await rejects(decodeImage(file('bomb.png', bomb)), 'OUT_OF_RANGE', /bomb\.png' is 100000×100000 = 10000000000 pixels/);
    await rejects(decodeImage(FIXTURE_PNG, { maxPixels: 1000 }), 'OUT_OF_RANGE', /640×430/);
    const bigBmp = bmp({ width: 60000, height: 60000, bits: 24, pixels: Buffer.alloc(0) });
    await rejects(decodeImage(bigBmp), 'OUT_OF_RANGE', /60000×60000/);
    await rejects(decodeImage(FIXTURE_PNG, { maxPixels: -1 }), 'BAD_VALUE');
  });

  it("the default limit is Pillow's decompression-bomb threshold (2 × 89,478,485 pixels), configurable", async () => {
    expect(DEFAULT_MAX_PIXELS).toBe(178_956_970);
    const header = (w: number, h: number) => {
      const ihdr = Buffer.alloc(13);
      ihdr.writeUInt32BE(w, 0);
      ihdr.writeUInt32BE(h, 4);
      ihdr[8] = 8;
      ihdr[9] = 2;
      return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), pngChunk('IHDR', ihdr), pngChunk('IDAT', deflateSync(Buffer.alloc(16))), pngChunk('IEND', Buffer.alloc(0))]);
    };
    // 13,380² = 179,024,400: above Pillow's threshold (it raises DecompressionBombError), refused from the header.
    await rejects(decodeImage(header(13_380, 13_380), { name: 'big.png' }), 'OUT_OF_RANGE', /13380×13380 = 179024400 pixels, more than maxPixels = 178956970/);
    // A raised limit lets the header through: then the (bogus) pixel data is what fails.
    const raised = await decodeImage(header(13_380, 13_380), { name: 'big.png', maxPixels: 2e8 }).catch((e) => e);
    expect(isDa3Error(raised)).toBe(true);
    expect(raised.code).not.toBe('OUT_OF_RANGE');
  });
});

describe('http(s) URLs', () => {
  let server: Server;
  let base: string;
  let body: Buffer;
  beforeAll(async () => {
    body = await import('node:fs').then((fs) => fs.readFileSync(FIXTURE_PNG));
    server = createServer((req, res) => {
      if (req.url === '/img.png') {
        res.writeHead(200, { 'content-type': 'image/png', 'content-length': body.length });
        res.end(body);
      } else if (req.url === '/chunked.png') {
        res.writeHead(200, { 'content-type': 'image/png' });
        res.write(body.subarray(0, 1000));
        res.end(body.subarray(1000));
      } else if (req.url === '/slow.png') {
        res.writeHead(200, { 'content-type': 'image/png' });
        res.write(body.subarray(0, 10));
      } else {
        res.writeHead(404);
        res.end('not found');
      }
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });

  it('downloads and decodes', async () => {
    const ref = await decodeImage(FIXTURE_PNG);
    for (const u of [`${base}/img.png`, new URL(`${base}/chunked.png`)]) {
      const img = await decodeImage(u);
      expect(Buffer.compare(Buffer.from(img.data), Buffer.from(ref.data))).toBe(0);
    }
  });

  it('HTTP errors → IO, bodies over maxBytes → OUT_OF_RANGE, abort → the signal’s reason', async () => {
    await rejects(decodeImage(`${base}/missing.png`), 'IO', /HTTP 404/);
    await rejects(decodeImage(`${base}/img.png`, { maxBytes: 1024 }), 'OUT_OF_RANGE', /maxBytes = 1024.*declared/);
    await rejects(decodeImage(`${base}/chunked.png`, { maxBytes: 2048 }), 'OUT_OF_RANGE', /maxBytes = 2048.*so far/);
    const ctrl = new AbortController();
    const p = decodeImage(`${base}/slow.png`, { signal: ctrl.signal });
    setTimeout(() => ctrl.abort(new Error('stop')), 50);
    await expect(p).rejects.toThrow('stop');
    await rejects(decodeImage(new URL('ftp://example.com/x.png')), 'IO', /unsupported URL scheme/);
  });
});
