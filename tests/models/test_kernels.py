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


def _fresh_copy():
    """The kernels' module loaded again, so that its decorators run under the settings of the test."""
    import importlib.util

    from digitlab.models import _kernels

    spec = importlib.util.spec_from_file_location("digitlab.models._kernels_copy", _kernels.__file__)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _distances_match(module):
    from digitlab.models import _kernels

    rng = np.random.default_rng(0)
    q, c = rng.uniform(0, 255, (2, 784)).astype(np.float32), rng.uniform(0, 255, (2, 3, 784)).astype(np.float32)
    np.testing.assert_array_equal(module.squared_distances(q, c, 1), _kernels.squared_distances(q, c, 1))


def test_machine_code_is_kept_on_disk_only_where_numba_cache_dir_asks(tmp_path, monkeypatch):
    import numba

    monkeypatch.setattr(numba.config, "CACHE_DIR", "")  # the default: digitlab writes nothing
    assert type(_fresh_copy().squared_distances._cache).__name__ == "NullCache"
    monkeypatch.setattr(numba.config, "CACHE_DIR", str(tmp_path))  # the user named a folder for numba's cache
    cached = _fresh_copy()
    _distances_match(cached)
    assert any(path.suffix == ".nbi" for path in tmp_path.rglob("*"))


def test_the_loops_compile_where_numba_can_write_no_cache(tmp_path, monkeypatch):
    """NUMBA_CACHE_DIR set, but no folder numba could write to: digitlab compiles in the process instead of failing
    at import."""
    import numba.core.caching

    monkeypatch.setattr(numba.config, "CACHE_DIR", str(tmp_path))
    monkeypatch.setattr(numba.core.caching.CacheImpl, "_locator_classes", [])  # no folder numba could write to
    uncached = _fresh_copy()
    assert type(uncached.squared_distances._cache).__name__ == "NullCache"
    _distances_match(uncached)
