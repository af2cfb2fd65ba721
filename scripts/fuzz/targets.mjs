/**
 * Fuzz targets: every parser a user's file (or request) reaches, through the public APIs of the
 * built packages. Each target is
 *
 * - `name`;
 * - `seeds(ctx)` → valid seed files (`Uint8Array[]`, async allowed), made by our own writers;
 * - `run(bytes, ctx)` → returns, or throws; the oracle (engine) accepts a `Da3Error` and
 *   nothing else;
 * - optional `mutate` options for {@link generateInput} (`text`, `tail`, `dict`, `maxLen`),
 *   `setup(ctx)` / `teardown(ctx)` for run-time resources (a server), and `report(ctx)` for
 *   target-specific counters (merged across worker restarts by summing numbers).
 *
 * `ctx.tmp` is a fresh temporary folder of the worker (the engine removes it).
 */
import { existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildNetGraph } from '@da3js/core/graph';
import {
  CheckpointWeights,
  createPrediction,
  encodeOnnxModel,
  loadConfig,
  memoryByteSource,
  readOnnxMetadata,
  SafetensorsFile,
  writeSafetensors,
} from '@da3js/core';
import {
  decodeNpy,
  encodeNpy,
  formatPlyFloat32,
  memorySink,
  parsePlyHeader,
  plyElement,
  plyHeader,
  plyScalarColumn,
  readColmap,
  readGaussiansPly,
  readNpz,
  readPly,
  writeColmapModel,
  writeGaussiansPly,
  writeNpz,
  writePly,
} from '@da3js/exporters';
import { stringify as yamlStringify } from 'yaml';

const enc = new TextEncoder();

/** Names that are special on a plain JS object (property, element, entry and key names). */
const JS_NAMES = ['__proto__', 'length', 'constructor', 'toString', 'hasOwnProperty', 'prototype'];

/**
 * The golden fixtures folder: `$DA3_FIXTURES`, else `fixtures/` in the repository when it holds
 * them, else `../shared/fixtures` beside the repository.
 */
export function fixturesDir() {
  if (process.env.DA3_FIXTURES) return process.env.DA3_FIXTURES;
  const inRepo = fileURLToPath(new URL('../../fixtures/', import.meta.url));
  if (existsSync(join(inRepo, 'tiny', 'config.json'))) return inRepo;
  return fileURLToPath(new URL('../../../shared/fixtures/', import.meta.url));
}

