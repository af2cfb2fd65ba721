/**
 * An independent reader: Debian's python3 with only the standard library (`struct`, no pycolmap,
 * no numpy) reads the files by the published COLMAP format (cameras/images/points3D, text and
 * binary), checks their cross-references and reprojections itself, and reports everything as
 * JSON (Python's float repr is exact), which must equal what da3js wrote.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Prediction, Sink } from '@da3js/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectClose } from '../../../test-utils/compare.js';
import { fixturePrediction } from '../../../test-utils/prediction.js';
import { type ColmapModel, colmapModelFromPrediction, writeColmap } from '../src/colmap/index.js';
import { memorySink } from '../src/writer.js';
import { requireTool } from '../../../test-utils/tools.js';

const PY = '/usr/bin/python3';
const NO_PY = `${PY} is missing: apt-get install -y python3 (Debian's python3; only its standard library is used)`;
const hasPython = existsSync(PY) && spawnSync(PY, ['-c', 'import struct, json'], { encoding: 'utf8' }).status === 0;


const SCRIPT = String.raw`
import json, math, os, struct, sys

# id -> (name, number of params), COLMAP sensor/models.h
MODELS = {0: ('SIMPLE_PINHOLE', 3), 1: ('PINHOLE', 4), 2: ('SIMPLE_RADIAL', 4), 3: ('RADIAL', 5),
          4: ('OPENCV', 8), 5: ('OPENCV_FISHEYE', 8), 6: ('FULL_OPENCV', 12), 7: ('FOV', 5),
          8: ('SIMPLE_RADIAL_FISHEYE', 4), 9: ('RADIAL_FISHEYE', 5), 10: ('THIN_PRISM_FISHEYE', 12)}
BY_NAME = {v[0]: v[1] for v in MODELS.values()}
INVALID = 2**64 - 1

class Reader:
    def __init__(self, path):
        with open(path, 'rb') as f:
            self.b = f.read()
        self.at = 0
    def take(self, fmt):
        fmt = '<' + fmt
        n = struct.calcsize(fmt)
        if self.at + n > len(self.b):
            raise EOFError('truncated')
        v = struct.unpack_from(fmt, self.b, self.at)
        self.at += n
        return v
    def cstr(self):
        end = self.b.index(b'\x00', self.at)
        s = self.b[self.at:end].decode('utf-8')
        self.at = end + 1
        return s
    def done(self):
        assert self.at == len(self.b), 'trailing bytes'

def read_binary(d):
    r = Reader(os.path.join(d, 'cameras.bin'))
    cameras = []
    for _ in range(r.take('Q')[0]):
        cid, mid, w, h = r.take('IiQQ')
        name, n = MODELS[mid]
        cameras.append({'id': cid, 'model': name, 'width': w, 'height': h, 'params': list(r.take('d' * n))})
    r.done()
    r = Reader(os.path.join(d, 'images.bin'))
    images = []
    for _ in range(r.take('Q')[0]):
        iid, qw, qx, qy, qz, tx, ty, tz, cid = r.take('IdddddddI')
        name = r.cstr()
        k = r.take('Q')[0]
        data = r.take('ddQ' * k)
        images.append({'id': iid, 'qvec': [qw, qx, qy, qz], 'tvec': [tx, ty, tz], 'camera_id': cid, 'name': name,
                       'xys': [v for j in range(k) for v in data[3 * j:3 * j + 2]],
                       'point3D_ids': [-1 if data[3 * j + 2] == INVALID else data[3 * j + 2] for j in range(k)]})
    r.done()
    r = Reader(os.path.join(d, 'points3D.bin'))
    points = []
    for _ in range(r.take('Q')[0]):
        pid, x, y, z, cr, cg, cb, err = r.take('QdddBBBd')
        n = r.take('Q')[0]
        points.append({'id': pid, 'xyz': [x, y, z], 'rgb': [cr, cg, cb], 'error': err, 'track': list(r.take('II' * n))})
    r.done()
    return {'cameras': cameras, 'images': images, 'points': points}

def data_lines(path):
    with open(path, encoding='utf-8') as f:
        return f.read().split('\n')

def read_text(d):
    cameras = []
    for line in data_lines(os.path.join(d, 'cameras.txt')):
        line = line.strip()
        if not line or line.startswith('#'):
            continue
        e = line.split()
        assert len(e) == 4 + BY_NAME[e[1]]
        cameras.append({'id': int(e[0]), 'model': e[1], 'width': int(e[2]), 'height': int(e[3]), 'params': [float(v) for v in e[4:]]})
    images = []
    lines = data_lines(os.path.join(d, 'images.txt'))
    i = 0
    while i < len(lines):
        line = lines[i].strip()
        i += 1
        if not line or line.startswith('#'):
            continue
        e = line.split()
        assert len(e) == 10
        p = lines[i].split()
        i += 1
        assert len(p) % 3 == 0
        images.append({'id': int(e[0]), 'qvec': [float(v) for v in e[1:5]], 'tvec': [float(v) for v in e[5:8]],
                       'camera_id': int(e[8]), 'name': e[9],
                       'xys': [float(v) for j in range(0, len(p), 3) for v in p[j:j + 2]],
                       'point3D_ids': [int(p[j + 2]) for j in range(0, len(p), 3)]})
    points = []
    for line in data_lines(os.path.join(d, 'points3D.txt')):
        line = line.strip()
        if not line or line.startswith('#'):
            continue
        e = line.split()
        points.append({'id': int(e[0]), 'xyz': [float(v) for v in e[1:4]], 'rgb': [int(v) for v in e[4:7]],
                       'error': float(e[7]), 'track': [int(v) for v in e[8:]]})
    return {'cameras': cameras, 'images': images, 'points': points}

def qvec2rotmat(q):
    w, x, y, z = q
    return [[1 - 2 * y * y - 2 * z * z, 2 * x * y - 2 * w * z, 2 * z * x + 2 * w * y],
            [2 * x * y + 2 * w * z, 1 - 2 * x * x - 2 * z * z, 2 * y * z - 2 * w * x],
            [2 * z * x - 2 * w * y, 2 * y * z + 2 * w * x, 1 - 2 * x * x - 2 * y * y]]

def check(m):
    cams = {c['id']: c for c in m['cameras']}
    ims = {im['id']: im for im in m['images']}
    pts = {p['id']: p for p in m['points']}
    refs = 0
    worst = 0.0
    for im in m['images']:
        c = cams[im['camera_id']]
        assert c['model'] == 'PINHOLE'
        fx, fy, cx, cy = c['params']
        R = qvec2rotmat(im['qvec'])
        t = im['tvec']
        for j, pid in enumerate(im['point3D_ids']):
            if pid == -1:
                continue
            refs += 1
            p = pts[pid]
            tr = p['track']
            assert any(tr[2 * k] == im['id'] and tr[2 * k + 1] == j for k in range(len(tr) // 2)), 'track misses a keypoint'
            X = p['xyz']
            xc = [sum(R[r][k] * X[k] for k in range(3)) + t[r] for r in range(3)]
            u = fx * xc[0] / xc[2] + cx
            v = fy * xc[1] / xc[2] + cy
            worst = max(worst, abs(u - im['xys'][2 * j]), abs(v - im['xys'][2 * j + 1]))
    elements = 0
    for p in m['points']:
        tr = p['track']
        for k in range(len(tr) // 2):
            im = ims[tr[2 * k]]
            assert im['point3D_ids'][tr[2 * k + 1]] == p['id'], 'track names a wrong keypoint'
            elements += 1
    assert elements == refs
    return {'observations': refs, 'max_reprojection_px': worst,
            'rotations': [qvec2rotmat(im['qvec']) for im in m['images']]}

out = {}
for kind, d in (('binary', sys.argv[1]), ('text', sys.argv[2])):
    m = read_binary(d) if kind == 'binary' else read_text(d)
    out[kind] = m
    out[kind + '_check'] = check(m)
out['text_equals_binary'] = out['text'] == out['binary']
print(json.dumps(out))
`;

/** The da3js model in the Python script's shape. */
function asPython(m: ColmapModel) {
  const p = m.points;
  return {
    cameras: m.cameras.map((c) => ({ id: c.id, model: c.model, width: c.width, height: c.height, params: Array.from(c.params) })),
    images: m.images.map((im) => ({
      id: im.id,
      qvec: Array.from(im.qvec),
      tvec: Array.from(im.tvec),
      camera_id: im.cameraId,
      name: im.name,
      xys: Array.from(im.xys),
      point3D_ids: Array.from(im.point3DIds),
    })),
    points: Array.from({ length: p.count }, (_, i) => {
      const track: number[] = [];
      for (let t = p.trackOffsets[i]; t < p.trackOffsets[i + 1]; t++) track.push(p.trackImageIds[t], p.trackPoint2DIdx[t]);
      return { id: p.ids[i], xyz: Array.from(p.xyz.subarray(3 * i, 3 * i + 3)), rgb: Array.from(p.rgb.subarray(3 * i, 3 * i + 3)), error: p.error[i], track };
    }),
  };
}

