"""Data augmentation by whole-pixel shifts (the classification chapter's second exercise), vectorised over all images."""

from __future__ import annotations

import numpy as np

from ..shapes import IMAGE_SHAPE, N_PIXELS

# (dx, dy) of the four one-pixel shifts, in the order shift_augment stacks them: left, right, up, down.
ONE_PIXEL_SHIFTS = ((-1, 0), (1, 0), (0, -1), (0, 1))


def shift_image(images: np.ndarray, dx: int, dy: int) -> np.ndarray:
    """Shift images ``dx`` pixels right and ``dy`` down (negative: left/up), filling with zeros.

    Accepts one image or a stack, as flat 28x28 rows (..., 784) or as (..., H, W); returns the same shape.
    """
    images = np.asarray(images)
    h, w = IMAGE_SHAPE if images.shape[-1] == N_PIXELS else images.shape[-2:]
    stack = images.reshape(-1, h, w)
    out = np.zeros_like(stack)
    if abs(dx) < w and abs(dy) < h:
        out[:, max(dy, 0):h + min(dy, 0), max(dx, 0):w + min(dx, 0)] = \
            stack[:, max(-dy, 0):h - max(dy, 0), max(-dx, 0):w - max(dx, 0)]
    return out.reshape(images.shape)


def shift_augment(X: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The rows of ``X`` followed by their one-pixel shifts left, right, up and down: 5x the rows."""
    X = np.asarray(X)
    X5 = np.concatenate([X, *(shift_image(X, dx, dy) for dx, dy in ONE_PIXEL_SHIFTS)])
    return X5, np.tile(np.asarray(y), 5)
