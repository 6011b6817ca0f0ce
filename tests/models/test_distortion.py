"""The image distortion model distance used to re-rank k-NN candidates."""

from __future__ import annotations

import numpy as np
import pytest

from digitlab.data.augment import shift_image
from digitlab.models.distortion import gradients, idm_distances, rerank


def test_gradients_are_central_differences_with_zeros_outside():
    img = np.zeros((1, 784), dtype=np.uint8)
    img[0, 10 * 28 + 10] = 7
    img[0, 0] = 1  # in the corner: its neighbours outside the image count as 0
    g = gradients(img)
    assert g.shape == (1, 2, 28, 28) and g.dtype == np.float32
    gx, gy = g[0]
    assert gx[10, 9] == 7 and gx[10, 11] == -7 and gy[9, 10] == 7 and gy[11, 10] == -7
    assert gx[0, 1] == -1 and gy[1, 0] == -1
    assert np.count_nonzero(g) == 6


def _reference_idm(query: np.ndarray, candidate: np.ndarray, warp: int) -> float:
    """The definition, written plainly with NumPy: each query pixel's smallest squared gradient difference to the
    candidate's pixels within ``warp`` rows and columns, where places outside the image have gradient 0, summed."""
    def grads(image, frame):
        img = np.pad(image.reshape(28, 28).astype(np.float64), 1)
        return [np.pad(g, frame) for g in (img[1:-1, 2:] - img[1:-1, :-2], img[2:, 1:-1] - img[:-2, 1:-1])]
    (qx, qy), (cx, cy) = grads(query, 0), grads(candidate, warp)
    total = 0.0
    for y in range(28):
        for x in range(28):
            near = slice(y, y + 2 * warp + 1), slice(x, x + 2 * warp + 1)
            total += ((qx[y, x] - cx[near]) ** 2 + (qy[y, x] - cy[near]) ** 2).min()
    return total


@pytest.mark.parametrize("warp", [0, 1, 2])
def test_distances_follow_the_definition(mini, warp):
    q = mini.X_test[:2].astype(np.float32)
    c = mini.X_train[:2 * 3].reshape(2, 3, 784).astype(np.float32)
    c[1, 2] = np.random.default_rng(0).uniform(0, 255, 784).astype(np.float32)  # not integers: float32 rounding
    got = idm_distances(q, c, warp=warp)
    expected = [[_reference_idm(q[i], c[i, j], warp) for j in range(3)] for i in range(2)]
    np.testing.assert_allclose(got, expected, rtol=1e-6)
    np.testing.assert_array_equal(got[0], expected[0])  # integer pixels: exact


def test_inputs_of_the_wrong_shape_are_refused():
    with pytest.raises(ValueError, match="784 pixels"):
        idm_distances(np.zeros((2, 783)), np.zeros((2, 3, 783)))
    with pytest.raises(ValueError, match="2 queries but candidates for 3"):
        idm_distances(np.zeros((2, 784)), np.zeros((3, 1, 784)))


def test_a_digit_is_at_distance_zero_from_itself_and_from_its_one_pixel_shifts(mini):
    images = mini.X_train[:50].reshape(-1, 28, 28)
    framed = images[:, 2:-2, 2:-2].sum(axis=(1, 2)) == images.sum(axis=(1, 2))  # nothing within 2 px of the edge
    digits = images[framed][:5].reshape(-1, 784).astype(np.float32)
    shifted = np.stack([shift_image(digits, dx, dy) for dx, dy in [(0, 0), (1, 0), (-1, 1), (0, -1)]], axis=1)
    np.testing.assert_array_equal(idm_distances(digits, shifted), np.zeros((5, 4)))
    two_off = shift_image(digits, 2, 0)[:, None]
    assert (idm_distances(digits, two_off) > 0).all()


def test_distances_do_not_depend_on_the_batch(mini):
    q = mini.X_test[:6].astype(np.float32)
    c = mini.X_train[:6 * 5].reshape(6, 5, 784).astype(np.float32)
    whole = idm_distances(q, c)
    assert whole.dtype == np.float64 and whole.shape == (6, 5)
    np.testing.assert_array_equal(np.concatenate([idm_distances(q[i:i + 1], c[i:i + 1]) for i in range(6)]), whole)


def test_rerank_keeps_the_k_nearest_ties_to_the_lower_index(mini):
    q = mini.X_test[:3].astype(np.float32)
    c = np.repeat(mini.X_train[None, :4], 3, axis=0).astype(np.float32)
    c[:, 2] = q  # the query itself: distance 0
    c[:, 3] = q  # ... twice, under a lower index
    ind = np.array([[40, 30, 20, 10]] * 3)
    dist, nearest = rerank(q, c, ind, 3)
    np.testing.assert_array_equal(nearest[:, :2], [[10, 20]] * 3)
    np.testing.assert_array_equal(dist[:, :2], 0)
    assert (np.diff(dist, axis=1) >= 0).all()
    np.testing.assert_allclose(dist[:, 2], np.sqrt(idm_distances(q, c)[:, :2].min(axis=1)))
