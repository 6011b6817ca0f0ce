"""Hyper-parameter search with cross-validation (the notebooks' k-NN grid and randomized linear SVM).

Candidates and folds are the ones ``GridSearchCV`` / ``RandomizedSearchCV`` use for the same grid,
distributions, ``cv`` and seed; the fits run here, one joblib call each, so a progress report can count them
and a Dask cluster can take them. The best candidate is refit on the whole train split and scored on the
test split.

    >>> import digitlab
    >>> result = digitlab.search("knn", "mnist-mini", grid="n_neighbors=3,4,5 weights=uniform,distance")  # doctest: +SKIP
    >>> result.metrics["best_params"], result.plot_results()                                               # doctest: +SKIP
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from joblib import delayed

from ..errors import ModelError
from ..evaluation import metrics
from ..models import persist, registry
from .common import Progress, check_task, first, fit_timed, model_meta, no_progress, timed
from .cv import check_cv, cv_splitter, fit_and_test, run_fits
from .data import DataLike, dataset_for
from .result import Recorder, TaskResult
from .search_space import candidates, describe, space


@dataclass(repr=False, eq=False)
class SearchResult(TaskResult):
    """Every candidate's cross-validated accuracy, and the best one refit (``model``) with its test figures."""

    y_test: np.ndarray = field(default=None)
    test_predictions: np.ndarray = field(default=None)

    kind = "search"
    headline_keys = ("best_params", "best_cv_accuracy", "test_accuracy")

    def plot_results(self, ax=None):
        """Mean CV accuracy of each candidate with its spread over folds; the best one marked."""
        from ..evaluation import plots

        m = self.metrics
        return plots.search_results(m["results"], test_accuracy=m["test_accuracy"], ax=ax,
                                    title=f"{m['model']} {m['strategy']} search on {m['dataset']}: {m['cv']}-fold CV "
                                          f"accuracy")

    def plot_test_confusion_matrix(self, ax=None):
        from ..evaluation import plots

        labels = [int(v) for v in np.unique(self.y_test)]
        matrix = metrics.confusion_matrix(self.y_test, self.test_predictions, labels)
        return plots.confusion(matrix, labels, ax=ax, xlabel="Predicted digit", ylabel="Actual digit",
                               title=f"{self.metrics['model']} (best candidate) on the test split: confusion matrix")

    def run_plots(self):
        return {"search_results.png": self.plot_results, "test_confusion_matrix.png": self.plot_test_confusion_matrix}


def _fit_and_score(model: str, params, seed, X, y, train, held, i, k):
    # Built by the registry, since a factory's parameters need not be the estimator's (a Pipeline's C).
    estimator = registry.make(model, params, seed=seed)
    fit_seconds = fit_timed(estimator, X[train], y[train])
    pred, score_seconds = timed(lambda: estimator.predict(X[held]))
    return i, k, float(np.mean(pred == y[held])), fit_seconds, score_seconds


def _ranked(params_list, scores, fit_times) -> tuple[int, list[dict]]:
    """The best candidate (first on ties, as scikit-learn) and every candidate's row, best first; equal means
    share the better rank, as scikit-learn's "min" ranking."""
    means, stds = scores.mean(axis=1), scores.std(axis=1)
    order = np.argsort(-means, kind="stable")
    ranks = np.empty(len(means), dtype=int)
    for r, i in enumerate(order):
        ranks[i] = r + 1 if r == 0 or means[i] != means[order[r - 1]] else ranks[order[r - 1]]
    rows = [{"rank": int(ranks[i]), "params": params_list[i], "mean_cv_accuracy": float(means[i]),
             "std_cv_accuracy": float(stds[i]), "fold_accuracy": scores[i].tolist(),
             "mean_fit_seconds": float(fit_times[i].mean())} for i in range(len(params_list))]
    return int(order[0]), sorted(rows, key=lambda row: (row["rank"], params_list.index(row["params"])))


