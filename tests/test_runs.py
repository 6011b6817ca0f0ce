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


def test_leaderboard_ranks_runs_best_first(tmp_path):
    for model, acc in [("sgd", 0.87), ("knn", 0.97), ("never", None)]:
        run = runs.new_run("train", model, tmp_path, clock=CLOCK)
        run.write_config({"kind": "train", "model": model, "dataset": "mnist"})
        if acc is not None:
            run.write_metrics({"test_accuracy": acc, "train_accuracy": 1.0})
    rows = runs.leaderboard(tmp_path)
    assert [row["model"] for row in rows] == ["knn", "sgd", "never"]
    assert rows[0]["test_accuracy"] == 0.97 and rows[2]["test_accuracy"] is None


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


def test_leaderboard_shows_a_searchs_fixed_and_best_parameters(tmp_path):
    run = runs.new_run("search", "svc", tmp_path, clock=CLOCK)
    run.write_config({"kind": "search", "model": "svc", "fixed_params": {"kernel": "linear"}})
    run.write_metrics({"best_params": {"C": 0.0625}, "test_accuracy": 0.936})
    trained = runs.new_run("train", "knn", tmp_path, clock=CLOCK)
    trained.write_config({"kind": "train", "model": "knn", "set": {"n_neighbors": 4}})
    rows = {row["model"]: row for row in runs.leaderboard(tmp_path)}
    assert rows["svc"]["set"] == {"kernel": "linear", "C": 0.0625}
    assert rows["knn"]["set"] == {"n_neighbors": 4}
