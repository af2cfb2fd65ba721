#!/usr/bin/python3
"""Golden renders for the Gaussian rasterizer, made with gsplat's own PyTorch reference.

What runs: gsplat's ``rendering._rasterization`` (the pure-PyTorch twin of ``rasterization`` that
gsplat's tests compare the CUDA path with) and the functions it calls from
``gsplat/cuda/_torch_impl.py`` (``_quat_scale_to_covar_preci``, ``_fully_fused_projection``,
``_isect_tiles``, ``_isect_offset_encode``, ``_spherical_harmonics``, ``_rasterize_to_pixels``,
``accumulate``), both loaded **unchanged** from gsplat commit
0b4dddf04cb687367602c01196913cde6a743d70 (the commit DA3's pyproject pins for ``gs_video``), by
file path with importlib, on the CPU with Debian's python3-torch.

That code still reaches two things that only exist compiled: gsplat's CUDA kernel
``rasterize_to_indices_3dgs`` (behind ``_wrapper.rasterize_to_indices_in_range``) and nerfacc's
``render_weight_from_alpha`` / ``accumulate_along_rays``. They are replaced below by PyTorch
transcriptions (``_rasterize_to_indices_in_range`` and the ``nerfacc`` shim), written line by
line from RasterizeToIndices3DGS.cu / Rasterization.cpp of the same commit and from nerfacc's
documented semantics. Everything else that is shimmed is an import that is never called (CUDA
projection, 2DGS, distributed helpers) or a thin adapter that calls the torch reference
(``isect_tiles`` → ``_isect_tiles``, ``spherical_harmonics`` → ``_spherical_harmonics``).

Usage (from the repository root; a gsplat git clone that has the pinned commit, or a folder that
holds ``gsplat/cuda/_torch_impl.py`` and ``gsplat/rendering.py`` of that commit):

    /usr/bin/python3 scripts/goldens/gsplat/make-goldens.py --gsplat /path/to/gsplat

Writes testdata/gsplat/goldens.safetensors (scenes, cameras, renders, projection intermediates)
and testdata/gsplat/goldens.json (what each case is and which options it used). The tiny-giant
cases read the Gaussians and cameras from fixtures/tiny-giant/multi/outputs.safetensors (not
copied). Deterministic: two runs give identical files.
"""

import argparse
import enum
import hashlib
import importlib.util
import json
import math
import os
import struct
import subprocess
import sys
import types
from collections import OrderedDict

import numpy as np
import torch

GSPLAT_COMMIT = "0b4dddf04cb687367602c01196913cde6a743d70"
GSPLAT_FILES = {
    # path in the gsplat repository -> sha256 of that file at GSPLAT_COMMIT
    "gsplat/cuda/_torch_impl.py": "47ff8a72563a60ecafb244ea565abe071a0691fc7dfda59cb95dce3b3f1483e9",
    "gsplat/rendering.py": "46d4e219317165385b46b59610f579d0dfa08de58df1af93ffb4a40eecb60932",
}

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", "..", ".."))
OUT_DIR = os.path.join(ROOT, "testdata", "gsplat")
FIXTURE = os.path.join(ROOT, "fixtures", "tiny-giant", "multi", "outputs.safetensors")


# ----------------------------------------------------------------------------------------------
# safetensors (the python package is not in Debian; the format is a JSON header + raw bytes)
# ----------------------------------------------------------------------------------------------

_DT = {"F32": np.float32, "F64": np.float64, "I32": np.int32, "I64": np.int64, "U8": np.uint8}


def read_safetensors(path, names=None):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        base = 8 + n
        out = {}
        for k, v in header.items():
            if k == "__metadata__" or (names is not None and k not in names):
                continue
            a, b = v["data_offsets"]
            f.seek(base + a)
            out[k] = np.frombuffer(f.read(b - a), dtype=_DT[v["dtype"]]).reshape(v["shape"]).copy()
    return out


def write_safetensors(path, tensors, metadata):
    header = OrderedDict()
    header["__metadata__"] = metadata
    blobs = []
    off = 0
    inv = {np.dtype(v): k for k, v in _DT.items()}
    for k in sorted(tensors):
        a = np.ascontiguousarray(tensors[k])
        b = a.tobytes()
        header[k] = {"dtype": inv[a.dtype], "shape": list(a.shape), "data_offsets": [off, off + len(b)]}
        blobs.append(b)
        off += len(b)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


# ----------------------------------------------------------------------------------------------
# Loading gsplat's files standalone
# ----------------------------------------------------------------------------------------------


