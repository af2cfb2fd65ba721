"""A small PLY reader (NumPy) for DA3's point clouds and 3DGS files.

Reads the header (``ply``, ``format ascii|binary_little_endian|binary_big_endian 1.0``,
``comment``/``obj_info``, ``element``/``property`` lines, ``end_header``), then the first
element named ``vertex`` with scalar properties only. Every count is checked against the bytes in
the file before anything is allocated. Anything else raises
:class:`~da3_blender.errors.Da3Error` ``BAD_FILE`` (or ``UNSUPPORTED``).

Two kinds of vertex data are recognised:

- a point cloud (``@da3js/exporters`` ``writePly``): ``x y z`` in the OpenCV world (x right,
  y down, z forward), optional ``red green blue`` (uchar) and ``confidence``; the header comment
  ``units: metres`` marks a metric prediction;
- 3D Gaussians (3DGS / INRIA layout): ``x y z``, ``f_dc_0..2``, ``f_rest_*``, ``opacity`` (logit),
  ``scale_0..2`` (log), ``rot_0..3`` (w x y z), in the same OpenCV world.
"""

import os

import numpy as np

from ..errors import Da3Error
from .scene import Da3Scene, GaussianSet, PointSet

_TYPES = {
    "char": "i1", "int8": "i1", "uchar": "u1", "uint8": "u1",
    "short": "i2", "int16": "i2", "ushort": "u2", "uint16": "u2",
    "int": "i4", "int32": "i4", "uint": "u4", "uint32": "u4",
    "float": "f4", "float32": "f4", "double": "f8", "float64": "f8",
}  # fmt: skip

#: Largest header accepted (bytes).
MAX_HEADER = 1 << 20

#: The DC term of real spherical harmonics, 1 / (2 √π).
SH_C0 = 0.28209479177387814

GAUSSIAN_REQUIRED = ("f_dc_0", "f_dc_1", "f_dc_2", "opacity", "scale_0", "scale_1", "scale_2", "rot_0", "rot_1", "rot_2", "rot_3")


def _fail(path, message, code="BAD_FILE"):
    """Raises ``Da3Error(code)`` naming the file."""
    raise Da3Error(code, "%s: %s" % (os.path.basename(path), message))


def parse_header(data, path):
    """Parses a PLY header from ``data`` (bytes). Returns ``(format, comments, elements, body_offset)``
    with ``elements`` a list of ``(name, count, [(prop, type or None, list types or None)])``."""
    if not (data[:4] in (b"ply\n", b"ply\r")):
        _fail(path, "not a PLY file (it must start with 'ply')")
    end = data.find(b"end_header", 0, MAX_HEADER)
    if end < 0:
        _fail(path, "no end_header line within the first %d bytes (truncated or not a PLY)" % MAX_HEADER)
    nl = data.find(b"\n", end)
    if nl < 0:
        _fail(path, "truncated after end_header")
    try:
        text = data[:end].decode("ascii")
    except UnicodeDecodeError:
        _fail(path, "the header is not ASCII")
    fmt, comments, elements = None, [], []
    for n, raw in enumerate(text.replace("\r", "").split("\n")[1:], start=2):
        words = raw.split()
        if not words:
            continue
        key = words[0]
        if key in ("comment", "obj_info"):
            comments.append(raw.strip()[len(key):].strip())
        elif key == "format":
            if len(words) != 3 or words[1] not in ("ascii", "binary_little_endian", "binary_big_endian"):
                _fail(path, "header line %d: bad format line %r" % (n, raw))
            fmt = words[1]
        elif key == "element":
            if len(words) != 3 or not words[2].isdigit():
                _fail(path, "header line %d: expected 'element <name> <count>'" % n)
            elements.append((words[1], int(words[2]), []))
        elif key == "property":
            if not elements:
                _fail(path, "header line %d: property before any element" % n)
            if words[1:2] == ["list"]:
                if len(words) != 5 or words[2] not in _TYPES or words[3] not in _TYPES:
                    _fail(path, "header line %d: bad list property" % n)
                elements[-1][2].append((words[4], None, (_TYPES[words[2]], _TYPES[words[3]])))
            else:
                if len(words) != 3 or words[1] not in _TYPES:
                    _fail(path, "header line %d: unknown property type in %r" % (n, raw))
                elements[-1][2].append((words[2], _TYPES[words[1]], None))
        else:
            _fail(path, "header line %d: unknown keyword %r" % (n, key))
    if fmt is None:
        _fail(path, "no format line")
    return fmt, comments, elements, nl + 1


