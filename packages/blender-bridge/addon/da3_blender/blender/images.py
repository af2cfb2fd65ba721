"""NumPy images → Blender images (packed into the .blend, so they survive a save)."""

import bpy
import numpy as np


def image_from_array(name, rgb):
    """A packed Blender image from ``rgb`` ``[H, W, 3]`` uint8 sRGB, top row first (as the
    prediction stores it; Blender's pixel buffer starts at the bottom row)."""
    h, w = rgb.shape[:2]
    img = bpy.data.images.new(name, w, h, alpha=False)
    px = np.ones((h, w, 4), dtype=np.float32)
    px[..., :3] = rgb[::-1].astype(np.float32) / 255.0
    img.pixels.foreach_set(px.ravel())
    img.pack()
    return img


def srgb_to_linear(rgb_u8):
    """``[M, 3]`` uint8 sRGB → ``[M, 4]`` float32 linear RGBA (alpha 1), what Blender's byte colour
    attributes take through ``.color``."""
    c = rgb_u8.astype(np.float32) / 255.0
    lin = np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
    out = np.ones((len(c), 4), dtype=np.float32)
    out[:, :3] = lin
    return out
