"""Hyper-parameter search with cross-validation (seed 002's k-NN grid, seed 003's randomized linear SVM).

Candidates and folds are the ones ``GridSearchCV`` / ``RandomizedSearchCV`` use for the same grid,
distributions, ``cv`` and seed; the loop is run here so a progress display can count the
fits as they finish. The best candidate is refit on the whole train split and scored on the test split.
"""

from __future__ import annotations

import math
import re
from typing import Any

import numpy as np
from joblib import Parallel, delayed
from sklearn.model_selection import ParameterGrid, ParameterSampler

from ..errors import ModelError, UsageError
from ..models import registry
from ..runs import timed
from .multiclass import Step, _fit, _no_step, _params, cv_splitter, fit_and_test

DISTRIBUTIONS = ("loguniform", "uniform", "randint")


def _items(text: str, option: str) -> list[tuple[str, str]]:
    """'a=1,2 b=x' -> [('a', '1,2'), ('b', 'x')], refusing anything not KEY=VALUES."""
    items = []
    for chunk in text.split():
        key, sep, values = chunk.partition("=")
        if not sep or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*(__[A-Za-z0-9_]+)*", key):
            raise UsageError(f"{option} {chunk!r} is not of the form NAME=VALUES.")
        items.append((key, values))
    if not items:
        raise UsageError(f"{option} is empty; give at least one NAME=VALUES.")
    return items


def _check_name(model: str, key: str, option: str) -> None:
    accepted = registry.parameters(model)
    if key not in accepted:
        raise UsageError(f"{option} names {key!r}, which model {model!r} does not have; "
                         f"it accepts: {', '.join(sorted(accepted)) or 'none'}.")


def _list(key: str, values: str, option: str) -> list[Any]:
    parts = [v.strip() for v in values.split(",")]
    if not values.strip() or any(not p for p in parts):
        raise UsageError(f"{option} gives {key!r} an empty value; list one or more values separated by commas.")
    return [registry.parse_value(p) for p in parts]


def parse_grid(text: str, model: str) -> dict[str, list[Any]]:
    """'n_neighbors=3,4,5 weights=uniform,distance' -> {'n_neighbors': [3, 4, 5], 'weights': [...]}."""
    grid = {}
    for key, values in _items(text, "--grid"):
        _check_name(model, key, "--grid")
        if values.partition(":")[0] in DISTRIBUTIONS:
            raise UsageError(f"--grid {key}={values!r} is a distribution, which only a randomized search can "
                             f"draw from; add --random N.")
        grid[key] = _list(key, values, "--grid")
    return grid


def parse_distributions(text: str, model: str) -> dict[str, Any]:
    """'C=loguniform:1e-3,1e2 tol=uniform:1e-4,1e-2 max_iter=randint:500,2000 loss=hinge,squared_hinge'.

    ``loguniform:a,b`` and ``uniform:a,b`` draw floats between a and b, ``randint:a,b`` whole numbers
    from a to b inclusive, and a plain list draws one of its values.
    """
    from scipy import stats

    dists = {}
    for key, values in _items(text, "--grid"):
        _check_name(model, key, "--grid")
        kind, colon, bounds = values.partition(":")
        if not colon:
            dists[key] = _list(key, values, "--grid")
            continue
        if kind not in DISTRIBUTIONS:
            raise UsageError(f"--grid {key}={values!r}: unknown distribution {kind!r}; "
                             f"use {', '.join(d + ':LOW,HIGH' for d in DISTRIBUTIONS)} or a list of values.")
        try:
            low, high = (float(b) for b in bounds.split(","))
        except ValueError:
            raise UsageError(f"--grid {key}={values!r}: expected {kind}:LOW,HIGH with two numbers.") from None
        if not (math.isfinite(low) and math.isfinite(high) and low < high):
            raise UsageError(f"--grid {key}={values!r}: LOW must be a number below HIGH.")
        if kind == "loguniform":
            if low <= 0:
                raise UsageError(f"--grid {key}={values!r}: loguniform bounds must be above 0.")
            dists[key] = stats.loguniform(low, high)
        elif kind == "uniform":
            dists[key] = stats.uniform(low, high - low)
        else:
            if low != int(low) or high != int(high):
                raise UsageError(f"--grid {key}={values!r}: randint bounds must be whole numbers.")
            dists[key] = stats.randint(int(low), int(high) + 1)
    return dists


def candidates(grid: dict | None = None, distributions: dict | None = None, n_iter: int | None = None,
               seed: int = 42) -> list[dict[str, Any]]:
    """The parameter sets GridSearchCV (grid) or RandomizedSearchCV (distributions, n_iter, seed) would try."""
    if (grid is None) == (distributions is None):
        raise UsageError("Give either a grid (--grid) or distributions with a number of draws (--random N).")
    if grid is not None:
        return list(ParameterGrid(grid))
    if n_iter is None or n_iter < 1:
        raise UsageError(f"--random must be a number of candidates of at least 1, got {n_iter}.")
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # fewer distinct list candidates than n_iter
        return [_plain(p) for p in ParameterSampler(distributions, n_iter, random_state=seed)]


