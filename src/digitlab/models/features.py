"""Feature maps for k-NN on 28x28 digits: deskewing by image moments, and principal-component projection.

Both work on rows of 784 pixels (any numeric dtype, 0..255 scale) and return float32, in chunks, so that
memory stays proportional to the chunk, not to the number of images.
"""

from __future__ import annotations

import numpy as np

from ..shapes import N_PIXELS, SIDE
# Where deskew puts each digit's centre of mass (in pixel coordinates, 0..27). MNIST digits were centred
# this way when the database was made (a 20x20 box placed by centre of mass in 28x28).
CENTRE = 14.0


def deskew(X: np.ndarray, *, chunk_size: int = 8192) -> np.ndarray:
    """Straighten slanted digits: shear each image so that its pixel mass has no x-y covariance.

    From the image's first and second moments (centre of mass ``(cy, cx)``, ``var_y``, ``cov_xy``), the slant is
    ``alpha = cov_xy / var_y``: the horizontal drift of the stroke per row. The output pixel at ``(y, x)`` takes
    its value, by bilinear interpolation (zero outside the image), from the input at
    ``(cy + y - c, cx + alpha * (y - c) + x - c)`` with ``c = CENTRE``: the shear is undone and the centre of mass
    moves to the middle of the image. A blank image stays blank. ``X`` is ``(n, 784)``; returns float32
    ``(n, 784)``. Extra memory: about 25 kB per image of a chunk (the float32 image, the sampling grid, the
    result), ~200 MB at the default chunk of 8,192 images.
    """
    X = np.asarray(X)
    if X.ndim != 2 or X.shape[1] != N_PIXELS:
        raise ValueError(f"deskew needs rows of {N_PIXELS} pixels (28x28 images); got shape {X.shape}.")
    out = np.empty(X.shape, dtype=np.float32)
    for start in range(0, len(X), chunk_size):
        out[start:start + chunk_size] = _deskew_chunk(X[start:start + chunk_size])
    return out


def _deskew_chunk(X: np.ndarray) -> np.ndarray:
    import torch
    import torch.nn.functional as F

    img = torch.from_numpy(np.asarray(X, dtype=np.float32).reshape(-1, 1, SIDE, SIDE))
    n = img.shape[0]
    grid32 = torch.arange(SIDE, dtype=torch.float32)
    # Per-row and per-column sums in float32 (exact for integer pixels), then the moments in float64: the
    # raw second moment minus mass * cy * cx cancels, and float32 would keep too few digits of the difference.
    plane = img[:, 0]
    rows = plane.sum(dim=2).double()  # (n, 28): mass of each row
    cols = plane.sum(dim=1).double()
    row_x = (plane @ grid32).double()  # (n, 28): sum over each row of pixel * x
    grid = grid32.double()
    mass = rows.sum(dim=1)
    blank = mass <= 0
    safe = torch.where(blank, torch.ones_like(mass), mass)
    cy = torch.where(blank, torch.full_like(mass, CENTRE), rows @ grid / safe)
    cx = torch.where(blank, torch.full_like(mass, CENTRE), cols @ grid / safe)
    var_y = rows @ (grid * grid) / safe - cy * cy
    cov_xy = row_x @ grid / safe - cy * cx
    alpha = torch.where(var_y > 1e-9, cov_xy / var_y.clamp_min(1e-9), torch.zeros_like(var_y))
    # The map (y, x) -> (cy + y - c, cx + alpha (y - c) + x - c) as an affine map of grid_sample's coordinates
    # u = p / h - 1 (h = 13.5, so -1 and 1 are the centres of the first and last pixels):
    # ux' = ux + alpha uy + (cx - alpha (c - h) - (c - h)) / h - 1,  uy' = uy + (cy - (c - h)) / h - 1.
    h = (SIDE - 1) / 2
    shift = CENTRE - h
    u = torch.linspace(-1.0, 1.0, SIDE)
    tx = ((cx - alpha * shift - shift) / h - 1.0).float()[:, None, None]
    ty = ((cy - shift) / h - 1.0).float()[:, None, None]
    sample_at = torch.empty(n, SIDE, SIDE, 2)  # built by broadcasting: F.affine_grid's batched matmul is 4x slower
    sample_at[..., 0] = u[None, None, :] + alpha.float()[:, None, None] * u[None, :, None] + tx
    sample_at[..., 1] = u[None, :, None] + ty
    # One bilinear resampling call for the whole chunk. Measured: ~0.05 ms of CPU per image, moments included;
    # scipy's affine_transform called image by image costs ~0.03 ms for the resampling alone, so this is about
    # even, but stays vectorised and needs no Python loop over images.
    out = F.grid_sample(img, sample_at, mode="bilinear", padding_mode="zeros", align_corners=True)
    return out.reshape(n, N_PIXELS).numpy()


