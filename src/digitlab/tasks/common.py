"""What every task shares: progress reports, timed fits, the first-N subset, the train-score limit, models by
name or as estimators, and the facts saved with a model file."""

from __future__ import annotations

import time
from typing import Any, Callable

import numpy as np

from .._version import __version__
from ..errors import ModelError, ParameterError, UsageError
from ..models import registry

# progress(advance=1, description=None, total=None, completed=None): a task reports its steps through it.
# The command line turns it into a progress bar; a notebook user may pass any callable of that shape.
Progress = Callable[..., None]

# Train accuracy is measured on at most this many training images: predicting all 300,000 shift-augmented
# images with a k-NN, or all 60,000 with an SVC, would cost more than the fit.
TRAIN_SCORE_LIMIT = 10_000


def no_progress(advance: float = 1, description: str | None = None, total: float | None = None,
                completed: float | None = None) -> None:
    """The progress report that reports nothing."""


def timed(fn: Callable[[], Any]) -> tuple[Any, float]:
    """Call ``fn``; return its result and the wall seconds it took."""
    start = time.perf_counter()
    result = fn()
    return result, time.perf_counter() - start


def fit_timed(estimator, X, y, **fit_params) -> float:
    """Fit ``estimator`` and return the seconds it took; a parameter it rejects is one ModelError sentence."""
    from sklearn.utils._param_validation import InvalidParameterError

    try:
        return timed(lambda: estimator.fit(X, y, **fit_params))[1]
    except InvalidParameterError as exc:
        raise ModelError(f"Bad model parameter: {exc}") from None


def first(X: np.ndarray, y: np.ndarray, n: int | None, parameter: str,
          minimum: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """The first ``n`` rows (all when None), refusing fewer than ``minimum``."""
    if n is None:
        return X, y
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < minimum:
        raise ParameterError(parameter, f"must be a whole number of at least {minimum}, got {n}.")
    return X[:n], y[:n]


def check_task(name: str, task: str, parameter: str = "model") -> str:
    """Refuse a registry model made for the other task (a denoiser where a classifier is wanted)."""
    spec = registry.get(name)
    if spec.task != task:
        if task == "classify":
            raise UsageError(f"{parameter} {name!r} is a denoiser, not a classifier; classifiers: "
                             f"{', '.join(registry.names('classify'))}.")
        raise UsageError(f"{parameter} {name!r} is a classifier, not a denoiser; denoisers: "
                         f"{', '.join(registry.names('denoise'))}.")
    return name


def build(model, params: dict[str, Any] | None = None, seed: int | None = 42):
    """A registry name becomes a fresh estimator; an estimator (a library user's own) is used as given."""
    if isinstance(model, str):
        return registry.make(model, params, seed=seed)
    if params:
        model.set_params(**params)
    return model


def model_name(model) -> str:
    """The registry name, or the class name of a user's own estimator."""
    return model if isinstance(model, str) else type(model).__name__


def resolved_params(model, params: dict[str, Any] | None = None, seed: int | None = 42) -> dict[str, Any]:
    """Every parameter the model is built with: registry defaults, the seed as random_state, then ``params``;
    for a user's own estimator its plain-valued parameters."""
    if isinstance(model, str):
        return registry.resolve(model, params, seed)
    return {k: v for k, v in model.get_params(deep=False).items()
            if v is None or isinstance(v, (int, float, str, bool))}


def model_meta(name: str, task: str, params: dict[str, Any], dataset: str, n_train: int, seed: int,
               **facts: Any) -> dict[str, Any]:
    """The description a model file carries (``digitlab info`` shows it): what, trained how, scored how."""
    return {"model": name, "task": task, "params": params, "dataset": dataset, "n_train": int(n_train),
            "seed": seed, **facts, "digitlab": __version__}


def net_watcher(progress: Progress, label: str) -> Callable[[dict], None]:
    """Turn a neural model's per-batch and per-epoch reports into progress steps."""
    def watch(info: dict) -> None:
        member = f" member {info['member']}/{info['members']}" if "members" in info else ""
        where = f"{label}{member} epoch {info['epoch']}/{info['epochs']}"
        if info["event"] == "batch":
            progress(1, description=f"{where} loss {info['loss']:.4f}", total=info["steps"] * info["epochs"])
        elif info["event"] == "epoch" and "val_score" in info:
            progress(0, description=f"{where} val {info['val_score']:.4f}")
    return watch
