"""A small reader of DA3's ``scene.glb`` (binary glTF 2.0), with NumPy.

``scene.glb`` (``@da3js/exporters`` ``writeGlb``, the reference's ``export_to_glb``) holds:

- one POINTS mesh ``points``: ``POSITION`` float32 VEC3 and ``COLOR_0`` normalised uint8 RGBA;
- one LINES mesh per camera ``camera_000``…: 16 vertices = 8 segments, centre → the image
  corners at pixels (0, 0), (W−1, 0), (W−1, H−1), (0, H−1) on the camera's z = s plane, then the
  rectangle 0-1, 1-2, 2-3, 3-0;
- ``scenes[0].extras.hf_alignment``: the 4×4 ``A`` (row-major rows) with
  ``p_gltf = A · p_opencv_world`` (first camera's frame, glTF axes y up / z back, centred at the
  points' median).

Points and frustums are mapped back to the prediction's OpenCV world with ``A⁻¹``, so a glb
lands in Blender exactly where the npz of the same prediction does. A glb without
``hf_alignment`` is taken as plain glTF axes (then Blender's result equals its own glTF
importer's).

Cameras are recovered from the frustums given the image size (``W`` × ``H``, e.g. from
``depth_vis/0000.jpg`` beside the glb). The frustum's rectangle gives the camera axes and
``(W−1)/fx``, ``(H−1)/fy``; the centre→corner vector gives the principal point (zero skew
assumed). Accuracy is float32's (about 1e-6 relative).
"""

import json
import os
import struct

import numpy as np

from ..errors import Da3Error
from .scene import Da3Scene, PointSet, ViewCamera

_COMPONENTS = {5120: np.int8, 5121: np.uint8, 5122: np.int16, 5123: np.uint16, 5125: np.uint32, 5126: np.float32}
_WIDTH = {"SCALAR": 1, "VEC2": 2, "VEC3": 3, "VEC4": 4, "MAT4": 16}
_POINTS, _LINES = 0, 1

#: glTF axes (x right, y up, z back) as OpenCV-style axes (x right, y down, z forward).
GLTF_TO_OPENCV = np.diag([1.0, -1.0, -1.0, 1.0])


def _fail(path, message, code="BAD_FILE"):
    """Raises ``Da3Error(code)`` naming the file."""
    raise Da3Error(code, "%s: %s" % (os.path.basename(path), message))


def parse_glb(data, path):
    """Splits a GLB into ``(json dict, bin bytes)``; checks the header and chunk lengths."""
    if data[:4] != b"glTF":
        _fail(path, "not a binary glTF file (no 'glTF' magic)")
    if len(data) < 20:
        _fail(path, "truncated: %d bytes is shorter than a GLB header and chunk" % len(data))
    version, length = struct.unpack_from("<II", data, 4)
    if version != 2:
        _fail(path, "glTF version %d is not supported (only 2)" % version, "UNSUPPORTED")
    if length > len(data):
        _fail(path, "truncated: the header says %d bytes, the file has %d" % (length, len(data)))
    at, doc, binary = 12, None, b""
    while at + 8 <= length:
        size, kind = struct.unpack_from("<II", data, at)
        if at + 8 + size > length:
            _fail(path, "truncated chunk at byte %d" % at)
        chunk = data[at + 8 : at + 8 + size]
        if kind == 0x4E4F534A:  # JSON
            try:
                doc = json.loads(chunk.decode("utf-8"))
            except (UnicodeDecodeError, ValueError) as e:
                _fail(path, "bad JSON chunk (%s)" % e)
        elif kind == 0x004E4942 and not binary:  # BIN
            binary = chunk
        at += 8 + size
    if not isinstance(doc, dict):
        _fail(path, "no JSON chunk")
    return doc, binary


