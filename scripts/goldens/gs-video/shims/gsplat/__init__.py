"""Stand-in for `gsplat.rasterization`: records the cameras it is called with and returns a
deterministic synthetic image (colour and expected depth) so the frame composition after it
(clamp, depth colouring, hcat/vcat, uint8) can be checked without a GPU.

Synthetic image of the g-th rendered frame (g counts across calls, reset by `reset()`), pixel (x, y):
  rgb[c] = ((7x + 3y + 5g + 11c) mod 23 − 1) / 20      (float32; spans −0.05 … 1.05)
  depth  = 0.5 + ((x + 2y + 3g) mod 17) · 0.25, and 0 where (x + y + g) mod 13 == 0
"""
import torch

CALLS = []
_frame = [0]


def reset():
    CALLS.clear()
    _frame[0] = 0


def synthetic(g, h, w):
    yy, xx = torch.meshgrid(torch.arange(h), torch.arange(w), indexing="ij")
    rgb = torch.stack([((xx * 7 + yy * 3 + g * 5 + c * 11) % 23 - 1).float() / 20 for c in range(3)], dim=-1)
    depth = 0.5 + ((xx + 2 * yy + 3 * g) % 17).float() * 0.25
    depth[(xx + yy + g) % 13 == 0] = 0
    return rgb, depth


def rasterization(means, quats, scales, opacities, colors, viewmats, Ks, width, height, backgrounds=None, render_mode="RGB", packed=True, sh_degree=None, **kwargs):
    v = viewmats.shape[0]
    CALLS.append(
        {
            "viewmats": viewmats.detach().clone(),
            "Ks": Ks.detach().clone(),
            "width": width,
            "height": height,
            "backgrounds": None if backgrounds is None else backgrounds.detach().clone(),
            "render_mode": render_mode,
            "packed": packed,
            "sh_degree": sh_degree,
            "extra": sorted(kwargs),
        }
    )
    out = torch.zeros(v, height, width, 4 if render_mode == "RGB+ED" else 3)
    for i in range(v):
        rgb, depth = synthetic(_frame[0], height, width)
        _frame[0] += 1
        out[i, ..., :3] = rgb
        if render_mode == "RGB+ED":
            out[i, ..., 3] = depth
    alphas = torch.ones(v, height, width, 1)
    return out, alphas, {"radii": torch.zeros(v, means.shape[0], dtype=torch.int32), "means2d": torch.zeros(v, means.shape[0], 2)}
