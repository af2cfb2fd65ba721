#!/usr/bin/python3
"""Goldens for `gs_video`: the reference's own novel-view trajectories, render cameras and video
frames, recorded by running its code unchanged.

    /usr/bin/python3 scripts/goldens/gs-video/make_goldens.py --ref-src <Depth-Anything-3>/src \
        [--fixtures fixtures] [--out testdata/gs-video]

Reference: github.com/ByteDance-Seed/Depth-Anything-3 at 2c21ea849ceec7b469a3e62ea0c0e270afc3281a
(the commit of fixtures/), files `utils/export/gs.py` (export_to_gs_video), `model/utils/gs_renderer.py`
(run_renderer_in_chunk_w_trj_mode, render_3dgs), `utils/camera_trj_helpers.py`, `utils/geometry.py`,
`utils/visualize.py` (vis_depth_map_tensor), `utils/layout_helpers.py` (hcat/vcat). Nothing of it is
copied here: the modules are loaded from --ref-src as they are.

Environment: Debian bookworm, CPU: python3-torch 1.13.1, python3-numpy 1.24, python3-scipy 1.10,
python3-opencv 4.6 (cv2.getGaussianKernel), python3-matplotlib 3.6, python3-tqdm. `einops` is not
packaged: shims/einops is a minimal stand-in (reshape/permute/expand/sum/torch.einsum only). The GPU
and file-writing dependencies are replaced by recorders (shims/): `gsplat.rasterization` records the
cameras and returns a synthetic image (see shims/gsplat), `moviepy.editor.ImageSequenceClip`
records the frames and ffmpeg parameters instead of encoding, `plyfile` is empty (unused).

Writes `goldens.safetensors` (tensors) and `goldens.json` (cases, calls, tensor names).
"""
import argparse
import importlib
import json
import os
import struct
import sys
import tempfile
import types

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "shims"))

import torch  # noqa: E402

torch.set_num_threads(1)


# --------------------------------------------------------------------------- reference modules
def load_reference(src):
    """Registers the reference's packages without running their __init__ files (they import the
    whole model and app), so only the modules the gs_video path needs are executed."""
    root = os.path.join(src, "depth_anything_3")
    for pkg in ["", ".utils", ".utils.export", ".model", ".model.utils"]:
        name = "depth_anything_3" + pkg
        mod = types.ModuleType(name)
        mod.__path__ = [os.path.join(root, *pkg.split(".")[1:])]
        sys.modules[name] = mod
    gs = importlib.import_module("depth_anything_3.utils.export.gs")
    renderer = importlib.import_module("depth_anything_3.model.utils.gs_renderer")
    trj = importlib.import_module("depth_anything_3.utils.camera_trj_helpers")
    specs = importlib.import_module("depth_anything_3.specs")
    return gs, renderer, trj, specs


