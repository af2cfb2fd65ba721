/**
 * *The PLY container (Stanford polygon format): header writing, shortest round-trip ASCII numbers
 * and a strict reader* for `binary_little_endian`, `binary_big_endian` and `ascii` files.
 *
 * Usage:
 * ```ts
 * const ply = readPly(bytes);                       // { format, comments, elements: [...] }
 * const vertex = plyElement(ply, 'vertex');         // { count, properties, columns: { x: Float32Array, … } }
 * const header = plyHeader({ format: 'binary_little_endian', comments, elements });
 * ```
 *
 * The reader never trusts the header: every count is checked against the bytes present before
 * anything is allocated, the header must end with `end_header` within `maxHeaderBytes`, and
 * any deviation (unknown keyword or type, duplicate property, truncated or oversized body, a
 * malformed ASCII number) throws `Da3Error` `UNKNOWN_FORMAT` naming the line or element.
 *
 * Reference: Paul Bourke's PLY description (paulbourke.net/dataformats/ply) and what `plyfile`
 * (used by the reference's `gsply_helpers.py`) reads and writes.
 */
import { Da3Error } from '@da3js/core';

/** The three PLY encodings. */
export type PlyFormat = 'ascii' | 'binary_little_endian' | 'binary_big_endian';

/** Canonical PLY scalar types (the aliases `int8 … float64` are read as these). */
export type PlyScalarType = 'char' | 'uchar' | 'short' | 'ushort' | 'int' | 'uint' | 'float' | 'double';

/** A typed column: one value per element. */
export type PlyColumn = Int8Array | Uint8Array | Int16Array | Uint16Array | Int32Array | Uint32Array | Float32Array | Float64Array;

/** A list property (e.g. `vertex_indices` of faces): element `i` owns `values[offsets[i] .. offsets[i+1])`. */
export interface PlyListColumn {
  readonly offsets: Uint32Array;
  readonly values: PlyColumn;
}

/** One property of an element. For a list, `type` is the item type and `countType` the length's. */
export interface PlyPropertyInfo {
  readonly name: string;
  readonly type: PlyScalarType;
  readonly countType?: PlyScalarType;
}

/** An element declared in the header (`element <name> <count>`) and its properties in order. */
export interface PlyElementInfo {
  readonly name: string;
  readonly count: number;
  readonly properties: readonly PlyPropertyInfo[];
}

/** An element with its data: `columns[name]` is a typed array (scalar) or a {@link PlyListColumn}. */
export interface PlyElementData extends PlyElementInfo {
  readonly columns: Readonly<Record<string, PlyColumn | PlyListColumn>>;
}

/** A parsed header. `bodyOffset` is the byte where the data starts. */
export interface PlyHeader {
  readonly format: PlyFormat;
  readonly comments: readonly string[];
  readonly objInfo: readonly string[];
  readonly elements: readonly PlyElementInfo[];
  readonly bodyOffset: number;
}

/** What {@link readPly} returns. */
export interface PlyFile extends Omit<PlyHeader, 'elements'> {
  readonly elements: readonly PlyElementData[];
}

/** Options of {@link readPly}. */
export interface ReadPlyOptions {
  /** Largest header accepted, bytes (default 1 MiB): a file without `end_header` before it is rejected. */
  maxHeaderBytes?: number;
}

const TYPES: Record<string, PlyScalarType> = {
  char: 'char',
  int8: 'char',
  uchar: 'uchar',
  uint8: 'uchar',
  short: 'short',
  int16: 'short',
  ushort: 'ushort',
  uint16: 'ushort',
  int: 'int',
  int32: 'int',
  uint: 'uint',
  uint32: 'uint',
  float: 'float',
  float32: 'float',
  double: 'double',
  float64: 'double',
};

/** Bytes of each scalar type. */
export const PLY_TYPE_SIZE: Readonly<Record<PlyScalarType, number>> = { char: 1, uchar: 1, short: 2, ushort: 2, int: 4, uint: 4, float: 4, double: 8 };

