"""One .safetensors file: named tensors plus a JSON header, covered by a checksum.

Models (:mod:`.files`) and training checkpoints (:mod:`.checkpoints`) are both stored this way. Reading runs
no code: safetensors holds raw tensors, and the header is plain JSON.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import save_file

from ...errors import ModelError
from ...fileio import atomic_path

FORMAT = "digitlab-net"  # the metadata key and the "format" field of every file digitlab writes this way
FORMAT_VERSION = 1


def jsonable(value: Any) -> Any:
    """``value`` as plain JSON values (NumPy scalars become Python ones); TypeError for anything else."""
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, (np.integer, np.floating, np.bool_)):
        return value.item()
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    raise TypeError(f"{type(value).__name__} cannot be saved in a model file")


def strip(tensors: dict, prefix: str) -> dict:
    """The tensors whose names start with ``prefix``, under their names without it."""
    return {k[len(prefix):]: v for k, v in tensors.items() if k.startswith(prefix)}


def digest(tensors: dict[str, torch.Tensor]) -> str:
    """sha256 over every tensor's name, dtype, shape and bytes: detects a changed or truncated file."""
    h = hashlib.sha256()
    for name in sorted(tensors):
        t = tensors[name].detach().contiguous()
        h.update(f"{name}|{t.dtype}|{tuple(t.shape)}|".encode())
        h.update(t.reshape(-1).view(torch.uint8).numpy().tobytes() if t.numel() else b"")
    return h.hexdigest()


def write(path, tensors: dict[str, torch.Tensor], header: dict) -> None:
    """Write ``tensors`` and ``header`` (plus the checksum) to ``path``, atomically."""
    tensors = {k: v.detach().contiguous().clone() for k, v in tensors.items()}
    header = {**header, "weights_sha256": digest(tensors)}
    with atomic_path(path) as tmp:
        save_file(tensors, str(tmp), metadata={FORMAT: json.dumps(header)})


def read(path) -> tuple[dict[str, torch.Tensor], dict]:
    """Tensors and header of a file written by :func:`write`; ModelError if it is not one or was changed."""
    path = Path(path)
    if not path.is_file():
        raise ModelError(f"Model file {path} does not exist.")
    try:
        with safe_open(str(path), framework="pt") as fh:
            meta = fh.metadata() or {}
            tensors = {k: fh.get_tensor(k) for k in fh.keys()}
    except (SafetensorError, OSError, ValueError, RuntimeError) as exc:
        raise ModelError(f"{path} is not a safetensors model file ({str(exc).splitlines()[0]}).") from None
    try:
        header = json.loads(meta[FORMAT])
        assert isinstance(header, dict) and header.get("format") == FORMAT
    except (KeyError, ValueError, AssertionError):
        raise ModelError(f"{path} is a safetensors file but not a digitlab network (no valid '{FORMAT}' metadata).")\
            from None
    if header.get("format_version") != FORMAT_VERSION:
        raise ModelError(f"{path} has digitlab network format version {header.get('format_version')!r}; "
                         f"this digitlab reads version {FORMAT_VERSION}.")
    if header.get("weights_sha256") != digest(tensors):
        raise ModelError(f"{path} has been altered or damaged: its weights do not match the checksum it records.")
    return tensors, header
