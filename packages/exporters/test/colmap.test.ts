import { createPrediction, type Prediction, quatXyzwToMat3, type Sink } from '@da3js/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { expectClose, maxAbsDiff } from '../../../test-utils/compare.js';
import { fixturePrediction } from '../../../test-utils/prediction.js';
import {
  type ColmapModel,
  type ColmapReadResult,
  colmapBinarySizes,
  colmapModelFromPrediction,
  colmapToCameras,
  readColmap,
  writeColmap,
  writeColmapModel,
} from '../src/colmap/index.js';
import { memorySink } from '../src/writer.js';
import { expectCode, expectCodeAsync } from './helpers/shared.js';

// ------------------------------------------------------------------------------------------------
// helpers

type Files = Map<string, Uint8Array>;

/** Writes into memory: returns the file map (filled on close) and the sink factory. */
function memoryFolder() {
  const files: Files = new Map();
  const opened: string[] = [];
  const open = (name: string): Sink => {
    opened.push(name);
    const inner = memorySink();
    return {
      write: (c) => inner.write(c),
      close: () => {
        files.set(name, inner.bytes());
      },
      abort: () => {
        files.delete(name);
      },
    };
  };
  return { files, opened, open };
}

const reader = (files: Files) => (name: string) => files.get(name);
const text = (b: Uint8Array | undefined) => new TextDecoder().decode(b);
const bytes = (s: string) => new TextEncoder().encode(s);

/**
 * 2 views, 2×3 pixels, K = [[2,0,1],[0,2,1],[0,0,1]], depth 2 (view 1: pixel (1,0) depth 0,
 * pixel (2,1) NaN), conf 1…12, view 0 at the identity, view 1 rotated 180° about z with t = (1,2,3).
 * P40 of conf = 5.4: view 0 keeps only pixel (2,1); view 1 keeps its 4 pixels of valid depth.
 */
function synthetic(): Prediction {
  const depth = new Float32Array(12).fill(2);
  depth[6 + 1] = 0;
  depth[6 + 5] = Number.NaN;
  const img = new Uint8Array(36);
  for (let p = 0; p < 12; p++) for (let c = 0; c < 3; c++) img[3 * p + c] = (p < 6 ? 10 * p : 100 + 10 * (p - 6)) + c;
  const K = [2, 0, 1, 0, 2, 1, 0, 0, 1];
  return createPrediction({
    views: 2,
    height: 2,
    width: 3,
    depth,
    conf: Float32Array.from({ length: 12 }, (_, i) => i + 1),
    extrinsics: Float32Array.from([1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, -1, 0, 0, 1, 0, -1, 0, 2, 0, 0, 1, 3]),
    intrinsics: Float32Array.from([...K, ...K]),
    processedImages: img,
  });
}

const NAMES = ['a.png', 'b.png'];

// ------------------------------------------------------------------------------------------------

