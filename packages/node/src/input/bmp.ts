/**
 * A Windows BMP decoder that reproduces Pillow 9.4's `BmpImagePlugin` followed by
 * `convert('RGB')` (the reference's loader); sharp's prebuilt libvips cannot read BMP.
 *
 * Supported like Pillow: BITMAPCOREHEADER (OS/2 v1, 12 bytes) and BITMAPINFOHEADER v3/v4/v5
 * (40, 64, 108, 124 bytes); 1/4/8-bit palettes (entries past the palette read as the grey
 * ramp, Pillow's palette default), 16-bit 5-5-5 and 5-6-5 (`v·255/31`, `v·255/63`, truncated),
 * 24-bit, 32-bit (alpha dropped), BI_BITFIELDS with Pillow's mask layouts, RLE8 and RLE4,
 * bottom-up and top-down rows. Everything else is refused like Pillow refuses it.
 * @internal
 */
import { Da3Error, type RgbImageU8 } from '@da3js/core';

/** True when `bytes` start with the BMP magic `BM`. */
export function isBmp(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x42 && bytes[1] === 0x4d;
}

/** The width and height a BMP header declares (no pixel data is read). */
export function bmpSize(bytes: Uint8Array, fn: string, name: string): { width: number; height: number } {
  const h = parseHeader(bytes, fn, name);
  return { width: h.width, height: h.height };
}

interface BmpHeader {
  width: number;
  height: number;
  topDown: boolean;
  bits: number;
  compression: number;
  colors: number;
  paletteAt: number;
  paletteEntry: 3 | 4;
  dataAt: number;
  layout: string;
}

const RAW = 0;
const RLE8 = 1;
const RLE4 = 2;
const BITFIELDS = 3;

function parseHeader(b: Uint8Array, fn: string, name: string): BmpHeader {
  const bad = (why: string) => new Da3Error('UNKNOWN_FORMAT', `${fn}: '${name}' is not a BMP this decoder (and PIL) can read: ${why}`);
  if (b.length < 18) throw bad('file is truncated inside the header');
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  let dataAt = dv.getUint32(10, true);
  const headerSize = dv.getUint32(14, true);
  if (b.length < 14 + headerSize) throw bad('file is truncated inside the header');
  let width: number;
  let height: number;
  let bits: number;
  let compression = RAW;
  let colors = 0;
  let topDown = false;
  let paletteEntry: 3 | 4 = 4;
  let masks: number[] | undefined;
  let afterHeader = 14 + headerSize;
  if (headerSize === 12) {
    width = dv.getUint16(18, true);
    height = dv.getUint16(20, true);
    bits = dv.getUint16(24, true);
    paletteEntry = 3;
  } else if (headerSize === 40 || headerSize === 64 || headerSize === 108 || headerSize === 124) {
    width = dv.getUint32(18, true);
    topDown = b[25] === 0xff;
    const rawHeight = dv.getUint32(22, true);
    height = topDown ? 2 ** 32 - rawHeight : rawHeight;
    bits = dv.getUint16(28, true);
    compression = dv.getUint32(30, true);
    colors = dv.getUint32(46, true);
    if (compression === BITFIELDS) {
      if (headerSize >= 56) {
        masks = [0, 1, 2, 3].map((i) => dv.getUint32(54 + 4 * i, true));
      } else {
        if (b.length < afterHeader + 12) throw bad('file is truncated inside the bitfield masks');
        masks = [0, 1, 2].map((i) => dv.getUint32(afterHeader + 4 * i, true));
        masks.push(0);
        afterHeader += 12;
      }
    }
  } else {
    throw bad(`unsupported BMP header size ${headerSize}`);
  }
  if (!colors) colors = 2 ** bits;
  if (dataAt === 14 + headerSize && bits <= 8) dataAt += 4 * colors;
  let layout: string;
  switch (bits) {
    case 1:
    case 4:
    case 8:
      layout = 'P';
      break;
    case 16:
      layout = 'BGR;15';
      break;
    case 24:
      layout = 'BGR';
      break;
    case 32:
      layout = 'BGRX';
      break;
    default:
      throw bad(`unsupported pixel depth ${bits}`);
  }
  if (compression === BITFIELDS) {
    const key = (masks as number[]).map((m) => m.toString(16)).join(',');
    const table: Record<number, Record<string, string>> = {
      32: {
        'ff0000,ff00,ff,0': 'BGRX',
        'ff000000,ff0000,ff00,0': 'XBGR',
        'ff000000,ff0000,ff00,ff': 'XBGR',
        'ff,ff00,ff0000,ff000000': 'RGBX',
        'ff0000,ff00,ff,ff000000': 'BGRX',
        '0,0,0,0': 'BGRX',
      },
      24: { 'ff0000,ff00,ff': 'BGR' },
      16: { 'f800,7e0,1f': 'BGR;16', '7c00,3e0,1f': 'BGR;15' },
    };
    const rgbKey = bits === 32 ? key : key.slice(0, key.lastIndexOf(','));
    const found = table[bits]?.[rgbKey];
    if (!found) throw bad(`unsupported BI_BITFIELDS layout (${bits}-bit, masks ${key})`);
    layout = found;
  } else if (compression !== RAW && compression !== RLE8 && compression !== RLE4) {
    throw bad(`unsupported compression ${compression}`);
  }
  if (layout === 'P' && !(colors > 0 && colors <= 65536)) throw bad(`unsupported palette size ${colors}`);
  return { width, height, topDown, bits, compression, colors, paletteAt: afterHeader, paletteEntry, dataAt, layout };
}

