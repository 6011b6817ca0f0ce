"""Run the digitlab command in-process and capture what it prints."""

from __future__ import annotations

import json
from dataclasses import dataclass

import pytest

from digitlab.cli import main


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
