"""A search space as typed on the command line: ``n_neighbors=3,4,5 weights=uniform,distance`` for a grid,
``C=loguniform:1e-3,1e2`` for a randomized search; and the candidates scikit-learn's searches would try."""

from __future__ import annotations

import math
import re
from typing import Any

import numpy as np
from sklearn.model_selection import ParameterGrid, ParameterSampler

from ..errors import ParameterError
from ..models import registry

DISTRIBUTIONS = ("loguniform", "uniform", "randint")


def _items(text: str, option: str) -> list[tuple[str, str]]:
    """'a=1,2 b=x' -> [('a', '1,2'), ('b', 'x')], refusing anything not KEY=VALUES."""
    items = []
    for chunk in text.split():
        key, sep, values = chunk.partition("=")
        if not sep or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*(__[A-Za-z0-9_]+)*", key):
            raise ParameterError(option, f"{chunk!r} is not of the form NAME=VALUES.")
        items.append((key, values))
    if not items:
        raise ParameterError(option, "is empty; give at least one NAME=VALUES.")
    return items


def _check_name(model: str, key: str, option: str) -> None:
    accepted = registry.parameters(model)
    if key not in accepted:
        raise ParameterError(option, f"names {key!r}, which model {model!r} does not have; "
                                     f"it accepts: {', '.join(sorted(accepted)) or 'none'}.")


def _list(key: str, values: str, option: str) -> list[Any]:
    parts = [v.strip() for v in values.split(",")]
    if not values.strip() or any(not p for p in parts):
        raise ParameterError(option, f"gives {key!r} an empty value; list one or more values separated by commas.")
    return [registry.parse_value(p) for p in parts]


def parse_grid(text: str, model: str) -> dict[str, list[Any]]:
    """'n_neighbors=3,4,5 weights=uniform,distance' -> {'n_neighbors': [3, 4, 5], 'weights': [...]}."""
    grid = {}
    for key, values in _items(text, "grid"):
        _check_name(model, key, "grid")
        if values.partition(":")[0] in DISTRIBUTIONS:
            raise ParameterError("grid", f"{key}={values!r} is a distribution, which only a randomized search "
                                         f"can draw from; give a number of draws (--random N, n_iter=N).")
        grid[key] = _list(key, values, "grid")
    return grid


def parse_distributions(text: str, model: str) -> dict[str, Any]:
    """'C=loguniform:1e-3,1e2 tol=uniform:1e-4,1e-2 max_iter=randint:500,2000 loss=hinge,squared_hinge'.

    ``loguniform:a,b`` and ``uniform:a,b`` draw floats between a and b, ``randint:a,b`` whole numbers
    from a to b inclusive, and a plain list draws one of its values.
    """
    from scipy import stats

    dists = {}
    for key, values in _items(text, "grid"):
        _check_name(model, key, "grid")
        kind, colon, bounds = values.partition(":")
        if not colon:
            dists[key] = _list(key, values, "grid")
            continue
        if kind not in DISTRIBUTIONS:
            raise ParameterError("grid", f"{key}={values!r}: unknown distribution {kind!r}; use "
                                         f"{', '.join(d + ':LOW,HIGH' for d in DISTRIBUTIONS)} or a list of values.")
        try:
            low, high = (float(b) for b in bounds.split(","))
        except ValueError:
            raise ParameterError("grid", f"{key}={values!r}: expected {kind}:LOW,HIGH with two numbers.") from None
        if not (math.isfinite(low) and math.isfinite(high) and low < high):
            raise ParameterError("grid", f"{key}={values!r}: LOW must be a number below HIGH.")
        if kind == "loguniform":
            if low <= 0:
                raise ParameterError("grid", f"{key}={values!r}: loguniform bounds must be above 0.")
            dists[key] = stats.loguniform(low, high)
        elif kind == "uniform":
            dists[key] = stats.uniform(low, high - low)
        else:
            if low != int(low) or high != int(high):
                raise ParameterError("grid", f"{key}={values!r}: randint bounds must be whole numbers.")
            dists[key] = stats.randint(int(low), int(high) + 1)
    return dists


def candidates(grid: dict | None = None, distributions: dict | None = None, n_iter: int | None = None,
               seed: int = 42) -> list[dict[str, Any]]:
    """The parameter sets GridSearchCV (grid) or RandomizedSearchCV (distributions, n_iter, seed) would try."""
    if (grid is None) == (distributions is None):
        raise ParameterError("grid", "is missing: give a grid, or distributions with a number of draws (n_iter).")
    if grid is not None:
        return list(ParameterGrid(grid))
    if n_iter is None or n_iter < 1:
        raise ParameterError("n_iter", f"must be a number of candidates of at least 1, got {n_iter}.")
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # fewer distinct list candidates than n_iter
        return [_plain(p) for p in ParameterSampler(distributions, n_iter, random_state=seed)]


def _plain(params: dict[str, Any]) -> dict[str, Any]:
    return {k: (v.item() if isinstance(v, np.generic) else v) for k, v in params.items()}


def space(grid: str | dict | None, model: str, n_iter: int | None) -> tuple[dict | None, dict | None]:
    """(grid, None) for a grid search, (None, distributions) for a randomized one (``n_iter`` draws).

    ``grid`` is the command line's text or a dict (lists of values; with ``n_iter`` also scipy distributions).
    """
    if not grid:
        raise ParameterError("grid", "is missing: give the search space, e.g. "
                                     "'n_neighbors=3,4,5 weights=uniform,distance'.")
    if n_iter is not None and (isinstance(n_iter, bool) or not isinstance(n_iter, int) or n_iter < 1):
        raise ParameterError("n_iter", f"must be a number of candidates of at least 1, got {n_iter}.")
    if isinstance(grid, str):
        return (parse_grid(grid, model), None) if n_iter is None else (None, parse_distributions(grid, model))
    for key in grid:
        _check_name(model, key, "grid")
    return (dict(grid), None) if n_iter is None else (None, dict(grid))


def describe(dist) -> Any:
    """A distribution as text for config files: 'loguniform(0.001, 100.0)', or the list itself."""
    if isinstance(dist, list):
        return dist
    name = dist.dist.name
    a, b = dist.support()
    if name == "uniform":
        return f"uniform({a:g}, {b:g})"
    if name == "randint":
        return f"randint({int(a)}, {int(b)})"
    return f"{name}({a:g}, {b:g})"
