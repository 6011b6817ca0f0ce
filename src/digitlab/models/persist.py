"""Model files that run no code when loaded.

scikit-learn models are saved with skops (``.skops``): loading checks every type in the file
against ``TRUSTED_TYPES`` and refuses anything else, so a crafted file cannot run code. Neural nets
are saved as safetensors (``.safetensors``: tensors plus a JSON header) by ``digitlab.models.neural.files``.
Pickles are never written nor read.

A digitlab model file carries its own description (``ModelFile.meta``: model name, task,
parameters, training data, test figures), so ``evaluate``, ``predict`` and ``info`` need nothing else.
"""

from __future__ import annotations

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
    if head[:1] == b"\x80" or head[:2] in (b"(d", b"(l", b"}q", b"]q"):
        return "pickle"
    if head[:4] == b"PK\x03\x04":
        return "zip"
    if len(head) >= 9 and head[8:9] == b"{":
        return "safetensors"
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

    try:
        untrusted = sio.get_untrusted_types(file=path)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        raise ModelError(f"{path}: the model file is damaged ({exc}).") from None
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
