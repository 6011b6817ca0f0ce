"""Train a classifier on a dataset's train split, score it on the test split, and keep it as a run."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Callable

import numpy as np

from .._version import __version__
from ..data.datasets import Dataset
from ..errors import ModelError, UsageError
from ..evaluate.metrics import accuracy
from ..models import persist, registry
from ..runs import Run, new_run, timed

# Train accuracy is measured on at most this many training images: predicting all 300,000
# augmented images with a k-NN would cost more than training.
TRAIN_SCORE_LIMIT = 10_000


@dataclass
class TrainConfig:
    model: str
    params: dict[str, Any] = field(default_factory=dict)
    dataset: str = "mnist"
    augment: str | None = None  # None or "shift"
    n_train: int | None = None  # first N training images (None = all)
    n_test: int | None = None  # first N test images (None = all)
    seed: int = 42
    save_model: bool = True


def subset(X: np.ndarray, y: np.ndarray, n: int | None, option: str,
           minimum: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """The first ``n`` rows (all when None), refusing fewer than ``minimum``."""
    if n is None:
        return X, y
    if n < minimum:
        raise UsageError(f"{option} must be at least {minimum}, got {n}.")
    return X[:n], y[:n]


def augment_train(X: np.ndarray, y: np.ndarray, augment: str | None):
    if augment is None:
        return X, y
    if augment == "shift":
        from ..data.augment import shift_augment

        return shift_augment(X, y)
    raise UsageError(f"--augment {augment!r} is not known; the choice is: shift.")


def fit_model(model, X, y):
    """Fit, turning scikit-learn's parameter complaints into one-sentence errors."""
    from sklearn.utils._param_validation import InvalidParameterError

    try:
        return timed(lambda: model.fit(X, y))[1]
    except InvalidParameterError as exc:
        raise ModelError(f"Bad model parameter: {exc}") from None


CHECKPOINT = "checkpoint.safetensors"  # a neural model's last epoch, in its run folder


def start_run(kind: str, config, data: Dataset, runs_root=None, run: Run | None = None,
              watch: Callable[[dict], None] | None = None):
    """Build the model, create (or reuse, to resume) its run folder and record the configuration.

    A neural model also gets a checkpoint in the run folder after every epoch and reports its epochs to
    ``watch``; when ``run`` is given, training resumes from that run's checkpoint.
    """
    params = registry.resolve(config.model, config.params, config.seed)
    model = registry.make(config.model, config.params, seed=config.seed)
    resume = run is not None
    if run is None:
        label = f"{config.model}-{getattr(config, 'noise', '')}-{data.name}".replace("--", "-")
        run = new_run(kind, label, runs_root)
    if "checkpoint_path" in model.get_params(deep=False):
        checkpoint = run.file(CHECKPOINT)
        if resume and not checkpoint.is_file():
            raise UsageError(f"Run {run.path} has no {CHECKPOINT} to resume from.")
        model.set_params(checkpoint_path=str(checkpoint), progress=watch,
                         resume_from=str(checkpoint) if resume else None)
    elif resume:
        raise UsageError(f"Run {run.path} trained {config.model!r}, which has no epochs to resume.")
    run.write_config({"kind": kind, **asdict(config), "params": params, "set": config.params,
                      "dataset": data.name, "data_source": data.source, "digitlab": __version__})
    return model, run, params


def config_of_run(run: Run, config_class):
    """The configuration a run was started with, to resume it."""
    recorded = run.read()
    fields = {name: recorded[name] for name in config_class.__dataclass_fields__ if name in recorded}
    fields["params"] = recorded.get("set", {})
    return config_class(**fields)


def train(config: TrainConfig, data: Dataset, runs_root=None,
          progress: Callable[[str], None] = lambda message: None, run: Run | None = None,
          watch: Callable[[dict], None] | None = None) -> tuple[dict[str, Any], Run]:
    """Fit ``config.model`` on the train split, score train and test accuracy, save a run folder.

    ``run`` resumes that run's training from its checkpoint; ``watch`` receives a neural model's progress.
    """
    spec = registry.get(config.model)
    if spec.task != "classify":
        raise UsageError(f"{config.model!r} is a denoiser; use `digitlab denoise {config.model}`.")
    X_train, y_train = subset(data.X_train, data.y_train, config.n_train, "--n-train")
    X_test, y_test = subset(data.X_test, data.y_test, config.n_test, "--n-test")
    X_fit, y_fit = augment_train(X_train, y_train, config.augment)
    model, run, params = start_run("train", config, data, runs_root, run, watch)

    progress(f"fitting {config.model} on {len(X_fit):,} images")
    fit_seconds = fit_model(model, X_fit, y_fit)
    progress(f"predicting {len(X_test):,} test images")
    test_pred, predict_seconds = timed(lambda: model.predict(X_test))
    n_score = min(len(X_train), TRAIN_SCORE_LIMIT)
    train_pred = model.predict(X_train[:n_score])

    result = {
        "run": str(run.path),
        "model": config.model,
        "dataset": data.name,
        "params": params,
        "augment": config.augment,
        "n_train": int(len(X_fit)),
        "n_test": int(len(X_test)),
        "seed": config.seed,
        "train_accuracy": accuracy(y_train[:n_score], train_pred),
        "train_accuracy_on": int(n_score),
        "test_accuracy": accuracy(y_test, test_pred),
        "fit_seconds": fit_seconds,
        "predict_seconds": predict_seconds,
        "interrupted": bool(getattr(model, "interrupted_", False)),
    }
    if config.save_model:
        meta = {"model": config.model, "task": "classify", "params": params, "dataset": data.name,
                "augment": config.augment, "n_train": result["n_train"], "seed": config.seed,
                "test_accuracy": result["test_accuracy"], "train_accuracy": result["train_accuracy"],
                "digitlab": __version__}
        result["model_file"] = str(persist.save(model, run.file("model"), meta))
    run.write_metrics(result)
    return result, run
