from datetime import datetime, timezone

import pytest

from digitlab import runs
from digitlab.errors import DigitlabError

CLOCK = lambda: datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc)  # noqa: E731


def test_new_run_names_are_dated_and_unique(tmp_path):
    first = runs.new_run("train", "knn-mnist", tmp_path, clock=CLOCK)
    second = runs.new_run("train", "knn-mnist", tmp_path, clock=CLOCK)
    assert first.name == "20260102-030405-train-knn-mnist"
    assert second.name == "20260102-030405-train-knn-mnist-2"


def test_runs_root_from_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("DIGITLAB_RUNS", str(tmp_path / "elsewhere"))
    assert runs.runs_root() == tmp_path / "elsewhere"
    assert runs.runs_root(tmp_path) == tmp_path


def test_unwritable_runs_root_is_one_clear_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(DigitlabError, match="Cannot create a run folder"):
        runs.new_run("train", "knn", blocker / "runs")


def test_find_run_by_name_or_path(tmp_path):
    run = runs.new_run("train", "knn", tmp_path, clock=CLOCK)
    assert runs.find_run(run.name, tmp_path).path == run.path
    assert runs.find_run(run.path).path == run.path
    with pytest.raises(DigitlabError, match="No run folder"):
        runs.find_run("absent", tmp_path)


def test_the_runs_home_is_the_user_data_folder_unless_told_otherwise(monkeypatch, tmp_path):
    monkeypatch.delenv("DIGITLAB_RUNS", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    assert runs.runs_root() == tmp_path / "data" / "digitlab" / "runs"


def test_a_damaged_run_file_is_one_sentence_naming_it(tmp_path):
    run = runs.new_run("train", "knn", tmp_path, clock=CLOCK)
    run.write_config({"kind": "train"})
    run.file("metrics.json").write_bytes(b"\xff\xfe not utf-8")
    with pytest.raises(DigitlabError, match="metrics.json: cannot be read as JSON"):
        run.read()


def test_resuming_sweeps_stale_parts(tmp_path):
    run = runs.new_run("train", "knn", tmp_path, clock=CLOCK)
    (run.path / ".checkpoint.safetensors.abc.part").write_bytes(b"half")
    (run.path / "keep.txt").write_text("x")
    assert [p.name for p in run.sweep_parts()] == [".checkpoint.safetensors.abc.part"]
    assert [p.name for p in run.path.iterdir()] == ["keep.txt"]
