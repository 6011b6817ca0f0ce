"""Kaggle Digit Recognizer CSV files: ``train.csv``, ``test.csv`` and ``submission.csv``.

``train.csv`` has the header ``label,pixel0,...,pixel783``, ``test.csv`` the same without ``label``,
one image per row. Every value is checked; a bad one is reported with its file, line and column
(quoting at most ``QUOTE_LIMIT`` characters of it). Values may be quoted the csv module's way (``"0","12"``).
Parsing uses NumPy's C reader in blocks (about 1.2 s for the 42,000-row train.csv on 2 cores; quotes cost
nothing there); only a block that fails is re-read value by value to name the culprit.
"""

from __future__ import annotations

import csv
import os
import re
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np

from ..errors import DataError
from ..fileio import atomic_open, reading
from ..shapes import N_PIXELS

PIXEL_COLUMNS = tuple(f"pixel{i}" for i in range(N_PIXELS))
TRAIN_COLUMNS = ("label", *PIXEL_COLUMNS)
TEST_COLUMNS = PIXEL_COLUMNS
_BLOCK = 4096  # rows parsed per call to the C reader
QUOTE_LIMIT = 40  # characters of a bad value or column name quoted in an error message
_INTEGER = re.compile(r"[+-]?[0-9]+")


def read_train_csv(path: str | os.PathLike) -> tuple[np.ndarray, np.ndarray]:
    """Read a labelled ``train.csv`` as X (n, 784) uint8 and y (n,) uint8."""
    values, lines = _read_table(Path(path), TRAIN_COLUMNS)
    _check_range(path, values[:, :1], lines, TRAIN_COLUMNS[:1])
    _check_range(path, values[:, 1:], lines, PIXEL_COLUMNS)
    X = np.ascontiguousarray(values[:, 1:], dtype=np.uint8)
    return X, values[:, 0].astype(np.uint8)


def read_test_csv(path: str | os.PathLike) -> np.ndarray:
    """Read an unlabelled ``test.csv`` as X (n, 784) uint8."""
    values, lines = _read_table(Path(path), TEST_COLUMNS)
    _check_range(path, values, lines, PIXEL_COLUMNS)
    return np.ascontiguousarray(values, dtype=np.uint8)


def write_submission(path: str | os.PathLike, labels: np.ndarray) -> None:
    """Write predictions as Kaggle's ``ImageId,Label`` CSV (ImageId from 1), atomically."""
    labels = np.asarray(labels).ravel()
    if labels.size and (not np.issubdtype(labels.dtype, np.integer) or labels.min() < 0 or labels.max() > 9):
        raise ValueError("submission labels must be integers 0..9")
    write_predictions(path, zip(range(1, len(labels) + 1), labels.tolist()), ("ImageId", "Label"))