def read_gsplat_file(src, rel):
    """The bytes of `rel` at GSPLAT_COMMIT: `git show` in a clone, else the file under `src`."""
    data = None
    if os.path.exists(os.path.join(src, ".git")) or os.path.isfile(os.path.join(src, "HEAD")):
        try:
            data = subprocess.run(
                ["git", f"--git-dir={src if os.path.isfile(os.path.join(src, 'HEAD')) else os.path.join(src, '.git')}",
                 "show", f"{GSPLAT_COMMIT}:{rel}"],
                check=True, capture_output=True,
            ).stdout
        except subprocess.CalledProcessError:
            data = None
    if data is None:
        with open(os.path.join(src, rel), "rb") as f:
            data = f.read()
    digest = hashlib.sha256(data).hexdigest()
    if digest != GSPLAT_FILES[rel]:
        sys.exit(f"{rel}: sha256 {digest} is not the file of gsplat {GSPLAT_COMMIT} ({GSPLAT_FILES[rel]})")
    return data


def load_module(name, source_bytes, filename):
    spec = importlib.util.spec_from_loader(name, loader=None, origin=filename)
    mod = importlib.util.module_from_spec(spec)
    mod.__file__ = filename
    sys.modules[name] = mod
    exec(compile(source_bytes, filename, "exec"), mod.__dict__)
    return mod


def _cuda_only(name):
    def f(*args, **kwargs):
        raise NotImplementedError(f"{name} is CUDA-only and must not be reached by _rasterization")

    return f


def install_shims(torch_impl_holder):
    """sys.modules entries for the imports of rendering.py / _torch_impl.py that need CUDA."""
    pkg = types.ModuleType("gsplat")
    pkg.__path__ = []
    cuda = types.ModuleType("gsplat.cuda")
    cuda.__path__ = []
    sys.modules["gsplat"] = pkg
    sys.modules["gsplat.cuda"] = cuda

    wrapper = types.ModuleType("gsplat.cuda._wrapper")

    class RollingShutterType(enum.Enum):
        ROLLING_TOP_TO_BOTTOM = 0
        ROLLING_LEFT_TO_RIGHT = 1
        ROLLING_BOTTOM_TO_TOP = 2
        ROLLING_RIGHT_TO_LEFT = 3
        GLOBAL = 4

    wrapper.RollingShutterType = RollingShutterType
    for n in ["fully_fused_projection", "fully_fused_projection_2dgs", "fully_fused_projection_with_ut",
              "rasterize_to_pixels", "rasterize_to_pixels_2dgs", "rasterize_to_pixels_eval3d"]:
        setattr(wrapper, n, _cuda_only(n))

    def isect_tiles(means2d, radii, depths, tile_size, tile_width, tile_height, sort=True,
                    segmented=False, packed=False, n_images=None, image_ids=None, gaussian_ids=None):
        assert not packed and not segmented
        return torch_impl_holder["m"]._isect_tiles(means2d, radii, depths, tile_size, tile_width, tile_height, sort=sort)

    def isect_offset_encode(isect_ids, n_images, tile_width, tile_height):
        return torch_impl_holder["m"]._isect_offset_encode(isect_ids, n_images, tile_width, tile_height)

    def spherical_harmonics(degrees_to_use, dirs, coeffs, masks=None):
        # _wrapper.spherical_harmonics takes dirs [..., 3] and coeffs [..., K, 3]; the torch
        # reference takes dirs [..., N, 3] and coeffs [N, K, D]: flatten the batch dims.
        batch = dirs.shape[:-1]
        K = coeffs.shape[-2]
        out = torch_impl_holder["m"]._spherical_harmonics(
            degrees_to_use, dirs.reshape(-1, 3), coeffs.reshape(-1, K, 3)
        ).reshape(batch + (3,))
        if masks is not None:  # the CUDA kernel leaves masked entries unwritten; never rendered
            out = torch.where(masks[..., None], out, torch.zeros_like(out))
        return out

    wrapper.isect_tiles = isect_tiles
    wrapper.isect_offset_encode = isect_offset_encode
    wrapper.spherical_harmonics = spherical_harmonics
    wrapper.rasterize_to_indices_in_range = _rasterize_to_indices_in_range
    sys.modules["gsplat.cuda._wrapper"] = wrapper

    dist = types.ModuleType("gsplat.distributed")
    for n in ["all_gather_int32", "all_gather_tensor_list", "all_to_all_int32", "all_to_all_tensor_list"]:
        setattr(dist, n, _cuda_only(n))
    sys.modules["gsplat.distributed"] = dist
    utils = types.ModuleType("gsplat.utils")
    for n in ["depth_to_normal", "get_projection_matrix"]:
        setattr(utils, n, _cuda_only(n))
    sys.modules["gsplat.utils"] = utils

    nerfacc = types.ModuleType("nerfacc")
    nerfacc.render_weight_from_alpha = _render_weight_from_alpha
    nerfacc.accumulate_along_rays = _accumulate_along_rays
    sys.modules["nerfacc"] = nerfacc


