"""The model shipped inside digitlab: a small CNN trained on full MNIST by ``scripts/build_pretrained.py``, so that
``digitlab predict`` and ``digitlab serve`` work before anything is trained. Its file header records how it was
trained and its test accuracy (``digitlab info``)."""

from __future__ import annotations

from pathlib import Path

from ...errors import ModelError

NAME = "pretrained"  # what ``/api/model`` and result figures call the shipped model
FILE = "mnist-cnn.safetensors"


def path() -> Path:
    """The shipped model file; ModelError when this installation lacks it."""
    found = Path(__file__).resolve().parent / FILE
    if not found.is_file():
        raise ModelError(f"The pretrained model {FILE} is missing from this installation of digitlab "
                         f"(scripts/build_pretrained.py builds it); give a model file instead.")
    return found
