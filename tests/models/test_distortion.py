"""The image distortion model distance used to re-rank k-NN candidates."""

from __future__ import annotations

import numpy as np

from digitlab.data.augment import shift_image
from digitlab.models.distortion import gradients, idm_distances, rerank


def test_gradients_are_central_differences_with_zeros_outside():
    img = np.zeros((1, 784), dtype=np.uint8)
    img[0, 10 * 28 + 10] = 7
    img[0, 0] = 1  # in the corner: its neighbours outside the image count as 0
    g = gradients(img).numpy()
    assert g.shape == (1, 2, 28, 28) and g.dtype == np.float32
    gx, gy = g[0]
    assert gx[10, 9] == 7 and gx[10, 11] == -7 and gy[9, 10] == 7 and gy[11, 10] == -7
    assert gx[0, 1] == -1 and gy[1, 0] == -1
    assert np.count_nonzero(g) == 6


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
    dist, nearest = rerank(q, c, ind, 3, chunk=2)
    np.testing.assert_array_equal(nearest[:, :2], [[10, 20]] * 3)
    np.testing.assert_array_equal(dist[:, :2], 0)
    assert (np.diff(dist, axis=1) >= 0).all()
    np.testing.assert_allclose(dist[:, 2], np.sqrt(idm_distances(q, c)[:, :2].min(axis=1)))
