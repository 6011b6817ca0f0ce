"""One-pixel shift augmentation: exact pixels, zero fill, shapes and order."""

import numpy as np
import pytest

from digitlab.data.augment import shift_augment, shift_image


def _dot(y, x):
    image = np.zeros((28, 28), np.uint8)
    image[y, x] = 200
    return image


@pytest.mark.parametrize("dx, dy", [(1, 0), (-1, 0), (0, 1), (0, -1), (3, -2), (-27, 27)])
def test_shift_moves_a_pixel_exactly(dx, dy):
    out = shift_image(_dot(13, 13) + _dot(0, 0), dx, dy)
    expected = np.zeros((28, 28), np.uint8)
    for y, x in ((13, 13), (0, 0)):
        if 0 <= y + dy < 28 and 0 <= x + dx < 28:
            expected[y + dy, x + dx] = 200
    np.testing.assert_array_equal(out, expected)


def test_pixels_leaving_the_frame_are_dropped_and_the_gap_zero_filled():
    full = np.full((28, 28), 9, np.uint8)
    out = shift_image(full, 1, 0)
    assert (out[:, 0] == 0).all() and (out[:, 1:] == 9).all()
    out = shift_image(full, 0, -1)
    assert (out[-1] == 0).all() and (out[:-1] == 9).all()


def test_shift_by_the_whole_width_is_blank():
    assert not shift_image(np.ones((2, 784), np.uint8), 28, 0).any()
    assert not shift_image(np.ones((2, 784), np.uint8), 0, -30).any()


def test_flat_rows_and_stacks_keep_their_shape():
    rows = np.arange(3 * 784).reshape(3, 784).astype(np.uint8)
    out = shift_image(rows, 1, 0)
    assert out.shape == (3, 784) and out.dtype == np.uint8
    np.testing.assert_array_equal(out.reshape(3, 28, 28), shift_image(rows.reshape(3, 28, 28), 1, 0))
    assert shift_image(rows[0], 0, 1).shape == (784,)


def test_shift_augment_order_and_labels():
    X = np.stack([_dot(10, 10).ravel(), _dot(5, 20).ravel()])
    y = np.array([3, 7], np.uint8)
    X5, y5 = shift_augment(X, y)
    assert X5.shape == (10, 784) and X5.dtype == np.uint8
    np.testing.assert_array_equal(y5, [3, 7] * 5)
    np.testing.assert_array_equal(X5[:2], X)
    expected = [(10, 9), (5, 19), (10, 11), (5, 21), (9, 10), (4, 20), (11, 10), (6, 20)]  # left, right, up, down
    for row, (yy, xx) in zip(X5[2:], expected):
        np.testing.assert_array_equal(row.reshape(28, 28), _dot(yy, xx))