const INT_RANGE: Partial<Record<PlyScalarType, [number, number]>> = {
  char: [-128, 127],
  uchar: [0, 255],
  short: [-32768, 32767],
  ushort: [0, 65535],
  int: [-2147483648, 2147483647],
  uint: [0, 4294967295],
};

function fail(message: string): never {
  throw new Da3Error('UNKNOWN_FORMAT', `readPly: ${message}`);
}

function newColumn(type: PlyScalarType, n: number): PlyColumn {
  switch (type) {
    case 'char':
      return new Int8Array(n);
    case 'uchar':
      return new Uint8Array(n);
    case 'short':
      return new Int16Array(n);
    case 'ushort':
      return new Uint16Array(n);
    case 'int':
      return new Int32Array(n);
    case 'uint':
      return new Uint32Array(n);
    case 'float':
      return new Float32Array(n);
    case 'double':
      return new Float64Array(n);
  }
}

function isValidName(name: string): boolean {
  return /^[\x21-\x7e]+$/.test(name);
}

/** Writes the text of a PLY header (ending with `end_header\n`). */
export function plyHeader(header: { format: PlyFormat; comments?: readonly string[]; elements: readonly PlyElementInfo[] }): string {
  const lines = ['ply', `format ${header.format} 1.0`];
  for (const c of header.comments ?? []) {
    if (/[\r\n]/.test(c)) throw new Da3Error('BAD_VALUE', `plyHeader: a comment must be one line, got ${JSON.stringify(c)}`);
    lines.push(`comment ${c}`);
  }
  for (const e of header.elements) {
    if (!isValidName(e.name)) throw new Da3Error('BAD_VALUE', `plyHeader: bad element name ${JSON.stringify(e.name)}`);
    if (!Number.isSafeInteger(e.count) || e.count < 0) throw new Da3Error('BAD_VALUE', `plyHeader: element ${e.name} count must be a non-negative integer, got ${e.count}`);
    lines.push(`element ${e.name} ${e.count}`);
    for (const p of e.properties) {
      if (!isValidName(p.name)) throw new Da3Error('BAD_VALUE', `plyHeader: bad property name ${JSON.stringify(p.name)}`);
      lines.push(p.countType ? `property list ${p.countType} ${p.type} ${p.name}` : `property ${p.type} ${p.name}`);
    }
  }
  lines.push('end_header', '');
  return lines.join('\n');
}

/**
 * The shortest decimal text that reads back (`Math.fround(Number(s))`) as exactly the float32
 * `v`; `nan`, `inf`, `-inf` for non-finite values (as NumPy/`plyfile` write them).
 */
export function formatPlyFloat32(v: number): string {
  if (!Number.isFinite(v)) return Number.isNaN(v) ? 'nan' : v > 0 ? 'inf' : '-inf';
  const f = Math.fround(v);
  if (Number.isInteger(f) && Math.abs(f) < 1e15) return Object.is(f, -0) ? '-0' : String(f);
  // 9 significant digits always identify a float32; search downward from 9 for the shortest.
  let best = String(Number(f.toPrecision(9)));
  for (let p = 8; p >= 1; p--) {
    const s = String(Number(f.toPrecision(p)));
    if (Math.fround(Number(s)) !== f) break;
    best = s;
  }
  return best;
}

/** Decimal text of a float64 that reads back exactly (`String(v)`), or `nan`/`inf`/`-inf`. */
export function formatPlyFloat64(v: number): string {
  if (!Number.isFinite(v)) return Number.isNaN(v) ? 'nan' : v > 0 ? 'inf' : '-inf';
  return Object.is(v, -0) ? '-0' : String(v);
}

/**
 * Parses the header: `ply`, one `format <fmt> 1.0` line, `comment`/`obj_info` lines,
 * `element`/`property` declarations, `end_header`. Lines may end in `\n` or `\r\n`.
 * @throws Da3Error `UNKNOWN_FORMAT` for anything else.
 */
