"""Make user images (PNG, JPEG, ...) look like MNIST digits, the way the original database was prepared.

Steps: grey; inverted when the digit is dark on a light background (judged by the border); background
level removed and contrast stretched; the ink found robustly; cropped to it; a pen far finer or bolder than
MNIST's replaced by an MNIST-like one (``THIN``, ``THICK``); fitted into a 20x20 box keeping the aspect ratio
(anti-aliased); placed in a 28x28 field so that its centre of mass sits at the centre.

Finding the ink: pixels at least ``INK`` of the brightest are ink; straight ruled lines spanning most of the
image are removed (except where a stroke crosses them); the rest is split into connected marks
(``scipy.ndimage.label``). The largest mark is the digit; marks of less than ``SPECK`` of its ink (specks,
dust), marks farther from it than ``NEAR`` times its size, and other digit-sized marks beside it are ignored,
and what is ignored is erased before cropping. Several digit-sized marks, or one much wider than tall, give
a warning: only one digit per image is read.

Files are bounded before decoding (``MAX_PIXELS``, from the header); float images (TIFF mode "F") in 0..1
are scaled to 0..255 and 16-bit ones scaled down; JPEG EXIF rotation is applied; of an animation (GIF,
multi-page TIFF) the frame with the most ink is read, with a warning.
"""

from __future__ import annotations

import math
import os
import struct
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError
from scipy import ndimage

from ..errors import DataError
from ..shapes import BOX, IMAGE_SHAPE, N_PIXELS

INK = 0.2  # a pixel is ink when at least this fraction of the brightest one (after background removal)
EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp", ".tif", ".tiff")
MAX_PIXELS = 40_000_000  # larger images are refused from their header, before decoding (12,000^2 would take 2 GB)
WORK_PIXELS = 4_000_000  # larger ones are shrunk by a whole factor first (JPEG while decoding): the digit ends 20x20
MAX_FRAMES = 64  # frames of an animation looked at, at most
SPECK = 0.05  # a mark with less than this fraction of the digit's ink is a speck, ignored
NEAR = 0.25  # a mark farther from the digit than this many times the digit's size is ignored
DIGIT_SIZED = 0.35  # a separate mark with this fraction of the digit's ink and half its height is another digit
LINE_SPAN = 0.8  # a straight band of ink spanning this fraction of the image's width (height) may be a ruled line
LINE_THICK = 0.04  # ... if no thicker than this fraction of the image's height (width), 3 pixels at least
WIDE = 1.6  # a digit this many times wider than tall is probably several digits joined
MAX_DIGITS = 6  # more digit-sized marks than this are noise, not a number written
NOISY_INK = 0.5  # more than this fraction of the image as ink (or more ignored ink than digit): "mostly noise"
# Stroke widths in pixels of MNIST's 20x20 box (see _stroke_width). MNIST's training digits: 1 % below 1.4, 25 %
# below 2.1, median 2.5, 75 % below 3.0, 1 % above 4.9. A digit drawn finer than THIN (a fine pen) is thickened
# to THIN_TO, one bolder than THICK (a marker) thinned to THICK_TO, the quartiles; MNIST's central 98 % are left
# exactly as they were. Measured in benchmarks/RESULTS.md, "Outside MNIST".
THIN, THIN_TO = 1.4, 2.1
THICK, THICK_TO = 4.9, 3.0
STROKE_BOX = 4 * BOX  # strokes are measured and changed with the digit fitted into 80x80
# Pillow's ways of failing on a damaged file
_PILLOW_ERRORS = (UnidentifiedImageError, Image.DecompressionBombError, OSError, ValueError, SyntaxError,
                  EOFError, struct.error, IndexError, KeyError, TypeError, ZeroDivisionError)
_EIGHT = np.ones((3, 3), bool)  # 8-connectivity: diagonal neighbours belong to the same mark


@dataclass(frozen=True)
class PreparedImage:
    """One image made MNIST-like, with what was noticed on the way."""

    pixels: np.ndarray  # (784,) uint8, white digit on black: what a model sees
    warnings: tuple[str, ...] = ()  # short sentences to read after the image's name: "a.png holds 2 ..."
    components: int = 0  # separate marks in the ink (ruled lines removed first)
    ignored: int = 0  # marks left out: specks, marks far from the digit, other digits
    lines: int = 0  # ruled lines removed
    ink_fraction: float = 0.0  # the digit's ink as a fraction of the image's pixels
    inverted: bool = False  # the image was dark on light
    frame: int | None = None  # for an animation, the frame read (from 0)