def fit_pca(X, n_components: int, *, chunk_size: int = 16384) -> tuple[np.ndarray, np.ndarray]:
    """Principal axes of the rows of ``X``: returns ``(mean, components)``, float64 ``(d,)`` and ``(d, n_components)``.

    ``X`` is an array or an iterable of arrays with the same columns (e.g. an augmented training set produced
    block by block, so that it never exists whole). One pass accumulates the sum and the cross-products in
    float64, about the first block's mean so that little cancels (memory: a d x d matrix plus one chunk); the
    covariance is then diagonalised, and each axis's sign fixed (largest-magnitude loading positive) so that
    refits agree. ``n_components`` is capped at the number of features.
    """
    blocks = [X] if isinstance(X, np.ndarray) else X
    n = 0
    pivot = total = cross = None
    for block in blocks:
        block = np.asarray(block)
        for start in range(0, len(block), chunk_size):
            part = block[start:start + chunk_size].astype(np.float64)
            if pivot is None:
                pivot = part.mean(axis=0)
                total = np.zeros_like(pivot)
                cross = np.zeros((len(pivot), len(pivot)))
            part -= pivot
            n += len(part)
            total += part.sum(axis=0)
            cross += part.T @ part
    if n == 0:
        raise ValueError("fit_pca needs at least one row.")
    d = len(pivot)
    n_components = max(1, min(int(n_components), d))
    centre = total / n
    cov = (cross - n * np.outer(centre, centre)) / max(n - 1, 1)
    from threadpoolctl import threadpool_limits

    # One BLAS thread: right after PyTorch work, OpenBLAS's threads fought PyTorch's spinning OpenMP threads
    # and the threaded eigh took 14 s instead of 0.2 s on the 2-core machine.
    with threadpool_limits(limits=1, user_api="blas"):
        values, vectors = np.linalg.eigh(cov)  # ascending
    components = vectors[:, ::-1][:, :n_components].copy()
    flip = np.sign(components[np.abs(components).argmax(axis=0), np.arange(n_components)])
    components *= np.where(flip == 0, 1.0, flip)
    return pivot + centre, components


def project(X: np.ndarray, mean: np.ndarray, components: np.ndarray, *, chunk_size: int = 16384) -> np.ndarray:
    """Coordinates of the rows of ``X`` on the principal axes, float32 ``(n, n_components)``.

    Computed in float64, then rounded to float32: BLAS may sum a row's products in a different order when it
    is alone (a matrix-vector product) than when it is in a batch, and in float32 that changed the last bit, so
    an image could be at a distance 1e-4 from its own copy depending on the batch. Rounded from float64, the
    result is the same whatever the batch (the float64 product costs ~10 ms per 10,000 images at 50 components).
    """
    X = np.asarray(X)
    out = np.empty((len(X), components.shape[1]), dtype=np.float32)
    for start in range(0, len(X), chunk_size):
        block = X[start:start + chunk_size].astype(np.float64) - mean
        out[start:start + len(block)] = block @ components
    return out