export function parsePlyHeader(bytes: Uint8Array, options: ReadPlyOptions = {}): PlyHeader {
  if (!(bytes instanceof Uint8Array)) throw new Da3Error('BAD_VALUE', `readPly: expected a Uint8Array, got ${Object.prototype.toString.call(bytes)}`);
  const maxHeader = options.maxHeaderBytes ?? 1 << 20;
  if (bytes.length < 4 || bytes[0] !== 0x70 || bytes[1] !== 0x6c || bytes[2] !== 0x79 || (bytes[3] !== 0x0a && bytes[3] !== 0x0d)) {
    fail('not a PLY file (it must start with "ply" and a newline)');
  }
  // Read lines up to end_header, never past maxHeader bytes.
  const limit = Math.min(bytes.length, maxHeader);
  let at = 0;
  let format: PlyFormat | undefined;
  const comments: string[] = [];
  const objInfo: string[] = [];
  const elements: { name: string; count: number; properties: PlyPropertyInfo[] }[] = [];
  let lineNo = 0;
  for (;;) {
    let end = at;
    while (end < limit && bytes[end] !== 0x0a) end++;
    if (end >= limit) {
      fail(bytes.length > maxHeader ? `no end_header within the first ${maxHeader} bytes` : 'truncated header (no end_header line)');
    }
    let lineEnd = end;
    if (lineEnd > at && bytes[lineEnd - 1] === 0x0d) lineEnd--;
    let line = '';
    for (let i = at; i < lineEnd; i++) {
      const c = bytes[i];
      if (c === 0) fail(`NUL byte in header line ${lineNo + 1}`);
      line += String.fromCharCode(c);
    }
    at = end + 1;
    lineNo++;
    if (lineNo === 1) {
      if (line !== 'ply') fail(`first line must be "ply", got ${JSON.stringify(line.slice(0, 40))}`);
      continue;
    }
    const words = line.trim().split(/\s+/);
    const key = words[0];
    const where = `header line ${lineNo} (${JSON.stringify(line.slice(0, 80))})`;
    if (key === 'comment') {
      comments.push(line.replace(/^\s*comment ?/, ''));
      continue;
    }
    if (key === 'obj_info') {
      objInfo.push(line.replace(/^\s*obj_info ?/, ''));
      continue;
    }
    if (key === 'end_header') {
      if (words.length !== 1) fail(`${where}: junk after end_header`);
      break;
    }
    if (key === 'format') {
      if (format) fail(`${where}: second format line`);
      if (elements.length) fail(`${where}: format after an element`);
      if (words.length !== 3 || words[2] !== '1.0') fail(`${where}: expected "format <ascii|binary_little_endian|binary_big_endian> 1.0"`);
      if (words[1] !== 'ascii' && words[1] !== 'binary_little_endian' && words[1] !== 'binary_big_endian') fail(`${where}: unknown format ${words[1]}`);
      format = words[1];
      continue;
    }
    if (key === 'element') {
      if (!format) fail(`${where}: element before the format line`);
      if (words.length !== 3 || !/^\d+$/.test(words[2])) fail(`${where}: expected "element <name> <count>"`);
      const count = Number(words[2]);
      if (!Number.isSafeInteger(count) || count > 0xffffffff) fail(`${where}: element count ${words[2]} is out of range`);
      if (elements.some((e) => e.name === words[1])) fail(`${where}: duplicate element ${words[1]}`);
      elements.push({ name: words[1], count, properties: [] });
      continue;
    }
    if (key === 'property') {
      const el = elements[elements.length - 1];
      if (!el) fail(`${where}: property before any element`);
      let prop: PlyPropertyInfo;
      if (words[1] === 'list') {
        if (words.length !== 5) fail(`${where}: expected "property list <count type> <item type> <name>"`);
        const countType = TYPES[words[2]];
        const type = TYPES[words[3]];
        if (!countType || !type) fail(`${where}: unknown type`);
        if (countType === 'float' || countType === 'double') fail(`${where}: a list count must be an integer type`);
        prop = { name: words[4], type, countType };
      } else {
        if (words.length !== 3) fail(`${where}: expected "property <type> <name>"`);
        const type = TYPES[words[1]];
        if (!type) fail(`${where}: unknown type ${words[1]}`);
        prop = { name: words[2], type };
      }
      if (el.properties.some((p) => p.name === prop.name)) fail(`${where}: duplicate property ${prop.name} in element ${el.name}`);
      el.properties.push(prop);
      continue;
    }
    fail(`${where}: unknown keyword ${JSON.stringify(key)}`);
  }
  if (!format) fail('no format line');
  return { format, comments, objInfo, elements, bodyOffset: at };
}

