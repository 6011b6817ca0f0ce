"""Shared test fixtures: the shipped mini set, an isolated data environment, the `full` marker, and the
digitlab command run in-process (`cli`) with its clean-error check."""

from __future__ import annotations

import json
import os
import signal
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest


def full_data_dir() -> Path | None:
    """The folder DIGITLAB_DATA names, if it holds mnist/; tests marked `full` need it."""
    env = os.environ.get("DIGITLAB_DATA")
    return Path(env) if env and (Path(env) / "mnist").is_dir() else None


def pytest_configure(config):
    """Runs that a test does not direct elsewhere land in a throwaway folder, never in the user's runs home."""
    import tempfile

    os.environ["DIGITLAB_RUNS"] = tempfile.mkdtemp(prefix="digitlab-test-runs-")
    # A shell that starts the tests in the background (`make test &`) hands them SIGINT ignored, and the commands
    # the Ctrl-C tests start would inherit that and never see their SIGINT. Catching it here (pytest's own
    # behaviour on a terminal) gives every child process the default again, as a user's shell does.
    if signal.getsignal(signal.SIGINT) == signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)


def pytest_unconfigure(config):
    """Remove the throwaway runs folder: a test session leaves nothing behind in the temporary directory."""
    import shutil

    runs = os.environ.get("DIGITLAB_RUNS", "")
    if Path(runs).name.startswith("digitlab-test-runs-"):
        shutil.rmtree(runs, ignore_errors=True)


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


@dataclass
class Result:
    code: int
    out: str
    err: str

    def json(self):
        return json.loads(self.out)


@pytest.fixture
def cli(capsys, tmp_path, monkeypatch):
    """Call ``cli("train", "knn", ...)``; runs land in a private folder."""
    monkeypatch.setenv("DIGITLAB_RUNS", str(tmp_path / "runs"))

    from digitlab.cli import main

    def run(*args: str) -> Result:
        capsys.readouterr()
        code = main([str(a) for a in args])
        captured = capsys.readouterr()
        return Result(code, captured.out, captured.err)

    return run


@pytest.fixture
def assert_clean_error():
    """``assert_clean_error(result, *fragments)``: see ``check_clean_error``."""
    return check_clean_error


def check_clean_error(result: Result, *fragments: str) -> None:
    """A failure: non-zero exit, one 'error:' sentence naming what was wrong, no traceback."""
    assert result.code != 0
    assert "Traceback" not in result.err
    assert "error:" in result.err
    for fragment in fragments:
        assert fragment in result.err, result.err


@pytest.fixture
def tmpfs(tmp_path, request):
    """A small tmpfs (64 KiB, or the size a ``tmpfs_size`` marker gives) mounted on a folder, for disk-full tests;
    they need root, and are skipped with the reason elsewhere."""
    marker = request.node.get_closest_marker("tmpfs_size")
    folder = tmp_path / "small"
    folder.mkdir()
    if os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs for the disk-full test needs root")
    size = marker.args[0] if marker else "64k"
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(folder)], capture_output=True,
                          text=True)
    if done.returncode:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip()}")
    try:
        yield folder
    finally:
        subprocess.run(["umount", str(folder)], check=False)
