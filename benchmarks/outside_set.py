"""The out-of-MNIST check set: digits 0-9 rendered from the TrueType/OpenType fonts Debian packages ship (and
matplotlib's bundled STIX and Computer Modern), distorted, and written as a user's scans would be — dark ink on
light paper, 64-200 pixels, PNG or JPEG — into ``<folder>/<digit>/<font>-<distortion>.<png|jpg>``.

Why fonts: they are other writers, by the dozen, installable anywhere (``apt-get install`` the packages below)
and free to redistribute; handwriting fonts (Because We..., Breip, Ecolier, Femke Klaver, dkg, Humor Sans,
Comic Neue, Dancing Script) come closest to a person's hand, print fonts (DejaVu, Liberation, FreeFont, STIX,
Computer Modern) cover serifs, slants, monospace and weights from ExtraLight to Bold. Fonts are looked for in

    /usr/share/fonts/truetype/{dejavu,liberation,freefont,breip,ecolier-court,femkeklaver,fifthhorseman,humor-sans}
    /usr/share/fonts/opentype/{bwht,comic-neue,dancingscript}
    (Debian: fonts-dejavu, fonts-liberation, fonts-freefont-ttf, fonts-breip, fonts-ecolier-court,
     fonts-femkeklaver, fonts-dkg-handwriting, fonts-humor-sans, fonts-bwht, fonts-comic-neue,
     fonts-dancingscript)
    matplotlib's mpl-data/fonts/ttf: STIXGeneral (4 styles), cmr10, cmb10, cmti10, cmss10, cmtt10, cmmi10

and a font is used only if it draws ten distinct digits that are not its missing-glyph box; a font drawing
exactly what an earlier one draws (breipfont.ttf is Breip.ttf) is left out. With all of them installed (the
benchmark machine, 2026-11-22): 82 fonts, 4 images per font and digit, 3,280 images.

Distortions, one main one per image (the file name says which), each what a real writer, pen or scanner does
to a digit and what MNIST's 500 writers, its one pen width range and its clean scans do not cover:

    plain    the font's digit only, with what every image gets (below)
    rotate   turned by 8-30 degrees either way (a slanted page, a tilted hand)
    shear    slanted by a shear of 0.2-0.55 either way (italic handwriting)
    aspect   squeezed to 55-80 % of its width, or stretched to 125-160 % (narrow and wide hands)
    thick    strokes made 22-34 % of the digit's height wide by dilation (a felt marker; MNIST: about 10-15 %)
    thin     reduced to its skeleton and redrawn 2-5 % of its height wide (a fine pen, a hairline)
    blur     Gaussian blur of 3-8 % of the digit's height (a phone camera out of focus)
    elastic  a smooth random displacement field of 4-9 % of the height (a wobbly hand)
    noisy    heavy paper grain, low contrast, dust specks, JPEG at quality 25-50 (a poor scan)
    mixed    two or three of rotate, shear, aspect, thick, thin, blur, elastic, milder

Every image: a square sheet of 64-200 pixels, the digit's larger side 35-80 % of it, placed off-centre at random
in what room is left; paper grey 195-250 with a slow lighting gradient and fine grain, ink grey 5-80; a fifth of
them in colour (tinted paper, blue or black ink); a fifth of the others saved as JPEG (quality 70-95).
The (font, digit) pairs take the ten distortions in turn, 4 at a time, so each distortion gets a tenth of the
images, spread evenly over fonts and digits.

Deterministic: each image's random numbers come from ``numpy.random.default_rng((seed, crc32(font), digit,
k))``, so the same seed and fonts give the same files byte for byte (with the same Pillow and zlib), whatever
other fonts are installed.
"""

from __future__ import annotations

import io
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont
from scipy import ndimage
from skimage.morphology import skeletonize

FONT_DIRS = [f"/usr/share/fonts/truetype/{d}" for d in
             ("dejavu", "liberation", "freefont", "breip", "ecolier-court", "femkeklaver", "fifthhorseman",
              "humor-sans")] + [f"/usr/share/fonts/opentype/{d}" for d in ("bwht", "comic-neue", "dancingscript")]