function concat(...parts) {
  const out = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** A tiny deterministic value stream for seed contents. */
function values(n, scale = 1, offset = 0) {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = offset + scale * (((i * 37) % 17) / 17);
  return out;
}

async function sinkBytes(write) {
  const sink = memorySink();
  await write(sink);
  return sink.bytes();
}

// ------------------------------------------------------------------------------------------------
// 1. safetensors

/** Sets the 8-byte header length to end at the last '}' of the printable text after it. */
function fixSafetensorsLength(bytes) {
  if (bytes.length < 9) return bytes;
  let end = 8;
  while (end < bytes.length && bytes[end] >= 0x20 && bytes[end] < 0x7f) end++;
  let close = bytes.lastIndexOf(0x7d, end - 1);
  if (close < 8) return bytes;
  while (close + 1 < end && bytes[close + 1] === 0x20) close++;
  const out = bytes.slice();
  new DataView(out.buffer).setBigUint64(0, BigInt(close + 1 - 8), true);
  return out;
}

const safetensors = {
  name: 'safetensors',
  async seeds() {
    const f32 = values(24, 2, -1);
    const seeds = [
      writeSafetensors(
        {
          'a.weight': { dtype: 'F32', shape: [2, 3, 4], data: f32 },
          'a.bias': { dtype: 'F16', shape: [4], data: Uint16Array.of(0x3c00, 0xbc00, 0x7c00, 0x0001) },
          'b.bf16': { dtype: 'BF16', shape: [2, 2], data: Uint16Array.of(0x3f80, 0x4000, 0xbf80, 0x7fc0) },
          'c.f64': { dtype: 'F64', shape: [3], data: Float64Array.of(1.5, -2, 1e300) },
          'd.i64': { dtype: 'I64', shape: [2], data: BigInt64Array.of(-1n, 2n ** 40n) },
          'e.u8': { dtype: 'U8', shape: [5], data: Uint8Array.of(0, 1, 2, 254, 255) },
          'f.bool': { dtype: 'BOOL', shape: [3], data: Uint8Array.of(1, 0, 1) },
          'g.i32': { dtype: 'I32', shape: [2], data: Int32Array.of(-7, 7) },
          'h.scalar': { dtype: 'F32', shape: [], data: Float32Array.of(3) },
          'i.empty': { dtype: 'F32', shape: [0, 3], data: new Float32Array(0) },
        },
        { format: 'pt', note: 'fuzz seed' },
      ),
      writeSafetensors({ x: { dtype: 'F32', shape: [1], data: Float32Array.of(1) } }),
    ];
    // The first tensors of the tiny fixture model (a real header layout), rewritten small.
    const st = await SafetensorsFile.open(memoryByteSource(new Uint8Array(readFileSync(join(fixturesDir(), 'tiny', 'model.safetensors')))));
    const picked = {};
    for (const name of st.names().slice(0, 12)) {
      const info = st.info(name);
      if (info.byteLength <= 4096) picked[name] = { dtype: info.dtype, shape: info.shape, data: await st.read(name) };
    }
    seeds.push(writeSafetensors(picked, st.metadata));
    return seeds;
  },
  mutate: { fixup: fixSafetensorsLength, dict: [...JS_NAMES.map((n) => `"${n}"`), '{', '}', '"dtype"', '"shape"', '"data_offsets"', '"__metadata__"', '"F32"', '"F16"', '"BF16"', '"I64"', '"BOOL"', '"U64"', '[0,0]', '[', ']', ',', '9007199254740993', '-1', ' '] },
  async run(bytes) {
    const st = await SafetensorsFile.open(memoryByteSource(bytes));
    for (const name of st.names()) {
      const info = st.info(name);
      if (info.dtype === 'F32' || info.dtype === 'F16' || info.dtype === 'BF16' || info.dtype === 'F64') await st.readFloat32(name);
      else await st.read(name);
    }
  },
};

// ------------------------------------------------------------------------------------------------
// 2. config JSON / YAML

const config = {
  name: 'config',
  seeds() {
    const seeds = [];
    for (const model of ['tiny', 'tiny-mono', 'tiny-nested', 'tiny-giant']) {
      const text = readFileSync(join(fixturesDir(), model, 'config.json'), 'utf8');
      const doc = JSON.parse(text);
      // The whole document only for `tiny` (47 KB); the blocks loadConfig reads for all four.
      if (model === 'tiny') seeds.push(enc.encode(text));
      if (doc.resolved) {
        seeds.push(enc.encode(JSON.stringify({ resolved: doc.resolved }, null, 1)));
        seeds.push(enc.encode(yamlStringify(doc.resolved)));
      }
      if (doc.config) {
        seeds.push(enc.encode(JSON.stringify(doc.config, null, 1)));
        seeds.push(enc.encode(yamlStringify(doc.config)));
      }
    }
    seeds.push(enc.encode('{"model_name": "da3-large"}'), enc.encode('model_name: da3nested-giant-large\n'));
    return seeds;
  },
  mutate: { text: true, dict: ['out_layers', 'embed_dim', 'depth', 'num_heads', 'patch_size', 'features', 'out_channels', 'dim_in', 'kind', 'net', 'head', 'name: vitl', 'anyview', 'metric', 'cam_enc', 'cam_dec'] },
  run(bytes) {
    loadConfig(new TextDecoder().decode(bytes));
  },
};

// ------------------------------------------------------------------------------------------------
// 3. ONNX metadata

/** Top-level fields of a protobuf message (tag, start, end), walked without decoding. */
function topLevelFields(b) {
  const fields = [];
  let p = 0;
  const varint = () => {
    let r = 0;
    let m = 1;
    for (;;) {
      const x = b[p++];
      r += (x & 0x7f) * m;
      if (x < 0x80) return r;
      m *= 128;
    }
  };
  while (p < b.length) {
    const start = p;
    const tag = varint();
    const wire = tag & 7;
    if (wire === 0) varint();
    else if (wire === 1) p += 8;
    else if (wire === 5) p += 4;
    else if (wire === 2) {
      const len = varint();
      p += len;
    }
    fields.push({ field: Math.floor(tag / 8), start, end: p });
  }
  return fields;
}

const onnx = {
  name: 'onnx-metadata',
  async seeds() {
    const cfg = loadConfig(readFileSync(join(fixturesDir(), 'tiny', 'config.json'), 'utf8'));
    const st = await SafetensorsFile.open(memoryByteSource(new Uint8Array(readFileSync(join(fixturesDir(), 'tiny', 'model.safetensors')))));
    const full = await encodeOnnxModel(buildNetGraph(cfg, new CheckpointWeights(st, 'model.'), { refViewStrategy: 'first', exportFeatLayers: [1] }));
    // The same model without its graph (field 7): every other top-level field, metadata included.
    const small = concat(...topLevelFields(full).filter((f) => f.field !== 7).map((f) => full.subarray(f.start, f.end)));
    return [small, small.slice(0, small.length - 7), full];
  },
  // Mostly the tail, where the metadata entries are; the graph before it is skipped by length.
  mutate: { tail: 2048, dict: [Uint8Array.of(0x72), Uint8Array.of(0x0a), Uint8Array.of(0x12), Uint8Array.of(0x3a), Uint8Array.of(0x80, 0x80, 0x80, 0x80, 0x10), Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0x0f)] },
  async run(bytes) {
    await readOnnxMetadata(memoryByteSource(bytes));
  },
};

// ------------------------------------------------------------------------------------------------
// 4. PLY and 3DGS PLY

function tinyPrediction() {
  const N = 2;
  const H = 3;
  const W = 4;
  const n = N * H * W;
  const extrinsics = new Float32Array(N * 12);
  const intrinsics = new Float32Array(N * 9);
  for (let v = 0; v < N; v++) {
    extrinsics.set([1, 0, 0, 0.1 * v, 0, 1, 0, 0, 0, 0, 1, 0], 12 * v);
    intrinsics.set([5, 0, 2, 0, 5, 1.5, 0, 0, 1], 9 * v);
  }
  const processedImages = new Uint8Array(n * 3);
  for (let i = 0; i < processedImages.length; i++) processedImages[i] = (i * 29) & 255;
  return createPrediction({ views: N, height: H, width: W, depth: values(n, 3, 0.5), conf: values(n, 2, 1), processedImages, extrinsics, intrinsics });
}

