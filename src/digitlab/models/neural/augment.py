"""Random affine distortion of image batches, on the fly during training."""

from __future__ import annotations

import math

import torch
from torch.nn import functional as F


def random_affine(x: torch.Tensor, generator: torch.Generator, rotation: float, zoom: float,
                  shift: float) -> torch.Tensor:
    """Rotate by up to ``rotation`` degrees, scale by up to ``zoom`` (a fraction) and shift by up to
    ``shift`` pixels, independently per image; x is (n, 1, H, W), background at its border value."""
    n, _, h, w = x.shape
    u = torch.rand(n, 4, generator=generator) * 2 - 1  # uniform in [-1, 1]
    angle = u[:, 0] * math.radians(rotation)
    scale = 1 + u[:, 1] * zoom
    # affine_grid maps output coordinates to input ones on [-1, 1]: dividing by the scale zooms in.
    cos, sin = torch.cos(angle) / scale, torch.sin(angle) / scale
    tx, ty = u[:, 2] * shift * 2 / w, u[:, 3] * shift * 2 / h
    theta = torch.stack([torch.stack([cos, -sin, tx], 1), torch.stack([sin, cos, ty], 1)], 1)
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    return F.grid_sample(x, grid, mode="bilinear", padding_mode="border", align_corners=False)


__all__ = ["random_affine"]
