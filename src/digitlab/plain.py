"""Plain JSON values from what digitlab computes: NumPy arrays and scalars, paths, tuples, non-finite floats."""

from __future__ import annotations

import math
import os
from typing import Any

import numpy as np


def plain(value: Any, *, finite: bool = False) -> Any:
    """``value`` with NumPy arrays and scalars, paths and tuples turned into lists, numbers and strings.

    With ``finite`` a NaN or infinite float becomes None, since strict JSON has no NaN or Infinity.
    """
    if isinstance(value, dict):
        return {str(k): plain(v, finite=finite) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v, finite=finite) for v in value]
    if isinstance(value, np.ndarray):
        return plain(value.tolist(), finite=finite)
    if isinstance(value, np.generic):
        return plain(value.item(), finite=finite)
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    if isinstance(value, float) and finite and not math.isfinite(value):
        return None
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return str(value)