function folderSink(dir: string) {
  return (name: string): Sink => {
    const inner = memorySink();
    return { write: (c) => inner.write(c), close: () => writeFileSync(join(dir, name), inner.bytes()) };
  };
}

describe('an independent Python (stdlib struct) reader agrees with the files', () => {
  let tmp: string;
  let pred: Prediction;
  beforeAll(async () => {
    tmp = mkdtempSync(join(tmpdir(), 'da3js-colmap-'));
    pred = await fixturePrediction('tiny', 'multi');
  });
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  for (const [label, options] of [
    ['rescaled to original sizes', { originalSizes: [[168, 112], [170, 111], [84, 56]] as [number, number][] }],
    ['processed size, reference keypoints, 2000 points', { points2D: 'reference' as const, maxPoints: 2000, seed: 1 }],
  ] as const) {
    it(label, async (ctx) => {
      if (!requireTool(ctx, hasPython, NO_PY)) return;
      const names = ['f0.jpg', 'f1.jpg', 'f2.jpg'];
      const dir = mkdtempSync(join(tmp, 'm-'));
      const bin = join(dir, 'bin');
      const txt = join(dir, 'txt');
      for (const d of [bin, txt]) mkdirSync(d);
      await writeColmap(pred, folderSink(bin), { ...options, imageNames: names, format: 'binary' });
      await writeColmap(pred, folderSink(txt), { ...options, imageNames: names, format: 'text' });
      const script = join(dir, 'read_colmap.py');
      writeFileSync(script, SCRIPT);
      const run = spawnSync(PY, [script, bin, txt], { encoding: 'utf8', maxBuffer: 1 << 28 });
      expect(run.status, run.stderr).toBe(0);
      const py = JSON.parse(run.stdout);
      const model = colmapModelFromPrediction(pred, { ...options, imageNames: names }).model;
      const want = asPython(model);
      expect(py.text_equals_binary).toBe(true);
      expect(py.binary).toEqual(want);
      expect(py.text).toEqual(want);
      expect(py.binary_check.observations).toBe(model.points.count);
      const E = pred.extrinsics as Float32Array;
      (py.binary_check.rotations as number[][][]).forEach((R, b) => {
        expectClose(R.flat(), [0, 1, 2, 4, 5, 6, 8, 9, 10].map((k) => E[12 * b + k]), { atol: 1e-6 }, `python R view ${b}`);
      });
      const reproj = py.binary_check.max_reprojection_px as number;
      expect(reproj).toBeLessThan(1e-3); // at the processed size the reference's truncation changes nothing
      console.log(`colmap python (${label}): ${model.points.count} points, max reprojection ${reproj.toExponential(2)} px`);
    });
  }
});
