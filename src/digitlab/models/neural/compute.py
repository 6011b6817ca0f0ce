"""How a net computes: on how many threads, in what arithmetic (the ``precision`` setting)."""

from __future__ import annotations

import contextlib
import os
from typing import Iterator

import torch
from sklearn.utils._param_validation import InvalidParameterError  # scikit-learn's own (a ValueError)

PRECISIONS = ("auto", "float32", "bfloat16")


def resolve_precision(precision: str) -> str:
    """The arithmetic training runs in: "float32", or "bfloat16" mixed precision (torch.autocast: weights,
    optimiser state and evaluation stay float32). "auto" picks bfloat16 where the CPU computes it natively
    (AVX512-BF16 or AMX), where it measured 1.9x faster for the CNN (benchmarks/RESULTS.md), else float32."""
    if precision not in PRECISIONS:
        raise InvalidParameterError(f"precision must be one of {', '.join(PRECISIONS)}, got {precision!r}.")
    if precision != "auto":
        return precision
    native = getattr(torch.cpu, "_is_avx512_bf16_supported", lambda: False)() or \
        getattr(torch.cpu, "_is_amx_tile_supported", lambda: False)()
    return "bfloat16" if native else "float32"


@contextlib.contextmanager
def torch_threads(n_threads: int | None) -> Iterator[None]:
    """Run the block on ``n_threads`` torch threads (None, or more than there are cores: every core), then
    restore the previous number."""
    before = torch.get_num_threads()
    cores = os.cpu_count() or 1
    torch.set_num_threads(min(int(n_threads or cores), cores))
    try:
        yield
    finally:
        torch.set_num_threads(before)


__all__ = ["PRECISIONS", "resolve_precision", "torch_threads"]