def _plain(params: dict[str, Any]) -> dict[str, Any]:
    return {k: (v.item() if isinstance(v, np.generic) else v) for k, v in params.items()}


def _fit_and_score(model_name, params, seed, X, y, train, held, i, k):
    # Built by the registry, since a factory's parameters need not be the estimator's (a Pipeline's C).
    model = registry.make(model_name, params, seed=seed)
    fit_seconds = _fit(model, X[train], y[train])
    pred, score_seconds = timed(lambda: model.predict(X[held]))
    return i, k, float(np.mean(pred == y[held])), fit_seconds, score_seconds


def search(X_train, y_train, X_test, y_test, model: str, grid: dict | None = None, distributions: dict | None = None,
           n_iter: int | None = None, cv: int = 5, n_jobs: int | None = 1, seed: int = 42,
           params: dict[str, Any] | None = None, step: Step = _no_step) -> dict[str, Any]:
    """Score every candidate on every fold, pick the best mean accuracy (first on ties, as scikit-learn),
    refit it on the whole train split and score the test split. ``estimator`` in the result is that refit."""
    splitter = cv_splitter(cv, y_train)
    registry.make(model, params, seed=seed)  # refuse unknown fixed parameters before any fit
    if grid is not None:
        for key in grid:
            _check_name(model, key, "--grid")
    params_list = candidates(grid, distributions, n_iter, seed)
    X_train, y_train = np.asarray(X_train), np.asarray(y_train)
    folds = list(splitter.split(X_train, y_train))
    n_fits = len(params_list) * len(folds)
    step(0, total=n_fits + 1, description=f"{model}: {len(params_list)} candidates x {len(folds)} folds")
    scores = np.zeros((len(params_list), len(folds)))
    fit_times = np.zeros_like(scores)
    score_times = np.zeros_like(scores)
    fixed = dict(params or {})
    jobs = (delayed(_fit_and_score)(model, fixed | p, seed, X_train, y_train, train, held, i, k)
            for i, p in enumerate(params_list) for k, (train, held) in enumerate(folds))
    try:
        done = Parallel(n_jobs=n_jobs, return_as="generator_unordered")(jobs)
        for n, (i, k, score, fit_s, score_s) in enumerate(done, 1):
            scores[i, k], fit_times[i, k], score_times[i, k] = score, fit_s, score_s
            step(1, description=f"{model}: fit {n}/{n_fits}")
    except (ValueError, TypeError) as exc:
        raise ModelError(f"Model {model!r} rejected a candidate's parameters: {exc}") from None
    means, stds = scores.mean(axis=1), scores.std(axis=1)
    order = np.argsort(-means, kind="stable")
    ranks = np.empty(len(means), dtype=int)
    for r, i in enumerate(order):  # equal means share the better rank, as scikit-learn's "min" ranking
        ranks[i] = r + 1 if r == 0 or means[i] != means[order[r - 1]] else ranks[order[r - 1]]
    best = int(order[0])
    results = [{"rank": int(ranks[i]), "params": params_list[i], "mean_cv_accuracy": float(means[i]),
                "std_cv_accuracy": float(stds[i]), "fold_accuracy": scores[i].tolist(),
                "mean_fit_seconds": float(fit_times[i].mean())} for i in range(len(params_list))]
    best_params = _params(model, params, seed) | params_list[best]
    estimator = registry.make(model, fixed | params_list[best], seed=seed)
    tested = fit_and_test(estimator, X_train, y_train, X_test, y_test, step=step, label=f"{model} best")
    return {
        "model": model,
        "strategy": "grid" if grid is not None else "random",
        "space": grid if grid is not None else {k: _describe(v) for k, v in distributions.items()},
        "n_candidates": len(params_list),
        "cv": int(cv),
        "seed": seed,
        "n_train": int(len(y_train)),
        "n_test": int(len(y_test)),
        "best_params": params_list[best],
        "params": best_params,
        "best_cv_accuracy": float(means[best]),
        "cv_accuracy": float(means[best]),
        "train_accuracy": tested["train_accuracy"],
        "train_accuracy_on": tested["train_accuracy_on"],
        "test_accuracy": tested["test_accuracy"],
        "fit_seconds": tested["fit_seconds"],
        "predict_seconds": tested["predict_seconds"],
        "search_seconds": float(fit_times.sum() + score_times.sum()),
        "test_predictions": tested["test_predictions"],
        "results": sorted(results, key=lambda row: (row["rank"], params_list.index(row["params"]))),
        "estimator": estimator,
    }


def _describe(dist) -> Any:
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
