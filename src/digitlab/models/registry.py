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

from sklearn.utils._param_validation import InvalidParameterError  # scikit-learn's own (a ValueError)

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


def parameters(name: str, internal: bool = False) -> dict[str, Any]:
    """The parameters the model accepts, with the defaults its factory gives them.

    Settings that digitlab's tasks fill in themselves (a progress callback, checkpoint paths, ``verbose``: a
    factory lists them in ``_internal_params``) are left out unless ``internal`` is true.
    """
    factory = get(name).build()
    hidden = () if internal else getattr(factory, "_internal_params", ())
    sig = inspect.signature(factory)
    return {p.name: p.default for p in sig.parameters.values()
            if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY) and p.default is not p.empty
            and p.name not in hidden}


def resolve(name: str, params: dict[str, Any] | None = None, seed: int | None = None) -> dict[str, Any]:
    """Every parameter the named model will be built with: defaults, then ``params``, then the seed.

    ``seed`` fills ``random_state`` unless ``params`` sets it. Unknown keys are refused; internal settings
    (see :func:`parameters`) are accepted when given and listed only then.
    """
    accepted = parameters(name, internal=True)
    params = dict(params or {})
    unknown = sorted(set(params) - set(accepted))
    if unknown:
        public = parameters(name)
        raise ModelError(
            f"Model {name!r} has no parameter {unknown[0]!r}; it accepts: {', '.join(sorted(public)) or 'none'}.")
    resolved = parameters(name) | params
    if "random_state" in accepted and "random_state" not in params and seed is not None:
        resolved["random_state"] = seed
    return resolved


def make(name: str, params: dict[str, Any] | None = None, seed: int | None = None):
    """Build the named model from :func:`resolve`'s parameters and check them, before any data is loaded.

    A value outside its valid range is a ModelError naming the parameter and the range (scikit-learn's
    ``_validate_params``, on the model and on every estimator inside it); fitting checks again, with the data.
    """
    kwargs = resolve(name, params, seed)
    try:
        model = get(name).build()(**kwargs)
        validate(model)
    except InvalidParameterError as exc:
        raise ModelError(str(exc)) from None
    except (TypeError, ValueError) as exc:
        raise ModelError(f"Model {name!r} rejected its parameters: {exc}.") from None
    return model


def validate(model) -> None:
    """Check the parameters of ``model`` and of the estimators inside it (a pipeline's steps, a wrapper's
    estimator) against their declared constraints; InvalidParameterError names the first bad one."""
    inner = [v for v in model.get_params(deep=True).values() if hasattr(v, "get_params")]
    for estimator in [model, *inner]:
        if hasattr(estimator, "_parameter_constraints") and hasattr(estimator, "_validate_params"):
            estimator._validate_params()


def parse_value(text: str) -> Any:
    """A parameter value typed as text: a Python literal when it is one (4, 0.1, None, True), else the string."""
    lowered = {"true": True, "false": False, "none": None, "null": None}
    if text.lower() in lowered:
        return lowered[text.lower()]
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text
