"""The compiled loops of the k-NN search (the IDM distance's are in test_distortion.py)."""

from __future__ import annotations

import numpy as np
import pytest

from digitlab.models._kernels import nearest_group_members


def _by_definition(rows: np.ndarray, lift: np.ndarray, group: int, m: int):
    """Scores of every row, the groups' minima, then a sort: what the loop must find without sorting."""
    n_groups = len(rows) // group
    scores = lift.astype(np.float64) @ rows.T.astype(np.float64)
    minima = np.ascontiguousarray(scores.reshape(len(lift), group, n_groups).min(axis=1), dtype=np.float32)
    best_groups = np.argsort(minima, axis=1, kind="stable")[:, :m]
    members = (best_groups[:, :, None] + np.arange(group) * n_groups).reshape(len(lift), -1)
    member_scores = np.take_along_axis(scores, members, axis=1)
    order = np.argsort(member_scores, axis=1, kind="stable")[:, :m]
    return minima, np.take_along_axis(member_scores, order, axis=1), np.take_along_axis(members, order, axis=1)


@pytest.mark.parametrize("n_rows, group, m", [(480, 16, 6), (480, 16, 34), (64, 16, 8), (90, 3, 5)])
def test_the_members_of_the_best_groups_are_ranked_by_score(n_rows, group, m):
    rng = np.random.default_rng(n_rows + m)
    rows = rng.standard_normal((n_rows, 7)).astype(np.float32)
    lift = rng.standard_normal((20, 7)).astype(np.float32)
    minima, scores, indices = _by_definition(rows, lift, group, m)
    got_scores, got_indices = nearest_group_members(minima, rows, lift, m, group)
    # The loop sums each score in its own order (float32): the same rows in the same order, scores to rounding.
    np.testing.assert_array_equal(got_indices, indices)
    np.testing.assert_allclose(got_scores, scores, rtol=1e-5, atol=1e-5)
    assert got_indices.dtype == np.int64


def test_rows_of_infinite_score_are_never_chosen():
    rows = np.zeros((32, 3), dtype=np.float32)
    rows[:, 0] = np.arange(32)
    rows[20:, 2] = np.inf  # padding rows, as the search matrix has: their score is +inf
    lift = np.array([[1.0, 0.0, 1.0]], dtype=np.float32)  # score = x0 + norm column
    minima = np.ascontiguousarray((lift @ rows.T).reshape(1, 2, 16).min(axis=1))  # 16 groups: rows g, g + 16
    scores, indices = nearest_group_members(minima, rows, lift, 20, 2)
    np.testing.assert_array_equal(indices[0], np.arange(20))
    assert np.isfinite(scores).all()


def test_the_loops_compile_where_numba_can_write_no_cache(monkeypatch):
    """A read-only install with no writable user cache folder: numba refuses ``cache=True``, and digitlab compiles
    in the process instead of failing at import."""
    import importlib.util

    import numba.core.caching

    from digitlab.models import _kernels

    monkeypatch.setattr(numba.core.caching.CacheImpl, "_locator_classes", [])  # no folder numba could write to
    spec = importlib.util.spec_from_file_location("digitlab.models._kernels_uncached", _kernels.__file__)
    uncached = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(uncached)
    assert not uncached.squared_distances._cache.cache_path  # the stand-in for "no cache"
    rng = np.random.default_rng(0)
    q, c = rng.uniform(0, 255, (2, 784)).astype(np.float32), rng.uniform(0, 255, (2, 3, 784)).astype(np.float32)
    np.testing.assert_array_equal(uncached.squared_distances(q, c, 1), _kernels.squared_distances(q, c, 1))