/** A PLY with a vertex element and a face element holding a list, in any of the three encodings. */
function plyWithFaces(format) {
  const elements = [
    { name: 'vertex', count: 4, properties: [{ name: 'x', type: 'float' }, { name: 'y', type: 'float' }, { name: 'z', type: 'double' }, { name: 'red', type: 'uchar' }, { name: 'id', type: 'int' }] },
    { name: 'face', count: 2, properties: [{ name: 'vertex_indices', type: 'uint', countType: 'uchar' }, { name: 'flags', type: 'short' }] },
  ];
  const header = enc.encode(plyHeader({ format, comments: ['fuzz seed'], elements }));
  const verts = [
    [0, 0, 0, 10, -1],
    [1, 0, 0.5, 20, 2],
    [0, 1, 1e-3, 30, 3],
    [1.5, -2.25, 7, 255, 2147483647],
  ];
  const faces = [
    [[0, 1, 2], -3],
    [[1, 3, 2, 0], 32767],
  ];
  if (format === 'ascii') {
    const lines = [...verts.map((v) => v.join(' ')), ...faces.map(([idx, f]) => `${idx.length} ${idx.join(' ')} ${f}`)];
    return concat(header, enc.encode(`${lines.join('\n')}\n`));
  }
  const le = format === 'binary_little_endian';
  const body = new Uint8Array(4 * (4 + 4 + 8 + 1 + 4) + 2 * (1 + 2) + 4 * 7);
  const dv = new DataView(body.buffer);
  let at = 0;
  for (const [x, y, z, r, id] of verts) {
    dv.setFloat32(at, x, le);
    dv.setFloat32(at + 4, y, le);
    dv.setFloat64(at + 8, z, le);
    dv.setUint8(at + 16, r);
    dv.setInt32(at + 17, id, le);
    at += 21;
  }
  for (const [idx, f] of faces) {
    dv.setUint8(at++, idx.length);
    for (const k of idx) {
      dv.setUint32(at, k, le);
      at += 4;
    }
    dv.setInt16(at, f, le);
    at += 2;
  }
  return concat(header, body.subarray(0, at));
}

/** Rewrites a binary little-endian float-only PLY as ASCII or big-endian (same header otherwise). */
function reencodePly(bytes, format) {
  const file = readPly(bytes);
  const elements = file.elements.map((e) => ({ name: e.name, count: e.count, properties: e.properties }));
  const header = enc.encode(plyHeader({ format, comments: file.comments, elements }));
  const el = file.elements[0];
  const cols = el.properties.map((p) => el.columns[p.name]);
  if (format === 'ascii') {
    const lines = [];
    for (let i = 0; i < el.count; i++) lines.push(cols.map((c) => formatPlyFloat32(c[i])).join(' '));
    return concat(header, enc.encode(lines.length ? `${lines.join('\n')}\n` : ''));
  }
  const body = new Uint8Array(el.count * cols.length * 4);
  const dv = new DataView(body.buffer);
  for (let i = 0, at = 0; i < el.count; i++) for (const c of cols) dv.setFloat32((at += 4) - 4, c[i], false);
  return concat(header, body);
}

const ply = {
  name: 'ply',
  async seeds() {
    const pred = tinyPrediction();
    return [
      await sinkBytes((s) => writePly(pred, s, { keepAll: true })),
      await sinkBytes((s) => writePly(pred, s, { keepAll: true, format: 'ascii', normals: 'camera' })),
      plyWithFaces('binary_little_endian'),
      plyWithFaces('binary_big_endian'),
      plyWithFaces('ascii'),
    ];
  },
  mutate: {
    dict: [...JS_NAMES, 'ply\n', 'format ', 'ascii 1.0', 'binary_little_endian 1.0', 'binary_big_endian 1.0', 'element ', 'property ', 'list ', 'uchar ', 'uint ', 'int8 ', 'float64 ', 'double ', 'end_header\n', 'comment ', 'obj_info ', 'vertex ', 'face ', '\r\n', '\n', ' ', 'nan', '-inf', '1e999', '4294967295 '],
  },
  run(bytes) {
    parsePlyHeader(bytes);
    const file = readPly(bytes);
    for (const el of file.elements) for (const p of el.properties) if (!p.countType) plyScalarColumn(el, p.name);
    plyElement(file, 'vertex');
  },
};

function tinyGaussians(G, K) {
  const rotations = new Float32Array(4 * G);
  for (let i = 0; i < G; i++) rotations.set([0.1 * i, 0, 0, 1], 4 * i);
  const opacities = new Float32Array(G);
  for (let i = 0; i < G; i++) opacities[i] = (i + 1) / (G + 1);
  return { count: G, means: values(3 * G, 4, -2), scales: values(3 * G, 0.5, 0.01), rotations, harmonics: values(3 * K * G, 1, -0.5), shCoefficients: K, opacities };
}

const gaussiansPly = {
  name: 'gaussians-ply',
  async seeds() {
    const sh0 = await sinkBytes((s) => writeGaussiansPly(tinyGaussians(4, 1), s, { layout: 'sh0' }));
    const sh3 = await sinkBytes((s) => writeGaussiansPly(tinyGaussians(3, 16), s, { layout: 'sh3' }));
    return [sh0, sh3, reencodePly(sh0, 'ascii'), reencodePly(sh0, 'binary_big_endian'), reencodePly(sh3, 'ascii')];
  },
  mutate: { dict: [...JS_NAMES, 'f_rest_', 'f_dc_0', 'opacity', 'scale_0', 'rot_0', 'property float ', 'property double ', 'element vertex ', 'end_header\n', 'ascii 1.0', 'nan', 'inf'] },
  run(bytes) {
    readGaussiansPly(bytes);
  },
};

