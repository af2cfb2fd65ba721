"""Reader of DA3's ``results.npz`` (the ``npz`` and ``mini_npz`` exports), with NumPy.

Arrays (as ``@da3js/exporters`` and the reference write them):

- ``depth`` ``[N, H, W]`` float32 — z depth in model units (required);
- ``conf`` ``[N, H, W]`` float32 — confidence (any-view models);
- ``extrinsics`` ``[N, 3, 4]`` float32 — world→camera ``[R | t]``, OpenCV axes (any-view models);
- ``intrinsics`` ``[N, 3, 3]`` float32 — pixels of the ``W`` × ``H`` processed image;
- ``image`` ``[N, H, W, 3]`` uint8 — the processed images (``npz`` only, not ``mini_npz``).

Mono and metric models have no cameras: a single view without extrinsics gets the identity pose;
views without intrinsics get a pinhole camera with the horizontal field of view ``fallback_fov``
(degrees, centred principal point), and a warning says so.
"""

import math
import os
import zipfile

import numpy as np

from ..errors import Da3Error
from .scene import Da3Scene, ViewCamera


def _load(path):
    """Every array of an npz (no pickles); ``BAD_FILE`` for anything unreadable."""
    try:
        with np.load(path, allow_pickle=False) as z:
            return {k: z[k] for k in z.files}
    except FileNotFoundError:
        raise Da3Error("BAD_FILE", "%s: no such file" % path) from None
    except (zipfile.BadZipFile, ValueError, OSError, EOFError, KeyError) as e:
        raise Da3Error("BAD_FILE", "%s: not a readable .npz (%s)" % (os.path.basename(path), e)) from None


def _check(name, array, shape, path):
    """Raises ``BAD_FILE`` unless ``array`` has ``shape``."""
    if tuple(array.shape) != tuple(shape):
        raise Da3Error("BAD_FILE", "%s: '%s' has shape %s, expected %s" % (os.path.basename(path), name, list(array.shape), list(shape)))


def read_npz(path, fallback_fov=60.0):
    """Reads ``results.npz`` into a :class:`~da3_blender.readers.scene.Da3Scene` (cameras with depth,
    confidence and images; no point cloud yet — see :func:`~da3_blender.readers.geometry.points_from_views`).

    Raises :class:`~da3_blender.errors.Da3Error` ``BAD_FILE`` for a file that is not a valid npz,
    has no ``depth``, has inconsistent shapes or non-finite cameras.
    """
    arrays = _load(path)
    base = os.path.basename(path)
    if "depth" not in arrays:
        raise Da3Error("BAD_FILE", "%s: no 'depth' array (found %s)" % (base, ", ".join(sorted(arrays)) or "nothing"))
    depth = arrays["depth"]
    if depth.ndim == 2:
        depth = depth[None]
    if depth.ndim != 3 or depth.shape[0] < 1 or depth.shape[1] < 1 or depth.shape[2] < 1:
        raise Da3Error("BAD_FILE", "%s: 'depth' must be [N, H, W], got %s" % (base, list(depth.shape)))
    if not np.issubdtype(depth.dtype, np.floating):
        raise Da3Error("BAD_FILE", "%s: 'depth' must be float, got %s" % (base, depth.dtype))
    n, h, w = depth.shape
    scene = Da3Scene(name=os.path.splitext(base)[0], sources=[path])
    conf = arrays.get("conf")
    if conf is not None:
        _check("conf", conf, (n, h, w), path)
    image = arrays.get("image")
    if image is not None:
        _check("image", image, (n, h, w, 3), path)
        if image.dtype != np.uint8:
            raise Da3Error("BAD_FILE", "%s: 'image' must be uint8, got %s" % (base, image.dtype))
    ext = arrays.get("extrinsics")
    if ext is not None:
        if ext.shape == (n, 4, 4):
            ext = ext[:, :3, :]
        _check("extrinsics", ext, (n, 3, 4), path)
    elif n > 1:
        raise Da3Error("BAD_FILE", "%s: %d views but no 'extrinsics' (only a single view may omit them)" % (base, n))
    K = arrays.get("intrinsics")
    if K is not None:
        _check("intrinsics", K, (n, 3, 3), path)
    else:
        f = (w / 2.0) / math.tan(math.radians(fallback_fov) / 2.0)
        scene.warnings.append("%s has no intrinsics (mono/metric model): assumed a %.0f° horizontal field of view" % (base, fallback_fov))
    for name, arr in (("extrinsics", ext), ("intrinsics", K)):
        if arr is not None and not np.all(np.isfinite(arr)):
            raise Da3Error("BAD_FILE", "%s: '%s' holds non-finite values" % (base, name))
    for i in range(n):
        k = K[i].astype(np.float64) if K is not None else np.array([[f, 0, w / 2.0], [0, f, h / 2.0], [0, 0, 1.0]])
        if not (k[0, 0] > 0 and k[1, 1] > 0):
            raise Da3Error("BAD_FILE", "%s: intrinsics of view %d have a non-positive focal length" % (base, i))
        e = ext[i].astype(np.float64) if ext is not None else np.hstack([np.eye(3), np.zeros((3, 1))])
        if abs(np.linalg.det(e[:, :3])) < 1e-9:
            raise Da3Error("BAD_FILE", "%s: extrinsics of view %d are singular" % (base, i))
        scene.cameras.append(
            ViewCamera(
                index=i,
                K=k,
                w2c=e,
                width=int(w),
                height=int(h),
                image=image[i] if image is not None else None,
                depth=depth[i].astype(np.float32),
                conf=conf[i].astype(np.float32) if conf is not None else None,
            )
        )
    return scene
