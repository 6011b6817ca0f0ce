"""Model files that run no code when loaded.

scikit-learn models are saved with skops (``.skops``): loading checks every type in the file
against ``TRUSTED_TYPES`` and refuses anything else, so a crafted file cannot run code. Neural nets
are saved as safetensors (``.safetensors``: tensors plus a JSON header) by ``digitlab.models.neural.files``.
Pickles are never written nor read.

A digitlab model file carries its own description (``ModelFile.meta``: model name, task,
parameters, training data, test figures), so ``evaluate``, ``predict`` and ``info`` need nothing else.
"""

from __future__ import annotations

import json
import math
import sys
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import ModelError
from ..fileio import atomic_path

FORMAT = "digitlab-model"
FORMAT_VERSION = 1

# Types beyond skops' own defaults (NumPy, SciPy, scikit-learn estimators) that a digitlab model
# file may hold. Anything else in a file is refused.
TRUSTED_TYPES = [
    "sklearn.tree._tree.Tree",
    "digitlab.models.classical.ScalePixels",
    "digitlab.models.knn.FastKNNClassifier",
    "digitlab.models.knn.FastKNNDenoiser",
]

# What a .skops file may unpack to, counting every read skops makes (schema.json and each array member, once
# per reference). The largest real digitlab models on full MNIST are scikit-learn's k-NN trained on the
# 300,000 shift-augmented images, which keeps them as float64 (300,000 x 784 x 8 bytes = 1.9 GB), and the notebooks'
# multioutput k-NN denoiser on them, which adds int64 targets of the same size (3.8 GB). 4 GiB holds both; a
# file that would unpack to more is refused before it is unpacked (3.9 MB of zip can hold 4 GB of zeros).
MAX_UNPACKED_BYTES = 4 * 2**30
MAX_SCHEMA_BYTES = 64 * 2**20  # the JSON tree of the objects: 40 kB for a 10-tree forest, 14 kB for knn-fast

SKOPS_SUFFIX = ".skops"
NET_SUFFIX = ".safetensors"


@dataclass
class ModelFile:
    """A trained estimator and the facts about how it was made."""

    estimator: Any
    meta: dict[str, Any] = field(default_factory=dict)


def is_net(estimator) -> bool:
    """True for digitlab's PyTorch models, which are saved as safetensors.

    An instance of a net implies its base class is loaded: when it is not, the answer is False without
    importing PyTorch.
    """
    base = sys.modules.get("digitlab.models.neural.base")
    return base is not None and isinstance(estimator, base.NeuralEstimator)


def suffix_for(estimator) -> str:
    return NET_SUFFIX if is_net(estimator) else SKOPS_SUFFIX


def save(estimator, path: str | Path, meta: dict[str, Any] | None = None) -> Path:
    """Write ``estimator`` with its ``meta`` to ``path`` (suffix chosen by kind when ``path`` has none)."""
    import skops.io as sio

    path = Path(path)
    if not path.suffix:
        path = path.with_suffix(suffix_for(estimator))
    meta = {"format": FORMAT, "format_version": FORMAT_VERSION, **(meta or {})}
    if path.suffix == NET_SUFFIX:
        from . import neural

        neural.save_net(estimator, path, meta=meta)
        return path
    if path.suffix != SKOPS_SUFFIX:
        raise ModelError(f"Cannot save a model as {path.name}: use a {SKOPS_SUFFIX} or {NET_SUFFIX} file name.")
    with atomic_path(path) as tmp:
        sio.dump({"meta": meta, "estimator": estimator}, tmp)
    return path