// ------------------------------------------------------------------------------------------------
// 5. NPZ / NPY

function npzArrays() {
  return {
    depth: { dtype: 'float32', shape: [2, 3, 4], data: values(24, 5) },
    conf: { dtype: 'float64', shape: [3, 2], data: Float64Array.from(values(6, 2, 1)) },
    mask: { dtype: 'bool', shape: [2, 3], data: Uint8Array.of(1, 0, 1, 1, 0, 0) },
    ids: { dtype: 'int64', shape: [3], data: BigInt64Array.of(-1n, 0n, 2n ** 62n) },
    small: { dtype: 'uint16', shape: [2, 2], data: Uint16Array.of(0, 1, 65535, 7) },
    scalar: { dtype: 'float32', shape: [], data: Float32Array.of(0.5) },
    empty: { dtype: 'int8', shape: [0, 4], data: new Int8Array(0) },
  };
}

/** A `.npy` with a hand-written header dict (big-endian, Fortran order, versions 2.0 and 3.0). */
function npyWith(dict, data, major = 1) {
  const lenSize = major === 1 ? 2 : 4;
  let text = dict;
  while ((8 + lenSize + text.length + 1) % 64) text += ' ';
  text += '\n';
  const head = new Uint8Array(8 + lenSize);
  head.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, major, 0]);
  const dv = new DataView(head.buffer);
  if (major === 1) dv.setUint16(8, text.length, true);
  else dv.setUint32(8, text.length, true);
  return concat(head, enc.encode(text), data);
}

const NPY_DICT = ["'descr'", "'fortran_order'", "'shape'", "'<f4'", "'>f8'", "'|b1'", "'<i8'", "'|u1'", "'<c8'", "'O'", 'True', 'False', '(', ')', ',', ':', '{', '}', '(1,)', '()', '(0,)', "'", '"', 'L', '\\'];

function npySeeds() {
  const arrays = Object.values(npzArrays()).map((a) => encodeNpy(a));
  const be = new Uint8Array(24);
  new DataView(be.buffer).setFloat64(0, 1.25, false);
  new DataView(be.buffer).setFloat64(8, -3, false);
  new DataView(be.buffer).setFloat64(16, 1e-300, false);
  const fortran = new Uint8Array(new Int32Array([1, 2, 3, 4, 5, 6]).buffer);
  arrays.push(
    npyWith("{'descr': '>f8', 'fortran_order': False, 'shape': (3,), }", be),
    npyWith("{'descr': '<i4', 'fortran_order': True, 'shape': (2, 3), }", fortran, 2),
    npyWith('{"descr": "<i4", "fortran_order": True, "shape": (3, 1, 2)}', fortran, 3),
    // A long (valid) header: NumPy reads headers up to 10000 bytes.
    npyWith(`{'descr': '<f4', 'fortran_order': False, 'shape': (1, 1, 1, 1, 2, 3), }${' '.repeat(9000)}`, new Uint8Array(24), 2),
  );
  return arrays;
}

/** Sets a `.npy` header length to end at the first newline after it (as NumPy's writer does). */
function fixNpyLength(bytes) {
  if (bytes.length < 12 || bytes[0] !== 0x93) return bytes;
  const major = bytes[6];
  const start = major === 1 ? 10 : 12;
  const nl = bytes.indexOf(0x0a, start);
  if (nl < 0) return bytes;
  const out = bytes.slice();
  const dv = new DataView(out.buffer);
  if (major === 1) dv.setUint16(8, Math.min(0xffff, nl + 1 - start), true);
  else dv.setUint32(8, nl + 1 - start, true);
  return out;
}

const npy = {
  name: 'npy',
  seeds: npySeeds,
  mutate: { dict: NPY_DICT, fixup: fixNpyLength },
  run(bytes) {
    decodeNpy(bytes);
  },
};

const CRC_TABLE = Int32Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c;
});

