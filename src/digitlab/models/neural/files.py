"""Model files: a fitted net saved as one .safetensors file, and rebuilt from it without running any code.

:func:`save_net` writes the weights as tensors and everything else (class, parameters, preprocessing,
history, ``meta``) as JSON in the file's header (:mod:`.storage`). :func:`load_net` rebuilds the estimator
from an allow-list of digitlab classes (``ESTIMATORS``), so a file can name nothing else.

Example::

    from digitlab.models.neural import save_net, load_net
    save_net(clf, "cnn.safetensors"); load_net("cnn.safetensors").score(X_test, y_test)
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from sklearn.utils.validation import check_is_fitted

from ..._version import __version__
from ...errors import ModelError
from . import storage
from .classifiers import CNNClassifier, CNNEnsembleClassifier, LeNet5Classifier, MLPClassifier
from .denoisers import ConvDenoiser, DAEMLPDenoiser

# The only classes load_net will build: the allow-list.
ESTIMATORS: dict[str, type] = {cls.__name__: cls for cls in (
    MLPClassifier, LeNet5Classifier, CNNClassifier, CNNEnsembleClassifier, DAEMLPDenoiser, ConvDenoiser)}


def save_net(estimator, path, meta: dict | None = None) -> Path:
    """Write a fitted neural estimator to ``path`` as one .safetensors file (weights + JSON metadata).

    ``meta`` (how the model was trained and scored, from ``digitlab.models.persist``) is kept in the header.
    """
    name = type(estimator).__name__
    if ESTIMATORS.get(name) is not type(estimator):
        raise ModelError(f"save_net saves digitlab's neural models only, not {name}.")
    try:
        check_is_fitted(estimator)
    except Exception:
        raise ModelError(f"The {name} has not been fitted; there is nothing to save.") from None
    tensors, state = estimator._state()
    header = {"digitlab_version": __version__, "torch_version": torch.__version__, "class": name,
              "params": estimator._saved_params(), "state": storage.jsonable(state),
              "meta": storage.jsonable(meta or {})}
    storage.write(path, tensors, header)
    return Path(path)


def load_net(path):
    """Rebuild the estimator saved by :func:`save_net`; runs no code from the file."""
    return load_net_with_header(path)[0]


def load_net_with_header(path):
    """:func:`load_net` and :func:`read_header` from one read of the file: (estimator, header).

    Everything the header says is checked before it is used (parameters against their valid ranges, the net
    against the tensors' shapes before any weight is allocated) and the rebuilt model predicts one blank image:
    any inconsistency is a ModelError saying the file is damaged.
    """
    tensors, header = storage.read(path)
    cls = ESTIMATORS.get(header.get("class"))
    if cls is None:
        raise ModelError(f"{path} names an unknown model class {header.get('class')!r}; digitlab loads only: "
                         f"{', '.join(ESTIMATORS)}.")
    try:
        params = storage.want(header, "params", dict)
        estimator = cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in params.items()})
        estimator._validate_params()
        estimator._set_state(tensors, storage.want(header, "state", dict))
        estimator.predict(np.zeros((1, estimator.n_features_in_), dtype=np.uint8))
    except (ValueError, TypeError, KeyError, IndexError, RuntimeError, OverflowError) as exc:
        # InvalidParameterError and storage.Damaged are ValueErrors; the rest would be a check missed above.
        raise storage.damaged(path, str(exc).splitlines()[0] if str(exc) else type(exc).__name__) from None
    return estimator, header


def read_header(path) -> dict:
    """The JSON metadata of a saved net (class, params, preprocessing, history, versions) without loading it."""
    return storage.read(path)[1]


__all__ = ["ESTIMATORS", "save_net", "load_net", "load_net_with_header", "read_header"]