describe('COLMAP text export of a 2-view synthetic prediction (hand-written expected files)', () => {
  it('writes exactly the expected lines (K and keypoints rescaled for view 0 only)', async () => {
    const dir = memoryFolder();
    const res = await writeColmap(synthetic(), dir.open, { format: 'text', imageNames: NAMES, originalSizes: [[6, 4], [3, 2]] });
    expect(res.points).toBe(5);
    expect(res.kept).toBe(5);
    expect(res.threshold).toBeCloseTo(5.4, 12);
    expect([...dir.files.keys()].sort()).toEqual(['cameras.txt', 'images.txt', 'points3D.txt']);
    expect(text(dir.files.get('cameras.txt'))).toBe(
      [
        '# Camera list with one line of data per camera:',
        '#   CAMERA_ID, MODEL, WIDTH, HEIGHT, PARAMS[]',
        '# Number of cameras: 2',
        '1 PINHOLE 6 4 4 4 2 2',
        '2 PINHOLE 3 2 2 2 1 1',
        '',
      ].join('\n'),
    );
    expect(text(dir.files.get('images.txt'))).toBe(
      [
        '# Image list with two lines of data per image:',
        '#   IMAGE_ID, QW, QX, QY, QZ, TX, TY, TZ, CAMERA_ID, NAME',
        '#   POINTS2D[] as (X, Y, POINT3D_ID)',
        '# Number of images: 2, mean observations per image: 2.5',
        '1 1 0 0 0 0 0 0 1 a.png',
        '4 2 1',
        '2 0 0 0 1 1 2 3 2 b.png',
        '0 0 2 2 0 3 0 1 4 1 1 5',
        '',
      ].join('\n'),
    );
    expect(text(dir.files.get('points3D.txt'))).toBe(
      [
        '# 3D point list with one line of data per point:',
        '#   POINT3D_ID, X, Y, Z, R, G, B, ERROR, TRACK[] as (IMAGE_ID, POINT2D_IDX)',
        '# Number of points: 5, mean track length: 1',
        '1 1 0 2 50 51 52 -1 1 0',
        '2 2 3 -1 100 101 102 -1 2 0',
        '3 0 3 -1 120 121 122 -1 2 1',
        '4 2 2 -1 130 131 132 -1 2 2',
        '5 1 2 -1 140 141 142 -1 2 3',
        '',
      ].join('\n'),
    );
  });

  it('keypoints: projected (default) vs the reference truncation, for a non-integer scale', async () => {
    const sizes: [number, number][] = [[7, 3], [3, 2]];
    const proj = colmapModelFromPrediction(synthetic(), { imageNames: NAMES, originalSizes: sizes }).model;
    const ref = colmapModelFromPrediction(synthetic(), { imageNames: NAMES, originalSizes: sizes, points2D: 'reference' }).model;
    expect(Array.from(proj.images[0].xys)).toEqual([(2 * 7) / 3, 1.5]);
    expect(Array.from(ref.images[0].xys)).toEqual([4, 1]);
    expect(Array.from(proj.images[0].xys)).not.toEqual(Array.from(ref.images[0].xys));
    expect(Array.from(proj.cameras[0].params)).toEqual([Math.fround(2 * Math.fround(7 / 3)), 3, Math.fround(Math.fround(7 / 3)), 1.5]);
  });

  it('observations: false writes empty keypoint lines and empty tracks, still consistent', async () => {
    const dir = memoryFolder();
    await writeColmap(synthetic(), dir.open, { format: 'text', imageNames: NAMES, observations: false });
    expect(text(dir.files.get('images.txt')).split('\n').slice(4)).toEqual(['1 1 0 0 0 0 0 0 1 a.png', '', '2 0 0 0 1 1 2 3 2 b.png', '', '']);
    expect(text(dir.files.get('points3D.txt')).split('\n')[3]).toBe('1 1 0 2 50 51 52 -1');
    const back = readColmap(reader(dir.files));
    expect(back.points.count).toBe(5);
    expect(back.images.every((im) => im.point3DIds.length === 0)).toBe(true);
  });

  it('binary files have the published layout (byte offsets checked by hand)', async () => {
    const dir = memoryFolder();
    await writeColmap(synthetic(), dir.open, { imageNames: NAMES });
    const cam = dir.files.get('cameras.bin') as Uint8Array;
    const img = dir.files.get('images.bin') as Uint8Array;
    const pts = dir.files.get('points3D.bin') as Uint8Array;
    expect(cam.length).toBe(8 + 2 * (4 + 4 + 8 + 8 + 4 * 8));
    expect(img.length).toBe(8 + (64 + 6 + 8 + 24 * 1) + (64 + 6 + 8 + 24 * 4));
    expect(pts.length).toBe(8 + 5 * (8 + 24 + 3 + 8 + 8 + 8));
    const dv = (b: Uint8Array) => new DataView(b.buffer, b.byteOffset, b.byteLength);
    const c = dv(cam);
    expect(c.getBigUint64(0, true)).toBe(2n);
    expect([c.getUint32(8, true), c.getInt32(12, true), Number(c.getBigUint64(16, true)), Number(c.getBigUint64(24, true))]).toEqual([1, 1, 3, 2]);
    expect([32, 40, 48, 56].map((o) => c.getFloat64(o, true))).toEqual([2, 2, 1, 1]);
    const i = dv(img);
    expect(i.getBigUint64(0, true)).toBe(2n);
    expect(i.getUint32(8, true)).toBe(1);
    expect([0, 1, 2, 3, 4, 5, 6].map((k) => i.getFloat64(12 + 8 * k, true))).toEqual([1, 0, 0, 0, 0, 0, 0]);
    expect(i.getUint32(68, true)).toBe(1);
    expect(text(img.subarray(72, 78))).toBe('a.png\0');
    expect(i.getBigUint64(78, true)).toBe(1n);
    expect([i.getFloat64(86, true), i.getFloat64(94, true), i.getBigUint64(102, true)]).toEqual([2, 1, 1n]);
    const p = dv(pts);
    expect(p.getBigUint64(0, true)).toBe(5n);
    expect(p.getBigUint64(8, true)).toBe(1n);
    expect([16, 24, 32].map((o) => p.getFloat64(o, true))).toEqual([1, 0, 2]);
    expect(Array.from(pts.subarray(40, 43))).toEqual([50, 51, 52]);
    expect(p.getFloat64(43, true)).toBe(-1);
    expect(p.getBigUint64(51, true)).toBe(1n);
    expect([p.getUint32(59, true), p.getUint32(63, true)]).toEqual([1, 0]);
  });
});

// ------------------------------------------------------------------------------------------------