function crc32(bytes) {
  let c = -1;
  for (let i = 0; i < bytes.length; i++) c = CRC_TABLE[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return (c ^ -1) >>> 0;
}

/**
 * Recomputes the CRC-32 of every stored entry (central and local headers) of a ZIP, so that
 * mutations inside an entry reach the `.npy` reader instead of the checksum test.
 */
function fixZipCrcs(bytes) {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = bytes.length;
  let eocd = -1;
  for (let i = n - 22; i >= Math.max(0, n - 22 - 0xffff); i--) {
    if (dv.getUint32(i, true) === 0x06054b50) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) return bytes;
  const out = bytes.slice();
  const o = new DataView(out.buffer);
  let at = o.getUint32(eocd + 16, true);
  if (at === 0xffffffff) {
    const loc = eocd - 20;
    if (loc < 0 || o.getUint32(loc, true) !== 0x07064b50) return bytes;
    const rec = Number(o.getBigUint64(loc + 8, true));
    if (rec + 56 > n) return bytes;
    at = Number(o.getBigUint64(rec + 48, true));
  }
  for (let k = 0; k < 0xffff && at + 46 <= n && o.getUint32(at, true) === 0x02014b50; k++) {
    const method = o.getUint16(at + 10, true);
    let csize = o.getUint32(at + 20, true);
    const usize = o.getUint32(at + 24, true);
    const nameLen = o.getUint16(at + 28, true);
    const extraLen = o.getUint16(at + 30, true);
    const commentLen = o.getUint16(at + 32, true);
    let offset = o.getUint32(at + 42, true);
    for (let e = at + 46 + nameLen; e + 4 <= Math.min(n, at + 46 + nameLen + extraLen); ) {
      const size = o.getUint16(e + 2, true);
      if (o.getUint16(e, true) === 1) {
        let f = e + 4;
        const take = () => (f + 8 <= n ? Number(o.getBigUint64((f += 8) - 8, true)) : 0);
        if (usize === 0xffffffff) take();
        if (csize === 0xffffffff) csize = take();
        if (offset === 0xffffffff) offset = take();
      }
      e += 4 + size;
    }
    if (method === 0 && offset + 30 <= n && o.getUint32(offset, true) === 0x04034b50) {
      const start = offset + 30 + o.getUint16(offset + 26, true) + o.getUint16(offset + 28, true);
      if (start + csize <= n) {
        const crc = crc32(out.subarray(start, start + csize));
        o.setUint32(at + 16, crc, true);
        o.setUint32(offset + 14, crc, true);
      }
    }
    at += 46 + nameLen + extraLen + commentLen;
  }
  return out;
}

const npz = {
  name: 'npz',
  async seeds() {
    const arrays = npzArrays();
    const some = { depth: arrays.depth, mask: arrays.mask, scalar: arrays.scalar };
    return [
      await sinkBytes((s) => writeNpz(arrays, s, { compression: 'store' })),
      await sinkBytes((s) => writeNpz(arrays, s, { compression: 'deflate' })),
      await sinkBytes((s) => writeNpz(some, s, { compression: 'deflate', zip64: 'always' })),
      await sinkBytes((s) => writeNpz(some, s, { compression: 'store', zip64: 'always' })),
    ];
  },
  mutate: { fixup: fixZipCrcs, dict: [...JS_NAMES, ...NPY_DICT, 'PK\x03\x04', 'PK\x01\x02', 'PK\x05\x06', 'PK\x06\x06', 'PK\x06\x07', '.npy'] },
  run(bytes) {
    readNpz(bytes);
  },
};

// ------------------------------------------------------------------------------------------------
// 6. COLMAP

/** A small consistent model: three cameras, three images with keypoints, four points with tracks. */
function tinyColmapModel() {
  const cameras = [
    { id: 1, model: 'PINHOLE', width: 16, height: 12, params: Float64Array.of(10, 11, 8, 6) },
    { id: 2, model: 'SIMPLE_RADIAL', width: 16, height: 12, params: Float64Array.of(9, 8, 6, 0.01) },
    { id: 7, model: 'OPENCV', width: 32, height: 24, params: Float64Array.of(20, 21, 16, 12, 0.1, -0.05, 0.001, 0.002) },
  ];
  const images = [
    { id: 1, qvec: Float64Array.of(1, 0, 0, 0), tvec: Float64Array.of(0, 0, 0), cameraId: 1, name: 'a.png', xys: Float64Array.of(1, 2, 3.5, 4.25, 5, 6), point3DIds: Float64Array.of(10, -1, 11) },
    { id: 2, qvec: Float64Array.of(0.5, 0.5, 0.5, 0.5), tvec: Float64Array.of(1, -2, 3), cameraId: 2, name: 'sub/b.jpg', xys: Float64Array.of(7, 8, 9, 10), point3DIds: Float64Array.of(11, 12) },
    { id: 5, qvec: Float64Array.of(0.6, 0, 0.8, 0), tvec: Float64Array.of(0.1, 0.2, 0.3), cameraId: 7, name: 'c.png', xys: new Float64Array(0), point3DIds: new Float64Array(0) },
  ];
  const points = {
    count: 4,
    ids: Float64Array.of(10, 11, 12, 13),
    xyz: Float64Array.of(0, 0, 1, 1, 1, 2, -1, 0.5, 3, 4, 4, 4),
    rgb: Uint8Array.of(255, 0, 0, 0, 255, 0, 0, 0, 255, 9, 9, 9),
    error: Float64Array.of(0.5, 1, -1, 0),
    trackOffsets: Uint32Array.of(0, 1, 3, 4, 4),
    trackImageIds: Uint32Array.of(1, 1, 2, 2),
    trackPoint2DIdx: Uint32Array.of(0, 2, 0, 1),
  };
  return { cameras, images, points };
}

const COLMAP_SLOTS = ['cameras.bin', 'images.bin', 'points3D.bin', 'cameras.txt', 'images.txt', 'points3D.txt'];

const colmap = {
  name: 'colmap',
  // Input: one byte naming the file (`COLMAP_SLOTS[b % 6]`), then that file's bytes; the other
  // two files of the model come from the valid seed model.
  async setup(ctx) {
    ctx.colmapFiles = {};
    for (const format of ['binary', 'text']) {
      await writeColmapModel(
        tinyColmapModel(),
        (name) => {
          const sink = memorySink();
          return { ...sink, close: () => void (ctx.colmapFiles[name] = sink.bytes()) };
        },
        format,
      );
    }
  },
  async seeds(ctx) {
    if (!ctx.colmapFiles) await colmap.setup(ctx);
    return COLMAP_SLOTS.map((name, k) => concat(Uint8Array.of(k), ctx.colmapFiles[name]));
  },
  mutate: { dict: ['# comment\n', '\n', ' ', 'PINHOLE', 'SIMPLE_PINHOLE', 'OPENCV', 'EQUIRECTANGULAR', 'FULL_OPENCV', '-1', '4294967295', '18446744073709551615', 'nan', '1e999', '\0'] },
  run(bytes, ctx) {
    if (!bytes.length) return;
    const slot = COLMAP_SLOTS[bytes[0] % COLMAP_SLOTS.length];
    const body = bytes.subarray(1);
    // The file parsers are reached through readColmap (they are not exported on their own):
    // first without the cross-checks, then with them.
    const open = (name) => (name === slot ? body : ctx.colmapFiles[name]);
    const format = slot.endsWith('.bin') ? 'binary' : 'text';
    readColmap(open, { format, checkConsistency: false });
    readColmap(open, { format });
  },
};

// ------------------------------------------------------------------------------------------------
// 7. images through the node decoder

/** A BMP: file header, info header (12/40/124 bytes), optional masks and palette, pixel data. */
function bmp({ width, height, bits, compression = 0, masks, headerSize = 40, palette = [], colors = 0, topDown = false, pixels }) {
  const extraMasks = masks && headerSize === 40 ? masks.slice(0, 3) : [];
  const pal = palette.flatMap(([r, g, b]) => (headerSize === 12 ? [b, g, r] : [b, g, r, 0]));
  const h = new Uint8Array(headerSize);
  const dv = new DataView(h.buffer);
  dv.setUint32(0, headerSize, true);
  if (headerSize === 12) {
    dv.setUint16(4, width, true);
    dv.setUint16(6, height, true);
    dv.setUint16(8, 1, true);
    dv.setUint16(10, bits, true);
  } else {
    dv.setInt32(4, width, true);
    dv.setInt32(8, topDown ? -height : height, true);
    dv.setUint16(12, 1, true);
    dv.setUint16(14, bits, true);
    dv.setUint32(16, compression, true);
    dv.setUint32(20, pixels.length, true);
    dv.setUint32(32, colors, true);
    if (headerSize >= 56 && masks) for (const [i, v] of masks.entries()) dv.setUint32(40 + 4 * i, v >>> 0, true);
  }
  const m = new Uint8Array(4 * extraMasks.length);
  for (const [i, v] of extraMasks.entries()) new DataView(m.buffer).setUint32(4 * i, v >>> 0, true);
  const off = 14 + headerSize + m.length + pal.length;
  const fh = new Uint8Array(14);
  fh.set([0x42, 0x4d]);
  new DataView(fh.buffer).setUint32(2, off + pixels.length, true);
  new DataView(fh.buffer).setUint32(10, off, true);
  return concat(fh, h, m, Uint8Array.from(pal), pixels);
}

function bmpRows(width, height, bytesPerPixel) {
  const stride = (width * bytesPerPixel + 3) & ~3;
  const out = new Uint8Array(stride * height);
  for (let y = 0; y < height; y++) for (let x = 0; x < width * bytesPerPixel; x++) out[y * stride + x] = (x * 13 + y * 41) & 255;
  return out;
}

function bmpSeeds() {
  const W = 16;
  const H = 12;
  const pal = (n) => Array.from({ length: n }, (_, i) => [(i * 40) & 255, (i * 90) & 255, (i * 150) & 255]);
  const rle8 = [];
  for (let y = 0; y < H; y++) rle8.push(6, y & 7, 0, 4, 1, 2, 3, 4, 6, (y + 1) & 7, 0, 0);
  rle8.push(0, 2, 0, 0, 1, 1, 0, 1);
  const rle4 = [];
  for (let y = 0; y < H; y++) rle4.push(8, 0x12, 0, 5, 0x34, 0x56, 0x70, 0, 3, 0xab, 0, 0);
  rle4.push(0, 1);
  const px8 = new Uint8Array(W * H);
  for (let i = 0; i < px8.length; i++) px8[i] = i & 15;
  return [
    bmp({ width: W, height: H, bits: 24, pixels: bmpRows(W, H, 3) }),
    bmp({ width: W, height: H, bits: 24, topDown: true, pixels: bmpRows(W, H, 3) }),
    bmp({ width: W, height: H, bits: 32, compression: 3, headerSize: 124, masks: [0xff, 0xff00, 0xff0000, 0xff000000], pixels: bmpRows(W, H, 4) }),
    bmp({ width: W, height: H, bits: 32, compression: 3, masks: [0xff000000, 0xff0000, 0xff00], pixels: bmpRows(W, H, 4) }),
    bmp({ width: W, height: H, bits: 16, compression: 3, masks: [0xf800, 0x7e0, 0x1f], pixels: bmpRows(W, H, 2) }),
    bmp({ width: W, height: H, bits: 16, pixels: bmpRows(W, H, 2) }),
    bmp({ width: W, height: H, bits: 8, palette: pal(16), colors: 16, pixels: px8 }),
    bmp({ width: W, height: H, bits: 8, headerSize: 12, palette: pal(256), pixels: px8 }),
    bmp({ width: W, height: H, bits: 4, palette: pal(16), pixels: bmpRows(W / 2, H, 1) }),
    bmp({ width: W, height: H, bits: 1, palette: pal(2), pixels: bmpRows(W / 8, H, 1) }),
    bmp({ width: W, height: H, bits: 8, compression: 1, palette: pal(8), colors: 8, pixels: Uint8Array.from(rle8) }),
    bmp({ width: W, height: H, bits: 4, compression: 2, palette: pal(16), pixels: Uint8Array.from(rle4) }),
  ];
}

const image = {
  name: 'image',
  async setup(ctx) {
    const sharp = (await import('sharp')).default;
    sharp.cache(false);
    sharp.concurrency(1);
    ctx.decodeImage = (await import('@da3js/node')).decodeImage;
  },
  async seeds() {
    const sharp = (await import('sharp')).default;
    const W = 16;
    const H = 12;
    const rgb = new Uint8Array(W * H * 3);
    for (let i = 0; i < rgb.length; i++) rgb[i] = (i * 7 + ((i / 48) | 0) * 31) & 255;
    const rgba = new Uint8Array(W * H * 4);
    for (let i = 0; i < rgba.length; i++) rgba[i] = (i * 11) & 255;
    const from = (data, channels) => sharp(Buffer.from(data), { raw: { width: W, height: H, channels } });
    const out = async (s) => new Uint8Array(await s.toBuffer());
    return [
      await out(from(rgb, 3).png()),
      await out(from(rgba, 4).png()),
      await out(from(rgb, 3).png({ palette: true, colours: 16 })),
      await out(from(rgb, 3).toColourspace('rgb16').png()),
      await out(from(rgb, 3).greyscale().png()),
      await out(from(rgb, 3).jpeg({ quality: 80 })),
      await out(from(rgb, 3).jpeg({ quality: 60, progressive: true, chromaSubsampling: '4:2:0' })),
      await out(from(rgb, 3).greyscale().jpeg()),
      await out(from(rgb, 3).webp({ quality: 70 })),
      await out(from(rgba, 4).webp({ lossless: true })),
      await out(from(rgb, 3).gif()),
      await out(from(rgb, 3).tiff()),
      ...bmpSeeds(),
    ];
  },
  mutate: { dict: ['IHDR', 'IDAT', 'IEND', 'PLTE', 'tRNS', 'iCCP', 'eXIf', '\xff\xd8\xff', '\xff\xc0', '\xff\xc2', '\xff\xda', '\xff\xd9', 'RIFF', 'WEBP', 'VP8 ', 'VP8L', 'VP8X', 'BM', 'GIF89a', 'II*\0', '<svg'] },
  async run(bytes, ctx) {
    // The default limit (Pillow's 178.9 M pixels) lets a header of a few hundred bytes declare an
    // image that legitimately takes a second and half a gigabyte to decode (a 264-byte RLE BMP of
    // 8388624 × 12 does, in Pillow too): 16 M pixels keep such inputs OUT_OF_RANGE, so the hang
    // and RSS oracles watch the parsers, not the intended cost of a big image.
    await ctx.decodeImage(bytes, { name: 'fuzz', maxPixels: 2 ** 24 });
  },
};

// ------------------------------------------------------------------------------------------------
// 8. the `da3 gallery` HTTP server

const MARKER = 'DA3JS-FUZZ-SECRET-5f3a9c';
const GALLERY_OK = new Set([200, 301, 400, 403, 404]); // 301: a scene folder without its trailing slash → its viewer page

/** Sends one GET with a raw request target; resolves to the status (0: no response) and the bytes. */
function rawGet(port, target) {
  return new Promise((resolve, reject) => {
    const latin1 = Buffer.from(target).toString('latin1');
    // node:http sends the path as given (no normalisation) when it has no byte node:http refuses.
    if (/^[\x21-\xff]+$/.test(latin1)) {
      const req = httpRequest({ host: '127.0.0.1', port, path: latin1, method: 'GET', agent: false, headers: { connection: 'close' } }, (res) => {
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode, body: Buffer.concat(chunks) }));
        res.on('error', reject);
      });
      req.on('error', (e) => (e.code === 'ECONNRESET' || e.code === 'HPE_INVALID_CONSTANT' ? resolve({ status: 0, body: Buffer.alloc(0), error: e.code }) : reject(e)));
      req.end();
      return;
    }
    // Anything else (spaces, control bytes, CR/LF, NUL, empty) over a plain socket. Not half-closed
    // (node's server drops a half-closed connection before an async handler answers): the server
    // closes it (Connection: close, or a 400 for a malformed request); if CR/LF in the target split
    // it into several requests, it is closed 200 ms after the last byte received.
    const socket = connect(port, '127.0.0.1');
    const chunks = [];
    let timer;
    const idle = (ms) => {
      clearTimeout(timer);
      timer = setTimeout(() => socket.destroy(), ms);
    };
    socket.on('data', (c) => {
      chunks.push(c);
      idle(200);
    });
    socket.on('error', (e) => (e.code === 'ECONNRESET' || e.code === 'EPIPE' ? undefined : reject(e)));
    socket.on('close', () => {
      clearTimeout(timer);
      const body = Buffer.concat(chunks);
      const m = /^HTTP\/1\.[01] (\d{3})/.exec(body.subarray(0, 32).toString('latin1'));
      resolve({ status: m ? Number(m[1]) : 0, body });
    });
    idle(1500);
    socket.write(Buffer.concat([Buffer.from('GET '), Buffer.from(target), Buffer.from(' HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n')]));
  });
}

