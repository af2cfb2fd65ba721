#!/usr/bin/env python3
"""Goldens for @da3js/core's optimizeSim3PoseGraph: the reference's own `Sim3LoopOptimizer`, run once on CPU.

Loads `da3_streaming/loop_utils/sim3loop.py` (and its `fastloop/solve_python.py`, the scipy solver
it falls back to without the C++ extension) from a checkout of
github.com/ByteDance-Seed/Depth-Anything-3 unchanged, with pypose from a checkout of
github.com/pypose/pypose, and runs `optimize(sequential_transforms, loop_constraints)` with the
config's `Loop.SIM3_Optimizer` on small synthetic drifting rings.

Shims (import-time only; no maths replaced):
- pypose asserts torch >= 2 and writes its autograd Functions in torch 2's style (`forward(*args)`
  plus `setup_context`); Debian bookworm has torch 1.13, so the version check is passed and each
  such Function is wrapped into torch 1.13's style (`forward(ctx, *args)` calling both);
  `torch.func` (unused by the Lie-group ops) is stubbed.
- einops is not in Debian: `rearrange` is given for the one pattern sim3loop.py uses.

    /usr/bin/python3 scripts/goldens/stream-align/make_posegraph_goldens.py --ref <DA3 checkout> --pypose <pypose checkout>

Needs Debian's python3-torch, python3-scipy, python3-numpy. Writes testdata/stream-align/posegraph.json.
The reference runs in float32 (pypose tensors); the tests compare at float32-level tolerances.
"""
import argparse
import contextlib
import importlib.util
import io
import json
import os
import re
import subprocess
import sys
import types

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", "..", ".."))


def shim_torch_for_pypose(pypose_root):
    import torch

    try:
        import torch.func  # noqa: F401
    except ImportError:
        m = types.ModuleType("torch.func")

        def _unused(*_a, **_k):
            raise RuntimeError("shim: torch.func is not used by pypose's Lie-group ops")

        m.jacrev = m.jacfwd = m.functional_call = m.vmap = _unused
        sys.modules["torch.func"] = m
        torch.func = m
    sys.path.insert(0, pypose_root)
    real = torch.__version__
    torch.__version__ = "2.0.0"  # pypose's import-time version assert
    import pypose  # noqa: F401

    torch.__version__ = real
    import pypose.lietensor.operation as op

    def adapt(cls):
        if "setup_context" not in cls.__dict__:
            return
        fwd, setup = cls.__dict__["forward"], cls.__dict__["setup_context"]
        fwd = fwd.__func__ if isinstance(fwd, staticmethod) else fwd
        setup = setup.__func__ if isinstance(setup, staticmethod) else setup

        def forward(ctx, *args):
            out = fwd(*args)
            setup(ctx, args, out)
            return out

        cls.forward = staticmethod(forward)
        del cls.setup_context

    for name in dir(op):
        obj = getattr(op, name)
        if isinstance(obj, type) and issubclass(obj, torch.autograd.Function):
            adapt(obj)


def shim_einops():
    import torch

    def rearrange(x, pattern, **_k):
        if pattern != "N O B I -> N B O I":
            raise RuntimeError(f"shim: rearrange pattern {pattern!r} not provided")
        return x.permute(0, 2, 1, 3)

    m = types.ModuleType("einops")
    m.rearrange = rearrange
    sys.modules["einops"] = m
    del torch


def load(name, path):
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    sys.modules[name] = mod
    spec.loader.exec_module(mod)
    return mod


def rot(axis, angle):
    axis = np.asarray(axis, dtype=np.float64)
    x, y, z = axis / np.linalg.norm(axis)
    c, s, C = np.cos(angle), np.sin(angle), 1 - np.cos(angle)
    return np.array([[c + x * x * C, x * y * C - z * s, x * z * C + y * s],
                     [y * x * C + z * s, c + y * y * C, y * z * C - x * s],
                     [z * x * C - y * s, z * y * C + x * s, c + z * z * C]])


def compose(a, b):
    sa, Ra, ta = a
    sb, Rb, tb = b
    return (sa * sb, Ra @ Rb, sa * Ra @ tb + ta)