/**
 * Stores a column as an own property whatever its name: a plain assignment would make a property
 * called `__proto__` the object's prototype (and then one called `length` threw a TypeError).
 */
function setColumn(columns: Record<string, PlyColumn | PlyListColumn>, name: string, column: PlyColumn | PlyListColumn): void {
  Object.defineProperty(columns, name, { value: column, enumerable: true, writable: true, configurable: true });
}

/** Cursor over a binary body, with bounds checks that name the element. */
class BinaryBody {
  private view: DataView;
  at: number;
  constructor(
    readonly bytes: Uint8Array,
    start: number,
    readonly le: boolean,
  ) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.at = start;
  }
  need(n: number, what: string): void {
    if (this.at + n > this.bytes.length) fail(`truncated body: ${what} needs ${n} bytes at offset ${this.at}, file has ${this.bytes.length}`);
  }
  read(type: PlyScalarType): number {
    const v = this.view;
    const a = this.at;
    switch (type) {
      case 'char':
        this.at += 1;
        return v.getInt8(a);
      case 'uchar':
        this.at += 1;
        return v.getUint8(a);
      case 'short':
        this.at += 2;
        return v.getInt16(a, this.le);
      case 'ushort':
        this.at += 2;
        return v.getUint16(a, this.le);
      case 'int':
        this.at += 4;
        return v.getInt32(a, this.le);
      case 'uint':
        this.at += 4;
        return v.getUint32(a, this.le);
      case 'float':
        this.at += 4;
        return v.getFloat32(a, this.le);
      case 'double':
        this.at += 8;
        return v.getFloat64(a, this.le);
    }
  }
}

/** A growable typed column for list values. */
class Growable {
  data: PlyColumn;
  length = 0;
  constructor(readonly type: PlyScalarType) {
    this.data = newColumn(type, 16);
  }
  push(v: number): void {
    if (this.length === this.data.length) {
      const next = newColumn(this.type, this.data.length * 2);
      next.set(this.data as never);
      this.data = next;
    }
    this.data[this.length++] = v;
  }
  done(): PlyColumn {
    return this.data.slice(0, this.length) as PlyColumn;
  }
}

