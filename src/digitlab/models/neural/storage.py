"""One .safetensors file: named tensors plus a JSON header, covered by a checksum, read within bounds.

Models (:mod:`.files`) and training checkpoints (:mod:`.checkpoints`) are both stored this way. Reading runs
no code: safetensors holds raw tensors, and the header is plain JSON. Before anything is read the file's
size and its header's size are bounded (``MAX_TENSOR_BYTES``, ``MAX_HEADER_BYTES``): safetensors itself
checks that the tensors tile the file exactly, so what a file can make the reader allocate is its size.

Format versions: 1 (digitlab 0.1.0) records ``weights_sha256`` over the tensors only; 2 records ``sha256``
over the header and the tensors, so an edited header is caught as damage too. Both are read.
"""

from __future__ import annotations

import hashlib
import json
import math
import struct
from pathlib import Path
from typing import Any, Callable

import numpy as np
import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import save

from ...errors import ModelError
from ...fileio import atomic_open

FORMAT = "digitlab-net"  # the metadata key and the "format" field of every file digitlab writes this way
FORMAT_VERSION = 2
READABLE_VERSIONS = (1, 2)

# The largest real digitlab net is tiny: the standard CNN holds 326,000 float32 weights (1.3 MB), a
# checkpoint four times that (weights, best weights, two Adam moments), an ensemble of ten members ten times.
# 1 GiB of tensors (268 million float32 numbers) leaves room for far larger nets; a bigger file is refused
# before it is read.
MAX_TENSOR_BYTES = 2**30
# A header holds the tensor index and digitlab's JSON (parameters, per-epoch history): kilobytes in practice.
MAX_HEADER_BYTES = 8 * 2**20


class Damaged(ValueError):
    """An inconsistency found inside a file; the reader turns it into a ModelError naming the file."""


def damaged(path, reason: str) -> ModelError:
    """The one sentence for a file that cannot be what it claims to be."""
    return ModelError(f"{path}: the model file is damaged ({reason.rstrip('.')}).")


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


def digest(tensors: dict[str, torch.Tensor], header: dict | None = None) -> str:
    """sha256 over the header (canonical JSON, when given) and every tensor's name, dtype, shape and bytes."""
    h = hashlib.sha256()
    if header is not None:
        h.update(json.dumps(header, sort_keys=True, separators=(",", ":")).encode())
        h.update(b"\0")
    for name in sorted(tensors):
        t = tensors[name].detach().contiguous()
        h.update(f"{name}|{t.dtype}|{tuple(t.shape)}|".encode())
        if t.numel():
            h.update(t.reshape(-1).view(torch.uint8).numpy())  # the buffer itself, not a copy
    return h.hexdigest()


def write(path, tensors: dict[str, torch.Tensor], header: dict) -> None:
    """Write ``tensors`` and ``header`` (plus the checksum) to ``path``, atomically, with the usual permissions.

    The bytes are built in memory and written through :func:`digitlab.fileio.atomic_open`: safetensors'
    ``save_file`` writes a temporary file of its own, created 0600, and renames it over the target.
    """
    tensors = {k: v.detach().to("cpu").contiguous().clone() for k, v in tensors.items()}
    header = {**header, "format": FORMAT, "format_version": FORMAT_VERSION}
    header["sha256"] = digest(tensors, header)
    data = save(tensors, metadata={FORMAT: json.dumps(header)})
    with atomic_open(path, "wb") as fh:
        fh.write(data)


