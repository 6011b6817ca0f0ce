import json

import pytest

from digitlab.errors import DigitlabError
from digitlab.fileio import atomic_open, write_json


def test_atomic_open_replaces_only_on_success(tmp_path):
    target = tmp_path / "out.txt"
    target.write_text("old")
    with pytest.raises(RuntimeError):
        with atomic_open(target) as fh:
            fh.write("half")
            raise RuntimeError("boom")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["out.txt"]  # no temporary left behind
    with atomic_open(target) as fh:
        fh.write("new")
    assert target.read_text() == "new"


def test_write_json_handles_numpy_values(tmp_path):
    import numpy as np

    write_json(tmp_path / "m.json", {"acc": np.float32(0.5), "counts": np.arange(3)})
    assert json.loads((tmp_path / "m.json").read_text()) == {"acc": 0.5, "counts": [0, 1, 2]}


def test_unwritable_folder_is_one_clear_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(DigitlabError, match="Cannot write to folder"):
        write_json(blocker / "sub" / "m.json", {})
