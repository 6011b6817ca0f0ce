"""Fixtures for the model tests: how much memory a call makes the process take at its peak."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

import pytest

STATUS = Path("/proc/self/status")
CLEAR_REFS = Path("/proc/self/clear_refs")


def _status_kib(key: str) -> int:
    for line in STATUS.read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    raise KeyError(key)


@pytest.fixture
def peak_growth() -> Callable[[Callable[[], Any]], int]:
    """``peak_growth(fn)`` runs ``fn`` and returns by how many bytes the process's peak resident memory rose above
    its resident memory before the call (Linux: writing 5 to clear_refs resets the peak, VmHWM)."""
    try:
        CLEAR_REFS.write_text("5")
    except OSError:
        pytest.skip("needs Linux's /proc/self/clear_refs to measure peak memory")

    def measure(fn: Callable[[], Any]) -> int:
        CLEAR_REFS.write_text("5")
        before = _status_kib("VmRSS")
        try:
            fn()
        finally:
            peak = _status_kib("VmHWM")
        return (peak - before) * 1024

    return measure
