"""Clean noisy digits: train a denoiser on noisy train images against clean ones, score it on test."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from .._version import __version__
from ..data.datasets import Dataset
from ..data.noise import parse_noise
from ..errors import UsageError
from ..evaluate.metrics import denoise_scores
from ..evaluate.plots import denoise_grid
from ..models import persist, registry
from ..runs import Run, timed
from .train import fit_model, start_run, subset


@dataclass
class DenoiseConfig:
    model: str
    params: dict[str, Any] = field(default_factory=dict)
    noise: str = "uniform:100"
    dataset: str = "mnist"
    n_train: int | None = None
    n_test: int | None = None
    seed: int = 42
    save_model: bool = True


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


def denoise(config: DenoiseConfig, data: Dataset, runs_root=None,
            progress: Callable[[str], None] = lambda message: None, run: Run | None = None,
            watch: Callable[[dict], None] | None = None) -> tuple[dict[str, Any], Run]:
    """Fit the denoiser on noisy train images, clean the noisy test images, report RMSE/PSNR/SSIM.

    ``run`` resumes that run's training from its checkpoint; ``watch`` receives a neural model's progress.
    """
    spec = registry.get(config.model)
    if spec.task != "denoise":
        raise UsageError(f"{config.model!r} is a classifier, not a denoiser; denoisers: "
                         f"{', '.join(registry.names('denoise'))}.")
    X_train, _ = subset(data.X_train, data.y_train, config.n_train, "--n-train")
    X_test, y_test = subset(data.X_test, data.y_test, config.n_test, "--n-test")
    noisy_train, noisy_test = noisy_pair(config.noise, X_train, X_test, config.seed)
    if run is None and "noise" in registry.parameters(config.model) and "noise" not in config.params:
        # A denoiser that can draw fresh noise every batch (dae-conv) learns the task's noise model.
        config.params = {**config.params, "noise": config.noise}
    model, run, params = start_run("denoise", config, data, runs_root, run, watch)

    progress(f"fitting {config.model} on {len(X_train):,} noisy images")
    fit_seconds = fit_model(model, noisy_train, X_train)
    progress(f"cleaning {len(X_test):,} test images")
    cleaned, predict_seconds = timed(lambda: as_pixels(model.predict(noisy_test)))
    scores = denoise_scores(X_test, noisy_test, cleaned)
    grid = denoise_grid(noisy_test, cleaned, X_test, run.file("denoise.png"),
                        title=f"{config.model} on {config.noise} noise ({data.name})")
    result = {
        "run": str(run.path), "model": config.model, "dataset": data.name, "noise": config.noise,
        "params": params, "n_train": int(len(X_train)), "n_test": int(len(X_test)), "seed": config.seed,
        **scores,
        "fit_seconds": fit_seconds, "predict_seconds": predict_seconds,
        "ms_per_image": 1000.0 * predict_seconds / max(1, len(X_test)),
        "interrupted": bool(getattr(model, "interrupted_", False)),
        "plot": str(grid),
    }
    if config.save_model:
        meta = {"model": config.model, "task": "denoise", "params": params, "dataset": data.name,
                "noise": config.noise, "n_train": result["n_train"], "seed": config.seed,
                "rmse": result["rmse"], "psnr": result["psnr"], "digitlab": __version__}
        result["model_file"] = str(persist.save(model, run.file("model"), meta))
    run.write_metrics(result)
    return result, run
