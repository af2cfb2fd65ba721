#!/usr/bin/python3
"""Checks da3js's .npz files with NumPy (Debian's python3-numpy, the reference's numpy<2 series).

Usage: check_npz.py DIR   (DIR/manifest.json written by test/npz.test.ts)

manifest.json:
  sources:  name -> {file, dtype, shape}   raw little-endian arrays of the prediction
  outputs:  label -> {file, mini}          .npz files da3js wrote from those arrays
  rounding: {file, n, ours: {decimals: file}}   float32 values and da3js's roundLikeNumpy of them

What "expected" means here is what the reference's utils/export/npz.py saves, recomputed from the
raw arrays with NumPy itself: npz = image, round(depth, 6), round(conf, 2), extrinsics,
intrinsics; mini_npz = round(depth, 8), round(conf, 2), extrinsics, intrinsics.

Also writes DIR/numpy_deflate.npz and DIR/numpy_stored.npz (arrays made below) for da3js's reader,
and DIR/reference_<label>.npz (np.savez_compressed of the expected arrays) to compare sizes.
Prints one JSON object: {ok, errors, sizes, rounding, keys}.
"""
import io
import json
import os
import sys
import zipfile

import numpy as np


def main(d):
    man = json.load(open(os.path.join(d, 'manifest.json')))
    errors = []
    src = {}
    for name, s in man['sources'].items():
        src[name] = np.fromfile(os.path.join(d, s['file']), dtype=np.dtype(s['dtype']).newbyteorder('<')).reshape(s['shape'])

    def expected(mini):
        out = {}
        if not mini:
            out['image'] = src['image']
        out['depth'] = np.round(src['depth'], 8 if mini else 6)
        if 'conf' in src:
            out['conf'] = np.round(src['conf'], 2)
        if 'extrinsics' in src:
            out['extrinsics'] = src['extrinsics']
        if 'intrinsics' in src:
            out['intrinsics'] = src['intrinsics']
        return out

    sizes = {}
    keys = {}
    for label, o in man['outputs'].items():
        path = os.path.join(d, o['file'])
        exp = expected(o['mini'])
        with np.load(path) as z:
            files = list(z.files)
            keys[label] = files
            if files != list(exp.keys()):
                errors.append(f'{label}: keys {files} != {list(exp.keys())}')
            for k, e in exp.items():
                if k not in files:
                    continue
                a = z[k]
                if a.dtype != e.dtype:
                    errors.append(f'{label}/{k}: dtype {a.dtype} != {e.dtype}')
                if a.shape != e.shape:
                    errors.append(f'{label}/{k}: shape {a.shape} != {e.shape}')
                if a.tobytes() != e.tobytes():
                    diff = int(np.count_nonzero(a.view(np.uint8) != e.view(np.uint8))) if a.shape == e.shape else -1
                    errors.append(f'{label}/{k}: values differ ({diff} bytes)')
        # Each entry's decompressed bytes must equal np.save's output (header byte-for-byte).
        with zipfile.ZipFile(path) as zf:
            for info in zf.infolist():
                k = info.filename[:-4]
                if info.compress_type != zipfile.ZIP_DEFLATED:
                    errors.append(f'{label}/{info.filename}: compress_type {info.compress_type} (expected deflate)')
                if k in exp:
                    b = io.BytesIO()
                    np.save(b, exp[k])
                    if zf.read(info.filename) != b.getvalue():
                        errors.append(f'{label}/{info.filename}: .npy bytes differ from np.save')
            bad = zf.testzip()
            if bad is not None:
                errors.append(f'{label}: CRC error in {bad}')
        ref = os.path.join(d, f'reference_{label}.npz')
        np.savez_compressed(ref, **exp)
        sizes[label] = {'da3js': os.path.getsize(path), 'numpy': os.path.getsize(ref)}

    rounding = {}
    r = man.get('rounding')
    if r:
        x = np.fromfile(os.path.join(d, r['file']), dtype='<f4')
        for dec, f in r['ours'].items():
            ours = np.fromfile(os.path.join(d, f), dtype='<f4')
            ref = np.round(x, int(dec))
            mism = int(np.count_nonzero(ours.view(np.uint32) != ref.view(np.uint32)))
            rounding[dec] = {'n': int(x.size), 'mismatches': mism}
            if mism:
                i = int(np.flatnonzero(ours.view(np.uint32) != ref.view(np.uint32))[0])
                errors.append(f'round({dec}): {mism} mismatches, first x={x[i]!r} ours={ours[i]!r} numpy={ref[i]!r}')

    # Files NumPy writes, for da3js's reader (values checked on the TS side).
    made = {
        'f32': (np.arange(24, dtype=np.float32).reshape(2, 3, 4) * np.float32(0.5)),
        'f64_fortran': np.asfortranarray(np.arange(12, dtype=np.float64).reshape(3, 4) / 3),
        'i32_big': np.arange(6, dtype='>i4').reshape(2, 3) - 2,
        'flags': np.array([True, False, True]),
        'u8': np.arange(250, 256, dtype=np.uint8),
        'scalar_i64': np.array(-7, dtype=np.int64),
        'empty_u16': np.zeros((0, 3), dtype=np.uint16),
    }
    np.savez_compressed(os.path.join(d, 'numpy_deflate.npz'), **made)
    np.savez(os.path.join(d, 'numpy_stored.npz'), **made)

    print(json.dumps({'ok': not errors, 'errors': errors, 'sizes': sizes, 'rounding': rounding, 'keys': keys, 'numpy': np.__version__}))


if __name__ == '__main__':
    main(sys.argv[1])