function readBinary(bytes: Uint8Array, header: PlyHeader): PlyElementData[] {
  const body = new BinaryBody(bytes, header.bodyOffset, header.format === 'binary_little_endian');
  const out: PlyElementData[] = [];
  for (const el of header.elements) {
    const hasList = el.properties.some((p) => p.countType);
    // Smallest possible size of one element: scalars plus list counts.
    const minStride = el.properties.reduce((a, p) => a + PLY_TYPE_SIZE[p.countType ?? p.type], 0);
    if (el.count > 0 && minStride === 0) fail(`element ${el.name} has ${el.count} entries but no properties`);
    const remaining = bytes.length - body.at;
    if (el.count * minStride > remaining) {
      fail(`truncated body: element ${el.name} needs at least ${el.count} × ${minStride} bytes, ${remaining} left`);
    }
    const columns: Record<string, PlyColumn | PlyListColumn> = {};
    if (!hasList) {
      const cols = el.properties.map((p) => newColumn(p.type, el.count));
      for (let i = 0; i < cols.length; i++) setColumn(columns, el.properties[i].name, cols[i]);
      for (let i = 0; i < el.count; i++) for (let k = 0; k < cols.length; k++) cols[k][i] = body.read(el.properties[k].type);
    } else {
      const scalars: (PlyColumn | null)[] = el.properties.map((p) => (p.countType ? null : newColumn(p.type, el.count)));
      const lists = el.properties.map((p) => (p.countType ? { offsets: new Uint32Array(el.count + 1), values: new Growable(p.type) } : null));
      for (let i = 0; i < el.count; i++) {
        for (let k = 0; k < el.properties.length; k++) {
          const p = el.properties[k];
          if (p.countType) {
            body.need(PLY_TYPE_SIZE[p.countType], `${el.name}[${i}].${p.name} length`);
            const n = body.read(p.countType);
            if (!Number.isInteger(n) || n < 0) fail(`element ${el.name}[${i}].${p.name}: negative list length ${n}`);
            body.need(n * PLY_TYPE_SIZE[p.type], `${el.name}[${i}].${p.name} (${n} items)`);
            const l = lists[k]!;
            for (let j = 0; j < n; j++) l.values.push(body.read(p.type));
            l.offsets[i + 1] = l.values.length;
          } else {
            body.need(PLY_TYPE_SIZE[p.type], `${el.name}[${i}].${p.name}`);
            scalars[k]![i] = body.read(p.type);
          }
        }
      }
      el.properties.forEach((p, k) => {
        const l = lists[k];
        setColumn(columns, p.name, l ? { offsets: l.offsets, values: l.values.done() } : scalars[k]!);
      });
    }
    out.push({ ...el, columns });
  }
  if (body.at !== bytes.length) fail(`${bytes.length - body.at} unexpected bytes after the last element`);
  return out;
}

// Digits, an optional fraction, an optional exponent. The fraction's digits follow the dot only:
// `\d+\.?\d*` could split a run of digits in n ways, and a long one that fails at its end
// backtracked for seconds.
const FLOAT_RE = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;
const INT_RE = /^[+-]?\d+$/;

function parseAsciiValue(token: string, type: PlyScalarType, where: () => string): number {
  if (type === 'float' || type === 'double') {
    if (FLOAT_RE.test(token)) return Number(token);
    const t = token.toLowerCase();
    if (t === 'nan' || t === '-nan' || t === '+nan') return Number.NaN;
    if (t === 'inf' || t === '+inf' || t === 'infinity' || t === '+infinity') return Number.POSITIVE_INFINITY;
    if (t === '-inf' || t === '-infinity') return Number.NEGATIVE_INFINITY;
    fail(`${where()}: ${JSON.stringify(token)} is not a number`);
  }
  if (!INT_RE.test(token)) fail(`${where()}: ${JSON.stringify(token)} is not an integer (${type})`);
  const v = Number(token);
  const [lo, hi] = INT_RANGE[type]!;
  if (v < lo || v > hi) fail(`${where()}: ${token} is out of range for ${type}`);
  return v;
}

