"""Deskewing by moments and the principal-component helpers behind the k-NN engine."""

from __future__ import annotations

import numpy as np
import pytest

from digitlab.models.features import CENTRE, deskew, fit_pca, project


def _moments(images: np.ndarray):
    """Centre of mass and slant (cov_xy / var_y) of each 28x28 image."""
    img = images.reshape(-1, 28, 28).astype(np.float64)
    g = np.arange(28.0)
    m = img.sum(axis=(1, 2))
    cy = img.sum(axis=2) @ g / m
    cx = img.sum(axis=1) @ g / m
    dy, dx = g[None, :] - cy[:, None], g[None, :] - cx[:, None]
    var_y = (img.sum(axis=2) * dy**2).sum(axis=1) / m
    cov = np.einsum("nij,ni,nj->n", img, dy, dx) / m
    return cy, cx, cov / var_y


def _slanted_stroke(slope: float, x0: float = 12.0) -> np.ndarray:
    """A 3-pixel-wide stroke from row 5 to row 23 leaning by ``slope`` pixels per row (a slanted '1')."""
    img = np.zeros((28, 28))
    for row in range(5, 24):
        centre = x0 + slope * (row - CENTRE)
        for col in range(28):
            img[row, col] = 255 * max(0.0, 1.0 - max(0.0, abs(col - centre) - 1.0))
    return img.reshape(1, 784)


@pytest.mark.parametrize("slope", [0.5, -0.4])
def test_a_sheared_stroke_becomes_upright_and_centred(slope):
    stroke = _slanted_stroke(slope)
    assert abs(_moments(stroke)[2][0] - slope) < 0.05
    cy, cx, alpha = _moments(deskew(stroke))
    assert abs(alpha[0]) < 0.03
    assert abs(cy[0] - CENTRE) < 0.3 and abs(cx[0] - CENTRE) < 0.3
    rows = deskew(stroke).reshape(28, 28)
    peaks = [rows[r].argmax() for r in range(7, 21)]
    assert max(peaks) - min(peaks) <= 1  # one column, top to bottom


def test_upright_centred_digit_is_almost_unchanged():
    stroke = _slanted_stroke(0.0, x0=CENTRE)
    np.testing.assert_allclose(deskew(stroke), stroke, atol=1.0)


def test_deskew_keeps_blank_images_blank_and_rejects_other_shapes():
    assert not deskew(np.zeros((3, 784), dtype=np.uint8)).any()
    with pytest.raises(ValueError, match="784"):
        deskew(np.zeros((3, 100)))


def test_deskew_is_per_image_whatever_the_chunk(mini):
    X = mini.X_train[:300]
    np.testing.assert_array_equal(deskew(X, chunk_size=7), deskew(X))
    np.testing.assert_array_equal(deskew(X[5:6]), deskew(X)[5:6])


def test_fit_pca_matches_scikit_learn(mini):
    from sklearn.decomposition import PCA
    from threadpoolctl import threadpool_limits

    X = mini.X_train[:2000].astype(np.float64)
    mean, components = fit_pca(X, 10)
    with threadpool_limits(limits=1):  # a threaded LAPACK crawls on a busy 2-core machine
        ref = PCA(n_components=10, svd_solver="covariance_eigh").fit(X)
    np.testing.assert_allclose(mean, ref.mean_, rtol=1e-10)
    # Same axes up to sign.
    np.testing.assert_allclose(np.abs(components.T @ ref.components_.T), np.eye(10), atol=1e-6)
    np.testing.assert_allclose(project(X, mean, components), ref.transform(X) * np.sign(
        np.diag(components.T @ ref.components_.T)), atol=1e-2)


def test_fit_pca_on_blocks_equals_fit_on_the_whole(mini):
    X = mini.X_train[:1500]
    mean, comp = fit_pca(X, 5)
    mean_b, comp_b = fit_pca(iter([X[:400], X[400:1100], X[1100:]]), 5, chunk_size=128)
    np.testing.assert_allclose(mean_b, mean, rtol=1e-12)
    np.testing.assert_allclose(comp_b, comp, atol=1e-9)


def test_projection_does_not_depend_on_the_batch(mini):
    X = mini.X_train[:500]
    mean, comp = fit_pca(X, 20)
    whole = project(X, mean, comp)
    np.testing.assert_array_equal(np.concatenate([project(X[i:i + 1], mean, comp) for i in range(50)]),
                                  whole[:50])
