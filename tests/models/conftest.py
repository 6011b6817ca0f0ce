"""Fixtures for the model tests: how much memory a call makes the process take at its peak; model files
edited on purpose."""

from __future__ import annotations

import json
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


@pytest.fixture
def resign() -> Callable:
    """``resign(src, dst, change, version=2)`` copies the digitlab .safetensors file ``src`` to ``dst`` with
    ``change(header)`` applied and the checksum recomputed, as someone editing a file on purpose would."""
    from safetensors import safe_open
    from safetensors.torch import save

    from digitlab.models.neural import storage

    def rewrite(src, dst, change, version=2):
        with safe_open(str(src), framework="pt") as fh:
            tensors = {k: fh.get_tensor(k) for k in fh.keys()}
            header = json.loads(fh.metadata()[storage.FORMAT])
        change(header)
        header.pop("sha256", None)
        header.pop("weights_sha256", None)
        header["format_version"] = version
        if version == 1:
            header["weights_sha256"] = storage.digest(tensors)
        else:
            header["sha256"] = storage.digest(tensors, header)
        Path(dst).write_bytes(save(tensors, metadata={storage.FORMAT: json.dumps(header)}))
        return dst

    return rewrite