MATPLOTLIB_FONTS = ("STIXGeneral.ttf", "STIXGeneralBol.ttf", "STIXGeneralItalic.ttf", "STIXGeneralBolIta.ttf",
                    "cmr10.ttf", "cmb10.ttf", "cmti10.ttf", "cmss10.ttf", "cmtt10.ttf", "cmmi10.ttf")
DISTORTIONS = ("plain", "rotate", "shear", "aspect", "thick", "thin", "blur", "elastic", "noisy", "mixed")
PER_PAIR = 4  # images per (font, digit)
RENDER = 160  # font size (pixels) the glyphs are drawn at before distortion and scaling down
SEED = 0


@dataclass(frozen=True)
class Font:
    name: str  # the file name without extension, lowercased: "dejavusans-bold"
    path: Path


def find_fonts() -> list[Font]:
    """Every usable font installed, in a fixed order (Debian's folders, then matplotlib's)."""
    paths = [p for d in FONT_DIRS for p in sorted(Path(d).glob("*")) if p.suffix.lower() in (".ttf", ".otf")]
    paths += [p for p in (_matplotlib_fonts() / name for name in MATPLOTLIB_FONTS) if p.exists()]
    fonts, seen = [], set()
    for path in paths:
        glyphs = _digit_glyphs(path)
        if glyphs is not None and glyphs not in seen:
            seen.add(glyphs)
            fonts.append(Font(path.stem.lower(), path))
    return fonts


def _matplotlib_fonts() -> Path:
    import importlib.util

    spec = importlib.util.find_spec("matplotlib")
    return Path(spec.origin).parent / "mpl-data" / "fonts" / "ttf" if spec and spec.origin else Path("/nonexistent")


def _digit_glyphs(path: Path) -> bytes | None:
    """The ten digits as the font draws them at 40 px (bytes), or None if it lacks any or draws them alike."""
    try:
        font = ImageFont.truetype(str(path), 40)
    except OSError:
        return None
    missing = _draw(font, "\ue000", 80).tobytes()
    glyphs = [_draw(font, str(d), 80).tobytes() for d in range(10)]
    if len(set(glyphs)) < 10 or missing in glyphs or any(max(g) == 0 for g in glyphs):
        return None
    return b"".join(glyphs)


