"""User digits drawn with a pen far finer or bolder than MNIST's are redrawn with an MNIST-like one; digits with
an ordinary pen are left exactly as they were."""

import math

import numpy as np
import pytest
from PIL import Image, ImageDraw

from digitlab.data import images
from digitlab.data.images import to_mnist


def _width(row: np.ndarray) -> float:
    """The stroke width of a 28x28 row in pixels of MNIST's 20x20 box, measured as images.py measures it."""
    digit = row.reshape(28, 28).astype(np.float32)
    rows, cols = np.flatnonzero(digit.max(1) > 0), np.flatnonzero(digit.max(0) > 0)
    return images._stroke_width(images._fit(digit[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1], images.STROKE_BOX))


def _zero(pen: int) -> np.ndarray:
    """A '0' 180 pixels wide and 260 tall drawn with a pen ``pen`` pixels wide, dark on a light 400x400 page."""
    page = Image.new("L", (400, 400), 240)
    ImageDraw.Draw(page).ellipse([110, 70, 290, 330], outline=20, width=pen)
    return np.asarray(page)


@pytest.fixture
def as_before(monkeypatch):
    """to_mnist as it was before stroke normalisation: every pen kept."""
    def convert(image):
        with monkeypatch.context() as m:
            m.setattr(images, "THIN", -math.inf)
            m.setattr(images, "THICK", math.inf)
            return to_mnist(image)
    return convert


@pytest.mark.parametrize("pen", [1, 3])
def test_a_fine_pen_is_thickened_to_an_mnist_like_width(pen, as_before):
    before, after = as_before(_zero(pen)), to_mnist(_zero(pen))
    assert _width(before) < images.THIN
    assert images.THIN <= _width(after) <= 3.0  # no longer finer than all but 1 % of MNIST (median 2.5)
    assert (after > 127).sum() > 1.5 * (before > 127).sum()


def test_a_marker_is_thinned_and_keeps_its_hole(as_before):
    before, after = as_before(_zero(72)), to_mnist(_zero(72))
    assert _width(before) > images.THICK
    assert 2.2 <= _width(after) <= 4.0
    assert after.reshape(28, 28)[13:15, 13:15].max() < 50  # the 0 is still open


@pytest.mark.parametrize("pen", [22, 30, 50])  # 8-19 % of the digit's height; MNIST: about 12 %
def test_an_ordinary_pen_is_left_exactly_as_it_was(pen, as_before):
    np.testing.assert_array_equal(to_mnist(_zero(pen)), as_before(_zero(pen)))


def test_most_scanned_mnist_digits_are_left_exactly_as_they_were(mini, as_before):
    pages = [np.asarray(Image.fromarray(255 - d).resize((140, 140), Image.Resampling.BICUBIC))
             for d in mini.X_test[:200].reshape(-1, 28, 28)]
    same = [np.array_equal(to_mnist(page), as_before(page)) for page in pages]
    assert np.mean(same) >= 0.97  # MNIST's own boldest and finest 2 % are brought nearer the middle
