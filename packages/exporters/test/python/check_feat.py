#!/usr/bin/python3
"""An exact PCA → RGB oracle for da3js's feat_vis, with NumPy (Debian's python3-numpy).

Usage: check_feat.py DIR   (DIR/manifest.json written by test/feat-vis.test.ts)

manifest.json: {maps: [{name, file (float32 [N, h, w, C]), shape, clip}]}

For each map: mean over all N·h·w rows, covariance eigenvectors by np.linalg.eigh (float64), the top
three, each signed so its largest-magnitude entry is positive (da3js's convention; the reference's
torch.pca_lowrank leaves signs arbitrary), projections, per-component linear quantiles at clip% and
(100 − clip)%, x = clip(p, lo, hi) − lo over max(hi − lo, 1e-4), uint8(x·255). Writes
DIR/<name>.oracle.rgb and prints {maps: {name: {basis, variance, eigenvalues, lo, hi}}}.
"""
import json
import os
import sys

import numpy as np


def main(d):
    man = json.load(open(os.path.join(d, 'manifest.json')))
    out = {}
    for m in man['maps']:
        x = np.fromfile(os.path.join(d, m['file']), dtype='<f4').reshape(m['shape']).astype(np.float64)
        n, h, w, c = x.shape
        rows = x.reshape(-1, c)
        mean = rows.mean(axis=0)
        xc = rows - mean
        cov = xc.T @ xc
        vals, vecs = np.linalg.eigh(cov)
        order = np.argsort(vals)[::-1][:3]
        basis = vecs[:, order]
        for k in range(3):
            i = int(np.argmax(np.abs(basis[:, k])))
            if basis[i, k] < 0:
                basis[:, k] = -basis[:, k]
        p = xc @ basis
        clip = m.get('clip', 10.0)
        lo = np.quantile(p, clip / 100.0, axis=0)
        hi = np.quantile(p, 1 - clip / 100.0, axis=0)
        denom = np.maximum(hi - lo, 1e-4)
        t = np.clip((np.clip(p, lo, hi) - lo) / denom, 0, 1)
        rgb = (t * 255).astype(np.uint8)
        rgb.tofile(os.path.join(d, m['name'] + '.oracle.rgb'))
        out[m['name']] = {
            'basis': basis.reshape(-1).tolist(),
            'variance': p.var(axis=0).tolist(),
            'eigenvalues': (vals[order] / rows.shape[0]).tolist(),
            'lo': lo.tolist(),
            'hi': hi.tolist(),
        }
    print(json.dumps({'maps': out, 'numpy': np.__version__}))


if __name__ == '__main__':
    main(sys.argv[1])
