"""Reads a whole DA3 export folder (``da3 … --export-dir``, a job's files) into one scene.

Layout (the reference's, as ``@da3js/exporters`` writes it):
``exports/npz/results.npz`` or ``exports/mini_npz/results.npz``, ``scene.glb`` (+ ``depth_vis/*.jpg``,
``scene.jpg``), ``scene.ply``, ``gs_ply/0000.ply`` / ``gs_ply/0000_sh3.ply``, and — written by the
add-on next to a downloaded job — ``job.json`` (the job, with ``result.isMetric``).

Cameras and points come from the first of: the npz (exact cameras, every pixel with its
confidence), the glb (subsampled points, cameras from the frustums), the point PLY. Gaussians
come from ``gs_ply``.
"""

import json
import os
import struct

from ..errors import Da3Error
from .geometry import nearest_camera_footprint, points_from_views, uniform_footprint
from .glb import read_glb
from .npz import read_npz
from .ply import read_ply


def jpeg_size(path):
    """``(width, height)`` of a JPEG from its SOF marker, or ``None`` when it is not a readable JPEG."""
    try:
        with open(path, "rb") as f:
            data = f.read(1 << 20)
    except OSError:
        return None
    if data[:2] != b"\xff\xd8":
        return None
    at = 2
    while at + 9 < len(data):
        if data[at] != 0xFF:
            return None
        marker = data[at + 1]
        if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:
            at += 2
            continue
        (length,) = struct.unpack_from(">H", data, at + 2)
        if marker in (0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF):
            h, w = struct.unpack_from(">HH", data, at + 5)
            return (w, h)
        at += 2 + length
    return None


def find_files(folder):
    """The DA3 files of an export folder: a dict with ``npz``, ``glb``, ``ply``, ``gaussians``,
    ``job`` (absolute paths or ``None``) and ``depth_vis`` (a JPEG giving the processed size)."""

    def first(*names):
        """The first of ``names`` (relative, ``/``-separated) that is a file in the folder."""
        for n in names:
            p = os.path.join(folder, *n.split("/"))
            if os.path.isfile(p):
                return p
        return None

    npz = first("exports/npz/results.npz", "exports/mini_npz/results.npz", "results.npz")
    if npz is None:
        loose = sorted(f for f in os.listdir(folder) if f.lower().endswith(".npz"))
        npz = os.path.join(folder, loose[0]) if loose else None
    return {
        "npz": npz,
        "glb": first("scene.glb"),
        "ply": first("scene.ply"),
        "gaussians": first("gs_ply/0000_sh3.ply", "gs_ply/0000.ply"),
        "job": first("job.json"),
        "depth_vis": first("depth_vis/0000.jpg", "scene.jpg"),
    }


def job_is_metric(path):
    """``result.isMetric`` of a ``job.json`` written by the add-on, or ``None``."""
    try:
        with open(path, "r", encoding="utf-8") as f:
            job = json.load(f)
        value = (job.get("result") or {}).get("isMetric")
        return value if isinstance(value, bool) else None
    except (OSError, ValueError, AttributeError):
        return None


def complete_points(scene):
    """Fills ``scene.points`` from the views' depth maps when it is empty, and gives every point
    a footprint (from its view, the nearest camera, or the points' spacing)."""
    if scene.points is None and scene.cameras:
        scene.points = points_from_views(scene.cameras)
    p = scene.points
    if p is not None and p.footprint is None:
        p.footprint = nearest_camera_footprint(p.xyz, scene.cameras) if scene.cameras else uniform_footprint(p.xyz)
    return scene


def read_path(path, fallback_fov=60.0):
    """Reads a DA3 file (``.npz``, ``.glb``, ``.ply``) or export folder into a
    :class:`~da3_blender.readers.scene.Da3Scene`, points completed (see :func:`complete_points`)."""
    if os.path.isdir(path):
        return complete_points(read_folder(path, fallback_fov))
    ext = os.path.splitext(path)[1].lower()
    if ext == ".npz":
        scene = read_npz(path, fallback_fov)
    elif ext in (".glb", ".gltf"):
        scene = read_glb(path, _size_near(os.path.dirname(path)))
    elif ext == ".ply":
        scene = read_ply(path)
    elif not os.path.exists(path):
        raise Da3Error("BAD_FILE", "%s: no such file or folder" % path)
    else:
        raise Da3Error("UNSUPPORTED", "%s: not a DA3 file (.npz, .glb, .ply) or export folder" % os.path.basename(path))
    return complete_points(scene)


def _size_near(folder):
    """The processed image size ``(W, H)`` from a results.npz or depth_vis JPEG in ``folder``, else None."""
    found = find_files(folder) if os.path.isdir(folder) else {}
    if found.get("npz"):
        try:
            cams = read_npz(found["npz"]).cameras
            return (cams[0].width, cams[0].height)
        except Da3Error:
            pass
    return jpeg_size(found["depth_vis"]) if found.get("depth_vis") else None


def read_folder(folder, fallback_fov=60.0):
    """Reads an export folder (see the module doc). Raises ``Da3Error`` ``BAD_FILE`` when it holds
    no DA3 file."""
    found = find_files(folder)
    if found["npz"]:
        scene = read_npz(found["npz"], fallback_fov)
    elif found["glb"]:
        scene = read_glb(found["glb"], _size_near(folder))
    elif found["ply"]:
        scene = read_ply(found["ply"])
    elif found["gaussians"]:
        scene = read_ply(found["gaussians"])
    else:
        raise Da3Error("BAD_FILE", "%s: no DA3 results here (results.npz, scene.glb, scene.ply or gs_ply/*.ply)" % folder)
    scene.name = os.path.basename(os.path.normpath(folder)) or scene.name
    if found["gaussians"] and scene.gaussians is None:
        scene.gaussians = read_ply(found["gaussians"]).gaussians
        scene.sources.append(found["gaussians"])
    if found["job"]:
        metric = job_is_metric(found["job"])
        if metric is not None:
            scene.is_metric = metric
    return scene