@dataclass
class ImageSet:
    """Images read from a file or a folder: the rows of those that could be read, and what went wrong."""

    X: np.ndarray  # (n, 784) uint8, one row per image read
    names: list[str]  # the n names, relative to the folder given (with sub-folders), sorted
    warnings: dict[str, tuple[str, ...]] = field(default_factory=dict)  # name -> sentences, for images read
    errors: dict[str, str] = field(default_factory=dict)  # name -> one sentence, for images not read

    def __iter__(self):
        """``X, names = load_images(path)`` keeps working (the shape of the older API)."""
        return iter((self.X, self.names))


def to_mnist(image: str | os.PathLike | np.ndarray | Image.Image) -> np.ndarray:
    """One image (file, array or Pillow image) as an MNIST-like (784,) uint8 row, white on black."""
    return prepare_image(image).pixels


def prepare_image(image: str | os.PathLike | np.ndarray | Image.Image) -> PreparedImage:
    """One image (file, array or Pillow image) made MNIST-like, with warnings; DataError if blank or unreadable.

    Arrays: 2-D grey or 3-D with 1, 3 (RGB) or 4 (RGBA) channels; floats in 0..1 count as fractions of white.
    """
    label = str(image) if isinstance(image, (str, os.PathLike)) else "image"
    if isinstance(image, np.ndarray):
        grey, notes, frame = _array_grey(image, label), (), None
    elif isinstance(image, Image.Image):
        grey, notes, frame = _pillow_guarded(image, label)
    else:
        grey, notes, frame = _read_file(Path(image))
    return _prepare(grey, label, notes, frame)


def load_images(path: str | os.PathLike, recursive: bool = True) -> ImageSet:
    """An image file, or every image in a folder (and its sub-folders when ``recursive``), made MNIST-like.

    In a folder, an image that cannot be read or is blank goes to ``errors`` and the others are read (an
    ImageSet may hold no rows, only errors); files and folders whose names start with "." are skipped. A
    single file that fails raises its DataError, as does a folder holding no image file.
    """
    path = Path(path)
    if not path.is_dir():
        if not path.exists():
            raise DataError(f"{path}: file not found.")
        prepared = prepare_image(path)
        notes = {path.name: prepared.warnings} if prepared.warnings else {}
        return ImageSet(prepared.pixels[None, :], [path.name], notes)
    files = _image_files(path, recursive)
    if not files:
        where = "folder and its sub-folders hold" if recursive else "folder holds"
        raise DataError(f"{path}: the {where} no images ({', '.join(EXTENSIONS)}).")
    result = ImageSet(np.empty((0, N_PIXELS), np.uint8), [])
    rows = []
    for name in files:
        try:
            prepared = prepare_image(path / name)
        except DataError as exc:
            result.errors[name] = str(exc)
            continue
        rows.append(prepared.pixels)
        result.names.append(name)
        if prepared.warnings:
            result.warnings[name] = prepared.warnings
    if rows:
        result.X = np.stack(rows)
    return result


def _image_files(folder: Path, recursive: bool) -> list[str]:
    """Names (relative, with "/") of the image files under ``folder``, sorted; hidden entries skipped."""
    names = []
    for root, dirs, files in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not d.startswith(".")) if recursive else []
        prefix = Path(root).relative_to(folder)
        names.extend((prefix / f).as_posix() for f in files
                     if not f.startswith(".") and os.path.splitext(f)[1].lower() in EXTENSIONS)
    return sorted(names)


# ----------------------------------------------------------------------------- reading


