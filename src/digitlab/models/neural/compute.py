"""How a net computes: on which device (the ``device`` setting), on how many threads, in what arithmetic
(the ``precision`` setting)."""

from __future__ import annotations

import contextlib
import os
from typing import Iterator

import torch
from sklearn.utils._param_validation import InvalidParameterError  # scikit-learn's own (a ValueError)

PRECISIONS = ("auto", "float32", "bfloat16")
DEVICES = ("auto", "cpu", "cuda")


def resolve_device(device: str) -> torch.device:
    """The device a net computes on: "cpu", "cuda" (the current CUDA GPU), or "auto" = CUDA when PyTorch sees a
    GPU, else the CPU. Asking for CUDA where there is none is an InvalidParameterError saying so."""
    if device not in DEVICES:
        raise InvalidParameterError(f"device must be one of {', '.join(DEVICES)}, got {device!r}.")
    if device == "cpu" or (device == "auto" and not torch.cuda.is_available()):
        return torch.device("cpu")
    if not torch.cuda.is_available():
        build = "CPU build" if torch.version.cuda is None else f"built for CUDA {torch.version.cuda}"
        raise InvalidParameterError(f"device='cuda' was asked for but PyTorch sees no CUDA GPU on this machine "
                                    f"(torch {torch.__version__}, {build}); use device='cpu' or 'auto'.")
    return torch.device("cuda", torch.cuda.current_device())


def resolve_precision(precision: str, device: torch.device | None = None) -> str:
    """The arithmetic training runs in: "float32", or "bfloat16" mixed precision (torch.autocast: weights,
    optimiser state and evaluation stay float32). "auto" picks bfloat16 where the device computes it natively:
    a CPU with AVX512-BF16 or AMX, where it measured 1.9x faster for the CNN (benchmarks/RESULTS.md), or a CUDA
    GPU that supports it (Ampere and later); else float32."""
    if precision not in PRECISIONS:
        raise InvalidParameterError(f"precision must be one of {', '.join(PRECISIONS)}, got {precision!r}.")
    if precision != "auto":
        return precision
    if device is not None and device.type == "cuda":
        return "bfloat16" if torch.cuda.is_bf16_supported() else "float32"
    native = getattr(torch.cpu, "_is_avx512_bf16_supported", lambda: False)() or \
        getattr(torch.cpu, "_is_amx_tile_supported", lambda: False)()
    return "bfloat16" if native else "float32"


def rng_devices(device: torch.device) -> list[int]:
    """The CUDA devices whose random generator ``torch.random.fork_rng`` must save and restore around training."""
    return [device.index] if device.type == "cuda" else []


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


__all__ = ["PRECISIONS", "DEVICES", "resolve_device", "resolve_precision", "rng_devices", "torch_threads"]
