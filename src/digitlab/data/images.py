"""Make user images (PNG, JPEG, ...) look like MNIST digits, the way the original database was prepared.

Steps: grey; inverted when the digit is dark on a light background (judged by the border); background
level removed and contrast stretched; cropped to the ink; fitted into a 20x20 box keeping the aspect
ratio (anti-aliased); placed in a 28x28 field so that its centre of mass sits at the centre.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError
from scipy import ndimage

from ..errors import DataError
from ..shapes import BOX, IMAGE_SHAPE, N_PIXELS

INK = 0.2  # a pixel is ink when at least this fraction of the brightest one (after background removal)
EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp", ".tif", ".tiff")


def to_mnist(image: str | os.PathLike | np.ndarray | Image.Image) -> np.ndarray:
    """One image (file, array or Pillow image) as an MNIST-like (784,) uint8 row, white on black."""
    label = str(image) if isinstance(image, (str, os.PathLike)) else "image"
    grey = _light_on_dark(_grey(image))
    ink = grey >= INK * grey.max() if grey.max() > 0 else np.zeros(grey.shape, bool)
    if not ink.any():
        raise DataError(f"{label}: the image is blank, no digit found.")
    rows, cols = np.flatnonzero(ink.any(axis=1)), np.flatnonzero(ink.any(axis=0))
    digit = grey[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1]
    return _centre(_fit(digit)).reshape(N_PIXELS)


def load_images(path: str | os.PathLike) -> tuple[np.ndarray, list[str]]:
    """An image file, or every image in a folder (sorted by name), as (n, 784) uint8 rows and their names."""
    path = Path(path)
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.is_file() and p.suffix.lower() in EXTENSIONS)
        if not files:
            raise DataError(f"{path}: the folder holds no images ({', '.join(EXTENSIONS)}).")
    elif path.exists():
        files = [path]
    else:
        raise DataError(f"{path}: file not found.")
    X = np.stack([to_mnist(f) for f in files])
    return X, [f.name for f in files]


def _grey(image: str | os.PathLike | np.ndarray | Image.Image) -> np.ndarray:
    """The image as a float32 grey array 0..255; transparency is flattened onto a contrasting background."""
    if isinstance(image, np.ndarray):
        if image.ndim == 2:
            scale = 255.0 if image.dtype.kind == "f" and image.size and image.max() <= 1.0 else 1.0
            return image.astype(np.float32) * scale  # floats in [0, 1] are taken as fractions of white
        image = Image.fromarray(np.clip(image, 0, 255).astype(np.uint8))
    elif not isinstance(image, Image.Image):
        image = _open(Path(image))
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        image = _flatten_alpha(image.convert("RGBA"))
    return np.asarray(image.convert("L"), dtype=np.float32)


def _open(path: Path) -> Image.Image:
    """Open and fully decode an image file, turning any failure into a DataError naming it."""
    try:
        with Image.open(path) as img:
            img.load()
            return img.copy()
    except FileNotFoundError:
        raise DataError(f"{path}: file not found.") from None
    except (UnidentifiedImageError, Image.DecompressionBombError, OSError, ValueError, SyntaxError) as exc:
        reason = "not an image Pillow can read" if isinstance(exc, UnidentifiedImageError) else str(exc) or "unreadable"
        raise DataError(f"{path}: cannot read the image ({reason}).") from None


def _flatten_alpha(rgba: Image.Image) -> Image.Image:
    """Composite on white when the visible strokes are dark, on black when they are light."""
    array = np.asarray(rgba, dtype=np.float32)
    opaque = array[..., 3] > 127
    strokes_dark = opaque.any() and array[..., :3][opaque].mean() < 128
    background = Image.new("RGBA", rgba.size, (255, 255, 255, 255) if strokes_dark else (0, 0, 0, 255))
    return Image.alpha_composite(background, rgba)


def _light_on_dark(grey: np.ndarray) -> np.ndarray:
    """Invert a dark-on-light image, then remove the background level and stretch ink to 0..255."""
    border = np.concatenate([grey[0], grey[-1], grey[:, 0], grey[:, -1]])
    if border.mean() > 127:
        grey = 255.0 - grey
        border = 255.0 - border
    grey = np.clip(grey - np.median(border), 0, None)
    peak = grey.max()
    return grey * (255.0 / peak) if peak > 0 else grey


def _fit(digit: np.ndarray) -> np.ndarray:
    """Resize so the longer side is BOX pixels, keeping the aspect ratio, with anti-aliasing."""
    h, w = digit.shape
    scale = BOX / max(h, w)
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    resized = Image.fromarray(digit.astype(np.float32)).resize(size, Image.Resampling.LANCZOS)
    return np.clip(np.asarray(resized), 0, 255)


def _centre(digit: np.ndarray) -> np.ndarray:
    """Place the digit in a 28x28 field with its centre of mass at the centre (kept fully inside)."""
    field = np.zeros(IMAGE_SHAPE, dtype=np.float32)
    cy, cx = ndimage.center_of_mass(digit)
    h, w = digit.shape
    centre_y, centre_x = IMAGE_SHAPE[0] / 2, IMAGE_SHAPE[1] / 2  # where MNIST puts it: (14, 14)
    top = int(np.clip(round(centre_y - cy), 0, IMAGE_SHAPE[0] - h))
    left = int(np.clip(round(centre_x - cx), 0, IMAGE_SHAPE[1] - w))
    field[top:top + h, left:left + w] = digit
    return np.rint(field).astype(np.uint8)