def read(path) -> tuple[dict[str, torch.Tensor], dict]:
    """Tensors and header of a file written by :func:`write`; ModelError if it is not one or was changed."""
    path = Path(path)
    if not path.is_file():
        raise ModelError(f"Model file {path} does not exist.")
    _check_sizes(path)
    try:
        with safe_open(str(path), framework="pt") as fh:
            meta = fh.metadata() or {}
            tensors = {k: fh.get_tensor(k) for k in fh.keys()}
    except (SafetensorError, OSError, ValueError, RuntimeError, TypeError) as exc:
        raise ModelError(f"{path} is not a safetensors model file ({str(exc).splitlines()[0]}).") from None
    try:
        header = json.loads(meta[FORMAT])
        assert isinstance(header, dict) and header.get("format") == FORMAT
    except (KeyError, ValueError, AssertionError, RecursionError):
        raise ModelError(f"{path} is a safetensors file but not a digitlab network (no valid '{FORMAT}' metadata).")\
            from None
    version = header.get("format_version")
    if version not in READABLE_VERSIONS:
        raise ModelError(f"{path} has digitlab network format version {version!r}; "
                         f"this digitlab reads versions {', '.join(map(str, READABLE_VERSIONS))}.")
    if version == 1:
        intact = header.get("weights_sha256") == digest(tensors)
    else:
        intact = header.get("sha256") == digest(tensors, {k: v for k, v in header.items() if k != "sha256"})
    if not intact:
        raise ModelError(f"{path} has been altered or damaged: its content does not match the checksum it records.")
    return tensors, header


def _check_sizes(path: Path) -> None:
    """Refuse a file too large to be a digitlab net, or whose header claims more than it may, before reading."""
    size = path.stat().st_size
    if size > MAX_TENSOR_BYTES + MAX_HEADER_BYTES:
        raise damaged(path, f"{size / 2**30:.1f} GiB, more than any digitlab network holds")
    with open(path, "rb") as fh:
        head = fh.read(8)
    announced = struct.unpack("<Q", head)[0] if len(head) == 8 else None
    if announced is None or announced > size - 8:
        raise ModelError(f"{path} is not a safetensors model file (it is shorter than the header it announces).")
    if announced > MAX_HEADER_BYTES:
        raise damaged(path, f"its header claims {announced:,} bytes, more than {MAX_HEADER_BYTES:,}")


# --- checking what a header says -------------------------------------------------------------------------

_REQUIRED = object()


def want(info: Any, key: str, kind: type | tuple, ok: Callable[[Any], bool] = lambda v: True,
         expected: str = "", default: Any = _REQUIRED) -> Any:
    """``info[key]`` (or ``default`` when absent and given), which must be a ``kind`` (bool is never a number)
    for which ``ok`` holds; Damaged otherwise."""
    if not isinstance(info, dict):
        raise Damaged(f"a section of its header is {_short(info)} where a JSON object belongs")
    if key not in info:
        if default is _REQUIRED:
            raise Damaged(f"no '{key}' in its header")
        return default
    value = info[key]
    kinds = kind if isinstance(kind, tuple) else (kind,)
    if (isinstance(value, bool) and bool not in kinds) or not isinstance(value, kinds) or not ok(value):
        raise Damaged(f"'{key}' is {_short(value)}, expected {expected or kinds[0].__name__}")
    return value


def check_layout(tensors: dict[str, torch.Tensor], expected: dict[str, tuple[tuple[int, ...], torch.dtype]],
                 prefix: str = "", what: str = "the network its header describes") -> None:
    """The tensors must have exactly the expected names, shapes and dtypes; Damaged names the first that has not."""
    for name in sorted(set(tensors) | set(expected)):
        if name not in tensors:
            raise Damaged(f"tensor {prefix}{name} is missing")
        if name not in expected:
            raise Damaged(f"tensor {prefix}{name} is not part of {what}")
        t, (shape, dtype) = tensors[name], expected[name]
        if tuple(t.shape) != shape or t.dtype != dtype:
            raise Damaged(f"tensor {prefix}{name} is {_layout(t.shape, t.dtype)} where {what} has "
                          f"{_layout(shape, dtype)}")


def _layout(shape, dtype: torch.dtype) -> str:
    return f"{'x'.join(map(str, shape)) or 'a scalar'} {str(dtype).removeprefix('torch.')}"


def finite(value: Any) -> bool:
    return isinstance(value, (int, float)) and math.isfinite(value)


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


__all__ = ["FORMAT", "FORMAT_VERSION", "READABLE_VERSIONS", "MAX_TENSOR_BYTES", "MAX_HEADER_BYTES", "Damaged",
           "damaged", "jsonable", "strip", "digest", "write", "read", "want", "check_layout", "finite"]
