"""The image distortion model (IDM) distance between 28x28 digits, used to re-rank a few k-NN candidates.

Each pixel of the query is matched to the best of the 3x3 pixels around the same place in the candidate, so
a stroke that sits one pixel off, bends a little or is a little thicker costs almost nothing; pixels are compared
by their local gradients (horizontal and vertical central differences), not their values, so the match follows
the stroke's edges. The idea is Keysers et al.'s (*Deformation models for image recognition*, 2007), here without
their 3x3 gradient context: in a trial on 3,000 validation and 3,000 test digits (deskewed, blurred, Sobel
gradients, every query re-ranked among 16 candidates) the context did no better (98.60-99.00 % against
98.67-98.87 % for 1-4 neighbours) and cost a third more.

The distances come from a loop compiled by numba (``_kernels.py``, and why it is ours): about 3 us of CPU
per (query, candidate) pair on one core of the 2-core machine's Intel Xeon, some 2,000 times what the PCA search
spends per pair: it is meant for a few dozen candidates of the queries that the fast search leaves in doubt
(``knn.py``).
"""

from __future__ import annotations

import numpy as np

from ..shapes import SIDE

WARP = 1  # pixels a query pixel may move to find its match. A warp of 2 (25 positions, 2.8x the cost) gave
# 99.11-99.20 % instead of 99.10-99.18 % (validation and test splits, 1-4 neighbours): not worth its price.


def _float32_rows(images: np.ndarray, n_dims: int) -> np.ndarray:
    images = np.ascontiguousarray(images, dtype=np.float32)
    if images.ndim != n_dims or images.shape[-1] != SIDE * SIDE:
        raise ValueError(f"expected images of {SIDE * SIDE} pixels in {n_dims} dimensions, got shape {images.shape}")
    return images


def gradients(images: np.ndarray) -> np.ndarray:
    """Horizontal and vertical central differences ``I[x+1] - I[x-1]`` (zero outside the image) of rows of 784
    pixels: float32 ``(n, 2, 28, 28)``. Integer pixels give integer gradients, exact in float32."""
    from . import _kernels  # imports numba: not at digitlab's import

    images = _float32_rows(np.reshape(images, (-1, SIDE * SIDE)), 2)
    out = np.zeros((len(images), 2, SIDE, SIDE), dtype=np.float32)
    for image, grad in zip(images, out):
        _kernels.padded_gradients(image, 0, grad)
    return out


def idm_distances(queries: np.ndarray, candidates: np.ndarray, *, warp: int = WARP) -> np.ndarray:
    """Squared IDM distances, float64 ``(c, m)``, between each of ``c`` query images ``(c, 784)`` and its own
    ``m`` candidate images ``(c, m, 784)``: the sum over the query's pixels of the smallest squared gradient
    difference to the candidate's pixels within ``warp`` rows and columns (places outside the image have gradient
    0).

    Not symmetric (the query's pixels are matched, not the candidate's). The per-pixel minima are computed in
    float32 and summed in float64, one pair at a time: for integer pixels every step is exact, and no distance
    depends on how the queries are batched.
    """
    from . import _kernels

    queries, candidates = _float32_rows(queries, 2), _float32_rows(candidates, 3)
    if len(candidates) != len(queries):
        raise ValueError(f"{len(queries)} queries but candidates for {len(candidates)}")
    return _kernels.squared_distances(queries, candidates, int(warp))


def rerank(queries: np.ndarray, candidates: np.ndarray, indices: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """The ``k`` candidates of each query nearest by IDM: distances (the square root of ``idm_distances``,
    ascending) and their ``indices`` (c, k), ties to the lower index. ``candidates`` (c, m, 784) are the images
    of ``indices`` (c, m)."""
    sq = idm_distances(queries, candidates)
    order = np.lexsort((indices, sq), axis=-1)[:, :k]
    return np.sqrt(np.take_along_axis(sq, order, axis=1)), np.take_along_axis(indices, order, axis=1)
