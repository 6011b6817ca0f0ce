"""The data a task runs on: a dataset name, a loaded Dataset, or arrays, made into one Dataset."""

from __future__ import annotations

import os
import warnings
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np

from ..data.datasets import CSV_PREFIX, Dataset, load_dataset
from ..errors import DataError, ParameterError, UsageError

DataLike = Any  # str (a dataset name) | Dataset | (X_train, y_train, X_test, y_test) | None


class FallbackWarning(UserWarning):
    """MNIST could not be found or downloaded, so the shipped subset mnist-mini is used instead."""


def dataset_for(data: DataLike = None, *, data_dir: str | os.PathLike | None = None, download: bool = True,
                seed: int = 42, holdout: float | None = None,
                progress: Callable[[str, int, int | None], None] | None = None) -> Dataset:
    """Make ``data`` a Dataset.

    A name is loaded (``load_dataset``); arrays ``(X_train, y_train, X_test, y_test)`` are wrapped as a dataset
    named "arrays"; None means MNIST when it can be found or downloaded, else the shipped ``mnist-mini`` with a
    ``FallbackWarning`` — but not when ``data_dir`` names a folder explicitly: a folder that lacks MNIST is an
    error there, since an explicit choice that cannot be honoured must not be swapped silently. ``holdout`` is
    the share of a ``csv:PATH`` file's rows held out as its test split (default 0.2; 0 trains on every row).
    """
    if holdout is not None and not (isinstance(data, str) and data.startswith(CSV_PREFIX)):
        raise ParameterError("holdout", "applies to csv:PATH datasets only (the others come with a test split).")
    if isinstance(data, Dataset):
        return data
    if isinstance(data, str):
        fraction = {} if holdout is None else {"test_fraction": holdout}
        return load_dataset(absolute_csv(data), data_dir, download=download, seed=seed, progress=progress, **fraction)
    if isinstance(data, (tuple, list)):
        return from_arrays(*data)
    if data is not None:
        raise UsageError(f"data must be a dataset name, a Dataset or (X_train, y_train, X_test, y_test), "
                         f"got {type(data).__name__}.")
    if data_dir is not None:
        return load_dataset("mnist", data_dir, download=download, seed=seed, progress=progress)
    try:
        return load_dataset("mnist", download=download, seed=seed, progress=progress)
    except DataError as exc:
        warnings.warn(f"{exc} Using the shipped subset mnist-mini instead.", FallbackWarning, stacklevel=2)
        return load_dataset("mnist-mini", seed=seed)


def absolute_csv(name: str) -> str:
    """``csv:PATH`` with PATH made absolute, so a run can be evaluated or resumed from another folder."""
    if not name.startswith(CSV_PREFIX) or not name[len(CSV_PREFIX):]:
        return name
    return CSV_PREFIX + str(Path(name[len(CSV_PREFIX):]).expanduser().resolve())


def from_arrays(*arrays: Sequence, name: str = "arrays") -> Dataset:
    """A Dataset from ``X_train, y_train, X_test, y_test`` (images as (n, 784) rows or (n, 28, 28))."""
    if len(arrays) != 4:
        raise UsageError(f"data given as arrays must be (X_train, y_train, X_test, y_test), got {len(arrays)} "
                         f"array(s).")
    X_train, y_train, X_test, y_test = (np.asarray(a) for a in arrays)
    X_train, X_test = (X.reshape(len(X), -1) if X.ndim == 3 else X for X in (X_train, X_test))
    for part, X, y in (("train", X_train, y_train), ("test", X_test, y_test)):
        if X.ndim != 2 or len(X) != len(y):
            raise UsageError(f"the {part} arrays do not fit together: X_{part} has shape {X.shape} and "
                             f"y_{part} {y.shape}; expected (n, 784) images and n labels.")
    return Dataset(name, X_train, y_train, X_test, y_test, source="arrays")
