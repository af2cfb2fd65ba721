"""Depth maps → points, confidence ranks and depth-mesh faces (numpy, no Blender).

All coordinates are OpenCV (x right, y down, z forward); depth is the camera-space z.
"""

import numpy as np

from .scene import PointSet


def pixel_rays(K, width, height):
    """``[H, W, 3]`` float64 ``K⁻¹ · [u, v, 1]`` at integer pixel coordinates (the pixel centres)."""
    u, v = np.meshgrid(np.arange(width, dtype=np.float64), np.arange(height, dtype=np.float64))
    pix = np.stack([u, v, np.ones_like(u)], axis=-1)
    return pix @ np.linalg.inv(np.asarray(K, dtype=np.float64)).T


def view_world_points(camera):
    """``[H, W, 3]`` float64 world points (OpenCV world) of a view's depth map: ``inv(w2c) · (K⁻¹ [u, v, 1] · d)``."""
    rays = pixel_rays(camera.K, camera.width, camera.height)
    cam = rays * camera.depth.astype(np.float64)[..., None]
    e = np.eye(4)
    e[:3, :4] = camera.w2c
    c2w = np.linalg.inv(e)
    return cam @ c2w[:3, :3].T + c2w[:3, 3]


def valid_depth_mask(depth):
    """Pixels with a finite depth > 0 (the depth map's valid mask)."""
    d = np.asarray(depth)
    return np.isfinite(d) & (d > 0)


def points_from_views(cameras):
    """Every valid pixel of every view as one :class:`PointSet` (view order, then row-major).

    Points carry their view index, confidence (when the views have it), colour (when they have
    images) and footprint ``depth / sqrt(fx · fy)`` (the world size of one pixel at that depth).
    Returns ``None`` when no view has a depth map.
    """
    xyz, rgb, conf, view, foot = [], [], [], [], []
    with_depth = [c for c in cameras if c.depth is not None]
    if not with_depth:
        return None
    has_rgb = all(c.image is not None for c in with_depth)
    has_conf = all(c.conf is not None for c in with_depth)
    for cam in with_depth:
        mask = valid_depth_mask(cam.depth)
        pts = view_world_points(cam)[mask]
        if not np.all(np.isfinite(pts)):
            keep = np.all(np.isfinite(pts), axis=1)
            mask = mask.copy()
            mask[mask] = keep
            pts = pts[keep]
        xyz.append(pts.astype(np.float32))
        view.append(np.full(len(pts), cam.index, dtype=np.int32))
        f = float(np.sqrt(cam.K[0, 0] * cam.K[1, 1]))
        foot.append((cam.depth[mask] / f).astype(np.float32))
        if has_rgb:
            rgb.append(cam.image[mask])
        if has_conf:
            conf.append(cam.conf[mask].astype(np.float32))
    return PointSet(
        xyz=np.concatenate(xyz),
        rgb=np.concatenate(rgb) if has_rgb else None,
        conf=np.concatenate(conf) if has_conf else None,
        view=np.concatenate(view),
        footprint=np.concatenate(foot),
    )


def confidence_rank(conf):
    """Percentile rank (0–100, float32) of each confidence among all of them: the largest ``p``
    with ``numpy.percentile(conf, p) <= conf_i`` (linear interpolation), that is
    ``100 · (#{conf <= conf_i} − 1) / (n − 1)``.

    So keeping ``rank >= p`` keeps exactly the points with ``conf >= numpy.percentile(conf, p)``
    (ties included), which is what the points' "Conf Percentile" filter does live in Geometry
    Nodes. Non-finite confidences rank 0 and do not count.
    """
    c = np.asarray(conf, dtype=np.float64)
    finite = np.isfinite(c)
    n = int(finite.sum())
    rank = np.zeros(c.shape, dtype=np.float64)
    if n:
        order = np.sort(c[finite])
        upto = np.searchsorted(order, c[finite], side="right")
        rank[finite] = 100.0 * (upto - 1) / max(n - 1, 1)
    return rank.astype(np.float32)


def nearest_camera_footprint(xyz, cameras):
    """Footprint (world size of one pixel) of points without a view: distance to the nearest
    camera centre over that camera's focal length (``sqrt(fx · fy)``). ``None`` without cameras."""
    if not cameras:
        return None
    p = np.asarray(xyz, dtype=np.float64)
    best = np.full(len(p), np.inf)
    for cam in cameras:
        e = np.eye(4)
        e[:3, :4] = cam.w2c
        centre = np.linalg.inv(e)[:3, 3]
        f = float(np.sqrt(cam.K[0, 0] * cam.K[1, 1]))
        best = np.minimum(best, np.linalg.norm(p - centre, axis=1) / f)
    return best.astype(np.float32)


def uniform_footprint(xyz):
    """A footprint for points without cameras: the mean spacing of points spread evenly over the
    bounding box's largest face (``sqrt(area / n)``), the same for every point."""
    p = np.asarray(xyz, dtype=np.float64)
    if len(p) == 0:
        return np.zeros(0, dtype=np.float32)
    ext = np.sort(np.ptp(p, axis=0))
    area = max(ext[1] * ext[2], 1e-12)
    return np.full(len(p), np.sqrt(area / len(p)), dtype=np.float32)


def depth_grid(camera, step=1, max_depth_ratio=1.1):
    """A view's depth map as a grid mesh in the OpenCV world, every ``step`` pixels.

    Returns ``(vertices [V, 3] float64, faces [F, 4] int32, uv [V, 2] float32)``: one vertex per
    valid sampled pixel, one quad per 2×2 block of valid samples whose depths differ by less than
    ``max_depth_ratio`` (so foreground and background are not stitched together), UVs in
    ``[0, 1]`` with v up (Blender's texture convention) at the pixel centres.
    """
    if camera.depth is None:
        raise ValueError("view %d has no depth map" % camera.index)
    step = max(1, int(step))
    world = view_world_points(camera)[::step, ::step]
    depth = camera.depth[::step, ::step].astype(np.float64)
    valid = valid_depth_mask(depth) & np.all(np.isfinite(world), axis=-1)
    rows, cols = depth.shape
    index = np.full((rows, cols), -1, dtype=np.int64)
    index[valid] = np.arange(int(valid.sum()))
    vs, us = np.nonzero(valid)
    uv = np.stack([(us * step + 0.5) / camera.width, 1.0 - (vs * step + 0.5) / camera.height], axis=1).astype(np.float32)
    a, b, c, d = index[:-1, :-1], index[:-1, 1:], index[1:, 1:], index[1:, :-1]
    quad = (a >= 0) & (b >= 0) & (c >= 0) & (d >= 0)
    z = np.stack([depth[:-1, :-1], depth[:-1, 1:], depth[1:, 1:], depth[1:, :-1]], axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        smooth = np.nanmax(z, axis=-1) < np.nanmin(z, axis=-1) * max_depth_ratio
    quad &= smooth
    # Counter-clockwise as seen from the camera in Blender (OpenCV y down flips the winding).
    faces = np.stack([a[quad], d[quad], c[quad], b[quad]], axis=1).astype(np.int32)
    return world[valid], faces, uv