def read_vertices(path):
    """Reads the ``vertex`` element: ``(columns {name: 1-D array}, comments)``."""
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as e:
        raise Da3Error("BAD_FILE", "%s: cannot read (%s)" % (path, e.strerror or e)) from None
    fmt, comments, elements, at = parse_header(data, path)
    for name, count, props in elements:
        if name != "vertex":
            _fail(path, "element %r before 'vertex' is not supported" % name, "UNSUPPORTED")
        if any(p[1] is None for p in props):
            _fail(path, "list properties in 'vertex' are not supported", "UNSUPPORTED")
        if not props:
            _fail(path, "element 'vertex' has no properties")
        names = [p[0] for p in props]
        if len(set(names)) != len(names):
            _fail(path, "duplicate vertex property names")
        if fmt == "ascii":
            tokens = data[at:].split()
            need = count * len(props)
            if len(tokens) < need:
                _fail(path, "truncated ASCII body: %d vertices of %d values need %d numbers, found %d" % (count, len(props), need, len(tokens)))
            try:
                table = np.array(tokens[:need]).astype(np.float64).reshape(count, len(props))
            except ValueError as e:
                _fail(path, "bad number in the ASCII body (%s)" % e)
            cols = {p[0]: table[:, i].astype(p[1]) for i, p in enumerate(props)}
        else:
            order = "<" if fmt == "binary_little_endian" else ">"
            dtype = np.dtype([(p[0], order + p[1]) for p in props])
            need = dtype.itemsize * count
            if len(data) - at < need:
                _fail(path, "truncated body: %d vertices need %d bytes, %d left" % (count, need, len(data) - at))
            rec = np.frombuffer(data, dtype=dtype, count=count, offset=at)
            cols = {p[0]: rec[p[0]].astype(np.dtype(p[1]).newbyteorder("=")) for p in props}
        return cols, comments
    _fail(path, "no 'vertex' element")


def is_gaussian_ply(columns):
    """True when the vertex properties are a 3DGS file's (DC colour, opacity, scales, rotation)."""
    return all(k in columns for k in GAUSSIAN_REQUIRED)


def read_ply(path):
    """Reads a DA3 point-cloud or 3DGS PLY into a :class:`~da3_blender.readers.scene.Da3Scene`
    (``points`` or ``gaussians``; no cameras). Raises ``Da3Error`` ``BAD_FILE`` / ``UNSUPPORTED``."""
    cols, comments = read_vertices(path)
    base = os.path.basename(path)
    for k in ("x", "y", "z"):
        if k not in cols:
            _fail(path, "the vertices have no %r property" % k)
    xyz = np.stack([cols["x"], cols["y"], cols["z"]], axis=1).astype(np.float32)
    if not np.all(np.isfinite(xyz)):
        _fail(path, "non-finite vertex positions")
    scene = Da3Scene(name=os.path.splitext(base)[0], sources=[path])
    units = " ".join(comments).lower()
    if "units: metres" in units or "units: meters" in units:
        scene.is_metric = True
    elif "up to scale" in units:
        scene.is_metric = False
    if is_gaussian_ply(cols):
        attrs = {k: v.astype(np.float32) for k, v in cols.items() if k not in ("x", "y", "z")}
        dc = np.stack([attrs["f_dc_0"], attrs["f_dc_1"], attrs["f_dc_2"]], axis=1)
        rgb = np.clip((0.5 + SH_C0 * dc) * 255.0 + 0.5, 0, 255).astype(np.uint8)
        scene.gaussians = GaussianSet(xyz=xyz, attributes=attrs, rgb=rgb)
        return scene
    rgb = None
    if all(k in cols for k in ("red", "green", "blue")):
        c = np.stack([cols["red"], cols["green"], cols["blue"]], axis=1)
        if np.issubdtype(c.dtype, np.floating):
            c = np.clip(c * 255.0 + 0.5, 0, 255)
        rgb = c.astype(np.uint8)
    conf = cols.get("confidence", cols.get("conf"))
    scene.points = PointSet(xyz=xyz, rgb=rgb, conf=None if conf is None else conf.astype(np.float32))
    return scene