def read_accessor(doc, binary, index, path):
    """An accessor's data as ``[count, width]`` (normalised integers → float32 in [0, 1])."""
    try:
        acc = doc["accessors"][index]
        if "sparse" in acc:
            _fail(path, "sparse accessors are not supported", "UNSUPPORTED")
        dtype = np.dtype(_COMPONENTS[acc["componentType"]]).newbyteorder("<")
        width = _WIDTH[acc["type"]]
        count = int(acc["count"])
        view = doc["bufferViews"][acc["bufferView"]]
        if view.get("buffer", 0) != 0:
            _fail(path, "external buffers are not supported", "UNSUPPORTED")
    except (KeyError, IndexError, TypeError) as e:
        _fail(path, "bad accessor %r (%s)" % (index, e))
    start = int(view.get("byteOffset", 0)) + int(acc.get("byteOffset", 0))
    stride = int(view.get("byteStride", 0)) or dtype.itemsize * width
    need = start + stride * (count - 1) + dtype.itemsize * width if count else start
    if need > len(binary) or need > int(view.get("byteOffset", 0)) + int(view["byteLength"]):
        _fail(path, "accessor %d reaches past its buffer (truncated file?)" % index)
    if count == 0:
        out = np.zeros((0, width), dtype=dtype)
    else:
        raw = np.lib.stride_tricks.as_strided(
            np.frombuffer(binary, dtype=np.uint8, count=need - start, offset=start),
            shape=(count, width * dtype.itemsize),
            strides=(stride, 1),
        )
        out = np.ascontiguousarray(raw).view(dtype).reshape(count, width)
    if acc.get("normalized") and dtype.kind in "ui":
        out = out.astype(np.float32) / float(np.iinfo(dtype).max)
    return out


def _node_matrices(doc):
    """World matrix (4×4, glTF column-vector convention) of every node reached from scene 0."""
    nodes = doc.get("nodes", [])
    out = {}

    def local(n):
        """A node's local 4×4 from ``matrix`` or translation/rotation (xyzw)/scale."""
        if "matrix" in n:
            return np.array(n["matrix"], dtype=np.float64).reshape(4, 4).T
        t = np.eye(4)
        t[:3, 3] = n.get("translation", [0, 0, 0])
        x, y, z, w = n.get("rotation", [0, 0, 0, 1])
        r = np.eye(4)
        r[:3, :3] = [
            [1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)],
            [2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)],
            [2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)],
        ]
        s = np.diag(list(n.get("scale", [1, 1, 1])) + [1.0])
        return t @ r @ s

    def walk(i, parent, depth):
        """Accumulates world matrices down the node tree (cycles and depth bounded)."""
        if depth > 64 or i in out:
            return
        m = parent @ local(nodes[i])
        out[i] = m
        for c in nodes[i].get("children", []):
            walk(c, m, depth + 1)

    scenes = doc.get("scenes") or [{"nodes": list(range(len(nodes)))}]
    for i in scenes[doc.get("scene", 0)].get("nodes", []):
        walk(i, np.eye(4), 0)
    return out


def _transform(m, p):
    """Applies the 4×4 ``m`` to points ``[N, 3]``."""
    return p @ m[:3, :3].T + m[:3, 3]


def camera_from_frustum(vertices, width, height, index):
    """A :class:`ViewCamera` from a frustum's 16 LINES vertices in the OpenCV world (float64).

    With ``s`` the frustum's scale and ``R`` the camera→world rotation: the corner edges are
    ``P1 − P0 = s·R·((W−1)/fx, 0, 0)`` and ``P3 − P0 = s·R·(0, (H−1)/fy, 0)``, and
    ``P0 − C = s·R·(−cx/fx, −cy/fy, 1)``.
    """
    v = np.asarray(vertices, dtype=np.float64).reshape(16, 3)
    centre = v[0]
    p0, p1, p3 = v[1], v[3], v[7]
    ex, ey = p1 - p0, p3 - p0
    x = ex / np.linalg.norm(ex)
    y = ey - x * np.dot(ey, x)
    y /= np.linalg.norm(y)
    z = np.cross(x, y)
    d0 = p0 - centre
    s = float(np.dot(d0, z))
    if not s > 0:
        raise ValueError("camera %d: degenerate frustum" % index)
    fx = s * (width - 1) / np.linalg.norm(ex)
    fy = s * (height - 1) / abs(np.dot(ey, y))
    cx = -fx * np.dot(d0, x) / s
    cy = -fy * np.dot(d0, y) / s
    R = np.stack([x, y, z], axis=1)  # camera → world
    w2c = np.hstack([R.T, (-R.T @ centre)[:, None]])
    K = np.array([[fx, 0.0, cx], [0.0, fy, cy], [0.0, 0.0, 1.0]])
    return ViewCamera(index=index, K=K, w2c=w2c, width=int(width), height=int(height))