def _cross_validate(model, fixed, params_list, X, y, folds, seed, n_jobs, progress):
    """Score every candidate on every fold: (scores, fit seconds, score seconds), each (candidates, folds)."""
    scores = np.zeros((len(params_list), len(folds)))
    fit_times, score_times = np.zeros_like(scores), np.zeros_like(scores)
    n_fits = len(params_list) * len(folds)
    jobs = (delayed(_fit_and_score)(model, fixed | p, seed, X, y, train, held, i, k)
            for i, p in enumerate(params_list) for k, (train, held) in enumerate(folds))
    try:
        for i, k, score, fit_s, score_s in run_fits(jobs, n_jobs, progress, lambda n: f"{model}: fit {n}/{n_fits}"):
            scores[i, k], fit_times[i, k], score_times[i, k] = score, fit_s, score_s
    except (ValueError, TypeError) as exc:
        raise ModelError(f"Model {model!r} rejected a candidate's parameters: {exc}") from None
    return scores, fit_times, score_times


def search(model: str, data: DataLike = None, *, grid: str | dict | None = None, n_iter: int | None = None,
           cv: int = 5, n_jobs: int | None = 1, params: dict[str, Any] | None = None, n_train: int | None = None,
           seed: int = 42, runs: str | Path | None = None, data_dir=None,
           progress: Progress = no_progress) -> SearchResult:
    """Grid search over ``grid`` (``"n_neighbors=3,4,5"`` or ``{"n_neighbors": [3, 4, 5]}``), or with ``n_iter``
    a randomized search drawing that many candidates from it (``"C=loguniform:1e-3,1e0"``); ``params`` are
    fixed parameters; ``n_jobs`` fits run at once. ``result.model`` is the best candidate refit on the whole
    train split; with ``runs`` it is also saved in the run folder."""
    cv = check_cv(cv)
    check_task(model, "classify")
    grid_space, dists = space(grid, model, n_iter)
    fixed = dict(params or {})
    registry.make(model, fixed, seed=seed)  # refuse unknown fixed parameters before any fit
    params_list = candidates(grid_space, dists, n_iter, seed)
    dataset = dataset_for(data, data_dir=data_dir, seed=seed)
    X, y = (np.asarray(a) for a in first(dataset.X_train, dataset.y_train, n_train, "n_train", minimum=2))
    strategy = "grid" if grid_space is not None else "random"
    described = grid_space if grid_space is not None else {k: describe(v) for k, v in dists.items()}
    config = {"dataset": dataset.name, "data_source": dataset.source, "n_train": n_train, "seed": seed,
              "model": model, "strategy": strategy, "space": described, "n_iter": n_iter, "cv": cv,
              "n_jobs": n_jobs, "fixed_params": fixed}
    with Recorder(runs, "search", f"{model}-{dataset.name}", config) as recorder:
        folds = list(cv_splitter(cv, y).split(X, y))
        progress(0, total=len(params_list) * len(folds) + 1,
                 description=f"{model}: {len(params_list)} candidates x {len(folds)} folds")
        scores, fit_times, score_times = _cross_validate(model, fixed, params_list, X, y, folds, seed, n_jobs,
                                                         progress)
        best, rows = _ranked(params_list, scores, fit_times)
        estimator = registry.make(model, fixed | params_list[best], seed=seed)
        tested = fit_and_test(estimator, X, y, dataset.X_test, dataset.y_test, progress=progress,
                              label=f"{model} best")
        figures = {"kind": "search", "dataset": dataset.name, "model": model, "strategy": strategy,
                   "space": described, "n_candidates": len(params_list), "cv": cv, "seed": seed,
                   "n_train": int(len(y)), "n_test": int(len(dataset.y_test)), "best_params": params_list[best],
                   "params": registry.resolve(model, fixed | params_list[best], seed),
                   "best_cv_accuracy": float(scores[best].mean()), "cv_accuracy": float(scores[best].mean()),
                   **{k: v for k, v in tested.items() if k != "test_predictions"},
                   "search_seconds": float(fit_times.sum() + score_times.sum()), "results": rows}
        result = SearchResult(figures, estimator, y_test=dataset.y_test, test_predictions=tested["test_predictions"])
        meta = model_meta(model, "classify", figures["params"], dataset.name, len(y), seed,
                          test_accuracy=figures["test_accuracy"], train_accuracy=figures["train_accuracy"])
        return recorder.finish(result, lambda stem: persist.save(estimator, stem, meta))