# ----------------------------------------------------------------------------------------------
# PyTorch transcriptions of the two compiled pieces _rasterize_to_pixels calls
# ----------------------------------------------------------------------------------------------

ALPHA_THRESHOLD = 1.0 / 255.0  # gsplat/cuda/include/Common.h (pinned commit)


def _rasterize_to_indices_in_range(range_start, range_end, transmittances, means2d, conics, opacities,
                                   image_width, image_height, tile_size, isect_offsets, flatten_ids):
    """rasterize_to_indices_3dgs (RasterizeToIndices3DGS.cu + Rasterization.cpp), per tile.

    Per pixel, walks the tile's Gaussians of batches [range_start, min(range_end, num_batches))
    (batch = tile_size² entries) front to back in float32, exactly like the kernel:
    sigma = 0.5 (cx dx² + cz dy²) + cy dx dy with delta = mean − (px+½); alpha = min(0.999,
    opac·exp(−sigma)); skip when sigma < 0 or alpha < 1/255; next_T = T·(1 − alpha); stop
    (exclusive) when next_T ≤ 1e-4; otherwise emit (g % N, pixel) and T = next_T. Output order is
    the kernel's: sorted by global pixel id (chunk_starts = exclusive cumsum of per-pixel counts),
    front to back within a pixel.
    """
    image_dims = means2d.shape[:-2]
    N = means2d.shape[-2]
    I = math.prod(image_dims)
    tile_height, tile_width = isect_offsets.shape[-2:]
    means2d = means2d.reshape(I * N, 2)
    conics = conics.reshape(I * N, 3)
    opacities = opacities.reshape(I * N)
    trans_all = transmittances.reshape(I, image_height, image_width)
    offsets = isect_offsets.reshape(-1).tolist()
    n_isects = int(flatten_ids.numel())
    block = tile_size * tile_size
    per_pixel = {}
    for image_id in range(I):
        for ty in range(tile_height):
            for tx in range(tile_width):
                tile_id = ty * tile_width + tx
                flat = image_id * tile_height * tile_width + tile_id
                start = offsets[flat]
                end = n_isects if (image_id == I - 1 and tile_id == tile_width * tile_height - 1) else offsets[flat + 1]
                num_batches = (end - start + block - 1) // block
                if range_start >= num_batches:
                    continue
                lo = start + block * range_start
                hi = min(end, start + block * min(range_end, num_batches))
                if hi <= lo:
                    continue
                g = flatten_ids[lo:hi].long()
                xy = means2d[g]  # [L, 2]
                co = conics[g]
                op = opacities[g]
                ii, jj = torch.meshgrid(
                    torch.arange(ty * tile_size, (ty + 1) * tile_size),
                    torch.arange(tx * tile_size, (tx + 1) * tile_size),
                    indexing="ij",
                )
                ii = ii.reshape(-1)
                jj = jj.reshape(-1)
                inside = (ii < image_height) & (jj < image_width)
                ii = ii[inside]
                jj = jj[inside]
                if ii.numel() == 0:
                    continue
                px = jj.to(torch.float32) + 0.5
                py = ii.to(torch.float32) + 0.5
                dx = xy[None, :, 0] - px[:, None]  # [P, L]
                dy = xy[None, :, 1] - py[:, None]
                sigma = 0.5 * (co[None, :, 0] * dx * dx + co[None, :, 2] * dy * dy) + co[None, :, 1] * dx * dy
                alpha = torch.clamp_max(op[None, :] * torch.exp(-sigma), 0.999)
                valid = ~((sigma < 0.0) | (alpha < ALPHA_THRESHOLD))
                t0 = trans_all[image_id, ii, jj]  # [P]
                # next_trans = trans * (1 - alpha), sequentially, starting from t0 (same rounding
                # order as the kernel: cumprod of [t0, a0, a1, ...]; skipped entries multiply by 1).
                factors = torch.where(valid, 1.0 - alpha, torch.ones_like(alpha))
                run = torch.cumprod(torch.cat([t0[:, None], factors], dim=1), dim=1)[:, 1:]
                stop = valid & (run <= 1e-4)
                L = g.numel()
                k = torch.arange(L)[None, :].expand_as(stop)
                first_stop = torch.where(stop, k, torch.full_like(k, L)).min(dim=1).values  # [P]
                take = valid & (k < first_stop[:, None])
                pix = (ii * image_width + jj + image_id * image_height * image_width).tolist()
                gid = (g % N).tolist()
                take_l = take.tolist()
                for p in range(len(pix)):
                    per_pixel.setdefault(pix[p], []).extend(gid[q] for q in range(L) if take_l[p][q])
    gauss, pixels = [], []
    for p in sorted(per_pixel):
        gauss.extend(per_pixel[p])
        pixels.extend([p] * len(per_pixel[p]))
    out_gauss_ids = torch.tensor(gauss, dtype=torch.int64)
    out_indices = torch.tensor(pixels, dtype=torch.int64)
    # _wrapper.rasterize_to_indices_in_range:
    out_pixel_ids = out_indices % (image_width * image_height)
    out_image_ids = out_indices // (image_width * image_height)
    return out_gauss_ids, out_pixel_ids, out_image_ids