describe('COLMAP export of the real tiny/multi prediction', () => {
  let pred: Prediction;
  const sizes: [number, number][] = [
    [168, 112],
    [170, 111],
    [84, 56],
  ];
  const names = ['frame_0.jpg', 'frame_1.jpg', 'frame_2.jpg'];
  let textModel: ColmapReadResult;
  let binModel: ColmapReadResult;
  let built: ColmapModel;
  const sizesOut: Record<string, number> = {};

  beforeAll(async () => {
    pred = await fixturePrediction('tiny', 'multi');
    const kBefore = Float32Array.from(pred.intrinsics as Float32Array);
    const t = memoryFolder();
    const b = memoryFolder();
    await writeColmap(pred, t.open, { format: 'text', imageNames: names, originalSizes: sizes });
    await writeColmap(pred, b.open, { format: 'binary', imageNames: names, originalSizes: sizes });
    expect(Array.from(pred.intrinsics as Float32Array)).toEqual(Array.from(kBefore)); // never mutated
    textModel = readColmap(reader(t.files));
    binModel = readColmap(reader(b.files));
    built = colmapModelFromPrediction(pred, { imageNames: names, originalSizes: sizes }).model;
    for (const [k, v] of [...t.files, ...b.files]) sizesOut[k] = v.length;
    console.log(`colmap tiny/multi: ${built.points.count} points; bytes ${JSON.stringify(sizesOut)}`);
  });

  it('text → read and binary → read give the written model exactly; text ≡ binary', () => {
    expect(textModel.format).toBe('text');
    expect(binModel.format).toBe('binary');
    const strip = ({ format: _f, ...m }: ColmapReadResult) => m;
    expect(strip(textModel)).toEqual(built);
    expect(strip(binModel)).toEqual(built);
    expect(strip(textModel)).toEqual(strip(binModel));
    const planned = colmapBinarySizes(built);
    expect([planned.cameras, planned.images, planned.points3D]).toEqual([sizesOut['cameras.bin'], sizesOut['images.bin'], sizesOut['points3D.bin']]);
  });

  it('text → binary → text is byte-identical (converting a read model)', async () => {
    const bin = memoryFolder();
    await writeColmapModel(textModel, bin.open, 'binary');
    const txt = memoryFolder();
    await writeColmapModel(readColmap(reader(bin.files)), txt.open, 'text');
    const again = memoryFolder();
    await writeColmap(pred, again.open, { format: 'text', imageNames: names, originalSizes: sizes });
    for (const n of ['cameras.txt', 'images.txt', 'points3D.txt']) expect(txt.files.get(n), n).toEqual(again.files.get(n));
  });

  it('the rotation of the read quaternion equals the prediction R (1e-6); t is copied', () => {
    const E = pred.extrinsics as Float32Array;
    const R = new Float64Array(9);
    binModel.images.forEach((im, b) => {
      const [w, x, y, z] = im.qvec;
      expect(w).toBeGreaterThanOrEqual(0);
      expect(Math.abs(Math.hypot(w, x, y, z) - 1)).toBeLessThan(1e-15);
      quatXyzwToMat3(R, [x, y, z, w]);
      const want = [0, 1, 2, 4, 5, 6, 8, 9, 10].map((k) => E[12 * b + k]);
      expectClose(R, want, { atol: 1e-6 }, `R view ${b}`);
      expect(Array.from(im.tvec)).toEqual([E[12 * b + 3], E[12 * b + 7], E[12 * b + 11]]);
    });
    const cams = colmapToCameras(binModel, names);
    expectClose(cams.w2c, E, { atol: 1e-6 }, 'colmapToCameras w2c');
    console.log(`colmap tiny/multi: max |R(q) − R| = ${maxAbsDiff(cams.w2c, E).toExponential(2)}`);
  });

  it('K is rescaled to the original size as the reference (float32, row 0 by w/W, row 1 by h/H)', () => {
    const K = pred.intrinsics as Float32Array;
    const f32 = (x: number) => new Float32Array([x])[0];
    binModel.cameras.forEach((c, b) => {
      const [ow, oh] = sizes[b];
      expect([c.id, c.model, c.width, c.height]).toEqual([b + 1, 'PINHOLE', ow, oh]);
      const sx = f32(ow / pred.width);
      const sy = f32(oh / pred.height);
      expect(Array.from(c.params)).toEqual([f32(K[9 * b] * sx), f32(K[9 * b + 4] * sy), f32(K[9 * b + 2] * sx), f32(K[9 * b + 5] * sy)]);
      const exact = [(K[9 * b] * ow) / pred.width, (K[9 * b + 4] * oh) / pred.height, (K[9 * b + 2] * ow) / pred.width, (K[9 * b + 5] * oh) / pred.height];
      expectClose(c.params, exact, { atol: 0, rtol: 1e-6 }, `K view ${b}`);
    });
    const cams = colmapToCameras(binModel);
    expect(cams.sizes).toEqual(sizes);
    expect(cams.models.every((m) => m.model === 'PINHOLE' && !m.approximated)).toBe(true);
    expect(Array.from(cams.intrinsics.subarray(0, 9))).toEqual([...[binModel.cameras[0].params[0], 0, binModel.cameras[0].params[2]], ...[0, binModel.cameras[0].params[1], binModel.cameras[0].params[3]], 0, 0, 1]);
  });

  it('points: threshold = P40(conf) only; one point per kept pixel, coloured from the processed images', () => {
    const conf = pred.conf as Float32Array;
    const sorted = Array.from(conf).sort((a, b) => a - b);
    const rank = 0.4 * (sorted.length - 1);
    const lo = Math.floor(rank);
    const thr = sorted[lo] + (sorted[lo + 1] - sorted[lo]) * (rank - lo);
    const { stats } = colmapModelFromPrediction(pred, { imageNames: names });
    expect(Math.abs((stats.threshold as number) - thr)).toBeLessThan(1e-6 * thr);
    let want = 0;
    for (let p = 0; p < conf.length; p++) if (conf[p] >= Math.fround(stats.threshold as number) && pred.depth[p] > 0) want++;
    expect(stats.kept).toBe(want);
    expect(built.points.count).toBe(want);
    expect(want).toBeGreaterThan(0.55 * conf.length);
    expect(Array.from(built.points.ids)).toEqual(Array.from({ length: want }, (_, i) => i + 1));
    expect(built.points.error.every((e) => e === -1)).toBe(true);
  });

  it('every keypoint reprojects onto its point through the written camera (< 1e-3 px)', () => {
    const byId = new Map<number, number>();
    binModel.points.ids.forEach((id, i) => {
      byId.set(id, i);
    });
    let worst = 0;
    let n = 0;
    const R = new Float64Array(9);
    for (const im of binModel.images) {
      const cam = binModel.cameras.find((c) => c.id === im.cameraId);
      if (!cam) throw new Error('no camera');
      const [fx, fy, cx, cy] = cam.params;
      quatXyzwToMat3(R, [im.qvec[1], im.qvec[2], im.qvec[3], im.qvec[0]]);
      for (let j = 0; j < im.point3DIds.length; j++) {
        const i = byId.get(im.point3DIds[j]) as number;
        const X = binModel.points.xyz.subarray(3 * i, 3 * i + 3);
        const c = [0, 1, 2].map((r) => R[3 * r] * X[0] + R[3 * r + 1] * X[1] + R[3 * r + 2] * X[2] + im.tvec[r]);
        const u = (fx * c[0]) / c[2] + cx;
        const v = (fy * c[1]) / c[2] + cy;
        worst = Math.max(worst, Math.abs(u - im.xys[2 * j]), Math.abs(v - im.xys[2 * j + 1]));
        n++;
      }
    }
    expect(n).toBe(binModel.points.count);
    expect(worst).toBeLessThan(1e-3);
    console.log(`colmap tiny/multi: ${n} keypoints, max reprojection error ${worst.toExponential(2)} px`);
  });

  it('is consistent: every keypoint names an existing point whose track names it back, every track an existing image/keypoint', () => {
    const m = binModel;
    const images = new Map(m.images.map((im) => [im.id, im]));
    const points = new Map<number, number>();
    m.points.ids.forEach((id, i) => {
      points.set(id, i);
    });
    for (const im of m.images) {
      expect(m.cameras.some((c) => c.id === im.cameraId)).toBe(true);
      for (let j = 0; j < im.point3DIds.length; j++) {
        const i = points.get(im.point3DIds[j]);
        expect(i, `image ${im.id} keypoint ${j}`).toBeDefined();
        const o = m.points.trackOffsets[i as number];
        const e = m.points.trackOffsets[(i as number) + 1];
        const els = Array.from({ length: e - o }, (_, k) => [m.points.trackImageIds[o + k], m.points.trackPoint2DIdx[o + k]]);
        expect(els).toContainEqual([im.id, j]);
      }
    }
    for (let i = 0; i < m.points.count; i++) {
      expect(m.points.trackOffsets[i + 1] - m.points.trackOffsets[i]).toBe(1);
      const im = images.get(m.points.trackImageIds[i]);
      expect(im).toBeDefined();
      expect(im?.point3DIds[m.points.trackPoint2DIdx[i]]).toBe(m.points.ids[i]);
    }
  });

  it('maxPoints subsamples deterministically (seeded), keeps order and consistency', async () => {
    const a = colmapModelFromPrediction(pred, { imageNames: names, maxPoints: 1000, seed: 3 }).model;
    const b = colmapModelFromPrediction(pred, { imageNames: names, maxPoints: 1000, seed: 3 }).model;
    const c = colmapModelFromPrediction(pred, { imageNames: names, maxPoints: 1000, seed: 4 }).model;
    expect(a.points.count).toBe(1000);
    expect(a).toEqual(b);
    expect(Array.from(a.points.xyz)).not.toEqual(Array.from(c.points.xyz));
    const dir = memoryFolder();
    await writeColmapModel(a, dir.open, 'binary');
    expect(readColmap(reader(dir.files)).points.count).toBe(1000);
    const full = colmapModelFromPrediction(pred, { imageNames: names, maxPoints: 10 ** 9 }).model;
    expect(full.points.count).toBe(built.points.count);
  });

  it('without originalSizes the cameras are the processed ones (crop methods allowed then)', () => {
    for (const processResMethod of ['upper_bound_resize', 'upper_bound_crop', 'lower_bound_crop'] as const) {
      const m = colmapModelFromPrediction(pred, { imageNames: names, processResMethod }).model;
      const K = pred.intrinsics as Float32Array;
      expect(m.cameras.map((c) => [c.width, c.height])).toEqual([
        [84, 56],
        [84, 56],
        [84, 56],
      ]);
      expect(Array.from(m.cameras[1].params)).toEqual([K[9], K[13], K[11], K[14]]);
    }
  });
});

