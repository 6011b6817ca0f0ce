"""Train a classifier on a dataset's train split and score it on the test split.

    >>> import digitlab
    >>> result = digitlab.train("knn-fast", "mnist-mini")          # doctest: +SKIP
    >>> result.metrics["test_accuracy"], result.model               # doctest: +SKIP
    >>> result.plot_confusion_matrix()                              # doctest: +SKIP
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import ParameterError
from ..evaluation import metrics as m
from ..models import persist
from . import cluster
from .common import (TRAIN_SCORE_LIMIT, Progress, build, check_task, first, fit_timed, model_meta, model_name,
                     net_watcher, no_progress, resolved_params, timed)
from .data import DataLike, dataset_for
from .result import Recorder, TaskResult, plot
from .resume import CHECKPOINT, DEFAULT_SEED, resume_args

AUGMENTS = ("shift",)


@dataclass(repr=False, eq=False)
class ClassifiedResult(TaskResult):
    """A classifier's figures on labelled test digits, which are kept with its predictions for the plots."""

    X_test: np.ndarray = field(default=None)
    y_test: np.ndarray = field(default=None)
    predictions: np.ndarray = field(default=None)
    confidence: np.ndarray | None = None  # probability of each predicted label, when the model gives them

    @plot
    def plot_confusion_matrix(self, ax=None):
        """Test-split confusion matrix (rows actual, columns predicted)."""
        from ..evaluation import plots

        labels = self.metrics["labels"]
        return plots.confusion(np.asarray(self.metrics["confusion_matrix"]), labels, ax=ax,
                               title=f"{self.metrics['model']} on {self.data_label}: test confusion matrix",
                               xlabel="Predicted digit", ylabel="Actual digit")

    @plot
    def plot_misclassified(self, n: int = 30, ax=None):
        """The first ``n`` misclassified test digits with true and predicted labels (and confidence)."""
        from ..evaluation import plots

        return plots.misclassified_gallery(self.X_test, self.y_test, self.predictions, confidence=self.confidence,
                                           n=n, ax=ax, title=f"{self.metrics['model']}: misclassified test digits")


@dataclass(repr=False, eq=False)
class TrainResult(ClassifiedResult):
    """A trained classifier, its test figures and (for a net) its training history."""

    kind = "train"
    headline_keys = ("test_accuracy", "train_accuracy")

    @plot
    def plot_history(self, ax=None):
        """A net's loss and validation score per epoch."""
        from ..evaluation import plots

        return plots.training_history(self.metrics["history"], ax=ax, title=f"{self.metrics['model']}: training")

    def run_plots(self):
        made = {"confusion_matrix.png": self.plot_confusion_matrix, "misclassified.png": self.plot_misclassified}
        if self.metrics.get("history"):
            made["history.png"] = self.plot_history
        return made if self.predictions is not None and len(self.predictions) else {}


