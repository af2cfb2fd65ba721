#!/usr/bin/python3
"""Checks da3js's Spectral colouring against NumPy + matplotlib (Debian's python3-numpy and
python3-matplotlib).

Usage: check_vis.py DIR   (DIR/manifest.json written by test/images.test.ts)

manifest.json:
  lut:   file of da3js's 256×3 float64 Spectral table (little-endian)
  lut_bytes: file of da3js's uint8(table·255)
  cases: [{name, kind: depth|conf, file (float32 H×W), shape, ours (uint8 H×W×3), range: [lo, hi], percentile}]

The expected colour map is the reference's utils/visualize.py::visualize_depth, restated here:
valid = depth > 0; disparity = 1/depth on valid pixels; range = np.percentile(valid, p) and
(100 − p), or 0 and 0 with ≤ 10 valid pixels; an empty range widened by ±1e-6;
x = 1 − clip((v − lo)/(hi − lo), 0, 1); matplotlib Spectral(x)[..., :3]; uint8(rgb·255).
For kind=conf (da3js's conf_vis) the value is the confidence itself and valid = finite.
Prints one JSON object: {ok, errors, lut, cases, matplotlib, numpy}.
"""
import json
import os
import sys

import matplotlib
import numpy as np


def expected(v, kind, p):
    v = v.copy()
    if kind == 'depth':
        valid = v > 0
        v[valid] = 1 / v[valid]
    else:
        valid = np.isfinite(v)
    if valid.sum() <= 10:
        lo = 0
        hi = 0
    else:
        lo = np.percentile(v[valid], p)
        hi = np.percentile(v[valid], 100 - p)
    if lo == hi:
        lo = lo - 1e-6
        hi = hi + 1e-6
    cm = matplotlib.colormaps['Spectral']
    x = ((v - lo) / (hi - lo)).clip(0, 1)
    x = 1 - x
    rgb = cm(x[None], bytes=False)[:, :, :, 0:3]
    return (rgb[0] * 255.0).astype(np.uint8), float(lo), float(hi)


def main(d):
    man = json.load(open(os.path.join(d, 'manifest.json')))
    errors = []
    cm = matplotlib.colormaps['Spectral']
    cm(0.5)  # builds the table
    lut = cm._lut[: cm.N, :3]
    ours = np.fromfile(os.path.join(d, man['lut']), dtype='<f8').reshape(-1, 3)
    lut_report = {'N': int(cm.N), 'entries': int(ours.shape[0])}
    if cm.N != 256 or ours.shape != lut.shape:
        errors.append(f'LUT shape {ours.shape} vs matplotlib {lut.shape}')
    else:
        diff = int(np.count_nonzero(ours != lut))
        lut_report['float64_mismatches'] = diff
        lut_report['max_abs_diff'] = float(np.max(np.abs(ours - lut)))
        if diff:
            errors.append(f'LUT: {diff} float64 entries differ from matplotlib (max {lut_report["max_abs_diff"]})')
        ours_b = np.fromfile(os.path.join(d, man['lut_bytes']), dtype=np.uint8).reshape(-1, 3)
        ref_b = (cm(np.arange(256) / 256.0 + 1 / 512.0, bytes=False)[:, :3] * 255.0).astype(np.uint8)
        bdiff = int(np.count_nonzero(ours_b != ref_b))
        lut_report['byte_mismatches'] = bdiff
        if bdiff:
            errors.append(f'LUT bytes: {bdiff} differ')

    cases = {}
    for c in man['cases']:
        v = np.fromfile(os.path.join(d, c['file']), dtype='<f4').reshape(c['shape'])
        got = np.fromfile(os.path.join(d, c['ours']), dtype=np.uint8).reshape(c['shape'] + [3])
        with np.errstate(all='ignore'):
            exp, lo, hi = expected(v, c['kind'], c.get('percentile', 2))
        mism = int(np.count_nonzero(np.any(got != exp, axis=-1)))
        cases[c['name']] = {'pixels': int(v.size), 'mismatches': mism, 'range': [lo, hi]}
        if mism:
            i = np.argwhere(np.any(got != exp, axis=-1))[0]
            errors.append(f"{c['name']}: {mism} pixels differ, first {i.tolist()} v={v[tuple(i)]!r} ours={got[tuple(i)].tolist()} ref={exp[tuple(i)].tolist()}")
        if [lo, hi] != c['range']:
            errors.append(f"{c['name']}: range {c['range']} != reference {[lo, hi]}")
    print(json.dumps({'ok': not errors, 'errors': errors, 'lut': lut_report, 'cases': cases, 'matplotlib': matplotlib.__version__, 'numpy': np.__version__}))


if __name__ == '__main__':
    main(sys.argv[1])
