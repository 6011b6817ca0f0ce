"""User images with what real pictures hold: smudges, ruled lines, two digits, blank pages, huge headers,
float TIFFs, 16-bit PNGs, animations, EXIF rotation, and folders where some files are bad."""

import struct
import tracemalloc
import zlib

import numpy as np
import pytest
from PIL import Image, ImageDraw

from digitlab.data import images
from digitlab.data.images import ImageSet, PreparedImage, load_images, prepare_image, to_mnist
from digitlab.errors import DataError

DIGITS = range(12)  # mini test images used as handwriting


def _page(digit, size=(240, 200), at=(50, 30), scale=5, dark_on_light=True):
    """A scanned-looking page: an MNIST digit enlarged ``scale`` times at ``at`` on a plain background."""
    big = Image.fromarray(digit.reshape(28, 28)).resize((28 * scale, 28 * scale), Image.Resampling.BICUBIC)
    page = np.zeros(size[::-1], np.uint8)
    page[at[1]:at[1] + 28 * scale, at[0]:at[0] + 28 * scale] = np.asarray(big)
    return 255 - page if dark_on_light else page


def _dirt(page, dark_on_light=True, line_y=175):
    """The page with a 10-pixel smudge in a corner and a ruled line across the whole width."""
    page = page.copy()
    ink = 0 if dark_on_light else 255
    page[8:10, 222:227] = ink  # a 10-pixel smudge, top right
    page[line_y:line_y + 3, :] = ink  # a ruled line, 3 pixels thick
    return page


def _corr(a, b):
    return np.corrcoef(a.astype(float), b.astype(float))[0, 1]


def _save(array, path, **kwargs):
    Image.fromarray(array).save(path, **kwargs)
    return path


@pytest.mark.parametrize("fmt", ["png", "jpg"])
@pytest.mark.parametrize("dark_on_light", [True, False])
@pytest.mark.parametrize("line_y", [175, 100])  # below the digit, and straight through it
def test_smudge_and_ruled_line_do_not_change_the_digit(tmp_path, mini, fmt, dark_on_light, line_y):
    correlations = []
    for i in DIGITS:
        page = _page(mini.X_test[i], dark_on_light=dark_on_light)
        clean = to_mnist(_save(page, tmp_path / f"clean.{fmt}"))
        dirty = prepare_image(_save(_dirt(page, dark_on_light, line_y), tmp_path / f"dirty.{fmt}"))
        assert dirty.lines == 1 and dirty.warnings == ()
        correlations.append(_corr(dirty.pixels, clean))
    assert min(correlations) > 0.9 and np.mean(correlations) > 0.95, correlations


def test_the_old_crop_was_fooled_by_a_smudge(mini):
    """What the fix is for: the bare bounding box of all ink, as before, is far off with a smudge."""
    def ink_width(page):
        cols = np.flatnonzero(((255 - page) > 50).any(axis=0))
        return cols[-1] - cols[0] + 1

    page = _page(mini.X_test[0])
    smudged = page.copy()
    smudged[8:10, 222:227] = 0
    assert ink_width(smudged) > 1.5 * ink_width(page)  # the smudge widens the bounding box by half
    assert _corr(to_mnist(smudged), to_mnist(page)) > 0.99


def test_prepared_image_reports_what_it_found(mini):
    prepared = prepare_image(_dirt(_page(mini.X_test[3])))
    assert isinstance(prepared, PreparedImage)
    assert prepared.pixels.shape == (784,) and prepared.pixels.dtype == np.uint8
    assert prepared.inverted and prepared.lines == 1 and prepared.ignored >= 1 and prepared.components >= 2
    assert 0 < prepared.ink_fraction < 0.2 and prepared.frame is None
    np.testing.assert_array_equal(to_mnist(_dirt(_page(mini.X_test[3]))), prepared.pixels)


def test_two_digits_side_by_side_are_reported(mini):
    four, two = mini.X_test[11], mini.X_test[5]
    page = np.maximum(255 - _page(four, size=(360, 200), at=(30, 30)), 255 - _page(two, size=(360, 200), at=(190, 30)))
    prepared = prepare_image(255 - page)
    assert prepared.warnings == ("holds 2 digit-sized marks side by side; only one digit per image is read",)
    best = max(_corr(prepared.pixels, to_mnist(_page(digit))) for digit in (four, two))
    assert best > 0.95  # one of them is read (the one with more ink), the other erased


