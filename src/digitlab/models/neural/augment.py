"""What a net trains on, drawn afresh for each batch on the batch's device: random affine distortion, elastic
warping, thicker or thinner strokes and blur (what other writers, pens and scanners do to a digit), and noise as
:mod:`digitlab.data.noise` defines it.

Each takes a batch (n, 1, H, W) of standardised images (any affine map of 0..255 pixels with the background at
each image's minimum) and a ``torch.Generator`` on the batch's device, and draws from it only when it changes
something: a range of 0 leaves the generator, and so the rest of training, as it was.
"""

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


ELASTIC_GRID = 4  # random shifts drawn on a 4x4 grid and interpolated: a smooth field, bends ~9 pixels long


def random_elastic(x: torch.Tensor, generator: torch.Generator, amount: float) -> torch.Tensor:
    """Warp each image by a smooth random displacement field moving pixels by up to ``amount`` pixels (its
    largest shift drawn uniformly in [0, amount]): a wobbly hand rather than a rigid turn."""
    n, _, h, w = x.shape
    kw = dict(generator=generator, device=x.device)
    coarse = torch.randn(n, 2, ELASTIC_GRID, ELASTIC_GRID, **kw)
    # bicubic interpolation is separable: one small matrix per axis (F.interpolate took 4x longer)
    field = torch.einsum("hg,ncgk,wk->nchw", _cubic_rows(h, x.device), coarse, _cubic_rows(w, x.device))
    largest = field.abs().amax(dim=(1, 2, 3), keepdim=True).clamp_min(1e-6)
    field = field / largest * (torch.rand(n, 1, 1, 1, **kw) * amount)
    # grid_sample's coordinates run from -1 to 1 across the image (pixel centres at (2 i + 1) / size - 1): a
    # pixel is 2 / size of them
    ys = (torch.arange(h, device=x.device, dtype=x.dtype) * 2 + 1) / h - 1
    xs = (torch.arange(w, device=x.device, dtype=x.dtype) * 2 + 1) / w - 1
    grid = torch.stack([xs.view(1, 1, w) + field[:, 0] * (2 / w), ys.view(1, h, 1) + field[:, 1] * (2 / h)], dim=-1)
    return F.grid_sample(x, grid, mode="bilinear", padding_mode="border", align_corners=False)


def _cubic_rows(size: int, device: torch.device) -> torch.Tensor:
    """(size, ELASTIC_GRID): bicubic interpolation (corners aligned) from ELASTIC_GRID points to ``size``."""
    eye = torch.eye(ELASTIC_GRID, device=device).view(ELASTIC_GRID, 1, ELASTIC_GRID, 1)
    return F.interpolate(eye, size=(size, 1), mode="bicubic", align_corners=True).view(ELASTIC_GRID, size).T


def random_stroke(x: torch.Tensor, generator: torch.Generator, amount: float) -> torch.Tensor:
    """Make each image's strokes wider by up to ``amount`` pixels, or narrower by up to one (the change drawn
    uniformly in [-min(amount, 1), amount]): grey dilation or erosion (the maximum or minimum over a k x k
    square widens or narrows a stroke by k - 1 pixels), a fraction of a pixel blended between whole steps;
    the ink is then scaled back to its former peak, as ``digitlab.to_mnist`` scales a user's faint digit.
    Narrower stops at one pixel: MNIST's strokes are 2-3 pixels wide, and two pixels less erases many."""
    n = x.shape[0]
    thinnest = min(amount, 1.0)
    change = torch.rand(n, 1, 1, 1, generator=generator, device=x.device, dtype=x.dtype) * (amount + thinnest) \
        - thinnest
    out, before = x, x
    for k in range(1, math.ceil(amount) + 1):  # k pixels wider, weighted by how much of step k the draw covers
        wider = _square_max(x, k + 1)
        out = out + (change - (k - 1)).clamp(0, 1) * (wider - before)
        before = wider
    narrower = -_square_max(-x, 2)
    out = out + (-change).clamp(0, 1) * (narrower - x)
    return _same_peak(out, x)


def _square_max(x: torch.Tensor, k: int) -> torch.Tensor:
    """The maximum over each k x k square (edges repeated outwards; an even k reaches one pixel further right and
    down than left and up), as a maximum over k columns then k rows (max_pool2d with stride 1 took 4x longer)."""
    h, w = x.shape[-2:]
    before, after = (k - 1) // 2, k // 2
    padded = F.pad(x, (before, after, before, after), mode="replicate")
    across = padded[..., :, 0:w]
    for i in range(1, k):
        across = torch.maximum(across, padded[..., :, i:i + w])
    out = across[..., 0:h, :]
    for i in range(1, k):
        out = torch.maximum(out, across[..., i:i + h, :])
    return out


def random_blur(x: torch.Tensor, generator: torch.Generator, sigma: float) -> torch.Tensor:
    """Blur each image with a Gaussian whose standard deviation is drawn uniformly in [0, ``sigma``] pixels
    (edges repeated outwards); the ink is then scaled back to its former peak."""
    n, c, h, w = x.shape
    radius = max(1, math.ceil(3 * sigma))
    sigmas = torch.rand(n, 1, generator=generator, device=x.device) * sigma
    offsets = torch.arange(-radius, radius + 1, device=x.device, dtype=x.dtype)
    kernel = torch.exp(-0.5 * (offsets / sigmas.clamp_min(0.05)) ** 2)  # (n, taps): one kernel per image
    kernel = kernel / kernel.sum(dim=1, keepdim=True)
    flat = F.pad(x.reshape(1, n * c, h, w), (radius,) * 4, mode="replicate")
    taps = kernel.repeat_interleave(c, dim=0)
    flat = F.conv2d(flat, taps.view(n * c, 1, 1, -1), groups=n * c)  # along rows, then along columns
    flat = F.conv2d(flat, taps.view(n * c, 1, -1, 1), groups=n * c)
    return _same_peak(flat.reshape(n, c, h, w).contiguous(memory_format=torch.channels_last), x)


def _same_peak(changed: torch.Tensor, original: torch.Tensor) -> torch.Tensor:
    """``changed`` rescaled per image about the original's background (its minimum) so that its brightest
    pixel is as bright as the original's."""
    dims = tuple(range(1, original.dim()))
    background = original.amin(dim=dims, keepdim=True)
    peak = original.amax(dim=dims, keepdim=True) - background
    now = (changed.amax(dim=dims, keepdim=True) - background).clamp_min(1e-6)
    return background + (changed - background) * (peak / now)


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


__all__ = ["random_affine", "random_elastic", "random_stroke", "random_blur", "add_noise"]
