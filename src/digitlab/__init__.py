"""digitlab: handwritten-digit recognition and denoising on MNIST-style data.

Everything the ``digitlab`` command does is one call here, returning a result object::

    import digitlab
    data = digitlab.load_dataset("mnist-mini")            # or "mnist": 70,000 images
    result = digitlab.train("knn-fast", data)             # .model, .metrics, .plot_confusion_matrix(), ...
    result.metrics["test_accuracy"]

Names are imported on first use (PEP 562), so ``import digitlab`` loads neither PyTorch nor scikit-learn.
"""

from __future__ import annotations

import importlib
import os
import sys

from ._version import __version__

# PyTorch's CPU kernels run on OpenMP (libgomp) worker threads, which read GOMP_SPINCOUNT when PyTorch loads.
# Left unset, a session that loaded PyTorch through digitlab (the command line, a notebook calling
# digitlab.train) had its worker sleep between the many short parallel regions of a training step and be woken
# each time: 64,000 context switches in one epoch of the fast CNN preset against a few hundred, and 7.2 s of
# training instead of 4.6 s on this project's 2-core machine; the standard CNN's epoch 1.3x and the denoiser's
# 1.25x slower (benchmarks/omp_spin.py, benchmarks/RESULTS.md). Naming libgomp's documented default spin
# (300,000 rounds, a few milliseconds) explicitly gave the fast behaviour. A value the user set is kept; once
# PyTorch is loaded the variable no longer matters.
if "torch" not in sys.modules:
    os.environ.setdefault("GOMP_SPINCOUNT", "300000")

# public name -> "module:attribute", imported when first asked for
_EXPORTS = {
    "load_dataset": "digitlab.data.datasets:load_dataset",
    "Dataset": "digitlab.data.datasets:Dataset",
    "list_datasets": "digitlab.api:list_datasets",
    "list_models": "digitlab.api:list_models",
    "make_model": "digitlab.api:make_model",
    "save_model": "digitlab.api:save_model",
    "load_model": "digitlab.api:load_model",
    "pretrained": "digitlab.api:pretrained",
    "create_app": "digitlab.serve:create_app",
    "to_mnist": "digitlab.api:to_mnist",
    "add_noise": "digitlab.api:add_noise",
    "read_kaggle_csv": "digitlab.api:read_kaggle_csv",
    "write_kaggle_csv": "digitlab.api:write_kaggle_csv",
    "leaderboard": "digitlab.ranking:leaderboard",
    "report": "digitlab.htmlreport:report",
    "DigitlabError": "digitlab.errors:DigitlabError",
    **{task: f"digitlab.tasks.{task}:{task}" for task in
       ("train", "denoise", "binary", "multiclass", "multilabel", "search", "evaluate", "predict", "show", "info")},
}

__all__ = ["__version__", *_EXPORTS]

# A public name must not be the name of a module of the package: importing that module would set the package's
# attribute to the module, hiding the function (hence ranking.py holds ``leaderboard``, htmlreport/ ``report``).


def __getattr__(name: str):
    try:
        module, _, attribute = _EXPORTS[name].partition(":")
    except KeyError:
        raise AttributeError(f"module 'digitlab' has no attribute {name!r}") from None
    value = getattr(importlib.import_module(module), attribute)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