const gallery = {
  name: 'gallery',
  async setup(ctx) {
    const { createGallery } = await import('@da3js/node');
    const dir = ctx.tmp;
    const root = join(dir, 'gallery');
    mkdirSync(join(root, 'scene1'), { recursive: true });
    mkdirSync(join(root, 'scene 2', 'deep'), { recursive: true });
    mkdirSync(join(dir, 'outside'), { recursive: true });
    writeFileSync(join(root, 'scene1', 'scene.glb'), 'glTF-fuzz');
    writeFileSync(join(root, 'scene1', 'scene.jpg'), 'jpeg');
    writeFileSync(join(root, 'scene 2', 'deep', 'x.json'), '{}');
    writeFileSync(join(dir, 'secret.txt'), MARKER);
    writeFileSync(join(dir, 'outside', 'secret.glb'), MARKER);
    // Symlinks inside the root that lead outside (refused) and one that stays inside (served).
    symlinkSync(join(dir, 'secret.txt'), join(root, 'scene1', 'link.glb'));
    symlinkSync(dir, join(root, 'up'));
    symlinkSync('../../secret.txt', join(root, 'scene1', 'rel.glb'));
    symlinkSync(join(dir, 'outside'), join(root, 'outside-dir'));
    symlinkSync(join(root, 'scene1', 'scene.glb'), join(root, 'scene1', 'inside.glb'));
    symlinkSync('loop', join(root, 'loop'));
    ctx.server = createGallery(root);
    await new Promise((ok) => ctx.server.listen(0, '127.0.0.1', ok));
    ctx.port = ctx.server.address().port;
    ctx.status = {};
  },
  async teardown(ctx) {
    ctx.server?.closeAllConnections?.();
    await new Promise((ok) => (ctx.server ? ctx.server.close(() => ok()) : ok()));
  },
  seeds() {
    const paths = [
      '/',
      '/scene1/scene.glb',
      '/scene1/scene.jpg',
      '/scene1/inside.glb',
      '/scene1/link.glb',
      '/scene1/rel.glb',
      '/up/secret.txt',
      '/outside-dir/secret.glb',
      '/loop',
      '/scene%202/deep/x.json',
      '/../secret.txt',
      '/..%2fsecret.txt',
      '/%2e%2e/secret.txt',
      '/scene1/..%2F..%2Fsecret.txt',
      '/scene1/%2e%2e%5c..%5csecret.txt',
      '//up/secret.txt',
      '/scene1/scene.glb%00.txt',
      '/%c0%ae%c0%ae/secret.txt',
      '/scene1/scene.glb?x=../../secret.txt#frag',
      'http://127.0.0.1/../secret.txt',
      '*',
      `/${'a/'.repeat(300)}b`,
      '/scene1/./././scene.glb',
    ];
    return paths.map((p) => enc.encode(p));
  },
  mutate: {
    maxLen: 12_000,
    dict: ['..', '/..', '%2e', '%2E%2e', '%2f', '%2F', '%5c', '\\', '%00', '\0', '//', '/./', '%25', '%c0%af', '%', '?', '#', ' ', '\r\n', '/up/', '/scene1/', '/outside-dir/', 'link.glb', 'rel.glb', 'secret.txt', '/loop/', '%ff', '\xff', '~'],
  },
  async run(bytes, ctx) {
    const target = bytes.subarray(0, 12_000);
    const { status, body } = await rawGet(ctx.port, target);
    ctx.status[status] = (ctx.status[status] ?? 0) + 1;
    // Messages do not quote the path (the input is saved with the finding), so that findings of
    // one kind group together.
    if (body.includes(MARKER)) throw new Error(`gallery: a response (status ${status}) holds the secret file outside the root`);
    if (!GALLERY_OK.has(status)) throw new Error(`gallery: status ${status} (expected 200/301/400/403/404)`);
    const health = await rawGet(ctx.port, enc.encode('/scene1/scene.glb'));
    if (health.status !== 200 || health.body.toString() !== 'glTF-fuzz') throw new Error(`gallery: stopped answering (health check: ${health.status})`);
  },
  report(ctx) {
    return { status: ctx.status ?? {} };
  },
};

