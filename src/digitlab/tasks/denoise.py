"""Clean noisy digits: train a denoiser on noisy train images against the clean ones, score it on the test split.

    >>> import digitlab
    >>> result = digitlab.denoise("dae-conv", "mnist-mini", noise="uniform:100")   # doctest: +SKIP
    >>> result.metrics["psnr"], result.metrics["noisy_psnr"]                          # doctest: +SKIP
    >>> result.plot_grid()                                                            # doctest: +SKIP
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..data.noise import parse_noise
from ..evaluation.metrics import denoise_scores
from ..models import persist, registry
from .common import (Progress, build, check_task, first, fit_timed, model_meta, model_name, net_watcher,
                     no_progress, resolved_params, timed)
from .data import DataLike, dataset_for
from .result import Recorder, TaskResult, plot
from .resume import DEFAULT_SEED, resume_args
from .train import _tidy_checkpoint, _used_params, _watch_net


@dataclass(repr=False, eq=False)
class DenoiseResult(TaskResult):
    """A trained denoiser and its figures on the noisy test images, which are kept for the grid."""

    clean: np.ndarray = field(default=None)
    noisy: np.ndarray = field(default=None)
    cleaned: np.ndarray = field(default=None)

    kind = "denoise"
    headline_keys = ("psnr", "noisy_psnr", "rmse", "ssim")

    @plot
    def plot_grid(self, n: int = 8, ax=None):
        """Noisy input, cleaned, truth and |difference| of the first ``n`` test images, with both PSNRs."""
        from ..evaluation import plots

        return plots.denoise_grid(self.noisy, self.cleaned, self.clean, n=n, scores=self.metrics, ax=ax,
                                  title=f"{self.metrics['model']} on {self.metrics['noise']} noise "
                                        f"({self.data_label})")

    @plot
    def plot_history(self, ax=None):
        """A net's loss and validation score per epoch."""
        from ..evaluation import plots

        return plots.training_history(_as_psnr(self.metrics["history"]), metric_name="validation PSNR (dB)", ax=ax,
                                      title=f"{self.metrics['model']}: training")

    def run_plots(self):
        made = {"denoise.png": self.plot_grid} if self.cleaned is not None else {}
        if self.metrics.get("history"):
            made["history.png"] = self.plot_history
        return made


def _as_psnr(history: list[dict]) -> list[dict]:
    """A denoiser's epochs with the validation score (minus the mean squared error on the [0, 1] scale) given as
    PSNR in dB, the figure the task reports."""
    return [{**record, "val_score": 10 * math.log10(1 / max(-record["val_score"], 1e-12))}
            if record.get("val_score") is not None else record for record in history]