/** Decodes a BMP to RGB the way Pillow 9.4 `Image.open(f).convert('RGB')` does. */
export function decodeBmp(b: Uint8Array, fn: string, name: string): RgbImageU8 {
  const h = parseHeader(b, fn, name);
  const { width, height } = h;
  if (width === 0 || height === 0) throw new Da3Error('EMPTY_INPUT', `${fn}: '${name}' is a ${width}×${height} BMP`);
  const truncated = () => new Da3Error('UNKNOWN_FORMAT', `${fn}: '${name}': BMP pixel data is truncated`);

  // Palette: 256 entries preset to the grey ramp (Pillow's default), then the file's entries.
  let lut: Uint8Array | undefined;
  if (h.layout === 'P') {
    lut = new Uint8Array(256 * 3);
    for (let i = 0; i < 256; i++) lut[3 * i] = lut[3 * i + 1] = lut[3 * i + 2] = i;
    // Like Pillow, a palette cut short by the end of the file keeps the entries that are there.
    const n = Math.min(h.colors, 256, Math.floor((b.length - h.paletteAt) / h.paletteEntry));
    for (let i = 0; i < n; i++) {
      const at = h.paletteAt + i * h.paletteEntry;
      lut[3 * i] = b[at + 2];
      lut[3 * i + 1] = b[at + 1];
      lut[3 * i + 2] = b[at];
    }
  }

  if (h.compression === RLE8 || h.compression === RLE4) {
    if (!lut) throw new Da3Error('UNKNOWN_FORMAT', `${fn}: '${name}': RLE compression on a ${h.bits}-bit BMP is not supported`);
    const idx = decodeRle(b, h, h.compression === RLE4, truncated);
    const out = new Uint8Array(width * height * 3);
    for (let y = 0; y < height; y++) {
      const src = (h.topDown ? y : height - 1 - y) * width;
      for (let x = 0; x < width; x++) {
        const v = idx[src + x] * 3;
        const o = (y * width + x) * 3;
        out[o] = lut[v];
        out[o + 1] = lut[v + 1];
        out[o + 2] = lut[v + 2];
      }
    }
    return { data: out, width, height, channels: 3 };
  }

  const stride = ((width * h.bits + 31) >>> 3) & ~3;
  const rowBytes = Math.ceil((width * h.bits) / 8);
  if (h.dataAt + stride * (height - 1) + rowBytes > b.length) throw truncated();
  const out = new Uint8Array(width * height * 3); // only once the data is known to be there
  for (let y = 0; y < height; y++) {
    const row = h.dataAt + (h.topDown ? y : height - 1 - y) * stride;
    let o = y * width * 3;
    switch (h.layout) {
      case 'P': {
        const l = lut as Uint8Array;
        for (let x = 0; x < width; x++, o += 3) {
          let v: number;
          if (h.bits === 8) v = b[row + x];
          else if (h.bits === 4) v = (b[row + (x >> 1)] >> (x & 1 ? 0 : 4)) & 15;
          else v = (b[row + (x >> 3)] >> (7 - (x & 7))) & 1;
          out[o] = l[3 * v];
          out[o + 1] = l[3 * v + 1];
          out[o + 2] = l[3 * v + 2];
        }
        break;
      }
      case 'BGR':
        for (let x = 0, s = row; x < width; x++, o += 3, s += 3) {
          out[o] = b[s + 2];
          out[o + 1] = b[s + 1];
          out[o + 2] = b[s];
        }
        break;
      case 'BGRX':
      case 'XBGR':
      case 'RGBX': {
        const [r, g, bl] = h.layout === 'BGRX' ? [2, 1, 0] : h.layout === 'XBGR' ? [3, 2, 1] : [0, 1, 2];
        for (let x = 0, s = row; x < width; x++, o += 3, s += 4) {
          out[o] = b[s + r];
          out[o + 1] = b[s + g];
          out[o + 2] = b[s + bl];
        }
        break;
      }
      case 'BGR;15':
      case 'BGR;16': {
        const g6 = h.layout === 'BGR;16';
        for (let x = 0, s = row; x < width; x++, o += 3, s += 2) {
          const p = b[s] | (b[s + 1] << 8);
          out[o] = g6 ? Math.trunc(((p >> 11) & 31) * 255 / 31) : Math.trunc(((p >> 10) & 31) * 255 / 31);
          out[o + 1] = g6 ? Math.trunc(((p >> 5) & 63) * 255 / 63) : Math.trunc(((p >> 5) & 31) * 255 / 31);
          out[o + 2] = Math.trunc((p & 31) * 255 / 31);
        }
        break;
      }
    }
  }
  return { data: out, width, height, channels: 3 };
}