// ------------------------------------------------------------------------------------------------

describe('colmapToCameras', () => {
  const cam = (id: number, model: string, params: number[], width = 640, height = 480) => ({ id, model, width, height, params: Float64Array.from(params) });
  const model = (cameras: ReturnType<typeof cam>[]): ColmapModel => ({
    cameras: cameras as ColmapModel['cameras'],
    images: cameras.map((c, k) => ({
      id: 10 + k,
      qvec: Float64Array.of(2, 0, 0, 0), // not unit: normalised
      tvec: Float64Array.of(k, 0, 0),
      cameraId: c.id,
      name: `im${k}.jpg`,
      xys: new Float64Array(0),
      point3DIds: new Float64Array(0),
    })),
    points: { count: 0, ids: new Float64Array(0), xyz: new Float64Array(0), rgb: new Uint8Array(0), error: new Float64Array(0), trackOffsets: new Uint32Array(1), trackImageIds: new Uint32Array(0), trackPoint2DIdx: new Uint32Array(0) },
  });
  const m = model([
    cam(1, 'PINHOLE', [500, 510, 320, 240]),
    cam(2, 'SIMPLE_PINHOLE', [400, 300, 200]),
    cam(3, 'SIMPLE_RADIAL', [450, 310, 230, 0.1]),
    cam(4, 'OPENCV', [600, 610, 330, 250, 0.1, 0.01, 0.001, 0.002]),
    cam(5, 'RADIAL', [700, 300, 220, 0.1, 0.2]),
    cam(6, 'FULL_OPENCV', [1, 2, 3, 4, 0, 0, 0, 0, 0, 0, 0, 0]),
  ]);

  it('PINHOLE, SIMPLE_PINHOLE exact; others: their pinhole part (default) or the reference approximation', () => {
    const c = colmapToCameras(m);
    const k = (b: number) => Array.from(c.intrinsics.subarray(9 * b, 9 * b + 9));
    expect(k(0)).toEqual([500, 0, 320, 0, 510, 240, 0, 0, 1]);
    expect(k(1)).toEqual([400, 0, 300, 0, 400, 200, 0, 0, 1]);
    expect(k(2)).toEqual([450, 0, 310, 0, 450, 230, 0, 0, 1]);
    expect(k(3)).toEqual([600, 0, 330, 0, 610, 250, 0, 0, 1]);
    expect(k(4)).toEqual([700, 0, 300, 0, 700, 220, 0, 0, 1]);
    expect(k(5)).toEqual([1, 0, 3, 0, 2, 4, 0, 0, 1]);
    expect(c.models.map((x) => x.approximated)).toEqual([false, false, true, true, true, true]);
    const r = colmapToCameras(m, undefined, { approximation: 'reference' });
    expect(Array.from(r.intrinsics.subarray(27, 36))).toEqual([600, 0, 320, 0, 600, 240, 0, 0, 1]);
    expect(Array.from(r.intrinsics.subarray(9, 18))).toEqual(k(1));
    expect(Array.from(c.w2c.subarray(12, 24))).toEqual([1, 0, 0, 1, 0, 1, 0, 0, 0, 0, 1, 0]);
    expect(c.sizes[0]).toEqual([640, 480]);
  });

  it('follows imageOrder by name; unknown / repeated names, missing cameras and EQUIRECTANGULAR fail', () => {
    const c = colmapToCameras(m, ['im3.jpg', 'im0.jpg']);
    expect(c.names).toEqual(['im3.jpg', 'im0.jpg']);
    expect(c.imageIds).toEqual([13, 10]);
    expect(c.w2c[3]).toBe(3);
    expectCode(() => colmapToCameras(m, ['nope.jpg']), 'BAD_VALUE', /nope/);
    expectCode(() => colmapToCameras(m, ['im0.jpg', 'im0.jpg']), 'BAD_VALUE', /twice/);
    expectCode(() => colmapToCameras(m, []), 'EMPTY_INPUT');
    expectCode(() => colmapToCameras(model([cam(1, 'EQUIRECTANGULAR', [640, 480])])), 'BAD_VALUE', /EQUIRECTANGULAR/);
    const broken = model([cam(1, 'PINHOLE', [1, 1, 1, 1])]);
    broken.images[0].cameraId = 9;
    expectCode(() => colmapToCameras(broken), 'BAD_VALUE', /camera 9/);
  });

  it('reads a hand-written text model with other camera models', () => {
    const files: Files = new Map([
      ['cameras.txt', bytes('# c\n1 SIMPLE_RADIAL 100 80 90 50 40 0.01\n\n2 OPENCV 100 80 91 92 51 41 0 0 0 0\n')],
      ['images.txt', bytes('# i\n1 1 0 0 0 0 0 0 1 x.jpg\n10 20 -1 11 21 1\n2 0.7071067811865476 0 0.7071067811865476 0 1 2 3 2 y.jpg\n\n')],
      ['points3D.txt', bytes('1 0.5 0.25 4 255 0 7 0.3 1 1\n')],
    ]);
    const r = readColmap(reader(files));
    expect(r.images[0].point3DIds).toEqual(Float64Array.of(-1, 1));
    expect(r.points.rgb).toEqual(Uint8Array.of(255, 0, 7));
    const c = colmapToCameras(r);
    expect(Array.from(c.intrinsics.subarray(0, 9))).toEqual([90, 0, 50, 0, 90, 40, 0, 0, 1]);
    expect(Array.from(c.intrinsics.subarray(9, 18))).toEqual([91, 0, 51, 0, 92, 41, 0, 0, 1]);
    expectClose(c.w2c.subarray(12, 24), [0, 0, 1, 1, 0, 1, 0, 2, -1, 0, 0, 3], { atol: 1e-15 }, 'R_y(90°)');
  });
});