function readAscii(bytes: Uint8Array, header: PlyHeader): PlyElementData[] {
  // windows-1252 maps every byte to one UTF-16 unit, so string offsets equal byte offsets.
  const text = new TextDecoder('latin1').decode(bytes.subarray(header.bodyOffset));
  const n = text.length;
  let at = 0;
  let lineNo = 0;
  // Next non-blank line, split on whitespace; null at the end of the file.
  const nextLine = (): string[] | null => {
    for (;;) {
      if (at >= n) return null;
      let end = text.indexOf('\n', at);
      if (end < 0) end = n;
      const t = text.slice(at, end).trim();
      at = end + 1;
      lineNo++;
      if (t.length) return t.split(/\s+/);
    }
  };
  const out: PlyElementData[] = [];
  for (const el of header.elements) {
    // Each entry needs at least two characters per scalar ("0 ") — bounds the allocation.
    const minTokens = el.properties.length;
    if (el.count > 0 && minTokens === 0) fail(`element ${el.name} has ${el.count} entries but no properties`);
    if (el.count * minTokens * 2 > n - at + 1) fail(`truncated body: element ${el.name} declares ${el.count} entries, only ${n - at} bytes left`);
    const scalars: (PlyColumn | null)[] = el.properties.map((p) => (p.countType ? null : newColumn(p.type, el.count)));
    const lists = el.properties.map((p) => (p.countType ? { offsets: new Uint32Array(el.count + 1), values: new Growable(p.type) } : null));
    for (let i = 0; i < el.count; i++) {
      const tokens = nextLine();
      if (!tokens) fail(`truncated body: element ${el.name} ends after ${i} of ${el.count} entries`);
      const where = () => `body line ${lineNo} (${el.name}[${i}])`;
      let t = 0;
      for (let k = 0; k < el.properties.length; k++) {
        const p = el.properties[k];
        if (t >= tokens.length) fail(`${where()}: too few values`);
        if (p.countType) {
          const len = parseAsciiValue(tokens[t++], p.countType, where);
          if (len < 0) fail(`${where()}: negative list length`);
          if (t + len > tokens.length) fail(`${where()}: list ${p.name} has fewer than ${len} values`);
          const l = lists[k]!;
          for (let j = 0; j < len; j++) l.values.push(parseAsciiValue(tokens[t++], p.type, where));
          l.offsets[i + 1] = l.values.length;
        } else {
          scalars[k]![i] = parseAsciiValue(tokens[t++], p.type, where);
        }
      }
      if (t !== tokens.length) fail(`${where()}: ${tokens.length - t} values too many`);
    }
    const columns: Record<string, PlyColumn | PlyListColumn> = {};
    el.properties.forEach((p, k) => {
      const l = lists[k];
      setColumn(columns, p.name, l ? { offsets: l.offsets, values: l.values.done() } : scalars[k]!);
    });
    out.push({ ...el, columns });
  }
  if (nextLine()) fail(`unexpected data after the last element (body line ${lineNo})`);
  return out;
}

/**
 * Reads a whole PLY file into typed columns (scalars: one typed array per property; lists:
 * offsets + values). Strict: the body must hold exactly the declared elements.
 * @throws Da3Error `UNKNOWN_FORMAT` (malformed header, truncated or oversized body, bad ASCII
 *   value), `BAD_VALUE` (not a Uint8Array)
 */
export function readPly(bytes: Uint8Array, options: ReadPlyOptions = {}): PlyFile {
  const header = parsePlyHeader(bytes, options);
  const elements = header.format === 'ascii' ? readAscii(bytes, header) : readBinary(bytes, header);
  return { format: header.format, comments: header.comments, objInfo: header.objInfo, bodyOffset: header.bodyOffset, elements };
}

/**
 * The element called `name` of a read file.
 * @throws Da3Error `UNKNOWN_FORMAT` when the file has no such element.
 */
export function plyElement(file: PlyFile, name: string): PlyElementData {
  const el = file.elements.find((e) => e.name === name);
  if (!el) fail(`no element ${JSON.stringify(name)} (elements: ${file.elements.map((e) => e.name).join(', ') || 'none'})`);
  return el;
}

/**
 * The scalar column `name` of `element`, checked to be a typed array (not a list).
 * @throws Da3Error `UNKNOWN_FORMAT` when missing or a list.
 */
export function plyScalarColumn(element: PlyElementData, name: string): PlyColumn {
  const c = Object.hasOwn(element.columns, name) ? element.columns[name] : undefined;
  if (!c) fail(`element ${element.name} has no property ${JSON.stringify(name)}`);
  if (!ArrayBuffer.isView(c)) fail(`property ${element.name}.${name} is a list, expected a scalar`);
  return c as PlyColumn;
}
