"""Coordinate conventions: the prediction's OpenCV frames → Blender's, in one place.

The prediction (npz, PLY, job results) uses OpenCV axes everywhere:

- camera frame: x right, y down, z forward (the camera looks down +z);
- extrinsics ``w2c`` are world→camera ``[R | t]`` (3×4), ``x_cam = R · x_world + t``;
- intrinsics ``K`` are 3×3 in pixels of the processed image, with the centre of pixel
  ``(u, v)`` at image coordinates ``(u, v)`` (so the top-left pixel's centre is ``(0, 0)``);
- the world frame is the prediction's (usually the first camera's frame), y down, z forward.

Blender uses:

- world: right-handed, Z up;
- camera object: looks down its local −Z, +Y up, +X right;
- render pixels: ``(0, 0)`` is the bottom-left corner of the image, pixel ``i`` spans
  ``[i, i + 1)`` (its centre at ``i + 0.5``).

The world change keeps x, sends OpenCV's forward (+z) to Blender's +Y and OpenCV's down (+y)
to Blender's −Z (a rotation of −90° about x): ``p_blender = OPENCV_TO_BLENDER_WORLD · p_opencv``.
Units are unchanged (the model's units; metres for metric predictions).
"""

import math

import numpy as np

#: World axes change, OpenCV world (x right, y down, z forward) → Blender world (Z up):
#: (x, y, z) → (x, z, −y). A rotation (determinant +1), so handedness is kept.
OPENCV_TO_BLENDER_WORLD = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0], [0.0, -1.0, 0.0]])

#: Camera axes change, Blender camera (x right, y up, looking down −z) → OpenCV camera
#: (x right, y down, z forward): ``x_opencv_cam = BLENDER_TO_OPENCV_CAMERA · x_blender_cam``.
BLENDER_TO_OPENCV_CAMERA = np.diag([1.0, -1.0, -1.0])

#: Default sensor width (mm) of the Blender cameras; only the ratio lens / sensor matters.
DEFAULT_SENSOR_WIDTH = 36.0


def world_opencv_to_blender(points):
    """Points ``[..., 3]`` in the prediction's OpenCV world → Blender world (same units), float64."""
    p = np.asarray(points, dtype=np.float64)
    return p @ OPENCV_TO_BLENDER_WORLD.T


def world_matrix_opencv_to_blender():
    """4×4 of :data:`OPENCV_TO_BLENDER_WORLD` (for object transforms that keep raw OpenCV data)."""
    m = np.eye(4)
    m[:3, :3] = OPENCV_TO_BLENDER_WORLD
    return m


def camera_to_world(w2c):
    """4×4 camera→world (OpenCV world, OpenCV camera axes) of a 3×4 world→camera ``[R | t]``.

    Inverted as a 4×4 matrix (not ``Rᵀ``), so a slightly non-orthonormal float32 ``R`` is
    inverted exactly.
    """
    e = np.eye(4)
    e[:3, :4] = np.asarray(w2c, dtype=np.float64).reshape(3, 4)
    return np.linalg.inv(e)


def blender_camera_matrix_world(w2c):
    """The Blender ``matrix_world`` (4×4, float64) of the camera whose OpenCV extrinsics are ``w2c``.

    ``w2c`` is 3×4 world→camera ``[R | t]`` in OpenCV axes (x right, y down, z forward) in the
    prediction's world. The result maps Blender camera coordinates (x right, y up, looking down
    −z) to Blender world coordinates (Z up)::

        M = W · inv([R | t; 0 0 0 1]) · diag(1, −1, −1, 1)

    with ``W`` = :func:`world_matrix_opencv_to_blender`. This is the only place where camera
    poses change convention.
    """
    flip = np.eye(4)
    flip[:3, :3] = BLENDER_TO_OPENCV_CAMERA
    return world_matrix_opencv_to_blender() @ camera_to_world(w2c) @ flip


def opencv_w2c_from_blender_matrix_world(matrix_world):
    """Inverse of :func:`blender_camera_matrix_world`: 3×4 OpenCV world→camera of a Blender camera.

    ``matrix_world`` is the camera object's 4×4 (scale is normalised away, as Blender's renderer
    does).
    """
    m = np.array(matrix_world, dtype=np.float64).reshape(4, 4)
    for c in range(3):
        m[:3, c] /= np.linalg.norm(m[:3, c])
    flip = np.eye(4)
    flip[:3, :3] = BLENDER_TO_OPENCV_CAMERA
    c2w = np.linalg.inv(world_matrix_opencv_to_blender()) @ m @ flip
    return np.linalg.inv(c2w)[:3, :4]


