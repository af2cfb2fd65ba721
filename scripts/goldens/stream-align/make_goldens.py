#!/usr/bin/env python3
"""Goldens for @da3js/core's stream/align: the reference's own DA3-Streaming alignment code, run once.

Loads `da3_streaming/loop_utils/sim3utils.py` and `da3_streaming/da3_streaming.py` from a checkout of
github.com/ByteDance-Seed/Depth-Anything-3 unchanged, with import shims only for what these
functions do not use (trimesh, numba, the torch/triton GPU aligners, the DA3 model, SALAD), and
runs them on small synthetic overlaps with known Sim(3)s, noisy and with outliers, for every
`align_method` and `scale_compute_method` (`align_lib: 'numpy'`).

Inputs are generated as float32 (what the pipeline hands the aligner) and given to the reference
as float64 (its numpy code follows its inputs' dtype), so the goldens are the reference's maths
in float64. One case is also run with the float32 arrays themselves, to show the size of the
pipeline's float32 rounding.

    /usr/bin/python3 scripts/goldens/stream-align/make_goldens.py --ref /path/to/Depth-Anything-3

Needs Debian's python3-numpy, python3-sklearn (RANSACRegressor of the 'scale+se3' scale),
python3-yaml (the reference's config loader). Writes testdata/stream-align/.
"""
import argparse
import contextlib
import importlib.util
import io
import json
import os
import struct
import subprocess
import sys
import tempfile
import types

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", "..", ".."))


# ───────────────────────────── loading the reference with shims ─────────────────────────────


def shim(name, **attrs):
    mod = types.ModuleType(name)
    for k, v in attrs.items():
        setattr(mod, k, v)
    sys.modules[name] = mod
    return mod


def _unused(*_a, **_k):
    raise RuntimeError("shimmed: not part of the numpy path")


def njit(*args, **_kwargs):
    if args and callable(args[0]):
        return args[0]
    return lambda f: f


def load_reference(ref):
    root = os.path.join(ref, "da3_streaming")
    sys.path.insert(0, root)
    shim("trimesh", PointCloud=_unused)
    shim("numba", njit=njit)
    pkg = shim("loop_utils")
    pkg.__path__ = [os.path.join(root, "loop_utils")]
    shim("loop_utils.alignment_torch", robust_weighted_estimate_sim3_torch=_unused,
         apply_sim3_direct_torch=_unused, depth_to_point_cloud_optimized_torch=_unused)
    shim("loop_utils.alignment_triton", robust_weighted_estimate_sim3_triton=_unused)
    shim("loop_utils.loop_detector", LoopDetector=_unused)
    shim("loop_utils.sim3loop", Sim3LoopOptimizer=_unused)
    shim("safetensors")
    shim("safetensors.torch", load_file=_unused)
    shim("depth_anything_3")
    shim("depth_anything_3.api", DepthAnything3=_unused)
    if "torch" not in sys.modules:
        try:
            import torch  # noqa: F401  (da3_streaming.py imports it at top level)
        except ImportError:
            shim("torch", cuda=types.SimpleNamespace(empty_cache=lambda: None, is_available=lambda: False))

    def load(name, path):
        spec = importlib.util.spec_from_file_location(name, path)
        mod = importlib.util.module_from_spec(spec)
        sys.modules[name] = mod
        spec.loader.exec_module(mod)
        return mod

    sim3utils = load("loop_utils.sim3utils", os.path.join(root, "loop_utils", "sim3utils.py"))
    config_utils = load("loop_utils.config_utils", os.path.join(root, "loop_utils", "config_utils.py"))
    streaming = load("da3_streaming_ref", os.path.join(root, "da3_streaming.py"))
    config = config_utils.load_config(os.path.join(root, "configs", "base_config.yaml"))
    return sim3utils, streaming, config


def quiet(fn, *args, **kwargs):
    """Runs fn with its prints captured; returns (result, captured text)."""
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        out = fn(*args, **kwargs)
    return out, buf.getvalue()


# ───────────────────────────── output ─────────────────────────────


