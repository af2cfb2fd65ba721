import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createPrediction, isDa3Error, type Prediction, worldPointsFromDepthGlb } from '@da3js/core';
import { afterAll, describe, expect, it } from 'vitest';
import { expectClose, maxAbsDiff } from '../../../test-utils/compare.js';
import { loadTensors } from '../../../test-utils/fixtures.js';
import { fixturePrediction } from '../../../test-utils/prediction.js';
import {
  formatPlyFloat32,
  type PlyColumn,
  plyConfidenceThreshold,
  plyElement,
  plyHeader,
  plyScalarColumn,
  readPly,
  type WritePlyOptions,
  writePly,
} from '../src/ply/index.js';
import { memorySink } from '../src/writer.js';
import { BLENDER, expectCode, expectCodeAsync, requireBlender, watchedSink } from './helpers/shared.js';

const tmp = mkdtempSync(join(tmpdir(), 'da3js-ply-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

async function plyBytes(prediction: Prediction, options?: WritePlyOptions) {
  const sink = memorySink();
  const result = await writePly(prediction, sink, options);
  expect(sink.closed).toBe(true);
  const bytes = sink.bytes();
  expect(result.bytes).toBe(bytes.length);
  return { bytes, result };
}

const enc = (s: string) => new TextEncoder().encode(s);
const cat = (...parts: Uint8Array[]) => {
  const out = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
};
const bits = (a: ArrayLike<number>) => new Uint8Array(Float32Array.from(a).buffer);

/** NumPy `percentile(x, p)` (linear) in float64 over a sorted copy — independent of core's quantile. */
function numpyPercentile(values: Float32Array, p: number): number {
  const s = Float64Array.from(values).sort();
  const rank = (p / 100) * (s.length - 1);
  const lo = Math.floor(rank);
  const hi = Math.min(lo + 1, s.length - 1);
  return s[lo] + (s[hi] - s[lo]) * (rank - lo);
}

/** The reference GLB's kept-pixel mask, computed independently (float64 percentile, float32 compare). */
function referenceMask(pred: Prediction, percentile = 40): { mask: Uint8Array; thr: number } {
  const conf = pred.conf!;
  const thr = Math.fround(Math.min(Math.max(1.05, Math.fround(numpyPercentile(conf, percentile))), Math.fround(numpyPercentile(conf, 90))));
  const mask = new Uint8Array(conf.length);
  for (let i = 0; i < conf.length; i++) mask[i] = pred.depth[i] > 0 && Number.isFinite(pred.depth[i]) && conf[i] >= thr ? 1 : 0;
  return { mask, thr };
}

function gather(src: ArrayLike<number>, mask: Uint8Array, per: number): Float32Array {
  let n = 0;
  for (const m of mask) n += m;
  const out = new Float32Array(n * per);
  let k = 0;
  for (let i = 0; i < mask.length; i++) if (mask[i]) for (let a = 0; a < per; a++) out[k++] = src[per * i + a];
  return out;
}

function interleave(cols: PlyColumn[]): Float32Array {
  const n = cols[0].length;
  const out = new Float32Array(n * cols.length);
  for (let i = 0; i < n; i++) for (let a = 0; a < cols.length; a++) out[cols.length * i + a] = cols[a][i];
  return out;
}

describe('writePly on the tiny/multi fixture', async () => {
  const pred = await fixturePrediction('tiny', 'multi');
  const fx = await loadTensors('tiny/multi/outputs.safetensors');
  const refPoints = fx['pred.world_points'].data as Float32Array;
  const { mask, thr } = referenceMask(pred);
  const dims = { views: pred.views, height: pred.height, width: pred.width };

  it('threshold is the GLB rule min(max(1.05, P40), P90), and no confidence sits at the threshold', () => {
    const t = plyConfidenceThreshold(pred.conf!);
    expect(t).toBe(thr);
    // No value within 1e-6 of the threshold: the kept set does not depend on percentile rounding.
    for (const c of pred.conf!) if (c !== thr) expect(Math.abs(c - thr)).toBeGreaterThan(1e-6);
  });

  it('binary: points equal the reference pred.world_points at the conf mask', async () => {
    const { bytes, result } = await plyBytes(pred);
    const ply = readPly(bytes);
    expect(ply.format).toBe('binary_little_endian');
    const v = plyElement(ply, 'vertex');
    expect(v.properties.map((p) => `${p.type} ${p.name}`)).toEqual(['float x', 'float y', 'float z', 'uchar red', 'uchar green', 'uchar blue', 'float confidence']);
    const kept = mask.reduce((a, b) => a + b, 0);
    expect(kept).toBeGreaterThan(100);
    expect(kept).toBeLessThan(mask.length);
    expect(result.points).toBe(kept);
    expect(result.threshold).toBe(thr);
    expect(v.count).toBe(kept);
    const xyz = interleave([plyScalarColumn(v, 'x'), plyScalarColumn(v, 'y'), plyScalarColumn(v, 'z')]);
    const want = gather(refPoints, mask, 3);
    expectClose(xyz, want, { atol: 1e-5 }, 'points vs pred.world_points');
    console.log(`ply parity: ${kept} points, max |d| vs pred.world_points = ${maxAbsDiff(xyz, want).toExponential(2)}; threshold ${thr}`);
    // Bit-exact with core's float64 GLB unprojection.
    const core = worldPointsFromDepthGlb(pred.depth, pred.intrinsics!, pred.extrinsics!, dims);
    expect(bits(xyz)).toEqual(bits(gather(core, mask, 3)));
    expect(Uint8Array.from(interleave([v.columns.red as PlyColumn, v.columns.green as PlyColumn, v.columns.blue as PlyColumn]))).toEqual(
      Uint8Array.from(gather(pred.processedImages, mask, 3)),
    );
    expect(bits(plyScalarColumn(v, 'confidence'))).toEqual(bits(gather(pred.conf!, mask, 1)));
    // Stride: 3 floats + 3 bytes + 1 float = 19 bytes per vertex.
    expect(bytes.length - ply.bodyOffset).toBe(19 * kept);
  });

  it('binary and ASCII files hold bit-identical values', async () => {
    const bin = readPly((await plyBytes(pred, { normals: 'camera' })).bytes);
    const { bytes } = await plyBytes(pred, { format: 'ascii', normals: 'camera' });
    const asc = readPly(bytes);
    expect(asc.format).toBe('ascii');
    const a = plyElement(asc, 'vertex');
    const b = plyElement(bin, 'vertex');
    expect(a.properties).toEqual(b.properties);
    for (const p of b.properties) {
      const ca = a.columns[p.name] as PlyColumn;
      const cb = b.columns[p.name] as PlyColumn;
      expect(ca.constructor).toBe(cb.constructor);
      expect(new Uint8Array(ca.buffer, ca.byteOffset, ca.byteLength), p.name).toEqual(new Uint8Array(cb.buffer, cb.byteOffset, cb.byteLength));
    }
  });

  it('header states the frame and the rule', async () => {
    const { bytes } = await plyBytes(pred);
    const { comments } = readPly(bytes);
    // The tiny random model's poses: no view is the identity.
    expect(comments[0]).toBe('da3js point cloud, frame: OpenCV world (x right, y down, z forward), world frame of the extrinsics (no view has the identity pose)');
    expect(comments[1]).toBe('units: model units (up to scale)');
    expect(comments[2]).toMatch(/^confidence >= [\d.]+ = min\(max\(1\.05, P40\), P90\) of conf$/);
    const extrinsics = pred.extrinsics!.slice();
    extrinsics.set([1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0], 0);
    const first = createPrediction({ ...pred, extrinsics, gaussians: null, rays: null, sky: null, aux: {} });
    expect(readPly((await plyBytes(first)).bytes).comments[0]).toBe(
      'da3js point cloud, frame: OpenCV world (x right, y down, z forward), first camera = reference',
    );
  });

  it('camera normals are unit vectors pointing at the camera of the view', async () => {
    const v = plyElement(readPly((await plyBytes(pred, { normals: 'camera', keepAll: true })).bytes), 'vertex');
    const [x, y, z, nx, ny, nz] = ['x', 'y', 'z', 'nx', 'ny', 'nz'].map((k) => plyScalarColumn(v, k));
    const px = pred.height * pred.width;
    const e = pred.extrinsics!;
    for (let i = 0; i < v.count; i++) {
      const b = Math.floor(i / px); // keepAll + all depths valid in the fixture: one vertex per pixel
      // Camera centre C = −Rᵀt.
      const c = [0, 1, 2].map((r) => -(e[12 * b + r] * e[12 * b + 3] + e[12 * b + 4 + r] * e[12 * b + 7] + e[12 * b + 8 + r] * e[12 * b + 11]));
      const d = [c[0] - x[i], c[1] - y[i], c[2] - z[i]];
      const dn = Math.hypot(...d);
      expect(Math.abs(Math.hypot(nx[i], ny[i], nz[i]) - 1)).toBeLessThan(1e-6);
      expect((nx[i] * d[0] + ny[i] * d[1] + nz[i] * d[2]) / dn).toBeGreaterThan(1 - 1e-5);
    }
    expect(v.count).toBe(pred.views * px);
  });

  it('options: keepAll, an explicit threshold, percentile, no confidence property', async () => {
    const all = await plyBytes(pred, { keepAll: true });
    expect(all.result.points).toBe(pred.views * pred.height * pred.width);
    expect(all.result.threshold).toBeNull();
    const given = await plyBytes(pred, { confThreshold: 2 });
    expect(given.result.points).toBe(pred.conf!.filter((c) => c >= 2).length);
    const p10 = await plyBytes(pred, { confPercentile: 10 });
    expect(p10.result.points).toBe(referenceMask(pred, 10).mask.reduce((a, b) => a + b, 0));
    const noConf = readPly((await plyBytes(pred, { confidence: false })).bytes);
    expect(plyElement(noConf, 'vertex').properties.map((p) => p.name)).toEqual(['x', 'y', 'z', 'red', 'green', 'blue']);
  });

  it('NaN/±Infinity/≤0 depth and non-finite confidence are dropped', async () => {
    const depth = pred.depth.slice();
    const conf = pred.conf!.slice();
    depth[0] = Number.NaN;
    depth[1] = Number.POSITIVE_INFINITY;
    depth[2] = Number.NEGATIVE_INFINITY;
    depth[3] = 0;
    depth[4] = -1;
    conf[5] = Number.NaN;
    const bad = createPrediction({ ...pred, depth, conf, gaussians: null, rays: null, sky: null, aux: {} });
    const all = await plyBytes(bad, { keepAll: true });
    expect(all.result.points).toBe(pred.views * pred.height * pred.width - 5);
    const filtered = await plyBytes(bad);
    const v = plyElement(readPly(filtered.bytes), 'vertex');
    for (const c of [plyScalarColumn(v, 'x'), plyScalarColumn(v, 'confidence')]) for (const x of c) expect(Number.isFinite(x)).toBe(true);
  });

  it('zero kept points: a valid PLY with element vertex 0 (binary and ASCII)', async () => {
    const depth = new Float32Array(pred.depth.length).fill(Number.NaN);
    const empty = createPrediction({ ...pred, depth, gaussians: null, rays: null, sky: null, aux: {} });
    for (const format of ['binary', 'ascii'] as const) {
      const { bytes, result } = await plyBytes(empty, { format });
      expect(result.points).toBe(0);
      const v = plyElement(readPly(bytes), 'vertex');
      expect(v.count).toBe(0);
      expect(plyScalarColumn(v, 'x').length).toBe(0);
    }
  });

  it('bad input: typed errors, sink aborted, nothing closed', async () => {
    const cases: [Partial<Prediction>, WritePlyOptions, string][] = [
      [{ depth: pred.depth.subarray(1) }, {}, 'BAD_SHAPE'],
      [{ processedImages: pred.processedImages.subarray(3) }, {}, 'BAD_SHAPE'],
      [{ conf: pred.conf!.subarray(2) }, {}, 'BAD_SHAPE'],
      [{ extrinsics: pred.extrinsics!.subarray(12) }, {}, 'BAD_SHAPE'],
      [{ intrinsics: null }, {}, 'BAD_VALUE'],
      [{ extrinsics: null }, {}, 'BAD_VALUE'],
      [{ intrinsics: new Float32Array(9 * pred.views) }, {}, 'DEGENERATE'],
      [{ extrinsics: pred.extrinsics!.map((v, i) => (i === 3 ? Number.NaN : v)) }, {}, 'NON_FINITE'],
      [{ height: 0 }, {}, 'BAD_SHAPE'],
      [{}, { confPercentile: 120 }, 'BAD_VALUE'],
      [{}, { confThreshold: Number.NaN }, 'BAD_VALUE'],
      [{}, { format: 'xml' as 'ascii' }, 'BAD_VALUE'],
      [{}, { normals: 'up' as 'none' }, 'BAD_VALUE'],
      [{ conf: null }, { confidence: true }, 'BAD_VALUE'],
    ];
    for (const [patch, options, code] of cases) {
      const { sink, state } = watchedSink();
      await expectCodeAsync(writePly({ ...pred, ...patch } as Prediction, sink, options), code);
      expect(state.aborted, JSON.stringify(options)).toBe(true);
      expect(state.closed).toBe(false);
    }
  });

  it('a single view without extrinsics is written in its camera frame', async () => {
    const px = pred.height * pred.width;
    const one = createPrediction({
      views: 1,
      height: pred.height,
      width: pred.width,
      depth: pred.depth.slice(0, px),
      conf: null,
      intrinsics: pred.intrinsics!.slice(0, 9),
      processedImages: pred.processedImages.slice(0, 3 * px),
    });
    const { bytes, result } = await plyBytes(one);
    expect(result.points).toBe(px);
    expect(result.threshold).toBeNull();
    const ply = readPly(bytes);
    expect(ply.comments[0]).toContain('the camera of the single view');
    expect(plyScalarColumn(plyElement(ply, 'vertex'), 'z')).toEqual(one.depth);
  });

  it('a failing sink aborts and the error propagates', async () => {
    const state = { aborted: false };
    const sink = {
      write: () => {
        throw new Error('disk full');
      },
      abort: () => {
        state.aborted = true;
      },
    };
    await expect(writePly(pred, sink, { keepAll: true })).rejects.toThrow('disk full');
    expect(state.aborted).toBe(true);
  });

  it('Blender 3.4 imports the binary and ASCII point PLYs with the right vertex count', async (ctx) => {
    if (!requireBlender(ctx)) return;
    const bin = await plyBytes(pred);
    const asc = await plyBytes(pred, { format: 'ascii', normals: 'camera' });
    const f1 = join(tmp, 'points-bin.ply');
    const f2 = join(tmp, 'points-ascii.ply');
    writeFileSync(f1, bin.bytes);
    writeFileSync(f2, asc.bytes);
    const results = runBlender([f1, f2]);
    expect(results.map((r) => r.vertices)).toEqual([bin.result.points, asc.result.points]);
    expect(results.every((r) => r.ok && r.faces === 0)).toBe(true);
  });
});

describe('formatPlyFloat32', () => {
  it('is the shortest text that reads back as the same float32', () => {
    let seed = 12345;
    const rand = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32);
    const u32 = new Uint32Array(1);
    const f32 = new Float32Array(u32.buffer);
    const samples = [0, -0, 1, -1, 0.1, 1 / 3, 1e-45, 1.1754942e-38, 3.4028234663852886e38, 16777217, 123456789, 0.30000001192092896];
    for (let i = 0; i < 20000; i++) {
      u32[0] = (rand() * 2 ** 32) >>> 0;
      if (Number.isFinite(f32[0])) samples.push(f32[0]);
    }
    for (const v of samples) {
      const f = Math.fround(v);
      const s = formatPlyFloat32(f);
      expect(Object.is(Math.fround(Number(s)), f), `${f} → ${s}`).toBe(true);
      // Shortest: one significant digit fewer never reads back (for non-integers).
      const digits = s.replace(/^-/, '').replace(/e.*$/, '').replace('.', '').replace(/^0+/, '').length;
      if (!Number.isInteger(f) && digits > 1) expect(Math.fround(Number(f.toPrecision(digits - 1)))).not.toBe(f);
    }
    expect(formatPlyFloat32(0.1)).toBe('0.1');
    expect(formatPlyFloat32(Number.NaN)).toBe('nan');
    expect(formatPlyFloat32(Number.NEGATIVE_INFINITY)).toBe('-inf');
  });
});

describe('readPly', () => {
  const vertexHeader = (format: string, n: number) =>
    `ply\nformat ${format} 1.0\ncomment hi\nelement vertex ${n}\nproperty float x\nproperty uchar red\nelement face 2\nproperty list uchar int vertex_indices\nend_header\n`;

  it('reads scalar and list properties, little- and big-endian binary and ASCII', () => {
    for (const le of [true, false]) {
      const body = new DataView(new ArrayBuffer(2 * 5 + 2 * (1 + 12)));
      let at = 0;
      for (const [x, r] of [
        [1.5, 7],
        [-2.25, 255],
      ]) {
        body.setFloat32(at, x, le);
        body.setUint8(at + 4, r);
        at += 5;
      }
      for (const tri of [
        [0, 1, 2],
        [2, 1, 0],
      ]) {
        body.setUint8(at++, 3);
        for (const k of tri) {
          body.setInt32(at, k, le);
          at += 4;
        }
      }
      const file = readPly(cat(enc(vertexHeader(le ? 'binary_little_endian' : 'binary_big_endian', 2)), new Uint8Array(body.buffer)));
      expect(file.comments).toEqual(['hi']);
      const v = plyElement(file, 'vertex');
      expect(Array.from(plyScalarColumn(v, 'x'))).toEqual([1.5, -2.25]);
      expect(plyScalarColumn(v, 'red')).toBeInstanceOf(Uint8Array);
      expect(Array.from(plyScalarColumn(v, 'red'))).toEqual([7, 255]);
      const f = plyElement(file, 'face').columns.vertex_indices as { offsets: Uint32Array; values: Int32Array };
      expect(Array.from(f.offsets)).toEqual([0, 3, 6]);
      expect(Array.from(f.values)).toEqual([0, 1, 2, 2, 1, 0]);
    }
    const ascii = readPly(enc(`${vertexHeader('ascii', 2)}1.5 7\n-2.25 255\n3 0 1 2\n\n3 2 1 0\n`));
    expect(Array.from(plyScalarColumn(plyElement(ascii, 'vertex'), 'x'))).toEqual([1.5, -2.25]);
    expect(Array.from((plyElement(ascii, 'face').columns.vertex_indices as { values: Int32Array }).values)).toEqual([0, 1, 2, 2, 1, 0]);
    // CRLF headers, type aliases, nan/inf in ASCII floats.
    const crlf = readPly(enc('ply\r\nformat ascii 1.0\r\nelement v 3\r\nproperty float32 a\r\nend_header\r\nnan\r\n-inf\r\n1e-3\r\n'));
    const a = plyScalarColumn(plyElement(crlf, 'v'), 'a');
    expect(Number.isNaN(a[0])).toBe(true);
    expect(a[1]).toBe(Number.NEGATIVE_INFINITY);
    expect(a[2]).toBe(Math.fround(1e-3));
  });

  it('writes headers readPly accepts', () => {
    const h = plyHeader({ format: 'ascii', comments: ['c'], elements: [{ name: 'vertex', count: 1, properties: [{ name: 'x', type: 'double' }] }] });
    expect(h).toBe('ply\nformat ascii 1.0\ncomment c\nelement vertex 1\nproperty double x\nend_header\n');
    expect(plyScalarColumn(plyElement(readPly(enc(`${h}0.5\n`)), 'vertex'), 'x')).toEqual(new Float64Array([0.5]));
    expectCode(() => plyHeader({ format: 'ascii', comments: ['a\nb'], elements: [] }), 'BAD_VALUE');
  });

  it('malformed headers and bodies throw UNKNOWN_FORMAT (never hang)', () => {
    const good = vertexHeader('binary_little_endian', 1);
    const face = new Uint8Array([3, 0, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0]);
    const bodyOk = cat(new Uint8Array([0, 0, 0xc0, 0x3f, 9]), face, face);
    expect(plyElement(readPly(cat(enc(good), bodyOk)), 'vertex').count).toBe(1);
    const bad: [string, Uint8Array][] = [
      ['empty', new Uint8Array(0)],
      ['not ply', enc('PLY\nformat ascii 1.0\nend_header\n')],
      ['obj file', enc('v 1 2 3\n')],
      ['no format', enc('ply\nelement vertex 1\nproperty float x\nend_header\n1\n')],
      ['bad format', enc('ply\nformat binary_middle_endian 1.0\nend_header\n')],
      ['bad version', enc('ply\nformat ascii 2.0\nend_header\n')],
      ['two formats', enc('ply\nformat ascii 1.0\nformat ascii 1.0\nend_header\n')],
      ['property before element', enc('ply\nformat ascii 1.0\nproperty float x\nend_header\n')],
      ['unknown type', enc('ply\nformat ascii 1.0\nelement vertex 1\nproperty float16 x\nend_header\n1\n')],
      ['float list count', enc('ply\nformat ascii 1.0\nelement f 1\nproperty list float int i\nend_header\n1 1\n')],
      ['duplicate property', enc('ply\nformat ascii 1.0\nelement vertex 1\nproperty float x\nproperty float x\nend_header\n1 1\n')],
      ['duplicate element', enc('ply\nformat ascii 1.0\nelement a 0\nelement a 0\nend_header\n')],
      ['negative count', enc('ply\nformat ascii 1.0\nelement vertex -1\nend_header\n')],
      ['unknown keyword', enc('ply\nformat ascii 1.0\nelemant vertex 1\nend_header\n')],
      ['no end_header', enc('ply\nformat ascii 1.0\nelement vertex 1\nproperty float x\n')],
      ['header without newline, 3 MiB', cat(enc('ply\nformat ascii 1.0\ncomment '), new Uint8Array(3 << 20).fill(0x61))],
      ['NUL in header', enc('ply\nformat ascii 1.0\ncomment \0\nend_header\n')],
      ['truncated binary', cat(enc(good), bodyOk.subarray(0, bodyOk.length - 1))],
      ['truncated list', cat(enc(good), bodyOk.subarray(0, 5 + 13 + 4))],
      ['trailing bytes', cat(enc(good), bodyOk, new Uint8Array([0]))],
      ['huge count, tiny body', cat(enc(vertexHeader('binary_little_endian', 4000000000)), bodyOk)],
      ['elements without properties', enc('ply\nformat binary_little_endian 1.0\nelement vertex 5\nend_header\n')],
      ['ascii too few values', enc('ply\nformat ascii 1.0\nelement vertex 1\nproperty float x\nproperty float y\nend_header\n1\n')],
      ['ascii too many values', enc('ply\nformat ascii 1.0\nelement vertex 1\nproperty float x\nend_header\n1 2\n')],
      ['ascii not a number', enc('ply\nformat ascii 1.0\nelement vertex 1\nproperty float x\nend_header\n0x10\n')],
      ['ascii int not integer', enc('ply\nformat ascii 1.0\nelement vertex 1\nproperty uchar x\nend_header\n1.5\n')],
      ['ascii uchar out of range', enc('ply\nformat ascii 1.0\nelement vertex 1\nproperty uchar x\nend_header\n256\n')],
      ['ascii missing lines', enc('ply\nformat ascii 1.0\nelement vertex 3\nproperty float x\nend_header\n1\n2\n')],
      ['ascii extra line', enc('ply\nformat ascii 1.0\nelement vertex 1\nproperty float x\nend_header\n1\n2\n')],
      ['ascii short list', enc('ply\nformat ascii 1.0\nelement f 1\nproperty list uchar int i\nend_header\n3 1 2\n')],
    ];
    for (const [label, bytes] of bad) {
      const t0 = performance.now();
      try {
        readPly(bytes);
        throw new Error(`${label}: no error`);
      } catch (e) {
        expect(isDa3Error(e, 'UNKNOWN_FORMAT'), `${label}: ${e}`).toBe(true);
      }
      expect(performance.now() - t0, label).toBeLessThan(2000);
    }
    // Fuzz finding (fuzz/regressions/gaussians-ply): a long run of digits that is not a number
    // backtracked quadratically in the float pattern (a 56 KB file took 11 s).
    const digits = enc(`ply\nformat ascii 1.0\nelement vertex 1\nproperty float x\nend_header\n${'9'.repeat(200_000)}x\n`);
    const t0 = performance.now();
    expectCode(() => readPly(digits), 'UNKNOWN_FORMAT', /is not a number/);
    expect(performance.now() - t0).toBeLessThan(200);
    const numbers = enc(`ply\nformat ascii 1.0\nelement vertex 4\nproperty double x\nend_header\n5.\n.5\n-1.5e3\n${'7'.repeat(300)}\n`);
    expect(plyScalarColumn(plyElement(readPly(numbers), 'vertex'), 'x')).toEqual(Float64Array.of(5, 0.5, -1500, Number('7'.repeat(300))));
    // Property names that are special on a JS object are ordinary columns (`__proto__` used to
    // become the prototype of `columns`, and `__proto__` + `length` threw a TypeError).
    const named = plyElement(readPly(enc('ply\nformat ascii 1.0\nelement vertex 1\nproperty float __proto__\nproperty float length\nproperty float constructor\nend_header\n1 2 3\n')), 'vertex');
    expect(Object.keys(named.columns)).toEqual(['__proto__', 'length', 'constructor']);
    expect([...plyScalarColumn(named, '__proto__'), ...plyScalarColumn(named, 'length'), ...plyScalarColumn(named, 'constructor')]).toEqual([1, 2, 3]);
    expectCode(() => plyScalarColumn(plyElement(readPly(cat(enc(good), bodyOk)), 'vertex'), 'toString'), 'UNKNOWN_FORMAT', /no property "toString"/);
    expectCode(() => readPly('ply' as unknown as Uint8Array), 'BAD_VALUE');
    expectCode(() => plyElement(readPly(cat(enc(good), bodyOk)), 'edge'), 'UNKNOWN_FORMAT');
    expectCode(() => plyScalarColumn(plyElement(readPly(cat(enc(good), bodyOk)), 'face'), 'vertex_indices'), 'UNKNOWN_FORMAT');
  });
});

/** Measurement only (DA3_PLY_BENCH=1): a 1,000,000-point binary PLY write. */
describe.runIf(process.env.DA3_PLY_BENCH)('1M-point binary PLY write (measurement)', () => {
  it('reports the time', async () => {
    const H = 1000;
    const W = 1000;
    const depth = new Float32Array(H * W).map((_, i) => 1 + (i % 997) / 997);
    const conf = new Float32Array(H * W).map((_, i) => 1 + (i % 13));
    const processedImages = new Uint8Array(H * W * 3).map((_, i) => i & 255);
    const intrinsics = new Float32Array([800, 0, 500, 0, 800, 500, 0, 0, 1]);
    const extrinsics = new Float32Array([1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0]);
    const pred = createPrediction({ views: 1, height: H, width: W, depth, conf, intrinsics, extrinsics, processedImages });
    let bytes = 0;
    const sink = { write: (c: Uint8Array) => void (bytes += c.length) };
    for (let r = 0; r < 3; r++) {
      const t0 = performance.now();
      const res = await writePly(pred, sink, { keepAll: true });
      console.log(`writePly 1M binary: ${(performance.now() - t0).toFixed(0)} ms, ${res.points} points, ${res.bytes} bytes`);
    }
    const t0 = performance.now();
    const res = await writePly(pred, sink, { keepAll: true, format: 'ascii' });
    console.log(`writePly 1M ascii: ${(performance.now() - t0).toFixed(0)} ms, ${res.bytes} bytes`);
    expect(bytes).toBeGreaterThan(0);
  });
});

// Blender (Debian's 3.4 `blender`): its PLY importer is the independent reader.
const SCRIPT = join(__dirname, 'blender', 'ply_import.py');

function runBlender(files: string[]): { ok: boolean; vertices: number; faces: number; error?: string }[] {
  const r = spawnSync(BLENDER, ['-b', '--factory-startup', '--python', SCRIPT, '--', ...files], { encoding: 'utf8', timeout: 120_000 });
  const lines = `${r.stdout}`.split('\n').filter((l) => l.startsWith('DA3JS_PLY '));
  if (lines.length !== files.length) throw new Error(`blender: expected ${files.length} results, got:\n${r.stdout}\n${r.stderr}`);
  return lines.map((l) => JSON.parse(l.slice('DA3JS_PLY '.length)));
}