def test_two_digits_joined_into_one_wide_mark_are_reported():
    img = Image.new("L", (300, 120), 255)
    draw = ImageDraw.Draw(img)
    draw.ellipse([20, 10, 120, 110], outline=0, width=12)  # a 0 ...
    draw.ellipse([110, 10, 210, 110], outline=0, width=12)  # ... touching another 0
    draw.line([205, 60, 280, 60], fill=0, width=12)
    prepared = prepare_image(img)
    assert any("much wider than tall" in w for w in prepared.warnings)


def test_a_broken_zero_is_one_digit():
    img = Image.new("L", (120, 140), 255)
    draw = ImageDraw.Draw(img)
    draw.arc([20, 10, 100, 130], 100, 260, fill=0, width=10)  # left half of a 0
    draw.arc([20, 10, 100, 130], 280, 80, fill=0, width=10)  # right half, with gaps at top and bottom
    prepared = prepare_image(img)
    assert prepared.warnings == () and prepared.components == 2 and prepared.ignored == 0


@pytest.mark.parametrize("i", [4, 6, 15])  # three 7s: their bars span the whole width of a tight crop
def test_tightly_cropped_seven_keeps_its_bar(mini, i):
    page = _page(mini.X_test[i])
    ink = (255 - page) > 0.2 * 255
    rows, cols = np.flatnonzero(ink.any(axis=1)), np.flatnonzero(ink.any(axis=0))
    prepared = prepare_image(page[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1])
    assert prepared.lines == 0
    assert _corr(prepared.pixels, to_mnist(page)) > 0.98


@pytest.mark.parametrize("density", [0.03, 0.6])  # scattered specks; a page that is mostly ink
def test_noise_is_reported(density):
    rng = np.random.default_rng(0)
    noisy = (rng.random((100, 100)) < density).astype(np.uint8) * 255
    noisy[0] = noisy[-1] = noisy[:, 0] = noisy[:, -1] = 0  # a dark border: read as light on dark
    warnings = prepare_image(noisy).warnings
    assert len(warnings) == 1 and "is mostly noise" in warnings[0]


@pytest.mark.parametrize("make", [
    lambda: np.full((40, 40), 255, np.uint8),
    lambda: np.zeros((40, 40), np.uint8),
    lambda: np.pad(np.zeros((3, 240), np.uint8), ((100, 97), (0, 0)), constant_values=255),  # a ruled line only
])
def test_blank_or_only_a_ruled_line_is_blank(make):
    with pytest.raises(DataError, match=r"^image: the image is blank, no digit found\.$"):
        prepare_image(make())