def _draw(font: ImageFont.FreeTypeFont, text: str, side: int) -> Image.Image:
    img = Image.new("L", (side, side), 0)
    ImageDraw.Draw(img).text((side // 2, side // 2), text, fill=255, font=font, anchor="mm")
    return img


def glyph(font: Font, digit: int) -> np.ndarray:
    """The digit as ink coverage 0..1 (float32), cropped to its ink with a margin, at RENDER px."""
    img = np.asarray(_draw(ImageFont.truetype(str(font.path), RENDER), str(digit), 3 * RENDER), dtype=np.float32)
    return _crop(img / 255.0, pad=RENDER // 4)


def _crop(ink: np.ndarray, pad: int) -> np.ndarray:
    rows, cols = np.flatnonzero(ink.max(1) > 0.05), np.flatnonzero(ink.max(0) > 0.05)
    ink = ink[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1]
    return np.pad(ink, pad)


# ----------------------------------------------------------------------------- distortions of the ink


def _height(ink: np.ndarray) -> int:
    rows = np.flatnonzero(ink.max(1) > 0.5)
    return int(rows[-1] - rows[0] + 1) if rows.size else ink.shape[0]


def _affine(ink: np.ndarray, matrix: np.ndarray) -> np.ndarray:
    """``ink`` mapped by the 2x2 ``matrix`` (output = matrix @ input, about the centre), on a canvas that holds it."""
    h, w = ink.shape
    corners = np.array([[0, 0], [0, w], [h, 0], [h, w]], float) - [h / 2, w / 2]
    span = np.abs(corners @ matrix.T).max(0) * 2 + 8
    out_shape = tuple(int(s) for s in np.ceil(span))
    inverse = np.linalg.inv(matrix)
    offset = np.array([h / 2, w / 2]) - inverse @ (np.array(out_shape) / 2)
    return ndimage.affine_transform(ink, inverse, offset, out_shape, order=1)


def rotate(ink, rng, strength=1.0):
    angle = np.radians(rng.uniform(8, 30) * strength * rng.choice([-1, 1]))
    c, s = np.cos(angle), np.sin(angle)
    return _affine(ink, np.array([[c, -s], [s, c]]))


def shear(ink, rng, strength=1.0):
    k = rng.uniform(0.2, 0.55) * strength * rng.choice([-1, 1])
    return _affine(ink, np.array([[1.0, 0.0], [k, 1.0]]))  # column shifts with row: a slant


def aspect(ink, rng, strength=1.0):
    factor = rng.uniform(0.55, 0.8) if rng.random() < 0.5 else rng.uniform(1.25, 1.6)
    factor = 1 + (factor - 1) * strength
    return _affine(ink, np.array([[1.0, 0.0], [0.0, factor]]))


def _stroke_width(ink: np.ndarray) -> float:
    """Median stroke width in pixels: twice the distance to the background along the skeleton."""
    mask = ink > 0.5
    skeleton = skeletonize(mask)
    return 2.0 * float(np.median(ndimage.distance_transform_edt(mask)[skeleton])) if skeleton.any() else 1.0


def _disk(radius: float) -> np.ndarray:
    r = int(np.ceil(radius))
    y, x = np.mgrid[-r:r + 1, -r:r + 1]
    return x * x + y * y <= radius * radius + 0.5


def thick(ink, rng, strength=1.0):
    target = rng.uniform(0.22, 0.34) * _height(ink) * (0.7 + 0.3 * strength)
    radius = max(1.0, (target - _stroke_width(ink)) / 2)
    ink = np.pad(ink, int(radius) + 2)
    return ndimage.grey_dilation(ink, footprint=_disk(radius))


def thin(ink, rng, strength=1.0):
    width = rng.uniform(0.02, 0.05) * _height(ink) / (0.7 + 0.3 * strength)
    skeleton = skeletonize(ink > 0.5)
    distance = ndimage.distance_transform_edt(~skeleton)
    return np.clip(width / 2 + 0.5 - distance, 0, 1).astype(np.float32)  # anti-aliased pen of that width


def blur(ink, rng, strength=1.0):
    sigma = rng.uniform(0.03, 0.08) * _height(ink) * strength
    ink = np.pad(ink, int(3 * sigma))
    out = ndimage.gaussian_filter(ink, sigma)
    return out / max(out.max(), 1e-6)  # the darkest ink stays ink


def elastic(ink, rng, strength=1.0):
    h = _height(ink)
    smooth = 0.18 * h
    amount = rng.uniform(0.04, 0.09) * h * strength
    fields = [ndimage.gaussian_filter(rng.standard_normal(ink.shape), smooth) for _ in range(2)]
    scale = amount / max(max(np.abs(f).max() for f in fields), 1e-9)
    rows, cols = np.meshgrid(np.arange(ink.shape[0]), np.arange(ink.shape[1]), indexing="ij")
    return ndimage.map_coordinates(ink, [rows + fields[0] * scale, cols + fields[1] * scale], order=1)


SHAPERS = {"rotate": rotate, "shear": shear, "aspect": aspect, "thick": thick, "thin": thin, "blur": blur,
           "elastic": elastic}
_ORDER = ("thin", "thick", "elastic", "aspect", "shear", "rotate", "blur")  # pen first, then geometry, then focus


def distort(ink: np.ndarray, kind: str, rng: np.random.Generator) -> np.ndarray:
    """The glyph with the distortion ``kind`` (``plain`` and ``noisy`` change the paper, not the ink)."""
    if kind in SHAPERS:
        return SHAPERS[kind](ink, rng)
    if kind == "mixed":
        chosen = set(rng.choice([k for k in _ORDER if k != "thick"], size=rng.integers(2, 4), replace=False))
        if "thin" not in chosen and rng.random() < 0.3:
            chosen.add("thick")
        for name in _ORDER:
            if name in chosen:
                ink = SHAPERS[name](ink, rng, strength=0.6)
    return ink


# ----------------------------------------------------------------------------- the sheet of paper


def scan(ink: np.ndarray, rng: np.random.Generator, noisy: bool) -> tuple[Image.Image, str, int]:
    """The ink placed on a sheet of paper as a scan: (image, "png" or "jpg", JPEG quality or 0)."""
    side = int(rng.integers(64, 201))
    coverage = _placed(_crop(ink, pad=0), side, rng)
    colour = rng.random() < 0.2
    paper = _paper(side, rng, noisy)
    ink_level = rng.uniform(90, 140) if noisy else rng.uniform(5, 80)
    if colour:
        tint = np.array([rng.uniform(0.9, 1.0), rng.uniform(0.9, 1.0), rng.uniform(0.85, 1.0)])
        pen = np.array([0.2, 0.25, 1.6]) if rng.random() < 0.5 else np.ones(3)
        pixels = paper[..., None] * tint * (1 - coverage[..., None]) + coverage[..., None] * ink_level * pen
    else:
        pixels = paper * (1 - coverage) + coverage * ink_level
    image = Image.fromarray(np.clip(np.rint(pixels), 0, 255).astype(np.uint8))
    if noisy:
        return image, "jpg", int(rng.integers(25, 51))
    if rng.random() < 0.2:
        return image, "jpg", int(rng.integers(70, 96))
    return image, "png", 0


def _placed(ink: np.ndarray, side: int, rng: np.random.Generator) -> np.ndarray:
    """Ink coverage on a side x side sheet: the digit's larger side 35-80 % of the sheet, off-centre."""
    size = rng.uniform(0.35, 0.8) * side
    scale = size / max(ink.shape)
    h, w = max(1, round(ink.shape[0] * scale)), max(1, round(ink.shape[1] * scale))
    small = np.asarray(Image.fromarray(ink.astype(np.float32)).resize((w, h), Image.Resampling.BOX))
    top, left = int(rng.integers(2, side - h - 1)), int(rng.integers(2, side - w - 1))
    sheet = np.zeros((side, side), np.float32)
    sheet[top:top + h, left:left + w] = np.clip(small, 0, 1)
    return sheet


def _paper(side: int, rng: np.random.Generator, noisy: bool) -> np.ndarray:
    """Paper grey: a level, a slow lighting gradient, fine grain; for a noisy scan heavier grain, duller paper
    and dust specks."""
    level = rng.uniform(180, 220) if noisy else rng.uniform(195, 250)
    y, x = np.mgrid[0:side, 0:side] / side - 0.5
    gy, gx = rng.uniform(-12, 12, size=2)
    grain = rng.uniform(10, 22) if noisy else rng.uniform(1, 5)
    paper = level + gy * y + gx * x + rng.standard_normal((side, side)) * grain
    paper += ndimage.gaussian_filter(rng.standard_normal((side, side)), side / 16) * side / 8 * (2 if noisy else 1)
    if noisy:
        for _ in range(int(rng.integers(3, 12))):
            cy, cx, r = rng.uniform(0, side), rng.uniform(0, side), rng.uniform(0.3, 1.2)
            paper[(y * side + side / 2 - cy) ** 2 + (x * side + side / 2 - cx) ** 2 <= r * r] = rng.uniform(60, 140)
    return np.clip(paper, 0, 255)


# ----------------------------------------------------------------------------- the set


def plan(fonts: list[Font]) -> list[tuple[Font, int, int, str]]:
    """(font, digit, k, distortion) of every image: pair number p takes distortions 4p .. 4p+3 (mod 10)."""
    items = []
    for p, (font, digit) in enumerate((f, d) for f in fonts for d in range(10)):
        for k in range(PER_PAIR):
            items.append((font, digit, k, DISTORTIONS[(PER_PAIR * p + k) % len(DISTORTIONS)]))
    return items


def make_image(font: Font, digit: int, k: int, kind: str, seed: int = SEED,
               base: np.ndarray | None = None) -> tuple[Image.Image, str, int]:
    """One image of the set (see :func:`scan` for what it returns); ``base`` is the font's glyph if at hand."""
    rng = np.random.default_rng((seed, zlib.crc32(font.name.encode()), digit, k))
    ink = distort(glyph(font, digit) if base is None else base, kind, rng)
    return scan(ink, rng, noisy=kind == "noisy")


def file_name(font: Font, digit: int, k: int, kind: str, fmt: str) -> str:
    """``<digit>/<font>-<distortion>-<k>.<fmt>``: the true label is the folder, the distortion the second field."""
    return f"{digit}/{font.name}-{kind}-{k}.{fmt}"


def label_of(name: str) -> int:
    return int(name.replace("\\", "/").split("/")[0])


def distortion_of(name: str) -> str:
    return name.replace("\\", "/").split("/")[1].rsplit("-", 2)[1]


def font_of(name: str) -> str:
    return name.replace("\\", "/").split("/")[1].rsplit("-", 2)[0]


def encode(image: Image.Image, fmt: str, quality: int) -> bytes:
    buffer = io.BytesIO()
    if fmt == "jpg":
        image.save(buffer, format="JPEG", quality=quality)
    else:
        image.save(buffer, format="PNG", optimize=False)
    return buffer.getvalue()


def build(folder: str | Path, seed: int = SEED, fonts: list[Font] | None = None) -> list[str]:
    """Write the whole set into ``folder`` (created; files of an earlier build replaced); returns the names."""
    folder = Path(folder)
    fonts = find_fonts() if fonts is None else fonts
    names, drawn, base = [], None, None
    for font, digit, k, kind in plan(fonts):
        if drawn != (font.name, digit):
            drawn, base = (font.name, digit), glyph(font, digit)
        image, fmt, quality = make_image(font, digit, k, kind, seed, base)
        name = file_name(font, digit, k, kind, fmt)
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(encode(image, fmt, quality))
        names.append(name)
    return names


def contact_sheet(folder: str | Path, names: list[str], columns: int = len(DISTORTIONS), rows: int = 6,
                  cell: int = 72) -> Image.Image:
    """Samples of the set, one column per distortion (``rows`` images each, spread over fonts and digits), each
    scan beside the 28x28 image digitlab makes of it."""
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))
    from digitlab.data.images import to_mnist

    by_kind = {kind: sorted(n for n in names if distortion_of(n) == kind) for kind in DISTORTIONS[:columns]}
    header = 18
    sheet = Image.new("L", (columns * 2 * cell, header + rows * cell), 255)
    draw = ImageDraw.Draw(sheet)
    label_font = ImageFont.truetype(str(Path(FONT_DIRS[0]) / "DejaVuSans.ttf"), 12)
    for c, (kind, pool) in enumerate(by_kind.items()):
        draw.text((c * 2 * cell + cell, header // 2), kind, fill=0, font=label_font, anchor="mm")
        picks = [pool[i] for i in np.linspace(0, len(pool) - 1, rows).round().astype(int)] if pool else []
        for r, name in enumerate(picks):
            scan_image = Image.open(Path(folder) / name).convert("L").resize((cell - 4, cell - 4))
            seen = Image.fromarray(255 - to_mnist(Path(folder) / name).reshape(28, 28)).resize(
                (cell - 4, cell - 4), Image.Resampling.NEAREST)
            sheet.paste(scan_image, (c * 2 * cell + 2, header + r * cell + 2))
            sheet.paste(seen, (c * 2 * cell + cell + 2, header + r * cell + 2))
    return sheet