def _sniff(path: Path) -> str:
    """Name the real format of a file from its first bytes, whatever its name says."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(16)
    except FileNotFoundError:
        raise ModelError(f"{path}: model file not found.") from None
    except IsADirectoryError:
        raise ModelError(f"{path}: is a folder, expected a model file.") from None
    if not head:
        return "empty"
    # safetensors first: its first 8 bytes are the header's length, little-endian, so one file in 256 starts with
    # 0x80, a pickle's first byte. A pickle taken for safetensors is still refused: its "header" is not JSON.
    if len(head) >= 9 and head[8:9] == b"{":
        return "safetensors"
    if head[:1] == b"\x80" or head[:2] in (b"(d", b"(l", b"}q", b"]q"):
        return "pickle"
    if head[:4] == b"PK\x03\x04":
        return "zip"
    return "unknown"


def load(path: str | Path) -> ModelFile:
    """Read a model file, refusing pickles, unknown types and damaged files with one clear sentence."""
    path = Path(path)
    kind = _sniff(path)
    if kind == "pickle":
        raise ModelError(f"{path}: is a Python pickle, which can run arbitrary code when loaded; "
                         f"digitlab only loads {SKOPS_SUFFIX} and {NET_SUFFIX} model files.")
    if kind == "empty":
        raise ModelError(f"{path}: the model file is empty.")
    if kind == "safetensors":
        from . import neural

        estimator, header = neural.load_net_with_header(path)
        return ModelFile(estimator, header.get("meta", {}))
    if kind != "zip":
        raise ModelError(f"{path}: not a digitlab model file (expected a {SKOPS_SUFFIX} or {NET_SUFFIX} file).")
    return _load_skops(path)


def _load_skops(path: Path) -> ModelFile:
    import skops.io as sio

    _check_archive(path)
    try:
        untrusted = sio.get_untrusted_types(file=path)
    except Exception as exc:  # skops raises many kinds on a tampered schema
        raise ModelError(f"{path}: the model file is damaged ({type(exc).__name__}: {_first_line(exc)}).") from None
    refused = [t for t in untrusted if t not in TRUSTED_TYPES]
    if refused:
        raise ModelError(f"{path}: holds type {refused[0]!r}, which digitlab does not trust to load.")
    try:
        content = sio.load(path, trusted=untrusted)
    except Exception as exc:  # skops raises many kinds on a tampered archive
        raise ModelError(f"{path}: the model file is damaged or was altered ({type(exc).__name__}).") from None
    if not (isinstance(content, dict) and isinstance(content.get("meta"), dict)
            and content["meta"].get("format") == FORMAT and "estimator" in content):
        raise ModelError(f"{path}: a skops file, but not one written by digitlab.")
    return ModelFile(content["estimator"], content["meta"])


def _check_archive(path: Path) -> None:
    """Refuse, before skops unpacks anything, a file that would unpack to more than ``MAX_UNPACKED_BYTES`` or
    whose arrays claim more elements than their bytes hold (NumPy allocates what the claim says)."""
    try:
        with zipfile.ZipFile(path) as zf:
            sizes = {info.filename: info.file_size for info in zf.infolist()}
            if sizes.get("schema.json", 0) > MAX_SCHEMA_BYTES:
                raise ValueError(f"its object tree unpacks to {sizes['schema.json']:,} bytes")
            refs = [name for name in _file_refs(json.loads(zf.read("schema.json"))) if name in sizes]
            total = sizes["schema.json"] + sum(sizes[name] for name in refs)
            if total > MAX_UNPACKED_BYTES:
                raise ValueError(f"it unpacks to {total / 2**30:.1f} GiB, more than any digitlab model holds")
            for name in sorted(set(refs)):
                if name.endswith(".npy"):
                    _check_npy(zf, name, sizes[name])
    except Exception as exc:  # zipfile, json and NumPy's header parser raise many kinds on damaged bytes
        raise ModelError(f"{path}: the model file is damaged ({_first_line(exc)}).") from None


def _file_refs(schema) -> list[str]:
    """Every archive member skops's schema reads (a node's ``"file"``), once per reference."""
    refs, todo = [], [schema]
    while todo:
        node = todo.pop()
        if isinstance(node, dict):
            if isinstance(node.get("file"), str):
                refs.append(node["file"])
            todo.extend(node.values())
        elif isinstance(node, list):
            todo.extend(node)
    return refs


def _check_npy(zf: zipfile.ZipFile, name: str, size: int) -> None:
    """An array member's header must not claim more bytes than the member holds."""
    import numpy as np

    with zf.open(name) as fh:
        version = np.lib.format.read_magic(fh)
        if version not in ((1, 0), (2, 0)):
            raise ValueError(f"array {name} is in NumPy format {version}, which skops does not write")
        read_header = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
        shape, _, dtype = read_header(fh)
    claimed = math.prod(shape) * dtype.itemsize
    if claimed > size:
        raise ValueError(f"array {name} claims {claimed:,} bytes but holds {size:,}")


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0][:200] if text else type(exc).__name__