# --------------------------------------------------------------------------- safetensors i/o
def read_safetensors(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    dt = {"F32": np.float32, "F64": np.float64, "U8": np.uint8, "BOOL": np.uint8, "I64": np.int64}
    out = {}
    for k, v in header.items():
        if k == "__metadata__":
            continue
        a, b = v["data_offsets"]
        out[k] = np.frombuffer(data[a:b], dtype=dt[v["dtype"]]).reshape(v["shape"])
    return out


def write_safetensors(path, tensors):
    names = sorted(tensors)
    header, blobs, off = {}, [], 0
    code = {np.dtype(np.float32): "F32", np.dtype(np.float64): "F64", np.dtype(np.uint8): "U8"}
    for k in names:
        a = np.ascontiguousarray(tensors[k])
        raw = a.tobytes()
        header[k] = {"dtype": code[a.dtype], "shape": list(a.shape), "data_offsets": [off, off + len(raw)]}
        blobs.append(raw)
        off += len(raw)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


# --------------------------------------------------------------------------- synthetic cameras
def look_at_c2w(eye, target, up=(0.0, -1.0, 0.0)):
    """OpenCV camera (x right, y down, z forward) at `eye` looking at `target`."""
    z = target - eye
    z = z / np.linalg.norm(z)
    x = np.cross(z, np.asarray(up))  # y down: x = z × (−y_world-up) keeps x to the right
    x = x / np.linalg.norm(x)
    y = np.cross(z, x)
    c2w = np.eye(4)
    c2w[:3, 0], c2w[:3, 1], c2w[:3, 2], c2w[:3, 3] = x, y, z, eye
    return c2w


def w2c_34(c2ws):
    return np.stack([np.linalg.inv(c)[:3] for c in c2ws]).astype(np.float32)


def orbit(n, h, w, seed, arc=np.pi / 3, radius=2.0):
    rng = np.random.RandomState(seed)
    target = np.array([0.1, -0.05, 3.0])
    c2ws = []
    for i in range(n):
        a = -arc / 2 + arc * i / max(1, n - 1)
        eye = target + radius * np.array([np.sin(a), 0.15 * np.sin(3 * a), -np.cos(a)]) + rng.normal(0, 0.02, 3)
        c2ws.append(look_at_c2w(eye, target + rng.normal(0, 0.05, 3)))
    intr = []
    for i in range(n):
        f = 0.9 * w + rng.normal(0, 0.5)
        intr.append([[f, 0, w / 2 + rng.normal(0, 0.8)], [0, f * (1 + rng.normal(0, 0.002)), h / 2 + rng.normal(0, 0.8)], [0, 0, 1]])
    return w2c_34(c2ws), np.asarray(intr, dtype=np.float32)


def truck(n, h, w):
    """Same rotation for every view (parallel look vectors), translating right and a little forward."""
    base = look_at_c2w(np.array([0.0, 0.0, 0.0]), np.array([0.2, 0.1, 1.0]))
    c2ws = []
    for i in range(n):
        c = base.copy()
        c[:3, 3] = [0.3 * i, 0.01 * i, 0.05 * i]
        c2ws.append(c)
    k = np.array([[0.8 * w, 0, w / 2], [0, 0.8 * w, h / 2], [0, 0, 1]], dtype=np.float32)
    return w2c_34(c2ws), np.repeat(k[None], n, axis=0)


# --------------------------------------------------------------------------- recording runs
class Recorder:
    def __init__(self, renderer):
        self.renderer = renderer
        self.original = renderer.render_3dgs
        self.calls = []
        recorder = self

        def render_3dgs(extrinsics, intrinsics, image_shape, **kwargs):
            recorder.calls.append({"extrinsics": extrinsics.detach().clone(), "intrinsics": intrinsics.detach().clone(), "image_shape": tuple(image_shape)})
            return recorder.original(extrinsics=extrinsics, intrinsics=intrinsics, image_shape=image_shape, **kwargs)

        renderer.render_3dgs = render_3dgs


def dummy_gaussians(specs, dtype=torch.float32):
    g = 4
    return specs.Gaussians(
        means=torch.zeros(1, g, 3, dtype=dtype),
        scales=torch.full((1, g, 3), 0.01, dtype=dtype),
        rotations=torch.tensor([[[1.0, 0, 0, 0]] * g], dtype=dtype),
        harmonics=torch.zeros(1, g, 3, 9, dtype=dtype),
        opacities=torch.full((1, g), 0.5, dtype=dtype),
    )


def max_rel(a, b):
    """max |a − b| / max(1, |b|)"""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return float(np.max(np.abs(a - b) / np.maximum(1.0, np.abs(b))))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ref-src", required=True, help="the reference's src/ folder (holding depth_anything_3/)")
    ap.add_argument("--fixtures", default=os.path.join(HERE, "..", "..", "..", "fixtures"))
    ap.add_argument("--out", default=os.path.join(HERE, "..", "..", "..", "testdata", "gs-video"))
    args = ap.parse_args()

    gs, renderer, trj, specs = load_reference(args.ref_src)
    import gsplat
    from moviepy import editor

    rec = Recorder(renderer)
    tensors, cases = {}, []

    giant = read_safetensors(os.path.join(args.fixtures, "tiny-giant/multi/outputs.safetensors"))
    nested = read_safetensors(os.path.join(args.fixtures, "tiny-nested/multi/outputs.safetensors"))
    nested_case = json.load(open(os.path.join(args.fixtures, "tiny-nested/multi/case.json")))
    scenes = {
        "giant3": dict(extrinsics=giant["pred.extrinsics"], intrinsics=giant["pred.intrinsics"], hw=(56, 42), is_metric=0, scale_factor=None),
        "giant1": dict(extrinsics=giant["pred.extrinsics"][:1], intrinsics=giant["pred.intrinsics"][:1], hw=(56, 42), is_metric=0, scale_factor=None),
        "nested3": dict(
            extrinsics=nested["pred.extrinsics"],
            intrinsics=nested["pred.intrinsics"],
            hw=(56, 84),
            is_metric=1,
            scale_factor=nested_case["meta"]["pred.scale_factor"],
        ),
    }
    e, k = orbit(12, 48, 64, seed=1)
    scenes["orbit12"] = dict(extrinsics=e, intrinsics=k, hw=(48, 64), is_metric=0, scale_factor=None)
    e, k = truck(5, 48, 64)
    scenes["truck5"] = dict(extrinsics=e, intrinsics=k, hw=(48, 64), is_metric=0, scale_factor=None)
    e, k = orbit(60, 16, 24, seed=2, arc=np.pi)
    scenes["orbit60"] = dict(extrinsics=e, intrinsics=k, hw=(16, 24), is_metric=0, scale_factor=None)
    e, k = orbit(130, 16, 24, seed=3, arc=1.5 * np.pi)
    scenes["orbit130"] = dict(extrinsics=e, intrinsics=k, hw=(16, 24), is_metric=0, scale_factor=None)
    render_e, render_k = orbit(4, 30, 40, seed=4)

    all_modes = ["original", "smooth", "interpolate", "interpolate_smooth", "wander", "dolly_zoom", "extend", "wobble_inter"]
    runs = []
    for scene in ["giant3", "orbit12"]:
        runs += [dict(scene=scene, trj_mode=m) for m in all_modes]
    runs += [
        dict(scene="giant1", trj_mode="extend"),
        dict(scene="giant1", trj_mode="original"),
        dict(scene="nested3", trj_mode="extend"),
        dict(scene="nested3", trj_mode="original", frames=True),
        dict(scene="truck5", trj_mode="interpolate"),
        dict(scene="truck5", trj_mode="extend"),
        dict(scene="truck5", trj_mode="wobble_inter"),
        dict(scene="orbit60", trj_mode="interpolate"),
        dict(scene="orbit60", trj_mode="extend"),
        dict(scene="orbit130", trj_mode="interpolate_smooth"),
        dict(scene="orbit130", trj_mode="extend"),
        dict(scene="giant3", trj_mode="original", frames=True, tag="hcat"),
        dict(scene="giant3", trj_mode="original", frames=True, vis_depth="vcat", tag="vcat"),
        dict(scene="giant3", trj_mode="original", frames=True, vis_depth=None, tag="novis"),
        dict(scene="giant3", trj_mode="smooth", video_quality="low", tag="low"),
        dict(scene="giant3", trj_mode="smooth", video_quality="medium", tag="medium"),
        dict(scene="giant3", trj_mode="extend", render="exts+ixts+hw", tag="render_all"),
        dict(scene="giant3", trj_mode="original", render="hw", tag="render_hw"),
        dict(scene="giant1", trj_mode="extend", render="exts+ixts+hw", tag="render_all"),
    ]

    for run in runs:
        s = scenes[run["scene"]]
        name = f"{run['scene']}/{run['trj_mode']}" + (f"/{run['tag']}" if "tag" in run else "")
        pred = specs.Prediction(
            depth=np.ones((len(s["extrinsics"]), *s["hw"]), dtype=np.float32),
            is_metric=s["is_metric"],
            extrinsics=s["extrinsics"].copy(),  # export_to_gs_video divides it in place (NESTED)
            intrinsics=s["intrinsics"].copy(),
            gaussians=dummy_gaussians(specs),
            scale_factor=s["scale_factor"],
        )
        kwargs = dict(trj_mode=run["trj_mode"], enable_tqdm=False)
        if "vis_depth" in run:
            kwargs["vis_depth"] = run["vis_depth"]
        if "video_quality" in run:
            kwargs["video_quality"] = run["video_quality"]
        render = run.get("render", "")
        if render:
            views = 1 if run["scene"] == "giant1" else 4
            if "exts" in render:
                kwargs["extrinsics"] = torch.from_numpy(np.concatenate([render_e[:views], np.tile([[[0, 0, 0, 1]]], (views, 1, 1)).astype(np.float32)], axis=1))[None]
            if "ixts" in render:
                kwargs["intrinsics"] = torch.from_numpy(render_k[:views])[None]
            kwargs["out_image_hw"] = (30, 40)
        rec.calls.clear()
        gsplat.reset()
        editor.CLIPS.clear()
        case = dict(name=name, scene=run["scene"], trj_mode=run["trj_mode"], kwargs={k: v for k, v in kwargs.items() if k not in ("extrinsics", "intrinsics")})
        case["render_overrides"] = render
        with tempfile.TemporaryDirectory() as tmp:
            try:
                gs.export_to_gs_video(pred, tmp, **kwargs)
            except Exception as err:  # the reference fails (e.g. wobble_inter with fewer than 4 views)
                case["error"] = f"{type(err).__name__}: {err}"
                cases.append(case)
                print(f"{name}: error {case['error']}")
                continue
        clip = editor.CLIPS[0]
        case["file"] = os.path.relpath(clip["path"], os.path.dirname(os.path.dirname(clip["path"])))
        case["fps"] = clip["fps"]
        case["clip_fps"] = clip["clip_fps"]
        case["codec"] = clip["codec"]
        case["audio"] = clip["audio"]
        case["ffmpeg_params"] = clip["ffmpeg_params"]
        case["frames"] = len(clip["frames"])
        case["frame_shape"] = list(clip["frames"][0].shape)
        w2c = torch.cat([c["extrinsics"] for c in rec.calls]).numpy()
        intr = torch.cat([c["intrinsics"] for c in rec.calls]).numpy()
        case["image_shape"] = list(rec.calls[0]["image_shape"])
        viewmats = torch.cat([c["viewmats"] for c in gsplat.CALLS]).numpy()
        ks = torch.cat([c["Ks"] for c in gsplat.CALLS]).numpy()
        first = gsplat.CALLS[0]
        case["gsplat"] = dict(width=first["width"], height=first["height"], render_mode=first["render_mode"], packed=first["packed"], sh_degree=first["sh_degree"], backgrounds=first["backgrounds"][0].tolist(), extra_kwargs=first["extra"], calls=len(gsplat.CALLS))
        prefix = name + "/"
        tensors[prefix + "w2c"] = w2c.astype(np.float32)
        tensors[prefix + "intr_normed"] = intr.astype(np.float32)
        tensors[prefix + "viewmats"] = viewmats.astype(np.float32)
        tensors[prefix + "Ks"] = ks.astype(np.float32)
        case["tensors"] = [prefix + t for t in ("w2c", "intr_normed", "viewmats", "Ks")]
        if run.get("frames"):
            tensors[prefix + "frames"] = np.stack(clip["frames"]).astype(np.uint8)
            case["tensors"].append(prefix + "frames")
        # The same run in float64 (inputs and Gaussians float64; the reference still rounds
        # interpolate_extrinsics' output and get_fov to float32): how far float32 moves the cameras.
        pred64 = specs.Prediction(
            depth=np.ones((len(s["extrinsics"]), *s["hw"]), dtype=np.float64),
            is_metric=s["is_metric"],
            extrinsics=s["extrinsics"].astype(np.float64),
            intrinsics=s["intrinsics"].astype(np.float64),
            gaussians=dummy_gaussians(specs, torch.float64),
            scale_factor=s["scale_factor"],
        )
        kwargs64 = {k: (v.double() if isinstance(v, torch.Tensor) else v) for k, v in kwargs.items()}
        rec.calls.clear()
        gsplat.reset()
        editor.CLIPS.clear()
        with tempfile.TemporaryDirectory() as tmp:
            gs.export_to_gs_video(pred64, tmp, **kwargs64)
        case["f32_vs_f64"] = dict(
            w2c=max_rel(w2c, torch.cat([c["extrinsics"] for c in rec.calls]).numpy()),
            intr_normed=max_rel(intr, torch.cat([c["intrinsics"] for c in rec.calls]).numpy()),
        )
        cases.append(case)
        print(f"{name}: {case['file']} {case['frames']} frames {case['frame_shape']}")

    # render_stabilization_path alone: the OpenCV small-kernel table (k = 1, 3, 5, 7, 9) and computed kernels (11, 13)
    rng = np.random.RandomState(7)
    for n in (2, 4, 6, 8, 9, 11, 13):
        e, _ = orbit(n, 16, 16, seed=10 + n)
        c2w = np.stack([np.linalg.inv(np.concatenate([x, [[0, 0, 0, 1]]])) for x in e]).astype(np.float32)
        c2w[:, :3, 3] += rng.normal(0, 0.05, (n, 3)).astype(np.float32)
        out = trj.render_stabilization_path(torch.from_numpy(c2w), 50).numpy()
        name = f"stabilize/{n}"
        tensors[name + "/c2w"] = c2w
        tensors[name + "/out"] = out.astype(np.float32)
        cases.append(dict(name=name, k_size=50, tensors=[name + "/c2w", name + "/out"]))

    # the scenes' input cameras
    for key, s in scenes.items():
        tensors[f"scene/{key}/extrinsics"] = s["extrinsics"].astype(np.float32)
        tensors[f"scene/{key}/intrinsics"] = s["intrinsics"].astype(np.float32)
    tensors["scene/render/extrinsics"] = render_e
    tensors["scene/render/intrinsics"] = render_k

    os.makedirs(args.out, exist_ok=True)
    write_safetensors(os.path.join(args.out, "goldens.safetensors"), tensors)
    meta = dict(
        reference="github.com/ByteDance-Seed/Depth-Anything-3@2c21ea849ceec7b469a3e62ea0c0e270afc3281a",
        generator="scripts/goldens/gs-video/make_goldens.py",
        environment=dict(python=sys.version.split()[0], torch=torch.__version__, numpy=np.__version__, scipy=__import__("scipy").__version__, opencv=__import__("cv2").__version__, matplotlib=__import__("matplotlib").__version__),
        synthetic_image="shims/gsplat/__init__.py docstring",
        scenes={k: dict(views=len(s["extrinsics"]), hw=list(s["hw"]), is_metric=s["is_metric"], scale_factor=s["scale_factor"]) for k, s in scenes.items()},
        render=dict(views=4, hw=[30, 40], note="render_exts are scene/render/extrinsics made 4x4 (batch 1); render_ixts scene/render/intrinsics; giant1 uses the first view only"),
        cases=cases,
    )
    with open(os.path.join(args.out, "goldens.json"), "w") as f:
        json.dump(meta, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