def blender_camera_from_intrinsics(K, width, height, sensor_width=DEFAULT_SENSOR_WIDTH):
    """Blender camera settings that reproduce the OpenCV intrinsics ``K`` (3×3, pixels).

    ``width`` × ``height`` is the image the intrinsics belong to (the processed image). The camera
    uses ``sensor_fit = 'HORIZONTAL'``, so:

    - ``lens = fx · sensor_width / width`` (mm, with ``sensor_width`` in mm);
    - non-square pixels (``fx ≠ fy``) need the scene's pixel aspect: ``pixel_aspect_x /
      pixel_aspect_y = fy / fx`` (both ≥ 1 as Blender requires) — per scene, so
      :func:`~da3_blender.blender.cameras.use_camera` sets it when a camera becomes active;
    - ``shift_x = ((width − 1) / 2 − cx) / width`` and
      ``shift_y = (cy − (height − 1) / 2) · (fx / fy) / width`` (Blender measures both shifts in
      units of the horizontal frame, and its y axis points up; OpenCV's pixel centres sit at
      integer coordinates, Blender's at ``i + 0.5``).

    Returns a dict with ``lens``, ``sensor_width``, ``sensor_fit``, ``shift_x``, ``shift_y``,
    ``pixel_aspect_x``, ``pixel_aspect_y``, ``resolution_x``, ``resolution_y``.
    Raises ``ValueError`` for a non-positive focal length or size.
    """
    K = np.asarray(K, dtype=np.float64).reshape(3, 3)
    fx, fy, cx, cy = K[0, 0], K[1, 1], K[0, 2], K[1, 2]
    if not (fx > 0 and fy > 0 and width > 0 and height > 0 and math.isfinite(fx) and math.isfinite(fy)):
        raise ValueError("intrinsics need fx, fy > 0 and a positive image size, got fx=%r fy=%r size=%rx%r" % (fx, fy, width, height))
    ycor = fx / fy
    if fy >= fx:
        aspect_x, aspect_y = fy / fx, 1.0
    else:
        aspect_x, aspect_y = 1.0, fx / fy
    return {
        "lens": fx * sensor_width / width,
        "sensor_width": float(sensor_width),
        "sensor_fit": "HORIZONTAL",
        "shift_x": ((width - 1) / 2.0 - cx) / width,
        "shift_y": (cy - (height - 1) / 2.0) * ycor / width,
        "pixel_aspect_x": aspect_x,
        "pixel_aspect_y": aspect_y,
        "resolution_x": int(width),
        "resolution_y": int(height),
    }


def intrinsics_from_blender_camera(lens, sensor_width, shift_x, shift_y, width, height, pixel_aspect_x=1.0, pixel_aspect_y=1.0):
    """Inverse of :func:`blender_camera_from_intrinsics` (``sensor_fit = 'HORIZONTAL'``): 3×3 ``K``."""
    fx = lens * width / sensor_width
    fy = fx * pixel_aspect_x / pixel_aspect_y
    cx = (width - 1) / 2.0 - shift_x * width
    cy = (height - 1) / 2.0 + shift_y * width * (fy / fx)
    return np.array([[fx, 0.0, cx], [0.0, fy, cy], [0.0, 0.0, 1.0]])


def project_opencv(K, w2c, points):
    """Pixel coordinates ``[..., 2]`` (OpenCV: ``(u, v)``, centre of the top-left pixel at 0, 0)
    of world points ``[..., 3]`` (OpenCV world), and their depth ``z`` (camera units)."""
    p = np.asarray(points, dtype=np.float64)
    e = np.asarray(w2c, dtype=np.float64).reshape(3, 4)
    cam = p @ e[:, :3].T + e[:, 3]
    uvw = cam @ np.asarray(K, dtype=np.float64).reshape(3, 3).T
    return uvw[..., :2] / uvw[..., 2:3], cam[..., 2]


def blender_view_to_opencv_pixel(x, y, width, height):
    """Blender's normalised camera-view coordinates (``world_to_camera_view``: 0..1, origin at the
    bottom-left corner) → OpenCV pixel coordinates (origin at the centre of the top-left pixel)."""
    return x * width - 0.5, (1.0 - y) * height - 0.5