def read_glb(path, image_size=None):
    """Reads a DA3 ``scene.glb`` into a :class:`~da3_blender.readers.scene.Da3Scene`: the points (OpenCV
    world, colours, no confidence) and — when ``image_size`` ``(W, H)`` is known — one camera per
    frustum. Raises :class:`~da3_blender.errors.Da3Error` ``BAD_FILE`` / ``UNSUPPORTED``."""
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as e:
        raise Da3Error("BAD_FILE", "%s: cannot read (%s)" % (path, e.strerror or e)) from None
    doc, binary = parse_glb(data, path)
    base = os.path.basename(path)
    scene = Da3Scene(name=os.path.splitext(base)[0], sources=[path])
    extras = ((doc.get("scenes") or [{}])[doc.get("scene", 0)] or {}).get("extras") or {}
    to_opencv = GLTF_TO_OPENCV
    if "hf_alignment" in extras:
        a = np.array(extras["hf_alignment"], dtype=np.float64)
        if a.shape != (4, 4) or not np.all(np.isfinite(a)) or abs(np.linalg.det(a)) < 1e-12:
            _fail(path, "hf_alignment is not an invertible 4×4 matrix")
        to_opencv = np.linalg.inv(a)
    world = _node_matrices(doc)
    points, colors, frustums = [], [], []
    for node_index, m in sorted(world.items()):
        node = doc["nodes"][node_index]
        if "mesh" not in node:
            continue
        try:
            mesh = doc["meshes"][node["mesh"]]
        except (KeyError, IndexError, TypeError):
            _fail(path, "node %d names a missing mesh" % node_index)
        full = to_opencv @ m
        for prim in mesh.get("primitives", []):
            mode = prim.get("mode", 4)
            attrs = prim.get("attributes", {})
            if "POSITION" not in attrs:
                continue
            pos = _transform(full, read_accessor(doc, binary, attrs["POSITION"], path).astype(np.float64))
            if mode == _POINTS:
                points.append(pos)
                if "COLOR_0" in attrs:
                    c = read_accessor(doc, binary, attrs["COLOR_0"], path)[:, :3]
                    colors.append(np.clip(np.asarray(c, np.float64) * 255.0 + 0.5, 0, 255).astype(np.uint8))
                else:
                    colors.append(np.full((len(pos), 3), 200, np.uint8))
            elif mode == _LINES and len(pos) == 16:
                frustums.append((mesh.get("name") or node.get("name") or "", pos))
    if points:
        xyz = np.concatenate(points)
        if not np.all(np.isfinite(xyz)):
            _fail(path, "non-finite point positions")
        scene.points = PointSet(xyz=xyz.astype(np.float32), rgb=np.concatenate(colors))
    if frustums:
        if image_size is None:
            scene.warnings.append("%s: %d camera frustums not turned into cameras (image size unknown: no depth_vis/*.jpg or results.npz beside it)" % (base, len(frustums)))
        else:
            frustums.sort(key=lambda f: f[0])
            for i, (_name, pos) in enumerate(frustums):
                try:
                    scene.cameras.append(camera_from_frustum(pos, image_size[0], image_size[1], i))
                except ValueError as e:
                    scene.warnings.append("%s: %s" % (base, e))
    if scene.points is None and not scene.cameras:
        _fail(path, "no DA3 points or cameras in this glTF")
    return scene