def write_predictions(path: str | os.PathLike, rows: Iterable[Sequence], columns: Sequence[str]) -> None:
    """Write ``rows`` under the header ``columns`` with the csv module, atomically (see ``fileio``).

    Values holding commas, quotes or newlines (image names) are quoted so that they read back intact;
    lines end in ``\n``. A row whose length differs from the header's is a ValueError.
    """
    with atomic_open(path, "w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(columns)
        for row in rows:
            if len(row) != len(columns):
                raise ValueError(f"a row of {len(row)} values under {len(columns)} columns")
            writer.writerow(row)


def write_train_csv(path: str | os.PathLike, X: np.ndarray, y: np.ndarray) -> None:
    """Write images and labels in the ``train.csv`` format, atomically (for tests and Kaggle-style splits)."""
    y = np.asarray(y).reshape(-1, 1)
    _write_table(path, TRAIN_COLUMNS, np.hstack([y.astype(np.uint8), _as_rows(X)]))


def write_test_csv(path: str | os.PathLike, X: np.ndarray) -> None:
    """Write images in the ``test.csv`` format, atomically."""
    _write_table(path, TEST_COLUMNS, _as_rows(X))


# ----------------------------------------------------------------------------- reading


def _read_text(path: Path) -> str:
    """The whole file as text, with clear errors for a missing, unreadable or binary file."""
    try:
        with reading(path, "a CSV file"):
            return path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise DataError(f"{path}: is not a text CSV file (it is not valid UTF-8).") from None


def _read_table(path: Path, columns: tuple[str, ...]) -> tuple[np.ndarray, np.ndarray]:
    """Parse a headed integer CSV into (values int16, 1-based line number of each row)."""
    lines = _read_text(path).splitlines()
    if not lines or not any(line.strip() for line in lines):
        raise DataError(f"{path}: the file is empty, expected a header line {_describe_header(columns)}.")
    _check_header(path, lines[0], columns)
    keep = [i for i, line in enumerate(lines) if i and line.strip()]
    if not keep:
        raise DataError(f"{path}: has a header but no data rows.")
    blocks = []
    for start in range(0, len(keep), _BLOCK):
        chunk = keep[start:start + _BLOCK]
        rows = [lines[i] for i in chunk]
        try:
            blocks.append(np.loadtxt(rows, delimiter=",", quotechar='"', dtype=np.int16, ndmin=2))
        except ValueError:
            _diagnose(path, rows, chunk, columns)
            raise DataError(f"{path}: cannot parse lines {chunk[0] + 1}..{chunk[-1] + 1}.") from None
        if blocks[-1].shape[1] != len(columns):
            _diagnose(path, rows, chunk, columns)
    return np.concatenate(blocks), np.asarray(keep) + 1


def _describe_header(columns: tuple[str, ...]) -> str:
    return f"{columns[0]},...,{columns[-1]}" if columns[0] == "label" else "pixel0,...,pixel783"


def _check_header(path: Path, header: str, columns: tuple[str, ...]) -> None:
    """Raise naming the first missing, unexpected or misnamed column of the header line."""
    names = [name.strip() for name in _fields(header)]
    if tuple(names) == columns:
        return
    want = _describe_header(columns)
    if len(names) == len(columns):
        i = next(i for i, (a, b) in enumerate(zip(names, columns)) if a != b)
        raise DataError(f"{path}: line 1, column {i + 1} is named {_quote(names[i])}, expected {columns[i]!r} (header {want}).")
    if len(names) < len(columns):
        absent = next(c for c in columns if c not in names)
        hint = " (is this a test.csv?)" if absent == "label" else ""
        raise DataError(f"{path}: line 1 lacks column {absent!r}{hint}; expected the header {want}.")
    seen: set[str] = set()
    for i, name in enumerate(names):
        if name not in columns or name in seen:
            hint = " (is this a train.csv?)" if name == "label" else ""
            raise DataError(f"{path}: line 1 has an unexpected column {_quote(name)} at position {i + 1}{hint}; "
                            f"expected the header {want}.")
        seen.add(name)


def _diagnose(path: Path, rows: list[str], indices: list[int], columns: tuple[str, ...]) -> None:
    """Find the first bad value in rows the fast reader rejected and raise a DataError naming it."""
    for row, index in zip(rows, indices):
        fields = _fields(row)
        where = f"{path}: line {index + 1}"
        if len(fields) != len(columns):
            raise DataError(f"{where} has {len(fields)} values, expected {len(columns)} ({_describe_header(columns)}).")
        for name, text in zip(columns, fields):
            value = text.strip()
            if not value:
                raise DataError(f"{where}, column {name} is empty, expected an integer.")
            if value.lower() in ("nan", "na", "null", "none"):
                raise DataError(f"{where}, column {name} is {_quote(value)} (missing), expected an integer.")
            if not _INTEGER.fullmatch(value):
                raise DataError(f"{where}, column {name}: {_quote(value)} is not an integer.")
            number = int(value) if len(value) <= 20 else None  # None: far out of range (int() of 5000 digits fails)
            if number is None or not 0 <= number <= _HIGH[name == "label"]:
                raise DataError(_range_message(where, name, _shorten(value)))


_HIGH = {False: 255, True: 9}  # largest value of a pixel, of a label


def _fields(line: str) -> list[str]:
    """The values of one CSV line, unquoted the csv module's way (split at commas if it refuses the line)."""
    try:
        return next(csv.reader([line]), [])
    except csv.Error:  # e.g. a field over csv.field_size_limit()
        return line.split(",")


def _shorten(text: str) -> str:
    """``text`` cut at QUOTE_LIMIT characters, with an ellipsis when cut."""
    return text if len(text) <= QUOTE_LIMIT else text[:QUOTE_LIMIT] + "…"


def _quote(text: str) -> str:
    """``text`` shortened and quoted for an error message."""
    return repr(_shorten(text))


def _range_message(where: str, name: str, number: object) -> str:
    if name == "label":
        return f"{where}, column label: {number} is not a digit 0..9."
    return f"{where}, column {name}: {number} is outside the pixel range 0..255."


def _check_range(path: str | os.PathLike, values: np.ndarray, lines: np.ndarray, columns: tuple[str, ...]) -> None:
    """Raise naming the first value outside its range (0..9 for a label, 0..255 for a pixel)."""
    bad = (values < 0) | (values > _HIGH[columns[0] == "label"])
    if bad.any():
        row, col = np.argwhere(bad)[0]
        raise DataError(_range_message(f"{path}: line {lines[row]}", columns[col], int(values[row, col])))


# ----------------------------------------------------------------------------- writing


def _as_rows(X: np.ndarray) -> np.ndarray:
    """Images as (n, 784) uint8 rows."""
    X = np.asarray(X)
    return X.reshape(len(X), N_PIXELS).astype(np.uint8, copy=False)


_TEXT = [str(v) for v in range(256)]


def _write_table(path: str | os.PathLike, columns: tuple[str, ...], values: np.ndarray) -> None:
    """Write uint8 rows under a header line, atomically."""
    with atomic_open(path, "w", encoding="utf-8", newline="") as fh:
        fh.write(",".join(columns) + "\n")
        for row in values.tolist():
            fh.write(",".join(map(_TEXT.__getitem__, row)) + "\n")