def _render_weight_from_alpha(alphas, packed_info=None, ray_indices=None, n_rays=None, prefix_trans=None):
    """nerfacc.render_weight_from_alpha: trans = exclusive product of (1 − alpha) along each ray
    (samples of a ray are contiguous, rays sorted), weights = trans · alpha."""
    assert packed_info is None and prefix_trans is None and ray_indices is not None
    trans = torch.ones_like(alphas)
    if alphas.numel():
        ri = ray_indices.tolist()
        starts = [0] + [i for i in range(1, len(ri)) if ri[i] != ri[i - 1]] + [len(ri)]
        one_minus = 1.0 - alphas
        for a, b in zip(starts[:-1], starts[1:]):
            if b - a > 1:
                trans[a + 1:b] = torch.cumprod(one_minus[a:b - 1], dim=0)
    return trans * alphas, trans


def _accumulate_along_rays(weights, values=None, ray_indices=None, n_rays=None):
    """nerfacc.accumulate_along_rays: per-ray sum of weights · values (or of weights)."""
    src = weights[..., None] if values is None else weights[..., None] * values
    out = torch.zeros((n_rays, src.shape[-1]), dtype=src.dtype)
    out.index_add_(0, ray_indices, src)
    return out


# ----------------------------------------------------------------------------------------------
# Scenes (our layouts: rotations xyzw, harmonics [N, 3, K] colour-major, extrinsics 3×4 w2c)
# ----------------------------------------------------------------------------------------------


def quat_xyzw_from_axis_angle(axis, angle):
    axis = np.asarray(axis, dtype=np.float64)
    axis = axis / np.linalg.norm(axis)
    s = math.sin(angle / 2)
    return [axis[0] * s, axis[1] * s, axis[2] * s, math.cos(angle / 2)]


def rot_from_axis_angle(axis, angle):
    x, y, z, w = quat_xyzw_from_axis_angle(axis, angle)
    return np.array([
        [1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y)],
        [2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x)],
        [2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y)],
    ])


def look_extrinsics(rot_c2w, cam_pos):
    """w2c [R|t] of a camera at cam_pos whose camera→world rotation is rot_c2w."""
    R = rot_c2w.T
    t = -R @ np.asarray(cam_pos, dtype=np.float64)
    return np.concatenate([R, t[:, None]], axis=1)


def sh_from_rgb(rgb, k, rng, spread):
    """[3, K] coefficients: DC giving `rgb` at degree 0, random higher bands of size `spread`."""
    c = np.zeros((3, k))
    c[:, 0] = (np.asarray(rgb) - 0.5) / 0.2820947917738781
    if k > 1:
        c[:, 1:] = rng.uniform(-spread, spread, size=(3, k - 1))
    return c