def inverse(a):
    s, R, t = a
    return (1 / s, R.T, -R.T @ t / s)


def js(x):
    s, R, t = x
    return {"scale": float(s), "rotation": [float(v) for v in np.asarray(R).reshape(-1)], "translation": [float(v) for v in np.asarray(t).reshape(-1)]}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ref", required=True)
    ap.add_argument("--ref-commit")
    ap.add_argument("--pypose", required=True, help="checkout of github.com/pypose/pypose")
    ap.add_argument("--pypose-commit")
    ap.add_argument("--out", default=os.path.join(REPO, "testdata", "stream-align", "posegraph.json"))
    args = ap.parse_args()

    import scipy
    import torch

    torch.set_num_threads(1)
    shim_torch_for_pypose(args.pypose)
    shim_einops()
    root = os.path.join(args.ref, "da3_streaming")
    sys.path.insert(0, root)
    with contextlib.redirect_stdout(io.StringIO()):
        sim3loop = load("loop_utils_sim3loop", os.path.join(root, "loop_utils", "sim3loop.py"))
        cfg_mod = load("loop_utils_config_utils", os.path.join(root, "loop_utils", "config_utils.py"))
    config = cfg_mod.load_config(os.path.join(root, "configs", "base_config.yaml"))

    def commit_of(path, given):
        if given:
            return given
        try:
            return subprocess.check_output(["git", "-C", path, "rev-parse", "HEAD"], text=True, stderr=subprocess.DEVNULL).strip()
        except Exception:
            return "unknown"

    out = {
        "reference": "github.com/ByteDance-Seed/Depth-Anything-3 da3_streaming/loop_utils/sim3loop.py (Sim3LoopOptimizer.optimize) + fastloop/solve_python.py",
        "reference_commit": commit_of(args.ref, args.ref_commit),
        "pypose_commit": commit_of(args.pypose, args.pypose_commit),
        "torch": torch.__version__, "scipy": scipy.__version__, "numpy": np.__version__,
        "config": config["Loop"]["SIM3_Optimizer"],
        "cases": {},
    }
    rng = np.random.default_rng(7)
    for name, M, loop_pairs, noise in (("ring8_one_loop", 8, [(8, 0)], 0.03), ("ring12_two_loops", 12, [(12, 0), (9, 2)], 0.03),
                                       ("ring6_strong_drift", 6, [(6, 0)], 0.08)):
        truth = [(1.0, rot([0, 1, 0], 2 * np.pi / M), np.array([0.0, 0.0, 1.0])) for _ in range(M)]
        meas = []
        for s in truth:
            e = (1 + noise * rng.uniform(-1, 1), rot(rng.uniform(-1, 1, 3), noise), noise * rng.uniform(-1, 1, 3))
            meas.append(compose(s, e))
        absolute = [(1.0, np.eye(3), np.zeros(3))]
        for s in truth:
            absolute.append(compose(absolute[-1], s))
        loops = [(a, b, compose(inverse(absolute[b]), absolute[a])) for a, b in loop_pairs]
        opt = sim3loop.Sim3LoopOptimizer(config)
        buf = io.StringIO()
        with contextlib.redirect_stdout(buf):
            result = opt.optimize(meas, loops)
        costs = [float(m.group(1)) for m in re.finditer(r"Iteration \d+: cost ([0-9.eE+-]+) ->", buf.getvalue())]
        accepted = buf.getvalue().count("(accepted)")
        out["cases"][name] = {
            "sequential": [js(s) for s in meas],
            "loops": [{"i": a, "j": b, "sim": js(S)} for a, b, S in loops],
            "truth_sequential": [js(s) for s in truth],
            "optimized": [js((float(s), R, t)) for s, R, t in result],
            "cost_history": costs,
            "accepted_steps": accepted,
            "solver": opt.solve_system_version,
        }
    with open(args.out, "w") as f:
        json.dump(out, f, indent=1)
        f.write("\n")
    print(f"wrote {args.out}: {len(out['cases'])} cases")


if __name__ == "__main__":
    main()