class Safetensors:
    DT = {np.dtype("float32"): "F32", np.dtype("float64"): "F64", np.dtype("int64"): "I64", np.dtype("uint8"): "U8"}

    def __init__(self):
        self.t = {}

    def add(self, name, arr):
        arr = np.ascontiguousarray(arr)
        assert name not in self.t, name
        self.t[name] = arr

    def write(self, path):
        header, blobs, off = {}, [], 0
        for name in sorted(self.t):
            a = self.t[name]
            b = a.astype(a.dtype.newbyteorder("<"), copy=False).tobytes()
            header[name] = {"dtype": self.DT[a.dtype], "shape": list(a.shape), "data_offsets": [off, off + len(b)]}
            blobs.append(b)
            off += len(b)
        h = json.dumps(header, separators=(",", ":")).encode()
        h += b" " * ((8 - len(h) % 8) % 8)
        with open(path, "wb") as f:
            f.write(struct.pack("<Q", len(h)))
            f.write(h)
            for b in blobs:
                f.write(b)


def sim3_json(s, R, t):
    return {"scale": float(s), "rotation": [float(v) for v in np.asarray(R, dtype=np.float64).reshape(-1)],
            "translation": [float(v) for v in np.asarray(t, dtype=np.float64).reshape(-1)]}


# ───────────────────────────── synthetic data ─────────────────────────────


def rot(axis, angle):
    axis = np.asarray(axis, dtype=np.float64)
    x, y, z = axis / np.linalg.norm(axis)
    c, s, C = np.cos(angle), np.sin(angle), 1 - np.cos(angle)
    return np.array([[c + x * x * C, x * y * C - z * s, x * z * C + y * s],
                     [y * x * C + z * s, c + y * y * C, y * z * C - x * s],
                     [z * x * C - y * s, z * y * C + x * s, c + z * z * C]])


def make_overlap(rng, F, H, W, s, R, t, noise=0.0, outlier_frac=0.0, low_conf_frac=0.1):
    """cur: camera-frame points of F frames from depths; prev = s·R·cur + t (+ noise, outliers).

    Raw DA3-style confidences (>= 1); the reference subtracts 1 before aligning."""
    fx = fy = 0.8 * W
    cx, cy = (W - 1) / 2, (H - 1) / 2
    u, v = np.meshgrid(np.arange(W), np.arange(H))
    depth = np.empty((F, H, W))
    pts = np.empty((F, H, W, 3))
    for f in range(F):
        d = 2.0 + 1.5 * np.sin(0.3 * u + f) * np.cos(0.2 * v) + rng.uniform(0, 0.5, (H, W)) + 0.7 * f
        depth[f] = d
        pts[f, ..., 0] = (u - cx) / fx * d + 0.2 * f
        pts[f, ..., 1] = (v - cy) / fy * d - 0.1 * f
        pts[f, ..., 2] = d
    depth_cur = depth.astype(np.float32)
    cur = pts.astype(np.float32)
    prev = (s * (cur.astype(np.float64) @ R.T) + t)
    depth_prev = s * depth_cur.astype(np.float64)
    if noise:
        prev = prev + rng.normal(0, noise, prev.shape)
        depth_prev = depth_prev * (1 + rng.normal(0, noise, depth_prev.shape))
    if outlier_frac:
        m = rng.random((F, H, W)) < outlier_frac
        prev[m] += rng.normal(0, 2.0, (int(m.sum()), 3))
        depth_prev[m] *= rng.uniform(0.3, 3.0, int(m.sum()))
    conf_prev = 1.0 + rng.gamma(2.0, 1.5, (F, H, W))
    conf_cur = 1.0 + rng.gamma(2.0, 1.5, (F, H, W))
    low = rng.random((F, H, W)) < low_conf_frac
    conf_prev[low] = 1.0 + rng.uniform(0, 0.05, int(low.sum()))
    return {
        "prev_points": prev.astype(np.float32), "cur_points": cur,
        "prev_conf": conf_prev.astype(np.float32), "cur_conf": conf_cur.astype(np.float32),
        "prev_depth": depth_prev.astype(np.float32), "cur_depth": depth_cur,
    }