// ------------------------------------------------------------------------------------------------

describe('bad input', () => {
  it('options: names count / duplicates / bad characters, originalSizes, crop + originalSizes, no cameras', async () => {
    const p = synthetic();
    const opts = { imageNames: NAMES };
    expectCode(() => colmapModelFromPrediction(p, { imageNames: ['a.png'] }), 'BAD_VALUE', /one name per view \(2\), got 1/);
    expectCode(() => colmapModelFromPrediction(p, { imageNames: ['a.png', 'a.png'] }), 'BAD_VALUE', /twice/);
    expectCode(() => colmapModelFromPrediction(p, { imageNames: ['a.png', 'b\n.png'] }), 'BAD_VALUE');
    expectCode(() => colmapModelFromPrediction(p, { imageNames: ['a.png', ''] }), 'BAD_VALUE');
    expectCode(() => colmapModelFromPrediction(p, { ...opts, originalSizes: [[6, 4]] }), 'BAD_VALUE', /originalSizes/);
    expectCode(() => colmapModelFromPrediction(p, { ...opts, originalSizes: [[6, 4], [0, 2]] }), 'BAD_VALUE', /originalSizes\[1\]/);
    expectCode(() => colmapModelFromPrediction(p, { ...opts, originalSizes: [[6, 4], [3, 2]], processResMethod: 'upper_bound_crop' }), 'BAD_VALUE', /crop/);
    expectCode(() => colmapModelFromPrediction(p, { ...opts, processResMethod: 'crop' as never }), 'BAD_VALUE', /processResMethod/);
    expectCode(() => colmapModelFromPrediction(p, { ...opts, confThreshPercentile: 101 }), 'BAD_VALUE');
    expectCode(() => colmapModelFromPrediction(p, { ...opts, maxPoints: -1 }), 'BAD_VALUE');
    const mono = createPrediction({ views: 2, height: 2, width: 3, depth: p.depth, processedImages: p.processedImages });
    expectCode(() => colmapModelFromPrediction(mono, opts), 'BAD_VALUE', /extrinsics/);
    const dir = memoryFolder();
    await expectCodeAsync(writeColmap(p, dir.open, { imageNames: ['x'] }), 'BAD_VALUE');
    await expectCodeAsync(writeColmap(p, dir.open, { imageNames: ['a b.png', 'c.png'], format: 'text' }), 'BAD_VALUE', /whitespace/);
    expect(dir.opened).toEqual([]); // validation happens before any sink is opened
    // names with spaces are fine in binary files
    await writeColmap(p, dir.open, { imageNames: ['a b.png', 'c.png'] });
    expect(readColmap(reader(dir.files)).images.map((im) => im.name)).toEqual(['a b.png', 'c.png']);
  });

  it('sinks: a failing write aborts every unclosed sink (no partial files), none is closed', async () => {
    const log: string[] = [];
    const open = (name: string): Sink => ({
      write: () => {
        if (name === 'points3D.bin') throw new Error('disk full');
      },
      close: () => {
        log.push(`close ${name}`);
      },
      abort: () => {
        log.push(`abort ${name}`);
      },
    });
    await expect(writeColmap(synthetic(), open, { imageNames: NAMES })).rejects.toThrow('disk full');
    expect(log.sort()).toEqual(['abort cameras.bin', 'abort images.bin', 'abort points3D.bin']);
    const log2: string[] = [];
    let opened = 0;
    const open2 = (name: string): Sink => {
      if (++opened === 2) throw new Error('cannot open');
      return { write: () => {}, close: () => void log2.push(`close ${name}`), abort: () => void log2.push(`abort ${name}`) };
    };
    await expect(writeColmap(synthetic(), open2, { imageNames: NAMES, format: 'text' })).rejects.toThrow('cannot open');
    expect(log2).toEqual(['abort cameras.txt']);
  });

  describe('truncated / corrupt binary → typed errors, never a hang', () => {
    let files: Files;
    beforeAll(async () => {
      const dir = memoryFolder();
      await writeColmap(synthetic(), dir.open, { imageNames: NAMES });
      files = dir.files;
    });
    const withFile = (name: string, b: Uint8Array) => (n: string) => (n === name ? b : files.get(n));

    it('every truncation of every file fails with IO', () => {
      for (const name of ['cameras.bin', 'images.bin', 'points3D.bin']) {
        const full = files.get(name) as Uint8Array;
        for (let len = 0; len < full.length; len++) {
          expectCode(() => readColmap(withFile(name, full.subarray(0, len))), 'IO', new RegExp(`${name.replace('.', '\\.')} is truncated`));
        }
      }
    });

    it('huge counts fail at once (IO); trailing bytes, unknown model ids and ids above 2^53 fail with BAD_VALUE', () => {
      const patch = (name: string, at: number, f: (d: DataView) => void) => {
        const b = Uint8Array.from(files.get(name) as Uint8Array);
        f(new DataView(b.buffer, at));
        return b;
      };
      const huge = (d: DataView) => d.setBigUint64(0, 2n ** 52n, true);
      const t0 = Date.now();
      expectCode(() => readColmap(withFile('points3D.bin', patch('points3D.bin', 0, huge))), 'IO', /truncated or corrupt/);
      expectCode(() => readColmap(withFile('images.bin', patch('images.bin', 0, huge))), 'IO');
      expectCode(() => readColmap(withFile('images.bin', patch('images.bin', 78, huge))), 'IO', /keypoints of image 1/);
      expectCode(() => readColmap(withFile('points3D.bin', patch('points3D.bin', 51, huge))), 'IO', /track elements/);
      expectCode(() => readColmap(withFile('cameras.bin', patch('cameras.bin', 0, (d) => d.setBigUint64(0, 2n ** 64n - 1n, true)))), 'BAD_VALUE', /2\^53/);
      expect(Date.now() - t0).toBeLessThan(1000);
      expectCode(() => readColmap(withFile('cameras.bin', patch('cameras.bin', 12, (d) => d.setInt32(0, 99, true)))), 'BAD_VALUE', /unknown model id 99/);
      expectCode(() => readColmap(withFile('cameras.bin', patch('cameras.bin', 12, (d) => d.setInt32(0, -1, true)))), 'BAD_VALUE', /unknown model id -1/);
      const longer = new Uint8Array((files.get('cameras.bin') as Uint8Array).length + 3);
      longer.set(files.get('cameras.bin') as Uint8Array);
      expectCode(() => readColmap(withFile('cameras.bin', longer)), 'BAD_VALUE', /3 bytes after/);
      // a keypoint naming a point that does not exist (point id 1 → 77)
      expectCode(() => readColmap(withFile('images.bin', patch('images.bin', 102, (d) => d.setBigUint64(0, 77n, true)))), 'BAD_VALUE', /points at 77/);
      // a track naming a keypoint out of range
      expectCode(() => readColmap(withFile('points3D.bin', patch('points3D.bin', 63, (d) => d.setUint32(0, 5, true)))), 'BAD_VALUE', /keypoint 5 of image 1/);
      expect(readColmap(withFile('points3D.bin', patch('points3D.bin', 63, (d) => d.setUint32(0, 5, true))), { checkConsistency: false }).points.count).toBe(5);
      // NaN coordinates
      expectCode(() => readColmap(withFile('points3D.bin', patch('points3D.bin', 16, (d) => d.setFloat64(0, Number.NaN, true)))), 'NON_FINITE');
    });

    it('missing files fail with IO; text is used when cameras.bin is absent', () => {
      expectCode(() => readColmap(() => undefined), 'IO', /neither cameras\.bin nor cameras\.txt/);
      expectCode(() => readColmap((n) => (n === 'points3D.bin' ? undefined : files.get(n))), 'IO', /points3D\.bin does not exist/);
      expectCode(() => readColmap((n) => files.get(n), { format: 'text' }), 'IO', /cameras\.txt/);
    });
  });

  describe('malformed text → BAD_VALUE naming the line', () => {
    const good = {
      'cameras.txt': '# c\n1 PINHOLE 3 2 2 2 1 1\n',
      'images.txt': '1 1 0 0 0 0 0 0 1 a.png\n2 1 1\n',
      'points3D.txt': '1 1 0 2 50 51 52 -1 1 0\n',
    };
    const read = (patch: Partial<typeof good>) => {
      const all = { ...good, ...patch } as Record<string, string>;
      return readColmap((n) => (n in all ? bytes(all[n]) : undefined));
    };
    it('accepts the good model', () => {
      expect(read({}).points.count).toBe(1);
    });
    const cases: [Partial<typeof good>, string, RegExp][] = [
      [{ 'cameras.txt': '1 PINHOLE 3 2 2 2 1\n' }, 'BAD_VALUE', /cameras\.txt line 1: PINHOLE needs 4 params, got 3/],
      [{ 'cameras.txt': '1 PINHOL 3 2 2 2 1 1\n' }, 'BAD_VALUE', /unknown camera model "PINHOL"/],
      [{ 'cameras.txt': '1 PINHOLE 3 2 2 2 1 x\n' }, 'BAD_VALUE', /param 3 is not a number/],
      [{ 'cameras.txt': '1 PINHOLE 3 2 2 2 1 nan\n' }, 'BAD_VALUE', /not a number/],
      [{ 'cameras.txt': '1 PINHOLE 3 2 2 2 1 1e999\n' }, 'NON_FINITE', /not finite/],
      [{ 'cameras.txt': '-1 PINHOLE 3 2 2 2 1 1\n' }, 'BAD_VALUE', /CAMERA_ID/],
      [{ 'cameras.txt': '1 PINHOLE 3 2 2 2 1 1\n1 PINHOLE 3 2 2 2 1 1\n' }, 'BAD_VALUE', /duplicate camera id 1/],
      [{ 'images.txt': '1 1 0 0 0 0 0 0 1\n\n' }, 'BAD_VALUE', /images\.txt line 1/],
      [{ 'images.txt': '1 1 0 0 0 0 0 0 1 a b.png\n\n' }, 'BAD_VALUE', /whitespace/],
      [{ 'images.txt': '1 1 0 0 0 0 0 0 1 a.png\n2 1\n' }, 'BAD_VALUE', /images\.txt line 2: keypoints come as X Y POINT3D_ID triples/],
      [{ 'images.txt': '1 1 0 0 0 0 0 0 1 a.png\n2 1 -2\n' }, 'BAD_VALUE', /POINT3D_ID/],
      [{ 'images.txt': '1 1 0 0 0 0 0 0 7 a.png\n2 1 1\n' }, 'BAD_VALUE', /uses camera 7/],
      [{ 'images.txt': '1 1 0 0 0 0 0 0 1 a.png\n2 1 -1\n' }, 'BAD_VALUE', /point 1's track names keypoint 0 of image 1, which points at -1/],
      [{ 'points3D.txt': '1 1 0 2 50 51 52 -1 1\n' }, 'BAD_VALUE', /pairs/],
      [{ 'points3D.txt': '1 1 0 2 50 51 256 -1 1 0\n' }, 'BAD_VALUE', /B must be an integer in \[0, 255\]/],
      [{ 'points3D.txt': '1 1 0 2 50 51 52 -1 2 0\n' }, 'BAD_VALUE', /image 2, which does not exist/],
      [{ 'points3D.txt': '' }, 'BAD_VALUE', /keypoint 0 of image 1 points at point 1, which does not exist/],
      [{ 'points3D.txt': '1 1 0 2 50 51 52 -1\n' }, 'BAD_VALUE', /whose track does not list it/],
      [{ 'points3D.txt': '1 1 0 2 50 51 52 -1 1 0 1 0\n' }, 'BAD_VALUE', /listed twice/],
    ];
    for (const [patch, code, re] of cases) {
      it(`${JSON.stringify(patch)} → ${code}`, () => expectCode(() => read(patch), code, re));
    }
    it('a last image without its keypoint line counts as empty (COLMAP would drop it)', () => {
      const m = read({ 'images.txt': '1 1 0 0 0 0 0 0 1 a.png\n2 1 1\n2 1 0 0 0 0 0 0 1 b.png', 'points3D.txt': '1 1 0 2 50 51 52 -1 1 0\n' });
      expect(m.images.map((im) => [im.name, im.point3DIds.length])).toEqual([
        ['a.png', 1],
        ['b.png', 0],
      ]);
    });
    it('a long run of digits that is not a number fails at once (the float pattern backtracked quadratically)', () => {
      const t0 = performance.now();
      expectCode(() => read({ 'cameras.txt': `1 PINHOLE 3 2 2 2 1 ${'9'.repeat(200_000)}x\n` }), 'BAD_VALUE', /param 3 is not a number/);
      expect(performance.now() - t0).toBeLessThan(200);
    });
    it('not UTF-8 → BAD_VALUE', () => {
      expectCode(() => readColmap((n) => (n === 'cameras.txt' ? Uint8Array.of(0xff, 0xfe, 0x31) : bytes('')), { format: 'text' }), 'BAD_VALUE', /UTF-8/);
    });
  });
});