def train(model: Any = None, data: DataLike = None, *, params: dict[str, Any] | None = None,
          augment: str | None = None, n_train: int | None = None, n_test: int | None = None,
          holdout: float | None = None, seed: int | None = None, runs: str | Path | None = None,
          save_model: bool = True, resume: str | Path | None = None, data_dir=None, scheduler=None,
          progress: Progress = no_progress) -> TrainResult:
    """Fit a classifier on the train split and score it on the test split.

    ``model`` is a registry name (``digitlab.list_models()``) or an unfitted scikit-learn classifier;
    ``data`` a dataset name, a Dataset or ``(X_train, y_train, X_test, y_test)``; ``params`` the model's
    parameters; ``augment="shift"`` adds the four one-pixel shifts of every training image; ``n_train`` /
    ``n_test`` take the first N images; ``holdout`` is the share of a ``csv:PATH`` file held out as the test
    split (default 0.2; 0 trains on every row, for a final submission, and gives no test figures); ``seed``
    (default 42) seeds everything random. Nothing is written
    unless ``runs`` names a folder: then the run folder gets config, metrics, plots and (``save_model``) the
    model file. ``resume`` continues an interrupted net's run from its checkpoint. ``scheduler`` (a Dask
    scheduler's address, ``"local:N"`` or a ``distributed.Client``: see ``digitlab.tasks.cluster``) trains a
    ``cnn-ensemble``'s members one per worker, without checkpoints; ``metrics["member_workers"]`` says where.
    """
    args = dict(model=model, data=data, params=params, augment=augment, n_train=n_train, n_test=n_test, seed=seed,
                holdout=holdout)
    run = None
    if resume is not None:
        run, args = resume_args(resume, runs, "train", args)
    elif model is None:
        raise ParameterError("model", "is missing: name a classifier (see `digitlab models`) or give resume=RUN.")
    model, params, augment, seed = args["model"], args["params"], args["augment"], args["seed"]
    seed = DEFAULT_SEED if seed is None else seed
    if isinstance(model, str):
        check_task(model, "classify")
    if augment is not None and augment not in AUGMENTS:
        raise ParameterError("augment", f"{augment!r} is not known; the choice is: {', '.join(AUGMENTS)}.")
    estimator = build(model, params, seed)
    _check_scheduler(estimator, model_name(model), scheduler, resume)
    dataset = dataset_for(args["data"], data_dir=data_dir, seed=seed, holdout=args["holdout"])
    X_train, y_train = first(dataset.X_train, dataset.y_train, args["n_train"], "n_train")
    X_test, y_test = first(dataset.X_test, dataset.y_test, args["n_test"], "n_test")
    X_fit, y_fit = _augmented(X_train, y_train, augment)
    name = model_name(model)
    config = {"model": name, "params": resolved_params(model, params, seed), "set": dict(params or {}),
              "dataset": dataset.name, "data_source": dataset.source, "holdout": dataset.holdout, "augment": augment,
              "n_train": args["n_train"], "n_test": args["n_test"], "seed": seed, "save_model": save_model,
              "scheduler": cluster.spec(scheduler)}
    with cluster.session(scheduler) as workers, Recorder(runs, "train", f"{name}-{dataset.name}", config,
                                                         resume=run) as recorder:
        checkpoint = _watch_net(estimator, recorder.path, run is not None, net_watcher(progress, name))
        progress(0, description=f"fitting {name} on {len(X_fit):,} images")
        fit_seconds, facts = _fit(estimator, X_fit, y_fit, workers, progress)
        result = _score(estimator, name, config, X_train, y_train, X_test, y_test, fit_seconds, len(X_fit), progress)
        result.metrics.update(facts)
        saver = None
        if save_model and result.predictions is not None:
            meta = model_meta(name, "classify", result.metrics["params"], dataset.name, len(X_fit), seed,
                              augment=augment, holdout=dataset.holdout, test_accuracy=result.metrics["test_accuracy"],
                              train_accuracy=result.metrics["train_accuracy"])
            saver = lambda stem: persist.save(estimator, stem, meta)  # noqa: E731
        recorder.finish(result, saver)
        _tidy_checkpoint(checkpoint, keep=result.metrics["status"] == "interrupted" and save_model)
    return result


def takes_scheduler(model) -> bool:
    """Whether ``train`` can spread ``model`` (a registry name or an estimator) over Dask workers: an ensemble
    whose members train one per worker."""
    estimator = build(model) if isinstance(model, str) else model
    return "train_members" in inspect.signature(estimator.fit).parameters


def _check_scheduler(estimator, name: str, scheduler, resume) -> None:
    if scheduler is None:
        return
    if not takes_scheduler(estimator):
        raise ParameterError("scheduler", f"spreads an ensemble's members (cnn-ensemble) over Dask workers; "
                                          f"{name} trains in one process, so leave it out.")
    if resume is not None:
        raise ParameterError("scheduler", "cannot be used with resume: an interrupted ensemble resumes here, from "
                                          "its members' checkpoints.")
    if isinstance(scheduler, str):
        cluster.parse(scheduler)  # a malformed spec is refused before the data is loaded


def _fit(estimator, X, y, workers: cluster.Workers, progress: Progress) -> tuple[float, dict[str, Any]]:
    """Fit here, or with a cluster each of an ensemble's members on a worker: the seconds, and the figures
    that say where the members trained."""
    if workers.client is None:
        return fit_timed(estimator, X, y), {}
    trainer = cluster.MemberTrainer(workers.client, progress)
    return fit_timed(estimator, X, y, train_members=trainer), {"member_workers": trainer.workers}


def _augmented(X, y, augment):
    if augment == "shift":
        from ..data.augment import shift_augment

        return shift_augment(X, y)
    return X, y


