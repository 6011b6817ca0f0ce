"""Every model digitlab knows, by name: what it does, how it is built and its default parameters.

Defaults live in each factory's signature (``classical.py`` for the seeds' models, the class
``__init__`` for digitlab's own), where the registry reads them. Factories are given as
``"module:callable"`` strings and imported on first use, so a command that needs only
scikit-learn never imports PyTorch.
"""

from __future__ import annotations

import ast
import importlib
import inspect
from dataclasses import dataclass
from typing import Any, Callable, Literal

from ..errors import ModelError

Task = Literal["classify", "denoise"]


@dataclass(frozen=True)
class ModelSpec:
    name: str
    task: Task
    factory: str  # "module:callable" returning a scikit-learn estimator
    summary: str  # one line for `digitlab models`

    def build(self) -> Callable[..., Any]:
        module, _, attr = self.factory.partition(":")
        return getattr(importlib.import_module(module), attr)


_C = "digitlab.models.classical"

MODELS: dict[str, ModelSpec] = {spec.name: spec for spec in [
    # --- the seeds' classical classifiers -------------------------------------------------------
    ModelSpec("sgd", "classify", f"{_C}:sgd", "linear classifier trained by SGD (hinge loss), seed 002"),
    ModelSpec("sgd-scaled", "classify", f"{_C}:sgd_scaled", "standard scaling then SGD, seed 002"),
    ModelSpec("logistic", "classify", f"{_C}:logistic", "multinomial logistic regression on [0,1] pixels"),
    ModelSpec("linear-svc", "classify", f"{_C}:linear_svc", "linear SVM (liblinear) on [0,1] pixels, seed 003"),
    ModelSpec("svc", "classify", f"{_C}:svc", "RBF-kernel SVC, one-vs-one, on [0,1] pixels, seed 002"),
    ModelSpec("ovr-svc", "classify", f"{_C}:ovr_svc", "one-vs-rest wrapper around the RBF SVC, seed 002"),
    ModelSpec("random-forest", "classify", f"{_C}:random_forest", "random forest, seed 002"),
    ModelSpec("knn", "classify", f"{_C}:knn", "scikit-learn k-nearest neighbours, seed 002"),
    ModelSpec("never", "classify", f"{_C}:never", "baseline: always the most frequent class (never-5 in binary)"),
    # --- the seeds' denoisers ------------------------------------------------------------------
    ModelSpec("knn-denoise", "denoise", f"{_C}:knn_denoise",
              "multioutput k-NN classifier: per-pixel vote of the neighbours' clean images (seeds 000, 004)"),
    ModelSpec("knn-denoise-mean", "denoise", f"{_C}:knn_denoise_mean",
              "k-NN regressor: mean of the neighbours' clean images"),
    # --- digitlab's fast exact k-NN engine -----------------------------------------------------
    ModelSpec("knn-fast", "classify", "digitlab.models.knn:FastKNNClassifier",
              "digitlab's k-NN: exact float32 search, optional deskewing and PCA, both cores"),
    ModelSpec("knn-fast-denoise", "denoise", "digitlab.models.knn:FastKNNDenoiser",
              "digitlab's k-NN denoiser: per-pixel vote or mean of the neighbours' clean images"),
    # --- neural networks (PyTorch) -------------------------------------------------------------
    ModelSpec("mlp", "classify", "digitlab.models.neural:MLPClassifier", "400 leaky-ReLU units, seed 003"),
    ModelSpec("lenet5", "classify", "digitlab.models.neural:LeNet5Classifier", "LeNet-5-like CNN, seed 003"),
    ModelSpec("cnn", "classify", "digitlab.models.neural:CNNClassifier",
              "modern CNN: batch norm, dropout, random affine augmentation, one-cycle schedule"),
    ModelSpec("cnn-ensemble", "classify", "digitlab.models.neural:CNNEnsembleClassifier",
              "averaged probabilities of several CNNs"),
    ModelSpec("dae-mlp", "denoise", "digitlab.models.neural:DAEMLPDenoiser",
              "784-10-784 denoising autoencoder, ReLU then sigmoid, seed 001"),
    ModelSpec("dae-conv", "denoise", "digitlab.models.neural:ConvDenoiser", "convolutional denoiser"),
]}


def names(task: Task | None = None) -> list[str]:
    return [name for name, spec in MODELS.items() if task is None or spec.task == task]


def get(name: str) -> ModelSpec:
    try:
        return MODELS[name]
    except KeyError:
        raise ModelError(f"Unknown model {name!r}; choose one of: {', '.join(MODELS)}.") from None


def parameters(name: str) -> dict[str, Any]:
    """All parameters the model accepts, with the defaults its factory gives them."""
    spec = get(name)
    sig = inspect.signature(spec.build())
    params = {p.name: p.default for p in sig.parameters.values()
              if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY) and p.default is not p.empty}
    return params


def resolve(name: str, params: dict[str, Any] | None = None, seed: int | None = None) -> dict[str, Any]:
    """Every parameter the named model will be built with: defaults, then ``params``, then the seed.

    ``seed`` fills ``random_state`` unless ``params`` sets it. Unknown keys are refused.
    """
    accepted = parameters(name)
    params = dict(params or {})
    unknown = sorted(set(params) - set(accepted))
    if unknown:
        raise ModelError(
            f"Model {name!r} has no parameter {unknown[0]!r}; it accepts: {', '.join(sorted(accepted)) or 'none'}.")
    resolved = accepted | params
    if "random_state" in accepted and "random_state" not in params and seed is not None:
        resolved["random_state"] = seed
    return resolved


def make(name: str, params: dict[str, Any] | None = None, seed: int | None = None):
    """Build the named model from :func:`resolve`'s parameters."""
    kwargs = resolve(name, params, seed)
    try:
        return get(name).build()(**kwargs)
    except (TypeError, ValueError) as exc:
        raise ModelError(f"Model {name!r} rejected its parameters: {exc}.") from None


def parse_value(text: str) -> Any:
    """A parameter value typed as text: a Python literal when it is one (4, 0.1, None, True), else the string."""
    lowered = {"true": True, "false": False, "none": None, "null": None}
    if text.lower() in lowered:
        return lowered[text.lower()]
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text
