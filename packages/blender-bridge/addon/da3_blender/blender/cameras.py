"""Blender cameras from the prediction's cameras (one per view).

Pose: :func:`~da3_blender.axes.blender_camera_matrix_world` (OpenCV world→camera → Blender
``matrix_world``). Lens, sensor and shift: :func:`~da3_blender.axes.blender_camera_from_intrinsics`.
The exact OpenCV data stays on the object as custom properties — ``da3_K`` (3×3 row-major,
pixels), ``da3_w2c`` (3×4 row-major, world→camera, OpenCV world), ``da3_size`` (W, H),
``da3_view`` — and :func:`use_camera` applies the per-camera scene settings Blender keeps per
scene (resolution and pixel aspect for ``fx ≠ fy``).
"""

import bpy
import numpy as np
from mathutils import Matrix

from ..axes import blender_camera_from_intrinsics, blender_camera_matrix_world


def create_camera(view, name, collection, parent=None, image=None, clip=None, display_size=0.1):
    """Creates one camera object for ``view`` (:class:`~da3_blender.readers.scene.ViewCamera`).

    ``image`` (a Blender image) becomes the camera's background image, stretched over the frame;
    ``clip`` is ``(clip_start, clip_end)`` in scene units.
    """
    p = blender_camera_from_intrinsics(view.K, view.width, view.height)
    data = bpy.data.cameras.new(name)
    data.sensor_fit = p["sensor_fit"]
    data.sensor_width = p["sensor_width"]
    data.lens = p["lens"]
    data.shift_x = p["shift_x"]
    data.shift_y = p["shift_y"]
    data.display_size = display_size
    if clip is not None:
        data.clip_start, data.clip_end = clip
    obj = bpy.data.objects.new(name, data)
    collection.objects.link(obj)
    if parent is not None:
        obj.parent = parent
        obj.matrix_parent_inverse = Matrix.Identity(4)
    obj.matrix_basis = Matrix(blender_camera_matrix_world(view.w2c).tolist())
    obj["da3_view"] = int(view.index)
    obj["da3_K"] = [float(v) for v in np.asarray(view.K).ravel()]
    obj["da3_w2c"] = [float(v) for v in np.asarray(view.w2c).ravel()]
    obj["da3_size"] = [int(view.width), int(view.height)]
    if image is not None:
        data.show_background_images = True
        bg = data.background_images.new()
        bg.image = image
        bg.frame_method = "STRETCH"
        bg.alpha = 0.8
    return obj


def camera_intrinsics(obj):
    """``(K 3×3, width, height)`` stored on a DA3 camera object, or ``None`` for other cameras."""
    if "da3_K" not in obj or "da3_size" not in obj:
        return None
    w, h = obj["da3_size"]
    return np.array(obj["da3_K"], dtype=np.float64).reshape(3, 3), int(w), int(h)


def use_camera(scene, obj):
    """Makes ``obj`` the scene camera and sets the render size (100 %) and pixel aspect its
    intrinsics need (Blender keeps both per scene, not per camera)."""
    scene.camera = obj
    info = camera_intrinsics(obj)
    if info is None:
        return
    K, w, h = info
    p = blender_camera_from_intrinsics(K, w, h)
    r = scene.render
    r.resolution_x, r.resolution_y, r.resolution_percentage = w, h, 100
    r.pixel_aspect_x, r.pixel_aspect_y = p["pixel_aspect_x"], p["pixel_aspect_y"]