def noisy_pair(noise: str, X_train: np.ndarray, X_test: np.ndarray, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Noisy copies of the train and test images, with independent noise drawn from one seed."""
    model = parse_noise(noise)
    train_seed, test_seed = np.random.SeedSequence(seed).generate_state(2)
    return model.apply(X_train, int(train_seed)), model.apply(X_test, int(test_seed))


def as_pixels(images) -> np.ndarray:
    """A denoiser's output as 0..255 uint8 (regressors give floats)."""
    images = np.asarray(images)
    if images.dtype == np.uint8:
        return images
    return np.clip(np.rint(images), 0, 255).astype(np.uint8)


def denoise(model: Any = None, data: DataLike = None, *, noise: str = "uniform:100",
            params: dict[str, Any] | None = None, n_train: int | None = None, n_test: int | None = None,
            seed: int | None = None, runs: str | Path | None = None, save_model: bool = True,
            resume: str | Path | None = None, data_dir=None, progress: Progress = no_progress) -> DenoiseResult:
    """Fit a denoiser on noisy train images against clean ones; clean the noisy test images; report RMSE,
    PSNR and SSIM of the cleaned images beside those of the noisy input.

    ``model`` is a denoiser's registry name (default ``knn-denoise``, the notebooks' recipe) or an unfitted
    multioutput regressor; ``noise`` ``uniform:HIGH``, ``gaussian:SIGMA`` or ``saltpepper:P``; the rest as
    for :func:`digitlab.train`. A denoiser that can draw fresh noise every batch (``dae-conv``) learns the
    task's noise model unless ``params`` sets its ``noise``.
    """
    args = dict(model=model, data=data, params=params, noise=noise, n_train=n_train, n_test=n_test, seed=seed)
    run = None
    if resume is not None:
        run, args = resume_args(resume, runs, "denoise", args, {"noise": "uniform:100"})
    model, given, noise = args["model"] or "knn-denoise", dict(args["params"] or {}), args["noise"]
    params = dict(given)
    seed = DEFAULT_SEED if args["seed"] is None else args["seed"]
    parse_noise(noise)  # refuse a bad spec before loading any data
    if isinstance(model, str):
        check_task(model, "denoise")
        if "noise" in registry.parameters(model) and "noise" not in params:
            params["noise"] = noise
    estimator = build(model, params, seed)
    dataset = dataset_for(args["data"], data_dir=data_dir, seed=seed)
    X_train, _ = first(dataset.X_train, dataset.y_train, args["n_train"], "n_train")
    X_test, _ = first(dataset.X_test, dataset.y_test, args["n_test"], "n_test")
    noisy_train, noisy_test = noisy_pair(noise, X_train, X_test, seed)
    name = model_name(model)
    config = {"model": name, "params": resolved_params(model, params, seed), "set": given, "noise": noise,
              "dataset": dataset.name, "data_source": dataset.source, "n_train": args["n_train"],
              "n_test": args["n_test"], "seed": seed, "save_model": save_model}
    with Recorder(runs, "denoise", f"{name}-{noise}-{dataset.name}", config, resume=run) as recorder:
        checkpoint = _watch_net(estimator, recorder.path, run is not None, net_watcher(progress, name))
        progress(0, description=f"fitting {name} on {len(X_train):,} noisy images")
        fit_seconds = fit_timed(estimator, noisy_train, X_train)
        result = _score(estimator, config, len(X_train), X_test, noisy_test, fit_seconds, progress)
        saver = None
        if save_model and result.cleaned is not None:
            meta = model_meta(name, "denoise", result.metrics["params"], dataset.name, len(X_train), seed,
                              noise=noise, rmse=result.metrics["rmse"], psnr=result.metrics["psnr"])
            saver = lambda stem: persist.save(estimator, stem, meta)  # noqa: E731
        recorder.finish(result, saver)
        _tidy_checkpoint(checkpoint, keep=result.metrics["status"] == "interrupted" and save_model)
    return result


def _score(estimator, config, n_fit, X_test, noisy_test, fit_seconds, progress) -> DenoiseResult:
    """RMSE, PSNR and SSIM of the cleaned test images and of the noisy input; a warning when cleaning hurt."""
    interrupted = bool(getattr(estimator, "interrupted_", False))
    metrics = {"model": config["model"], "dataset": config["dataset"], "noise": config["noise"],
               "params": _used_params(estimator, config["params"]), "n_train": int(n_fit),
               "n_test": int(len(X_test)), "seed": config["seed"], "fit_seconds": fit_seconds,
               "status": "interrupted" if interrupted else "complete", "interrupted": interrupted}
    if getattr(estimator, "history_", None):
        metrics["history"] = estimator.history_
    if interrupted and getattr(estimator, "n_epochs_", 1) == 0:
        return DenoiseResult(metrics, estimator, warnings=["training was interrupted before its first epoch "
                                                           "ended; no model was kept"])
    progress(0, description=f"cleaning {len(X_test):,} test images")
    cleaned, predict_seconds = timed(lambda: as_pixels(estimator.predict(noisy_test)))
    metrics |= {**denoise_scores(X_test, noisy_test, cleaned), "predict_seconds": predict_seconds,
                "ms_per_image": 1000.0 * predict_seconds / max(1, len(X_test))}
    result = DenoiseResult(metrics, estimator, clean=X_test, noisy=noisy_test, cleaned=cleaned)
    if metrics["rmse"] > metrics["noisy_rmse"]:
        result.warnings.append(f"cleaning made the images worse: RMSE {metrics['rmse']:.2f} against the noisy "
                               f"input's {metrics['noisy_rmse']:.2f} (PSNR {metrics['psnr']:.2f} dB against "
                               f"{metrics['noisy_psnr']:.2f} dB); train longer or choose another denoiser.")
    return result
