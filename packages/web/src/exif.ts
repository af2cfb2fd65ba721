/**
 * The EXIF orientation tag of JPEG files. Browsers always apply it when decoding
 * (`createImageBitmap`'s `imageOrientation: 'none'` was redefined to mean "from-image"), while the
 * reference (PIL) and @da3js/node ignore it unless asked. To decode the stored pixels as they are,
 * the tag is rewritten to 1 ("top-left") in a copy of the file before decoding.
 */

/** Where the orientation value (a 16-bit SHORT) sits in a JPEG, and its byte order. */
interface OrientationField {
  readonly offset: number;
  readonly littleEndian: boolean;
  readonly value: number;
}

const TAG_ORIENTATION = 0x0112;
const TYPE_SHORT = 3;

/** Finds the orientation tag in IFD0 of a JPEG's EXIF segment; undefined when absent or malformed. */
function findOrientation(bytes: Uint8Array): OrientationField | undefined {
  if (bytes.length < 4 || bytes[0] !== 0xff || bytes[1] !== 0xd8) return undefined;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let at = 2;
  while (at + 4 <= bytes.length) {
    if (bytes[at] !== 0xff) return undefined;
    const marker = bytes[at + 1];
    if (marker === 0xd9 || marker === 0xda) return undefined; // end of image / start of scan: no EXIF before the pixels
    if (marker === 0xff) {
      at++;
      continue;
    }
    const length = view.getUint16(at + 2);
    if (length < 2 || at + 2 + length > bytes.length) return undefined;
    const start = at + 4;
    if (marker === 0xe1 && length >= 8 && String.fromCharCode(...bytes.subarray(start, start + 4)) === 'Exif' && bytes[start + 4] === 0 && bytes[start + 5] === 0) {
      return orientationInTiff(view, start + 6, at + 2 + length);
    }
    at += 2 + length;
  }
  return undefined;
}

function orientationInTiff(view: DataView, tiff: number, end: number): OrientationField | undefined {
  if (tiff + 8 > end) return undefined;
  const order = view.getUint16(tiff);
  if (order !== 0x4949 && order !== 0x4d4d) return undefined;
  const le = order === 0x4949;
  if (view.getUint16(tiff + 2, le) !== 42) return undefined;
  const ifd = tiff + view.getUint32(tiff + 4, le);
  if (ifd + 2 > end) return undefined;
  const count = view.getUint16(ifd, le);
  for (let i = 0; i < count; i++) {
    const entry = ifd + 2 + 12 * i;
    if (entry + 12 > end) return undefined;
    if (view.getUint16(entry, le) === TAG_ORIENTATION && view.getUint16(entry + 2, le) === TYPE_SHORT) {
      return { offset: entry + 8, littleEndian: le, value: view.getUint16(entry + 8, le) };
    }
  }
  return undefined;
}

/** The EXIF orientation (1–8) of a JPEG file, or undefined when it has none. */
export function jpegExifOrientation(bytes: Uint8Array): number | undefined {
  return findOrientation(bytes)?.value;
}

/**
 * A copy of a JPEG whose EXIF orientation says "as stored" (1), or the input itself when it has no
 * orientation other than 1 (non-JPEG bytes are returned unchanged).
 */
export function withoutExifOrientation(bytes: Uint8Array): Uint8Array {
  const field = findOrientation(bytes);
  if (!field || field.value === 1) return bytes;
  const copy = bytes.slice();
  new DataView(copy.buffer).setUint16(field.offset, 1, field.littleEndian);
  return copy;
}
