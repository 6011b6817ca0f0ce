"""What a net trains on, drawn afresh for each batch on the batch's device: random affine distortion, and
noise as :mod:`digitlab.data.noise` defines it."""

from __future__ import annotations

import math

import torch
from torch.nn import functional as F

from ...data.noise import Noise


def random_affine(x: torch.Tensor, generator: torch.Generator, rotation: float, zoom: float,
                  shift: float) -> torch.Tensor:
    """Rotate by up to ``rotation`` degrees, scale by up to ``zoom`` (a fraction) and shift by up to
    ``shift`` pixels, independently per image; x is (n, 1, H, W), background at its border value."""
    n, _, h, w = x.shape
    u = torch.rand(n, 4, generator=generator, device=x.device) * 2 - 1  # uniform in [-1, 1]
    angle = u[:, 0] * math.radians(rotation)
    scale = 1 + u[:, 1] * zoom
    # affine_grid maps output coordinates to input ones on [-1, 1]: dividing by the scale zooms in.
    cos, sin = torch.cos(angle) / scale, torch.sin(angle) / scale
    tx, ty = u[:, 2] * shift * 2 / w, u[:, 3] * shift * 2 / h
    theta = torch.stack([torch.stack([cos, -sin, tx], 1), torch.stack([sin, cos, ty], 1)], 1)
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    return F.grid_sample(x, grid, mode="bilinear", padding_mode="border", align_corners=False)


def add_noise(clean: torch.Tensor, noise: Noise, generator: torch.Generator) -> torch.Tensor:
    """``clean`` pixels (float, 0..255) plus the noise ``noise`` describes, as ``Noise.apply`` adds it (unclipped,
    integers for uniform), drawn with ``generator`` on the tensor's own device: no copy to the CPU."""
    kw = dict(generator=generator, device=clean.device)
    if noise.kind == "uniform":
        return clean + torch.randint(0, int(noise.amount), clean.shape, dtype=clean.dtype, **kw)
    if noise.kind == "gaussian":
        return clean + torch.randn(clean.shape, dtype=clean.dtype, **kw) * (noise.amount * 255.0)
    if noise.kind == "saltpepper":
        hit = torch.rand(clean.shape, **kw) < noise.amount
        white = torch.rand(clean.shape, **kw) < 0.5
        return torch.where(hit, white.to(clean.dtype) * 255.0, clean)
    return clean.clone()


__all__ = ["random_affine", "add_noise"]