/**
 * Pillow's `BmpRleDecoder` (9.4 to current), quirks included: RLE4 absolute runs read
 * `count // 2` bytes, and a delta escape skips two bytes before reading its offsets.
 */
function decodeRle(b: Uint8Array, h: BmpHeader, rle4: boolean, truncated: () => Da3Error): Uint8Array {
  const { width, height } = h;
  const total = width * height;
  const data = new Uint8Array(total);
  let n = 0;
  let x = 0;
  let at = h.dataAt;
  const push = (v: number) => {
    if (n < total) data[n] = v;
    n++;
  };
  while (n < total) {
    if (at + 2 > b.length) break;
    let count = b[at];
    const byte = b[at + 1];
    at += 2;
    if (count) {
      if (x + count > width) count = Math.max(0, width - x);
      for (let i = 0; i < count; i++) push(rle4 ? (i % 2 === 0 ? byte >> 4 : byte & 15) : byte);
      x += count;
    } else if (byte === 0) {
      // Skipped pixels stay 0 (`data` is zeroed): move on in O(1), a 2-byte escape can skip a row.
      n += (width - (n % width)) % width;
      x = 0;
    } else if (byte === 1) {
      break;
    } else if (byte === 2) {
      // Pillow reads the two delta bytes, then takes right/up from the two bytes after them.
      if (at + 2 > b.length) break;
      at += 2;
      if (at + 2 > b.length) throw truncated();
      const right = b[at];
      const up = b[at + 1];
      at += 2;
      n += right + up * width;
      x = n % width;
    } else {
      const want = rle4 ? byte >> 1 : byte;
      const got = Math.min(want, b.length - at);
      for (let i = 0; i < got; i++) {
        const v = b[at + i];
        if (rle4) {
          push(v >> 4);
          push(v & 15);
        } else push(v);
      }
      at += got;
      if (got < want) break;
      x += byte;
      if (at % 2 !== 0) at++;
    }
  }
  // Pillow hands the bytes to its raw decoder, which fails when they do not fill the image.
  if (n < total) throw truncated();
  return data;
}
