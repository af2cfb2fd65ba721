"""What the readers return: a Blender-free description of an imported DA3 result.

Everything here is in the prediction's OpenCV frames (see :mod:`da3_blender.axes`); the Blender
side converts at the boundary. Units are the model's (metres when ``is_metric``).
"""

from dataclasses import dataclass, field
from typing import Dict, List, Optional

import numpy as np


@dataclass
class ViewCamera:
    """One view: its camera and, when the file has them, its per-pixel maps.

    - ``K``: 3×3 intrinsics in pixels of the processed ``width`` × ``height`` image (float64);
    - ``w2c``: 3×4 world→camera ``[R | t]``, OpenCV axes (float64);
    - ``image``: ``[H, W, 3]`` uint8 RGB (the processed image) or ``None``;
    - ``depth``: ``[H, W]`` float32 depth along the camera's z axis (model units) or ``None``;
    - ``conf``: ``[H, W]`` float32 confidence or ``None``.
    """

    index: int
    K: np.ndarray
    w2c: np.ndarray
    width: int
    height: int
    image: Optional[np.ndarray] = None
    depth: Optional[np.ndarray] = None
    conf: Optional[np.ndarray] = None


@dataclass
class PointSet:
    """A coloured point cloud in the OpenCV world.

    - ``xyz``: ``[M, 3]`` float32 positions;
    - ``rgb``: ``[M, 3]`` uint8 sRGB colours or ``None``;
    - ``conf``: ``[M]`` float32 confidence or ``None``;
    - ``view``: ``[M]`` int32 index of the view each point came from, or ``None``;
    - ``footprint``: ``[M]`` float32 world size of one source pixel at the point (depth / focal),
      used to size the displayed points, or ``None``.
    """

    xyz: np.ndarray
    rgb: Optional[np.ndarray] = None
    conf: Optional[np.ndarray] = None
    view: Optional[np.ndarray] = None
    footprint: Optional[np.ndarray] = None

    def __len__(self):
        """Number of points."""
        return int(self.xyz.shape[0])


@dataclass
class GaussianSet:
    """3D Gaussians as stored in a 3DGS PLY: ``xyz`` (``[G, 3]`` float32 means, OpenCV world) and
    every other vertex property under its PLY name, unchanged (``f_dc_*``, ``f_rest_*``, ``opacity``
    as a logit, ``scale_*`` as logs, ``rot_0..3`` = w x y z), plus ``rgb`` (uint8, from the DC
    spherical-harmonic term: ``0.5 + 0.28209479 · f_dc``)."""

    xyz: np.ndarray
    attributes: Dict[str, np.ndarray]
    rgb: np.ndarray

    def __len__(self):
        """Number of points."""
        return int(self.xyz.shape[0])


@dataclass
class Da3Scene:
    """An imported result: cameras, points, Gaussians (each optional), and what is known of units.

    ``is_metric`` is True (metres), False (up to scale) or None (unknown: the file does not say).
    ``warnings`` are shown to the user as Blender warnings after the import.
    """

    name: str
    cameras: List[ViewCamera] = field(default_factory=list)
    points: Optional[PointSet] = None
    gaussians: Optional[GaussianSet] = None
    is_metric: Optional[bool] = None
    sources: List[str] = field(default_factory=list)
    warnings: List[str] = field(default_factory=list)