# ───────────────────────────── the cases ─────────────────────────────


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ref", required=True, help="checkout of github.com/ByteDance-Seed/Depth-Anything-3")
    ap.add_argument("--ref-commit", help="the checkout's commit, when it is not a git work tree (e.g. a git archive)")
    ap.add_argument("--out", default=os.path.join(REPO, "testdata", "stream-align"))
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    commit = args.ref_commit
    if commit is None:
        try:
            commit = subprocess.check_output(["git", "-C", args.ref, "rev-parse", "HEAD"], text=True, stderr=subprocess.DEVNULL).strip()
        except Exception:
            commit = "unknown"

    su, streaming, base_config = load_reference(args.ref)
    import sklearn

    st = Safetensors()
    meta = {
        "reference": "github.com/ByteDance-Seed/Depth-Anything-3 da3_streaming/ (loop_utils/sim3utils.py, da3_streaming.py)",
        "reference_commit": commit,
        "numpy": np.__version__, "sklearn": sklearn.__version__, "python": sys.version.split()[0],
        "config": {k: base_config["Model"][k] for k in ("align_method", "scale_compute_method", "IRLS", "depth_threshold")},
        "cases": {}, "functions": {},
    }
    rng = np.random.default_rng(20251111)

    def run_align(name, data, align_method, scale_method="auto", f32=False, extra=None):
        """DA3_Streaming.align_2pcds as the pipeline calls it (conf −= 1 first; numpy IRLS)."""
        cfg = json.loads(json.dumps(base_config))
        cfg["Model"]["align_lib"] = "numpy"
        cfg["Model"]["align_method"] = align_method
        cfg["Model"]["scale_compute_method"] = scale_method
        obj = streaming.DA3_Streaming.__new__(streaming.DA3_Streaming)
        obj.config = cfg
        dt = np.float32 if f32 else np.float64
        p1, p2 = data["prev_points"].astype(dt), data["cur_points"].astype(dt)
        c1 = data["prev_conf"].astype(dt)
        c2 = data["cur_conf"].astype(dt)
        c1 -= 1.0  # process_single_chunk: predictions.conf -= 1.0
        c2 -= 1.0
        if align_method == "scale+se3":
            d1, d2 = data["prev_depth"].astype(dt), data["cur_depth"].astype(dt)
            dc1, dc2 = c1, c2
        else:
            d1 = d2 = dc1 = dc2 = None
        np.random.seed(42)  # the reference's RANSAC subsample draws from the global, unseeded RNG
        recorded = []
        original = streaming.precompute_scale_chunks_with_depth

        def recording(*a, **k):
            out = original(*a, **k)
            recorded.append(out)
            return out

        streaming.precompute_scale_chunks_with_depth = recording
        try:
            (s, R, t), log = quiet(obj.align_2pcds, p1, c1, p2, c2, d1, d2, dc1, dc2)
        finally:
            streaming.precompute_scale_chunks_with_depth = original
        thr = min(np.median(c1), np.median(c2)) * 0.1
        matched = int(((c1 > thr) & (c2 > thr)).sum())
        case = {"align_method": align_method, "scale_compute_method": scale_method, "dtype": "float32" if f32 else "float64",
                "conf_threshold": float(thr), "matched_points": matched,
                "irls_rounds_printed": log.count("Residuals:"), "result": sim3_json(s, R, t)}
        if recorded:
            sc, q, m = recorded[0]
            case["scale_estimate"] = {"scale": float(sc), "quality": float(q), "method": m}
        if extra:
            case.update(extra)
        meta["cases"][name] = case

    shapes = {"F": 2, "H": 12, "W": 16}
    truths = {
        "sim3": (1.7, rot([0.3, -1, 0.5], 0.6), np.array([0.4, -1.2, 2.5])),
        "se3": (1.0, rot([1, 0.2, -0.4], -0.35), np.array([-0.8, 0.3, 1.1])),
        "scale": (0.6, rot([-0.2, 1, 0.1], 0.25), np.array([0.1, 0.5, -0.3])),
    }
    datasets = {}
    for key, (s, R, t) in truths.items():
        datasets[f"{key}_exact"] = make_overlap(rng, shapes["F"], shapes["H"], shapes["W"], s, R, t)
        datasets[f"{key}_noisy"] = make_overlap(rng, shapes["F"], shapes["H"], shapes["W"], s, R, t, noise=0.01, outlier_frac=0.1)
    for dname, data in datasets.items():
        for k, a in data.items():
            st.add(f"{dname}.{k}", a)
        key = dname.split("_")[0]
        s, R, t = truths[key]
        meta.setdefault("datasets", {})[dname] = {"shape": [shapes["F"], shapes["H"], shapes["W"]], "truth": sim3_json(s, R, t)}

    run_align("sim3_exact", datasets["sim3_exact"], "sim3")
    run_align("sim3_noisy", datasets["sim3_noisy"], "sim3")
    run_align("sim3_noisy_float32", datasets["sim3_noisy"], "sim3", f32=True)
    run_align("se3_exact", datasets["se3_exact"], "se3")
    run_align("se3_noisy", datasets["se3_noisy"], "se3")
    run_align("sim3_on_se3_noisy", datasets["se3_noisy"], "sim3")
    for sm in ("auto", "ransac", "weighted"):
        run_align(f"scale_se3_{sm}_exact", datasets["scale_exact"], "scale+se3", sm)
        run_align(f"scale_se3_{sm}_noisy", datasets["scale_noisy"], "scale+se3", sm)
    for name in list(meta["cases"]):
        meta["cases"][name]["dataset"] = {
            "sim3_exact": "sim3_exact", "sim3_noisy": "sim3_noisy", "sim3_noisy_float32": "sim3_noisy",
            "se3_exact": "se3_exact", "se3_noisy": "se3_noisy", "sim3_on_se3_noisy": "se3_noisy",
        }.get(name, "scale_exact" if name.endswith("_exact") else "scale_noisy")

    # ── the pieces, called directly ──
    fn = meta["functions"]
    n = 200
    src = rng.normal(0, 1, (n, 3)).astype(np.float32)
    s0, R0, t0 = 1.3, rot([0.5, 0.5, -1], 1.1), np.array([2.0, -1.0, 0.5])
    tgt = (s0 * (src.astype(np.float64) @ R0.T) + t0 + rng.normal(0, 0.02, (n, 3))).astype(np.float32)
    tgt[:20] += rng.normal(0, 3, (20, 3)).astype(np.float32)
    w = rng.uniform(0.1, 2.0, n).astype(np.float32)
    st.add("pieces.src", src)
    st.add("pieces.tgt", tgt)
    st.add("pieces.weights", w)
    S, T, Wt = src.astype(np.float64), tgt.astype(np.float64), w.astype(np.float64)
    fn["weighted_estimate_sim3"] = sim3_json(*su.weighted_estimate_sim3(S, T, Wt))
    fn["weighted_estimate_se3"] = sim3_json(*su.weighted_estimate_se3(S, T, Wt))
    fn["estimate_sim3"] = sim3_json(*su.estimate_sim3(S, T))
    for method in ("sim3", "se3", "scale+se3"):
        for iters in (5, 20):
            (s, R, t), log = quiet(su.robust_weighted_estimate_sim3, S, T, Wt, delta=0.1, max_iters=iters, tol=1e-9, align_method=method)
            fn[f"robust_weighted_estimate_sim3.{method}.{iters}"] = {**sim3_json(s, R, t), "irls_rounds_printed": log.count("Residuals:")}
    r = np.linspace(-0.5, 0.5, 11)
    fn["huber_loss"] = {"delta": 0.1, "r": r.tolist(), "out": su.huber_loss(r, 0.1).tolist()}

    chain = [(1.2, rot([0, 0, 1], 0.3), np.array([1.0, 0.0, 0.0])),
             (0.9, rot([1, 0, 0], -0.2), np.array([0.0, 0.5, 0.1])),
             (1.1, rot([0.3, 1, 0], 0.4), np.array([-0.2, 0.0, 0.7]))]
    fn["accumulate_sim3_transforms"] = {"input": [sim3_json(*c) for c in chain],
                                       "output": [sim3_json(*c) for c in su.accumulate_sim3_transforms(chain)]}
    fn["compute_sim3_ab"] = {"a": sim3_json(*chain[0]), "b": sim3_json(*chain[1]), "output": sim3_json(*su.compute_sim3_ab(chain[0], chain[1]))}
    pm = rng.normal(0, 1, (2, 3, 4, 3))
    fn["apply_sim3_direct"] = {"sim": sim3_json(*chain[2]), "points": pm.reshape(-1).tolist(),
                               "output": su.apply_sim3_direct(pm, chain[2][0], chain[2][1], chain[2][2]).reshape(-1).tolist()}

    # save_camera_poses: chunk 1's w2c extrinsics under the accumulated Sim(3) → c2w in camera_poses.txt.
    obj = streaming.DA3_Streaming.__new__(streaming.DA3_Streaming)
    obj.overlap_s, obj.overlap_e = 0, 1
    obj.img_list = [None] * 3
    w2c0 = np.array([[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0]], dtype=np.float64)[None]
    Rc = rot([0.2, 1, -0.3], 0.5)
    w2c1 = np.concatenate([np.concatenate([Rc, np.array([[0.3], [-0.2], [1.1]])], 1)[None],
                           np.concatenate([Rc.T, np.array([[-0.5], [0.4], [0.2]])], 1)[None]], 0)
    obj.all_camera_poses = [((0, 2), np.concatenate([w2c0, w2c0], 0)), ((1, 3), w2c1)]
    K = np.array([[100.0, 0, 50], [0, 100, 40], [0, 0, 1]])
    obj.all_camera_intrinsics = [((0, 2), np.stack([K, K])), ((1, 3), np.stack([K, K]))]
    obj.sim3_list = [chain[0]]
    with tempfile.TemporaryDirectory() as d:
        obj.output_dir = d
        quiet(obj.save_camera_poses)
        c2w = np.loadtxt(os.path.join(d, "camera_poses.txt")).reshape(-1, 4, 4)
    fn["save_camera_poses"] = {"sim": sim3_json(*chain[0]), "w2c": w2c1.reshape(2, -1).tolist(),
                               "c2w_written_for_frames_1_2": c2w[1:].reshape(2, -1).tolist()}

    # The scale estimates, called directly (max_samples small, so the subsample path runs too).
    sd = datasets["scale_noisy"]
    d1, d2 = sd["prev_depth"].astype(np.float64), sd["cur_depth"].astype(np.float64)
    c1, c2 = sd["prev_conf"].astype(np.float64) - 1.0, sd["cur_conf"].astype(np.float64) - 1.0
    np.random.seed(42)
    (sc, q), _ = quiet(su.compute_scale_ransac, d1, d2, c1, c2, max_samples=250)
    fn["compute_scale_ransac.max_samples_250"] = {"scale": float(sc), "quality": float(q)}
    (sc, q), _ = quiet(su.compute_scale_ransac, d1, d2, c1, c2)
    fn["compute_scale_ransac"] = {"scale": float(sc), "quality": float(q)}
    (sc, q), _ = quiet(su.compute_scale_weighted, d1, d2, c1, c2)
    fn["compute_scale_weighted"] = {"scale": float(sc), "quality": float(q)}

    # The legacy RandomState draws that sklearn's RANSAC makes.
    rs = np.random.RandomState(42)
    fn["RandomState(42)"] = {"randint_1000x20": [int(rs.randint(1000)) for _ in range(20)],
                             "permutation_37": np.random.RandomState(42).permutation(37).tolist(),
                             "randint_7_after": int(rs.randint(7))}

    st.write(os.path.join(args.out, "inputs.safetensors"))
    with open(os.path.join(args.out, "goldens.json"), "w") as f:
        json.dump(meta, f, indent=1)
        f.write("\n")
    print(f"wrote {args.out}: {len(meta['cases'])} alignment cases, {len(fn)} function goldens")


if __name__ == "__main__":
    main()