def _read_file(path: Path) -> tuple[np.ndarray, tuple[str, ...], int | None]:
    """Open a file, refuse it from its header if too large, and decode it to grey; failures name the file."""
    try:
        with warnings.catch_warnings():
            # the size is checked in _decode, ourselves; a damaged file's "Corrupt EXIF data" is no news
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            warnings.simplefilter("ignore", UserWarning)
            with Image.open(path) as img:
                return _decode(img, str(path))
    except FileNotFoundError:
        raise DataError(f"{path}: file not found.") from None
    except IsADirectoryError:
        raise DataError(f"{path}: is a folder, expected an image.") from None
    except Image.DecompressionBombError:
        raise DataError(f"{path}: the image is larger than {MAX_PIXELS / 1e6:g} megapixels, "
                        f"more than digitlab reads; scale it down first.") from None
    except _PILLOW_ERRORS as exc:
        raise DataError(f"{path}: cannot read the image ({_why(exc)}).") from None


def _pillow_guarded(img: Image.Image, label: str) -> tuple[np.ndarray, tuple[str, ...], int | None]:
    try:
        return _decode(img, label)
    except _PILLOW_ERRORS as exc:
        raise DataError(f"{label}: cannot read the image ({_why(exc)}).") from None


def _why(exc: Exception) -> str:
    if isinstance(exc, UnidentifiedImageError):
        return "not an image Pillow can read"
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror.lower()
    return str(exc)[:80] or type(exc).__name__