def _png_header_only(width, height):
    """A PNG whose IHDR claims width x height, with no pixel data at all."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)) + chunk(b"IEND", b"")


@pytest.mark.parametrize("side", [8_000, 20_000])  # 64 MP: our bound; 400 MP: also Pillow's bomb limit
def test_huge_header_is_refused_before_decoding(tmp_path, side):
    path = tmp_path / "huge.png"
    path.write_bytes(_png_header_only(side, side))
    tracemalloc.start()
    try:
        with pytest.raises(DataError, match=r"huge.png: the image is .*40 megapixels.*; scale it down first\.$"):
            prepare_image(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 20 * 2**20
    assert images.MAX_PIXELS == 40_000_000


def test_float_tiff_in_unit_range(tmp_path, mini):
    page = _page(mini.X_test[1])
    Image.fromarray(page.astype(np.float32) / 255.0).save(tmp_path / "f.tif")
    assert Image.open(tmp_path / "f.tif").mode == "F"
    assert _corr(to_mnist(tmp_path / "f.tif"), to_mnist(page)) > 0.99


def test_sixteen_bit_png(tmp_path, mini):
    page = _page(mini.X_test[2])
    Image.fromarray(page.astype(np.uint16) * 257).save(tmp_path / "16.png")
    assert Image.open(tmp_path / "16.png").mode.startswith("I")
    assert _corr(to_mnist(tmp_path / "16.png"), to_mnist(page)) > 0.99


def test_animated_gif_reads_the_frame_with_most_ink(tmp_path, mini):
    full = _page(mini.X_test[6], size=(200, 200), at=(30, 30))
    partial = full.copy()
    partial[100:] = 255  # the digit half drawn
    frames = [Image.fromarray(f) for f in (np.full_like(full, 255), partial, full, partial)]
    frames[0].save(tmp_path / "a.gif", save_all=True, append_images=frames[1:], duration=100, loop=0)
    prepared = prepare_image(tmp_path / "a.gif")
    assert prepared.frame == 2
    assert prepared.warnings == ("is animated (4 frames); the frame with the most ink (frame 3) is read",)
    assert _corr(prepared.pixels, to_mnist(full)) > 0.97


def test_exif_rotation_is_applied(tmp_path, mini):
    page = _page(mini.X_test[8], size=(200, 200), at=(30, 30))
    upright = to_mnist(page)
    exif = Image.Exif()
    exif[0x0112] = 6  # the camera was turned: display rotated 90 degrees clockwise
    Image.fromarray(np.rot90(page, k=1)).save(tmp_path / "photo.jpg", exif=exif, quality=95)
    assert _corr(to_mnist(tmp_path / "photo.jpg"), upright) > 0.95


def test_arrays_rgba_bool_and_bad_shapes():
    canvas = np.zeros((40, 40), np.uint8)
    canvas[5:35, 18:22] = 255
    rgba = np.zeros((40, 40, 4), np.uint8)
    rgba[..., 3] = canvas  # black strokes on a transparent canvas
    np.testing.assert_array_equal(to_mnist(rgba), to_mnist(canvas))
    np.testing.assert_array_equal(to_mnist(canvas > 0), to_mnist(canvas))
    np.testing.assert_array_equal(to_mnist(canvas[..., None]), to_mnist(canvas))
    with pytest.raises(DataError, match=r"image: an array of shape \(2, 40, 40, 3\) is not an image"):
        to_mnist(np.zeros((2, 40, 40, 3)))


def _folder(tmp_path, mini):
    root = tmp_path / "in"
    (root / "sub" / "deeper").mkdir(parents=True)
    (root / ".hidden").mkdir()
    _save(_page(mini.X_test[0]), root / "b.png")
    _save(_page(mini.X_test[1]), root / "sub" / "a.jpg")
    _save(_page(mini.X_test[2]), root / "sub" / "deeper" / "c.png")
    _save(_page(mini.X_test[3]), root / ".hidden" / "skipped.png")
    _save(np.full((30, 30), 255, np.uint8), root / "blank.png")
    (root / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 20)
    two = np.minimum(_page(mini.X_test[11], size=(360, 200), at=(30, 30)), _page(mini.X_test[5], size=(360, 200), at=(190, 30)))
    _save(two, root / "two.png")
    (root / "notes.txt").write_text("not an image")
    return root


def test_load_images_reads_the_good_and_reports_the_bad(tmp_path, mini):
    root = _folder(tmp_path, mini)
    found = load_images(root)
    assert isinstance(found, ImageSet)
    assert found.names == ["b.png", "sub/a.jpg", "sub/deeper/c.png", "two.png"]
    assert found.X.shape == (4, 784) and found.X.dtype == np.uint8
    assert set(found.errors) == {"blank.png", "broken.png"}
    assert found.errors["blank.png"] == f"{root / 'blank.png'}: the image is blank, no digit found."
    assert list(found.warnings) == ["two.png"] and "side by side" in found.warnings["two.png"][0]
    np.testing.assert_array_equal(found.X[1], to_mnist(root / "sub" / "a.jpg"))
    X, names = load_images(root)  # the older tuple shape still unpacks
    assert names == found.names

    assert load_images(root, recursive=False).names == ["b.png", "two.png"]
    single = load_images(root / "two.png")
    assert single.names == ["two.png"] and single.X.shape == (1, 784) and "two.png" in single.warnings
    with pytest.raises(DataError, match="blank.png: the image is blank"):
        load_images(root / "blank.png")


@pytest.mark.parametrize("fmt", ["png", "jpg"])
def test_large_images_are_shrunk_first_with_the_same_result(tmp_path, mini, monkeypatch, fmt):
    page = _page(mini.X_test[9])
    path = _save(page, tmp_path / f"page.{fmt}", **({"quality": 95} if fmt == "jpg" else {}))
    full = to_mnist(path)
    monkeypatch.setattr(images, "WORK_PIXELS", 20_000)  # 48,000 pixels: shrunk by 2
    assert _corr(to_mnist(path), full) > 0.95


def test_the_callers_array_is_not_changed():
    canvas = np.zeros((40, 40), np.float32)
    canvas[5:35, 18:22] = 0.8
    canvas[0, 0] = np.nan
    before = canvas.copy()
    to_mnist(canvas)
    np.testing.assert_array_equal(canvas, before)
