"""User images made MNIST-like: inversion, 20x20 fit, centring by mass, folders and bad files."""

import numpy as np
import pytest
from PIL import Image, ImageDraw
from scipy import ndimage

from digitlab.data.images import load_images, to_mnist
from digitlab.errors import DataError


def _bbox(image):
    rows, cols = np.flatnonzero(image.any(axis=1)), np.flatnonzero(image.any(axis=0))
    return rows[0], rows[-1], cols[0], cols[-1]


@pytest.fixture
def dark_on_light(tmp_path):
    """A wide dark 'L' stroke drawn off-centre on a light grey page."""
    img = Image.new("L", (200, 150), 235)
    draw = ImageDraw.Draw(img)
    draw.rectangle([20, 10, 40, 110], fill=15)
    draw.rectangle([20, 90, 140, 110], fill=15)
    path = tmp_path / "digit.png"
    img.save(path)
    return path


def test_dark_on_light_becomes_light_on_dark_centred_in_20x20(dark_on_light):
    x = to_mnist(dark_on_light)
    assert x.shape == (784,) and x.dtype == np.uint8
    image = x.reshape(28, 28)
    assert image.max() == 255 and image[0].max() == image[-1].max() == 0  # ink white, border black
    top, bottom, left, right = _bbox(image)
    assert max(bottom - top + 1, right - left + 1) == 20  # longer side fitted to 20
    assert 15 <= bottom - top + 1 <= 17  # aspect ratio 121:101 kept
    cy, cx = ndimage.center_of_mass(image.astype(float))
    assert abs(cy - 14) <= 0.5 and abs(cx - 14) <= 0.5  # MNIST's centre of mass


def test_light_on_dark_is_not_inverted(tmp_path):
    img = Image.new("L", (60, 60), 0)
    ImageDraw.Draw(img).ellipse([15, 10, 45, 50], outline=255, width=4)
    img.save(tmp_path / "o.png")
    image = to_mnist(tmp_path / "o.png").reshape(28, 28)
    assert image[13:15, 13:15].max() < 50  # the hole of the 0 stays dark
    assert image.max() == 255


def test_real_mnist_digits_survive_the_round_trip(mini):
    correlations = []
    for digit in mini.X_test[:20].reshape(-1, 28, 28):
        page = Image.fromarray(255 - digit).resize((140, 140), Image.Resampling.BICUBIC)  # scanned, dark on light
        back = to_mnist(np.asarray(page)).astype(float)
        correlations.append(np.corrcoef(back, digit.ravel().astype(float))[0, 1])
    assert np.mean(correlations) > 0.93 and min(correlations) > 0.7


def test_transparent_png_with_dark_strokes(tmp_path):
    img = Image.new("RGBA", (50, 50), (0, 0, 0, 0))  # transparent black, as a canvas saves it
    ImageDraw.Draw(img).rectangle([20, 5, 28, 45], fill=(0, 0, 0, 255))
    img.save(tmp_path / "t.png")
    image = to_mnist(tmp_path / "t.png").reshape(28, 28)
    top, bottom, _, _ = _bbox(image)
    assert bottom - top + 1 == 20 and image.max() == 255


def test_arrays_rgb_and_unit_floats_are_accepted():
    canvas = np.zeros((40, 40), np.float64)
    canvas[5:35, 18:22] = 1.0
    from_float = to_mnist(canvas)
    rgb = np.repeat((canvas * 255).astype(np.uint8)[..., None], 3, axis=2)
    np.testing.assert_array_equal(to_mnist(rgb), from_float)


def test_blank_image_is_refused(tmp_path):
    Image.new("L", (30, 30), 255).save(tmp_path / "blank.png")
    with pytest.raises(DataError, match=r"blank.png: the image is blank"):
        to_mnist(tmp_path / "blank.png")


def test_load_images_folder_sorted_and_names(tmp_path, dark_on_light):
    folder = tmp_path / "in"
    folder.mkdir()
    for name in ("b.png", "a.jpg"):
        Image.open(dark_on_light).convert("RGB").save(folder / name)
    (folder / "notes.txt").write_text("not an image")
    X, names = load_images(folder)
    assert names == ["a.jpg", "b.png"] and X.shape == (2, 784) and X.dtype == np.uint8
    X1, names1 = load_images(folder / "b.png")
    assert names1 == ["b.png"] and X1.shape == (1, 784)


def test_unreadable_image_names_the_file(tmp_path):
    (tmp_path / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 20)
    with pytest.raises(DataError, match=r"broken.png: cannot read the image"):
        load_images(tmp_path / "broken.png")
    found = load_images(tmp_path)  # in a folder: reported, not raised
    assert found.X.shape == (0, 784) and found.names == []
    assert found.errors["broken.png"].startswith(f"{tmp_path / 'broken.png'}: cannot read the image")


def test_truncated_jpeg_names_the_file(tmp_path, dark_on_light):
    Image.open(dark_on_light).save(tmp_path / "cut.jpg")
    data = (tmp_path / "cut.jpg").read_bytes()
    (tmp_path / "cut.jpg").write_bytes(data[: len(data) // 2])
    with pytest.raises(DataError, match=r"cut.jpg: cannot read the image"):
        to_mnist(tmp_path / "cut.jpg")


def test_missing_path_and_empty_folder(tmp_path):
    with pytest.raises(DataError, match=r"nope.png: file not found"):
        load_images(tmp_path / "nope.png")
    with pytest.raises(DataError, match=r"the folder and its sub-folders hold no images"):
        load_images(tmp_path)
    with pytest.raises(DataError, match=r"the folder holds no images"):
        load_images(tmp_path, recursive=False)