def _watch_net(estimator, folder: Path | None, resuming: bool, watch) -> Path | None:
    """Give a neural model its progress report and, with a run folder, a checkpoint after every epoch."""
    names = estimator.get_params(deep=False)
    if "progress" in names:
        estimator.set_params(progress=watch)
    if "checkpoint_path" not in names or folder is None:
        return None
    checkpoint = folder / CHECKPOINT
    estimator.set_params(checkpoint_path=str(checkpoint), resume_from=str(checkpoint) if resuming else None)
    return checkpoint


def _tidy_checkpoint(checkpoint: Path | None, keep: bool) -> None:
    """A finished run needs no checkpoint (it only serves ``--resume``); an interrupted one keeps it."""
    if checkpoint is not None and not keep:
        checkpoint.unlink(missing_ok=True)


def _score(estimator, name, config, X_train, y_train, X_test, y_test, fit_seconds, n_fit, progress) -> TrainResult:
    """Test and train accuracy, per-class figures and the confusion matrix of a fitted classifier."""
    interrupted = bool(getattr(estimator, "interrupted_", False))
    validated = getattr(estimator, "n_epochs_", 1) > 0
    metrics = {"model": name, "dataset": config["dataset"], "params": _used_params(estimator, config["params"]),
               "augment": config["augment"], "n_train": int(n_fit), "n_test": int(len(X_test)), "seed": config["seed"],
               "status": "interrupted" if interrupted else "complete", "interrupted": interrupted,
               "fit_seconds": fit_seconds}
    if getattr(estimator, "history_", None):
        metrics["history"] = estimator.history_
    if interrupted and not validated:  # stopped before one epoch ended: there is no model worth scoring
        metrics |= {"train_accuracy": None, "test_accuracy": None, "predict_seconds": None}
        return TrainResult(metrics, estimator, warnings=["training was interrupted before its first epoch "
                                                         "ended; no model was kept"])
    if not len(X_test):  # every row trained on (holdout 0): nothing to test on
        return _train_only(estimator, metrics, X_train, y_train)
    progress(0, description=f"predicting {len(X_test):,} test images")
    predictions, predict_seconds = timed(lambda: estimator.predict(X_test))
    confidence = _confidence(estimator, X_test, predictions)
    n_score = min(len(X_train), TRAIN_SCORE_LIMIT)
    labels = [int(v) for v in np.unique(np.concatenate([y_train, y_test]))]
    metrics |= {"train_accuracy": m.accuracy(y_train[:n_score], estimator.predict(X_train[:n_score])),
                "train_accuracy_on": int(n_score), "test_accuracy": m.accuracy(y_test, predictions),
                "predict_seconds": predict_seconds, **m.classification_report(y_test, predictions, labels)}
    return TrainResult(metrics, estimator, X_test=X_test, y_test=y_test, predictions=predictions,
                       confidence=confidence)


def _train_only(estimator, metrics, X_train, y_train) -> TrainResult:
    """Figures of a model trained on every row: train accuracy only, and a word that there is no test split."""
    n_score = min(len(X_train), TRAIN_SCORE_LIMIT)
    metrics |= {"train_accuracy": m.accuracy(y_train[:n_score], estimator.predict(X_train[:n_score])),
                "train_accuracy_on": int(n_score), "test_accuracy": None, "predict_seconds": None}
    result = TrainResult(metrics, estimator, predictions=np.empty(0, dtype=y_train.dtype))
    result.warnings.append("no test split (holdout 0: every row was trained on), so there is no test accuracy; "
                           "hold some rows out to measure the model.")
    return result


def _used_params(estimator, params: dict[str, Any]) -> dict[str, Any]:
    """The parameters the fit really used: a net's preset values filled in, where the net tells them."""
    used = getattr(estimator, "resolved_params_", None)
    return {**params, **used} if isinstance(used, dict) else params


def _confidence(estimator, X, predictions) -> np.ndarray | None:
    """The probability the model gives its predicted label, when it gives probabilities."""
    if not hasattr(estimator, "predict_proba"):
        return None
    try:
        proba = estimator.predict_proba(X)
    except (AttributeError, NotImplementedError):
        return None
    columns = np.searchsorted(estimator.classes_, predictions)
    return proba[np.arange(len(X)), columns]
