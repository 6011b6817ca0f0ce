"""Shared test fixtures: the shipped mini set, an isolated data environment, and the `full` marker."""

from __future__ import annotations

import os
from pathlib import Path

import pytest


def full_data_dir() -> Path | None:
    """The folder DIGITLAB_DATA names, if it holds mnist/; tests marked `full` need it."""
    env = os.environ.get("DIGITLAB_DATA")
    return Path(env) if env and (Path(env) / "mnist").is_dir() else None


def pytest_collection_modifyitems(config, items):
    """Skip `full` tests unless DIGITLAB_DATA points at a folder holding mnist/."""
    if full_data_dir() is not None:
        return
    skip = pytest.mark.skip(reason="needs full MNIST: set DIGITLAB_DATA to a folder holding mnist/")
    for item in items:
        if "full" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def mini():
    """The shipped mnist-mini Dataset, loaded once; treat its arrays as read-only."""
    from digitlab.data.datasets import load_dataset

    return load_dataset("mnist-mini")


@pytest.fixture
def isolated_data(tmp_path, monkeypatch):
    """No DIGITLAB_DATA, an empty private cache, and mirrors that refuse at once: nothing real is touched."""
    from digitlab.data import datasets

    monkeypatch.delenv("DIGITLAB_DATA", raising=False)
    monkeypatch.setenv("DIGITLAB_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("DIGITLAB_MIRRORS", "http://127.0.0.1:9/")  # discard port: connection refused
    monkeypatch.setattr(datasets, "BACKOFF", 0.0)
    return tmp_path