def _decode(img: Image.Image, label: str) -> tuple[np.ndarray, tuple[str, ...], int | None]:
    """Grey pixels of an opened image (the frame with the most ink for an animation), checked for size first."""
    width, height = img.size
    if width * height > MAX_PIXELS:
        raise DataError(f"{label}: the image is {width:,} x {height:,} pixels, more than the "
                        f"{MAX_PIXELS / 1e6:g} megapixels digitlab reads; scale it down first.")
    if width * height == 0:
        raise DataError(f"{label}: the image has no pixels ({width} x {height}).")
    count = getattr(img, "n_frames", 1)
    if count <= 1:
        if img.format == "JPEG" and width * height > WORK_PIXELS:
            factor = math.sqrt(width * height / WORK_PIXELS)
            img.draft("L", (int(width / factor), int(height / factor)))  # the decoder scales by 1/2, 1/4 or 1/8
        img.load()
        return _pillow_grey(ImageOps.exif_transpose(img)), (), None
    looked = min(count, MAX_FRAMES, max(1, MAX_PIXELS // (width * height)))
    best, best_ink, best_frame = None, -1, 0
    for frame in range(looked):
        img.seek(frame)
        grey = _pillow_grey(img)
        ink = int((_light_on_dark(grey)[0] >= INK * 255).sum())
        if ink > best_ink:
            best, best_ink, best_frame = grey, ink, frame
    looked_at = f"{count} frames" if looked == count else f"{count} frames, the first {looked} looked at"
    note = f"is animated ({looked_at}); the frame with the most ink (frame {best_frame + 1}) is read"
    return best, (note,), best_frame


def _pillow_grey(image: Image.Image) -> np.ndarray:
    """A Pillow image as float32 grey 0..255: transparency flattened, floats and 16-bit values scaled."""
    if image.mode in ("F", "I") or image.mode.startswith("I;"):
        return _scaled(np.asarray(image))
    if image.mode in ("RGBA", "LA", "PA", "RGBa", "La") or (image.mode == "P" and "transparency" in image.info):
        image = _flatten_alpha(image.convert("RGBA"))
    return np.asarray(image.convert("L"), dtype=np.float32)


def _array_grey(image: np.ndarray, label: str) -> np.ndarray:
    """A 2-D grey or 3-D (1, 3 or 4 channel) array as float32 grey 0..255."""
    if image.dtype.kind not in "biuf":
        raise DataError(f"{label}: an array of {image.dtype} is not an image; expected numbers.")
    if image.ndim == 3 and image.shape[2] == 1:
        image = image[..., 0]
    if image.ndim == 2:
        grey = _scaled(image)
    elif image.ndim == 3 and image.shape[2] in (3, 4):
        grey = _pillow_grey(Image.fromarray(np.rint(_scaled(image)).astype(np.uint8)))
    else:
        raise DataError(f"{label}: an array of shape {image.shape} is not an image; "
                        f"expected (height, width) or (height, width, 1, 3 or 4 channels).")
    if grey.size == 0:
        raise DataError(f"{label}: the image has no pixels ({'x'.join(map(str, image.shape))}).")
    return grey


def _scaled(values: np.ndarray) -> np.ndarray:
    """Numbers as a new float32 array 0..255: booleans and floats in 0..1 are fractions of white; 16-bit (or
    larger) integers are scaled down; NaN and infinities are black."""
    kind = values.dtype.kind
    grey = np.array(values, dtype=np.float32)  # a copy: the caller's array is never changed
    if grey.size == 0 or (kind == "u" and values.dtype.itemsize == 1):
        return grey
    if kind == "f":
        np.nan_to_num(grey, copy=False, nan=0.0, posinf=0.0, neginf=0.0)
    high = grey.max()
    if kind == "b" or (kind == "f" and grey.min() >= 0 and high <= 1.0):
        grey *= 255.0
    elif high > 255:
        grey *= 255.0 / (65535.0 if high <= 65535 else float(high))
    return np.clip(grey, 0, 255, out=grey)


def _flatten_alpha(rgba: Image.Image) -> Image.Image:
    """Composite on white when the visible strokes are dark, on black when they are light."""
    array = np.asarray(rgba, dtype=np.float32)
    opaque = array[..., 3] > 127
    strokes_dark = opaque.any() and array[..., :3][opaque].mean() < 128
    background = Image.new("RGBA", rgba.size, (255, 255, 255, 255) if strokes_dark else (0, 0, 0, 255))
    return Image.alpha_composite(background, rgba)


# ----------------------------------------------------------------------------- finding the digit


def _prepare(grey: np.ndarray, label: str, notes: tuple[str, ...], frame: int | None) -> PreparedImage:
    """Find the digit in a grey image, erase what is not it, and fit it into MNIST's 28x28 field."""
    grey, inverted = _light_on_dark(_shrunk(grey))
    all_ink = grey >= INK * 255 if grey.max() > 0 else np.zeros(grey.shape, bool)
    lines, n_lines = _ruled_lines(all_ink)
    labels, n = ndimage.label(all_ink & ~lines, structure=_EIGHT)
    found = _select(labels, n, grey.shape) if n else None
    if found is None:
        raise DataError(f"{label}: the image is blank, no digit found.")
    keep, ignored, found_notes = found
    stray = all_ink & ~keep  # ink that is not the digit: erased with its fringe (a clean drawing has none)
    cleaned = np.where(ndimage.binary_dilation(stray, structure=_EIGHT) & ~keep, 0.0, grey) if stray.any() else grey
    rows, cols = np.flatnonzero(keep.any(axis=1)), np.flatnonzero(keep.any(axis=0))
    digit = cleaned[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1]
    digit = digit * (255.0 / digit.max())
    ink_fraction = float(keep.mean())
    if all_ink.mean() > NOISY_INK:
        found_notes += ("is mostly noise (most of it reads as ink); the digit read may be wrong",)
    return PreparedImage(_centre(_fit(_usual_stroke(digit))).reshape(N_PIXELS), notes + found_notes, n, ignored,
                         n_lines, ink_fraction, inverted, frame)


def _select(labels: np.ndarray, n: int, shape: tuple[int, int]) -> tuple[np.ndarray, int, tuple[str, ...]] | None:
    """The digit's marks as a mask, how many marks were ignored, and warnings; None when nothing is left."""
    sizes = np.bincount(labels.ravel(), minlength=n + 1)[1:]
    boxes = ndimage.find_objects(labels)
    candidates = [i for i in range(n) if not _line_like(boxes[i], sizes[i], shape)]
    if not candidates:
        return None
    main = max(candidates, key=lambda i: sizes[i])
    top, left, bottom, right = _edges(boxes[main])
    reach = NEAR * max(bottom - top, right - left)
    kept, digits, noise = [main], [main], 0
    for i in candidates:
        if i == main:
            continue
        t, l, b, r = _edges(boxes[i])
        if sizes[i] >= DIGIT_SIZED * sizes[main] and b - t >= 0.5 * (bottom - top) and _apart(boxes[i], boxes[main]):
            digits.append(i)
        elif sizes[i] < SPECK * sizes[main] or max(t - bottom, top - b, l - right, left - r) > reach:
            noise += sizes[i]
        else:
            kept.append(i)
    chosen = np.zeros(n + 1, bool)
    chosen[np.asarray(kept) + 1] = True
    keep = chosen[labels]
    if len(digits) > MAX_DIGITS:  # a scatter of similar blobs is noise, not a number
        noise += sum(sizes[i] for i in digits[1:])
        digits = digits[:1]
    notes = _mark_warnings([boxes[i] for i in digits], boxes[main])
    if noise > keep.sum():
        notes += ("is mostly noise (specks outweigh the digit); the digit read may be wrong",)
    return keep, n - len(kept), notes


def _edges(box: tuple[slice, slice]) -> tuple[int, int, int, int]:
    return box[0].start, box[1].start, box[0].stop, box[1].stop


def _line_like(box: tuple[slice, slice], size: int, shape: tuple[int, int]) -> bool:
    """Whether a mark is a thin stroke spanning most of the image (a ruled line, slanted or not)."""
    height, width = box[0].stop - box[0].start, box[1].stop - box[1].start
    if width >= LINE_SPAN * shape[1]:
        return size / width <= max(3, LINE_THICK * shape[0])
    if height >= LINE_SPAN * shape[0]:
        return size / height <= max(3, LINE_THICK * shape[1])
    return False


def _apart(box: tuple[slice, slice], main: tuple[slice, slice]) -> bool:
    """Whether two marks are separate digits: their boxes do not meet and together they are wider than tall
    (the two halves of a broken 0 are not)."""
    t, l, b, r = _edges(box)
    top, left, bottom, right = _edges(main)
    meet = t < bottom and top < b and l < right and left < r
    return not meet and max(r, right) - min(l, left) > max(b, bottom) - min(t, top)


def _mark_warnings(digits: list[tuple[slice, slice]], main: tuple[slice, slice]) -> tuple[str, ...]:
    """Warnings for several digit-sized marks, or for one mark much wider than tall."""
    top, left, bottom, right = _edges(main)
    if len(digits) > 1:
        side_by_side = all(b > top and t < bottom for t, _, b, _ in map(_edges, digits))
        if side_by_side:
            return (f"holds {len(digits)} digit-sized marks side by side; only one digit per image is read",)
        return (f"holds {len(digits)} separate digit-sized marks; only the largest is read",)
    if right - left > WIDE * (bottom - top):
        return ("holds a mark much wider than tall, perhaps several digits joined; only one digit per image is read",)
    return ()


def _ruled_lines(ink: np.ndarray) -> tuple[np.ndarray, int]:
    """Pixels of straight ruled lines, apart from where a stroke crosses them, and how many lines.

    A ruled line is a thin band of ink spanning LINE_SPAN of the image's width (or height) that reaches past
    the rest of the ink on both sides; the bar of a tightly cropped 7 does not, and is kept.
    """
    lines = np.zeros_like(ink)
    count = 0
    for view, out in ((ink, lines), (ink.T, lines.T)):
        bands = _long_bands(view)
        if not bands:
            continue
        rest = view.copy()
        for rows, _, _ in bands:
            rest[rows] = False
        cols = np.flatnonzero(rest.any(axis=0))
        margin = max(2.0, 0.05 * view.shape[1])
        for rows, start, stop in bands:
            if not cols.size or (cols[0] - start >= margin and stop - 1 - cols[-1] >= margin):
                out[rows] |= view[rows] & ~_crossing(view, rows)
                count += 1
    return lines, count


def _long_bands(ink: np.ndarray) -> list[tuple[slice, int, int]]:
    """Thin bands of rows each holding a run of ink over LINE_SPAN of the width: (rows, first, last + 1 column)."""
    height, width = ink.shape
    runs = {}
    for r in np.flatnonzero(ink.sum(axis=1) >= LINE_SPAN * width):
        start, stop = _longest_run(ink[r])
        if stop - start >= LINE_SPAN * width:
            runs[r] = (start, stop)
    if not runs:  # most images: no row long enough
        return []
    long_rows = np.zeros(height, bool)
    long_rows[list(runs)] = True
    labelled, _ = ndimage.label(long_rows)
    thick = max(3, LINE_THICK * height)
    bands = []
    for (rows,) in ndimage.find_objects(labelled):
        if rows.stop - rows.start <= thick:
            spans = [runs[r] for r in range(rows.start, rows.stop)]
            bands.append((rows, min(a for a, _ in spans), max(b for _, b in spans)))
    return bands


def _longest_run(row: np.ndarray) -> tuple[int, int]:
    """(start, stop) of the longest run of True in a 1-D boolean array ((0, 0) when none)."""
    edges = np.diff(np.concatenate(([0], row.astype(np.int8), [0])))
    starts, stops = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    if not starts.size:
        return 0, 0
    best = int(np.argmax(stops - starts))
    return int(starts[best]), int(stops[best])


def _crossing(ink: np.ndarray, rows: slice) -> np.ndarray:
    """Columns of a band where a stroke goes through it: ink just above and just below (give or take a pixel)."""
    height = ink.shape[0]
    above = ink[rows.start - 1] if rows.start > 0 else np.zeros(ink.shape[1], bool)
    below = ink[rows.stop] if rows.stop < height else np.zeros(ink.shape[1], bool)
    return ndimage.binary_dilation(above) & ndimage.binary_dilation(below)


# ----------------------------------------------------------------------------- MNIST geometry


def _light_on_dark(grey: np.ndarray) -> tuple[np.ndarray, bool]:
    """Invert a dark-on-light image, then remove the background level and stretch ink to 0..255."""
    border = np.concatenate([grey[0], grey[-1], grey[:, 0], grey[:, -1]])
    inverted = bool(border.mean() > 127)
    if inverted:
        grey = 255.0 - grey
        border = 255.0 - border
    grey = np.clip(grey - float(np.median(border)), 0, None)
    peak = grey.max()
    return (grey * (255.0 / peak) if peak > 0 else grey), inverted


def _shrunk(grey: np.ndarray) -> np.ndarray:
    """A grey image over WORK_PIXELS shrunk by the smallest whole factor that brings it under (box average)."""
    factor = math.ceil(math.sqrt(grey.size / WORK_PIXELS))
    if factor <= 1:
        return grey
    return np.asarray(Image.fromarray(np.ascontiguousarray(grey, dtype=np.float32)).reduce(factor))


def _usual_stroke(digit: np.ndarray) -> np.ndarray:
    """The digit (cropped to its ink, 0..255) redrawn with an MNIST-like pen when its strokes are far thinner
    or thicker than MNIST's (grey dilation or erosion with a disk, at STROKE_BOX); else the digit as given."""
    work = _fit(digit, STROKE_BOX)
    width = _stroke_width(work)
    if THIN <= width <= THICK:
        return digit
    radius = abs((THIN_TO if width < THIN else THICK_TO) - width) / 2 * STROKE_BOX / BOX
    reach = math.ceil(radius)
    y, x = np.mgrid[-reach:reach + 1, -reach:reach + 1]
    disk = x * x + y * y <= radius * radius + 0.5
    if width < THIN:  # the faint grain around the ink (under INK) is left out: dilation would spread it
        changed = ndimage.grey_dilation(np.pad(np.where(work >= INK * work.max(), work, 0.0), reach), footprint=disk)
    else:
        changed = ndimage.grey_erosion(work, footprint=disk, mode="constant", cval=0.0)
    peak = changed.max()
    if peak <= 0:  # nothing left: keep the digit as it was
        return digit
    ink = changed >= INK * peak
    rows, cols = np.flatnonzero(ink.any(axis=1)), np.flatnonzero(ink.any(axis=0))
    return changed[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1] * (255.0 / peak)


def _stroke_width(work: np.ndarray) -> float:
    """The digit's mean stroke width in pixels of MNIST's 20x20 box, from the distance of its ink (half the
    peak or more, once smoothed over a quarter pixel so that a grainy scan's ragged edges count little) to the
    background: across a band w pixels wide that distance averages w / 4 + 1/2."""
    work = ndimage.gaussian_filter(work, STROKE_BOX / BOX / 4)
    ink = np.pad(work >= 0.5 * work.max(), 1)
    distance = ndimage.distance_transform_edt(ink)[ink]
    return 4 * (float(distance.mean()) - 0.5) * BOX / max(work.shape)


def _fit(digit: np.ndarray, box: int = BOX) -> np.ndarray:
    """Resize so the longer side is ``box`` pixels, keeping the aspect ratio, with anti-aliasing."""
    h, w = digit.shape
    scale = box / max(h, w)
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