def tiny_scenes():
    rng = np.random.default_rng(20261216)
    scenes = OrderedDict()

    # 1. anisotropic: elongated, rotated Gaussians, SH degree 0.
    means, scales, rots, sh, ops = [], [], [], [], []
    spec = [
        ([-0.6, -0.3, 3.0], [0.40, 0.06, 0.05], ([0, 0, 1], 0.5), [0.9, 0.2, 0.1], 0.8),
        ([0.5, 0.2, 2.5], [0.05, 0.30, 0.08], ([1, 1, 0], 0.9), [0.1, 0.8, 0.3], 0.7),
        ([0.1, -0.5, 4.0], [0.50, 0.20, 0.02], ([0.3, 0.2, 1], -0.7), [0.2, 0.3, 0.9], 0.95),
        ([-0.2, 0.5, 2.0], [0.03, 0.03, 0.25], ([1, 0, 0], 1.1), [0.9, 0.9, 0.2], 0.6),
        ([0.9, -0.4, 3.5], [0.12, 0.35, 0.10], ([0.2, 1, 0.4], 2.0), [0.7, 0.1, 0.8], 0.5),
    ]
    for m, s, (ax, an), c, o in spec:
        means.append(m)
        scales.append(s)
        rots.append(quat_xyzw_from_axis_angle(ax, an))
        sh.append(sh_from_rgb(c, 1, rng, 0))
        ops.append(o)
    scenes["aniso"] = dict(means=means, scales=scales, rotations=rots, harmonics=sh, opacities=ops)

    # 2. overlapping at different depths, high opacities (alpha clamp 0.999, T cut-off 1e-4),
    #    SH degree 1 coefficients.
    means, scales, rots, sh, ops = [], [], [], [], []
    for i in range(10):
        z = 1.5 + 0.45 * i
        means.append([0.25 * math.sin(1.3 * i) * z / 3, 0.2 * math.cos(0.9 * i) * z / 3, z])
        scales.append([0.10 + 0.06 * (i % 3), 0.08 + 0.05 * ((i + 1) % 3), 0.05])
        rots.append(quat_xyzw_from_axis_angle([math.sin(i), math.cos(i), 0.5], 0.4 * i))
        sh.append(sh_from_rgb(rng.uniform(0.05, 0.95, size=3), 4, rng, 0.3))
        ops.append([0.999, 0.99, 0.97, 0.9, 0.999, 0.8, 0.95, 0.999, 0.6, 0.99][i])
    scenes["overlap"] = dict(means=means, scales=scales, rotations=rots, harmonics=sh, opacities=ops)

    # 3. degree-3 coefficients, Gaussians spread over the field of view (view directions vary).
    means, scales, rots, sh, ops = [], [], [], [], []
    for i in range(12):
        u = (i % 4) / 3 - 0.5
        v = (i // 4) / 2 - 0.5
        z = 2.0 + 0.3 * (i % 5)
        means.append([u * 1.6 * z / 2, v * 1.2 * z / 2, z])
        scales.append(list(rng.uniform(0.08, 0.22, size=3)))
        rots.append(quat_xyzw_from_axis_angle(rng.normal(size=3), rng.uniform(0, math.pi)))
        sh.append(sh_from_rgb(rng.uniform(0.2, 0.8, size=3), 16, rng, 0.35))
        ops.append(float(rng.uniform(0.5, 0.95)))
    scenes["sh3"] = dict(means=means, scales=scales, rotations=rots, harmonics=sh, opacities=ops)

    # 4. culling: behind the camera, nearer than near, beyond far, low opacity (< 1/255), fully
    #    off-screen, partially off-screen (centre outside the image), plus two ordinary ones.
    means = [
        [0.0, 0.0, -2.0],    # behind the camera
        [0.0, 0.1, 0.3],     # nearer than near = 0.5 (used with near 0.5)
        [0.2, 0.0, 9.0],     # beyond far = 8
        [0.1, 0.1, 2.05],    # opacity 0.003 < 1/255
        [6.0, 0.0, 2.1],     # fully off-screen (right)
        [-1.75, 0.3, 2.5],   # centre left of the image, extends into it
        [0.4, -1.25, 3.1],   # centre above the image, extends into it
        [0.0, 0.0, 3.0],     # ordinary
        [-0.3, 0.2, 2.2],    # ordinary
    ]
    scales = [[0.3, 0.3, 0.3], [0.05, 0.05, 0.05], [0.5, 0.5, 0.5], [0.4, 0.4, 0.4], [0.3, 0.3, 0.3],
              [0.45, 0.2, 0.1], [0.2, 0.4, 0.1], [0.25, 0.15, 0.1], [0.1, 0.1, 0.3]]
    rots = [quat_xyzw_from_axis_angle([0.1 * i, 1, 0.3], 0.3 * i) for i in range(len(means))]
    sh = [sh_from_rgb(rng.uniform(0.1, 0.9, size=3), 4, rng, 0.2) for _ in means]
    ops = [0.9, 0.9, 0.9, 0.003, 0.9, 0.85, 0.75, 0.7, 0.8]
    scenes["culling"] = dict(means=means, scales=scales, rotations=rots, harmonics=sh, opacities=ops)

    # 5. a small cloud of 40 random Gaussians for the odd-size / tile-edge cases.
    n = 40
    means = np.stack([rng.uniform(-1.2, 1.2, n), rng.uniform(-0.9, 0.9, n), rng.uniform(2.0, 5.0, n)], axis=1)
    scenes["cloud"] = dict(
        means=means.tolist(),
        scales=rng.uniform(0.03, 0.25, size=(n, 3)).tolist(),
        rotations=[quat_xyzw_from_axis_angle(rng.normal(size=3), rng.uniform(0, math.pi)) for _ in range(n)],
        harmonics=[sh_from_rgb(rng.uniform(0, 1, size=3), 9, rng, 0.25) for _ in range(n)],
        opacities=rng.uniform(0.2, 0.99, size=n).tolist(),
    )
    out = OrderedDict()
    for name, s in scenes.items():
        out[name] = dict(
            means=np.asarray(s["means"], dtype=np.float32),
            scales=np.asarray(s["scales"], dtype=np.float32),
            rotations=np.asarray(s["rotations"], dtype=np.float32),
            harmonics=np.asarray(s["harmonics"], dtype=np.float32),
            opacities=np.asarray(s["opacities"], dtype=np.float32),
        )
    return out


def intrinsics(fx, fy, cx, cy):
    return np.array([[fx, 0, cx], [0, fy, cy], [0, 0, 1]], dtype=np.float32)


IDENTITY = np.concatenate([np.eye(3), np.zeros((3, 1))], axis=1).astype(np.float32)


def cases(scenes, giant):
    K64 = intrinsics(58.0, 60.0, 31.2, 24.6)
    moved = look_extrinsics(rot_from_axis_angle([0.2, 1.0, 0.1], 0.18), [-0.35, 0.1, -0.2]).astype(np.float32)
    out = [
        dict(name="aniso", scene="aniso", extrinsics=IDENTITY, intrinsics=K64, width=64, height=48,
             options=dict(render_mode="RGB+ED")),
        dict(name="overlap", scene="overlap", extrinsics=moved, intrinsics=K64, width=64, height=48,
             options=dict(render_mode="RGB+ED", sh_degree=1)),
        dict(name="sh3-deg0", scene="sh3", extrinsics=moved, intrinsics=K64, width=64, height=48,
             options=dict(render_mode="RGB+ED", sh_degree=0)),
        dict(name="sh3-deg1", scene="sh3", extrinsics=moved, intrinsics=K64, width=64, height=48,
             options=dict(render_mode="RGB+ED", sh_degree=1)),
        dict(name="sh3-deg2", scene="sh3", extrinsics=moved, intrinsics=K64, width=64, height=48,
             options=dict(render_mode="RGB+ED", sh_degree=2)),
        dict(name="sh3-deg3", scene="sh3", extrinsics=moved, intrinsics=K64, width=64, height=48,
             options=dict(render_mode="RGB+ED", sh_degree=3)),
        dict(name="culling", scene="culling", extrinsics=IDENTITY, intrinsics=K64, width=64, height=48,
             options=dict(render_mode="RGB+ED", sh_degree=1, near_plane=0.5, far_plane=8.0)),
        dict(name="culling-defaults", scene="culling", extrinsics=IDENTITY, intrinsics=K64, width=64, height=48,
             options=dict(render_mode="RGB+ED", sh_degree=1)),
        dict(name="background", scene="cloud", extrinsics=moved, intrinsics=K64, width=64, height=48,
             options=dict(render_mode="RGB+ED", sh_degree=2, backgrounds=[0.2, 0.45, 0.9])),
        dict(name="rgb-only", scene="cloud", extrinsics=IDENTITY, intrinsics=K64, width=64, height=48,
             options=dict(render_mode="RGB", sh_degree=2)),
        dict(name="odd-size", scene="cloud", extrinsics=moved, intrinsics=intrinsics(50.0, 47.0, 27.0, 20.5),
             width=61, height=37, options=dict(render_mode="RGB+ED", sh_degree=2, eps2d=0.1)),
    ]
    # tiny-giant: view 1's predicted camera at the processed size (42 wide, 56 high), and a novel
    # view (camera of view 0 turned and moved a little) at 64×48 with view 0's K rescaled.
    e = giant["pred.extrinsics"]
    k = giant["pred.intrinsics"]
    out.append(dict(name="tiny-giant-view1", scene="tiny-giant", extrinsics=e[1], intrinsics=k[1], width=42,
                    height=56, options=dict(render_mode="RGB+ED", sh_degree=2)))
    c2w = np.eye(4)
    c2w[:3, :3] = e[0][:, :3].T.astype(np.float64)
    c2w[:3, 3] = -c2w[:3, :3] @ e[0][:, 3].astype(np.float64)
    turn = rot_from_axis_angle([0.0, 1.0, 0.2], -0.12)
    new_rot = c2w[:3, :3] @ turn
    new_pos = c2w[:3, 3] + c2w[:3, :3] @ np.array([0.08, -0.04, -0.15])
    k2 = k[0].astype(np.float64).copy()
    k2[0] *= 64 / 42
    k2[1] *= 48 / 56
    out.append(dict(name="tiny-giant-novel", scene="tiny-giant", extrinsics=look_extrinsics(new_rot, new_pos).astype(np.float32),
                    intrinsics=k2.astype(np.float32), width=64, height=48,
                    options=dict(render_mode="RGB+ED", sh_degree=2)))
    return out


# ----------------------------------------------------------------------------------------------


def render(rendering, scene, case):
    """gsplat's _rasterization with gs_video's argument layout (one camera, [N, K, 3] SH)."""
    means = torch.from_numpy(scene["means"])
    xyzw = torch.from_numpy(scene["rotations"])
    quats = torch.cat([xyzw[:, 3:4], xyzw[:, 0:3]], dim=1)  # gsplat wants wxyz
    scales = torch.from_numpy(scene["scales"])
    opacities = torch.from_numpy(scene["opacities"])
    colors = torch.from_numpy(scene["harmonics"]).permute(0, 2, 1).contiguous()  # [N, 3, K] -> [N, K, 3]
    viewmat = torch.eye(4)
    viewmat[:3, :] = torch.from_numpy(case["extrinsics"])
    Ks = torch.from_numpy(case["intrinsics"])[None]
    opts = dict(case["options"])
    sh_degree = opts.pop("sh_degree", None)
    if sh_degree is None:
        sh_degree = int(round(math.sqrt(colors.shape[1]))) - 1
    bg = opts.pop("backgrounds", None)
    backgrounds = None if bg is None else torch.tensor([bg], dtype=torch.float32)
    colors_out, alphas, meta = rendering._rasterization(
        means, quats, scales, opacities, colors, viewmat[None], Ks, case["width"], case["height"],
        sh_degree=sh_degree, backgrounds=backgrounds, **opts,
    )
    return colors_out[0], alphas[0, ..., 0], meta, sh_degree


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--gsplat", required=True, help="gsplat git clone (with the pinned commit) or source folder")
    args = ap.parse_args()
    torch.set_num_threads(1)
    torch.manual_seed(0)

    holder = {}
    install_shims(holder)
    src = {rel: read_gsplat_file(args.gsplat, rel) for rel in GSPLAT_FILES}
    holder["m"] = load_module("gsplat.cuda._torch_impl", src["gsplat/cuda/_torch_impl.py"], "gsplat/cuda/_torch_impl.py")
    rendering = load_module("gsplat.rendering", src["gsplat/rendering.py"], "gsplat/rendering.py")

    scenes = tiny_scenes()
    giant_raw = read_safetensors(FIXTURE, {
        "out.gaussians.means", "out.gaussians.scales", "out.gaussians.rotations", "out.gaussians.harmonics",
        "gs_adapter.in.opacities", "pred.extrinsics", "pred.intrinsics",
    })
    wxyz = giant_raw["out.gaussians.rotations"][0]
    scenes["tiny-giant"] = dict(
        means=giant_raw["out.gaussians.means"][0],
        scales=giant_raw["out.gaussians.scales"][0],
        rotations=np.concatenate([wxyz[:, 1:4], wxyz[:, 0:1]], axis=1),  # fixture is wxyz; scenes are xyzw
        harmonics=giant_raw["out.gaussians.harmonics"][0],
        opacities=giant_raw["gs_adapter.in.opacities"].reshape(-1),
    )

    tensors = {}
    doc_cases = []
    for name, s in scenes.items():
        if name == "tiny-giant":
            continue
        for k, v in s.items():
            tensors[f"scene.{name}.{k}"] = v
    for case in cases(scenes, giant_raw):
        scene = scenes[case["scene"]]
        colors, alphas, meta, sh_degree = render(rendering, scene, case)
        n = case["name"]
        rgb = colors[..., :3].numpy().astype(np.float32)
        tensors[f"case.{n}.rgb"] = rgb
        tensors[f"case.{n}.alpha"] = alphas.numpy().astype(np.float32)
        if case["options"]["render_mode"] == "RGB+ED":
            tensors[f"case.{n}.depth"] = colors[..., 3].numpy().astype(np.float32)
        tensors[f"case.{n}.extrinsics"] = np.asarray(case["extrinsics"], dtype=np.float32)
        tensors[f"case.{n}.intrinsics"] = np.asarray(case["intrinsics"], dtype=np.float32)
        # projection intermediates (camera 0), for diagnosing a mismatch stage by stage (not for
        # the novel tiny-giant view, for size)
        radii = meta["radii"][0].numpy().astype(np.int32)
        if n != "tiny-giant-novel":
            tensors[f"case.{n}.proj.radii"] = radii
            tensors[f"case.{n}.proj.means2d"] = meta["means2d"][0].numpy().astype(np.float32)
            tensors[f"case.{n}.proj.depths"] = meta["depths"][0].numpy().astype(np.float32)
            tensors[f"case.{n}.proj.conics"] = meta["conics"][0].numpy().astype(np.float32)
        visible = (radii > 0).all(axis=-1)
        d = meta["depths"][0].numpy()[visible]
        ties = int(len(d) - len(np.unique(d)))
        # torch.sort is not documented stable: check that Gaussians of equal depth that share a
        # tile came out in index order (what CUDA's radix sort, and ours, do).
        ids = meta["isect_ids"].numpy()
        fl = meta["flatten_ids"].numpy()
        same = ids[1:] == ids[:-1]
        ties_in_tiles = int(same.sum())
        ties_in_index_order = bool((fl[1:][same] > fl[:-1][same]).all())
        opts = dict(case["options"])
        opts.setdefault("near_plane", 0.01)
        opts.setdefault("far_plane", 1e10)
        opts.setdefault("eps2d", 0.3)
        opts["sh_degree"] = sh_degree
        opts.setdefault("backgrounds", None)
        doc_cases.append(OrderedDict(
            name=n,
            scene=case["scene"],
            width=case["width"],
            height=case["height"],
            options=opts,
            visible_gaussians=int(visible.sum()),
            equal_depth_pairs_among_visible=ties,
            equal_depth_pairs_sharing_a_tile=ties_in_tiles,
            those_in_index_order=ties_in_index_order,
            max_alpha=float(alphas.max()),
            rgb_range=[float(rgb.min()), float(rgb.max())],
        ))
        print(f"{n}: {case['width']}x{case['height']} visible {int(visible.sum())}/{len(visible)}"
              f" alpha max {float(alphas.max()):.4f}", file=sys.stderr)

    os.makedirs(OUT_DIR, exist_ok=True)
    meta = {"format": "da3js gsplat goldens v1", "gsplat_commit": GSPLAT_COMMIT}
    write_safetensors(os.path.join(OUT_DIR, "goldens.safetensors"), tensors, meta)
    doc = OrderedDict(
        about="Golden renders of gsplat's PyTorch reference (rendering._rasterization) for the da3js Gaussian rasterizer; made by scripts/goldens/gsplat/make-goldens.py.",
        gsplat=OrderedDict(
            repository="https://github.com/nerfstudio-project/gsplat",
            commit=GSPLAT_COMMIT,
            why="the commit Depth-Anything-3's pyproject.toml pins ([gs] extra) for gs_video",
            files_sha256=GSPLAT_FILES,
            ran="rendering._rasterization (packed=False, rasterize_mode='classic', tile_size 16, batch_per_iter 100, channel_chunk 32)",
            transcribed=["rasterize_to_indices_in_range (CUDA kernel rasterize_to_indices_3dgs)", "nerfacc.render_weight_from_alpha", "nerfacc.accumulate_along_rays"],
        ),
        environment=OrderedDict(python=sys.version.split()[0], torch=torch.__version__, numpy=np.__version__, threads=1, device="cpu", dtype="float32"),
        conventions=OrderedDict(
            scenes="scene.<name>.{means [N,3], scales [N,3] (linear), rotations [N,4] unit quaternion xyzw (scalar last; converted to gsplat's wxyz), harmonics [N,3,K] colour-major (transposed to gsplat's [N,K,3]), opacities [N]} float32, world frame, OpenCV axes",
            tiny_giant="scene 'tiny-giant' = fixtures/tiny-giant/multi/outputs.safetensors: out.gaussians.{means,scales,harmonics}[0], out.gaussians.rotations[0] (wxyz there, converted to xyzw), gs_adapter.in.opacities (= pred.gaussians.opacities), N = 7056; cameras from pred.extrinsics / pred.intrinsics",
            cameras="case.<name>.extrinsics [3,4] world-to-camera [R|t]; case.<name>.intrinsics [3,3] pixels",
            outputs="case.<name>.rgb [H,W,3] (background included, not clamped), .alpha [H,W] (1 - final transmittance), .depth [H,W] expected depth (RGB+ED: accumulated z / max(alpha, 1e-10))",
            projection="case.<name>.proj.{radii [N,2] int32, means2d [N,2], depths [N], conics [N,3]}: gsplat's meta of the torch path (radius = ceil(3.33*sqrt(cov2d diag)), not the CUDA path's opacity-aware one)",
            sh="colour = max(SH(dir) + 0.5, 0) with dir = mean - camera centre (camera centre from inverse(viewmat))",
        ),
        cases=doc_cases,
    )
    with open(os.path.join(OUT_DIR, "goldens.json"), "w") as f:
        json.dump(doc, f, indent=1)
        f.write("\n")
    print(f"wrote {OUT_DIR}/goldens.safetensors and goldens.json ({len(doc_cases)} cases)", file=sys.stderr)


if __name__ == "__main__":
    main()