/** Every target, by name, in campaign order. */
export const TARGETS = Object.fromEntries([safetensors, config, onnx, ply, gaussiansPly, npy, npz, colmap, image, gallery].map((t) => [t.name, t]));

const kept = [];

/**
 * Targets that misbehave on purpose, to check the engine's oracle (not run by the CLI). Byte 0 of
 * an input picks: `o` returns, `t` throws a Da3Error, `u` a TypeError, `h` hangs, `m` keeps 400 MB,
 * `c` crashes the worker with an uncaught error.
 */
export const SELF_TEST_TARGETS = {
  'self-test': {
    name: 'self-test',
    seeds: () => [enc.encode('o'), enc.encode('t')],
    async run(bytes) {
      const { Da3Error } = await import('@da3js/core');
      switch (String.fromCharCode(bytes[0])) {
        case 't':
          throw new Da3Error('BAD_VALUE', 'self-test: typed');
        case 'u':
          throw new TypeError('self-test: untyped');
        case 'h':
          for (;;);
        case 'm':
          kept.push(new Uint8Array(400 * 2 ** 20).fill(1));
          return;
        case 'c':
          setImmediate(() => {
            throw new Error('self-test: crash');
          });
          await new Promise((r) => setTimeout(r, 100));
          return;
      }
    },
  },
};
