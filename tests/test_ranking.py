import json
import math
import warnings
from datetime import datetime, timezone

import pytest

from digitlab import runs
from digitlab.errors import ParameterError
from digitlab.ranking import RunWarning, leaderboard

CLOCK = lambda: datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc)  # noqa: E731


def add_run(root, model, config=None, metrics=None, kind="train"):
    run = runs.new_run(kind, model, root, clock=CLOCK)
    run.write_config({"kind": kind, "model": model, "dataset": "mnist", **(config or {})})
    if metrics is not None:
        run.write_metrics(metrics)
    return run


def test_leaderboard_ranks_runs_best_first_and_dates_them(tmp_path):
    for model, acc in [("sgd", 0.87), ("knn", 0.97), ("never", None)]:
        add_run(tmp_path, model, metrics={"test_accuracy": acc, "train_accuracy": 1.0, "status": "complete"})
    rows = leaderboard(tmp_path)
    assert [row["model"] for row in rows] == ["knn", "sgd", "never"]
    assert rows[0]["test_accuracy"] == 0.97 and rows[2]["test_accuracy"] is None
    assert rows[0]["started"] == "2026-01-02 03:04" and rows[0]["run"].startswith("20260102-030405-train-")


def test_seconds_rank_fastest_first_and_text_columns_a_to_z(tmp_path):
    for model, seconds in [("b-model", 3.0), ("a-model", 9.0), ("c-model", 1.0)]:
        add_run(tmp_path, model, metrics={"fit_seconds": seconds, "status": "complete"})
    assert [r["model"] for r in leaderboard(tmp_path, sort_by="fit_seconds")] == ["c-model", "b-model", "a-model"]
    for column in ("model", "dataset", "kind", "run", "set", "status"):
        leaderboard(tmp_path, sort_by=column)  # text columns sort without a TypeError
    assert [r["model"] for r in leaderboard(tmp_path, sort_by="model")] == ["a-model", "b-model", "c-model"]
    with pytest.raises(ParameterError, match="'colour' is not a column"):
        leaderboard(tmp_path, sort_by="colour")


@pytest.mark.parametrize("damage", [
    lambda run: run.file("metrics.json").write_bytes(b"\xff\xfe\x00 not utf-8"),
    lambda run: run.file("metrics.json").write_text("[1, 2]"),
    lambda run: run.file("metrics.json").write_text("null"),
    lambda run: run.file("metrics.json").write_text('{"test_accuracy": "high", "status": "complete"}'),
    lambda run: run.file("metrics.json").mkdir(),
    lambda run: run.file("config.json").write_text("{not json"),
])
def test_one_bad_run_folder_is_skipped_with_one_warning(tmp_path, damage):
    add_run(tmp_path, "knn", metrics={"test_accuracy": 0.97, "status": "complete"})
    bad = add_run(tmp_path, "sgd")
    damage(bad)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        rows = leaderboard(tmp_path)
    assert [row["model"] for row in rows] == ["knn"]
    assert [str(w.message) for w in caught if w.category is RunWarning][0].startswith(f"skipped run {bad.name}: ")


def test_failed_and_unfinished_runs_are_left_out_interrupted_ones_marked(tmp_path):
    add_run(tmp_path, "knn", metrics={"test_accuracy": 0.97, "status": "complete"})
    add_run(tmp_path, "cnn", metrics={"test_accuracy": 0.95, "status": "interrupted"})
    add_run(tmp_path, "mlp", metrics={"status": "failed", "error": "boom"})
    add_run(tmp_path, "lenet5")  # only config.json: killed, or still running
    add_run(tmp_path, "gallery", kind="show", metrics={"status": "complete"})
    with pytest.warns(RunWarning, match="2 failed or unfinished"):
        rows = leaderboard(tmp_path)
    assert [(r["model"], r["status"]) for r in rows] == [("knn", "complete"), ("cnn", "interrupted")]
    assert len(leaderboard(tmp_path, include_all=True)) == 5


def test_leaderboard_shows_a_searchs_fixed_and_best_parameters(tmp_path):
    add_run(tmp_path, "svc", {"fixed_params": {"kernel": "linear"}}, {"best_params": {"C": 0.0625},
                                                                        "test_accuracy": 0.936}, kind="search")
    add_run(tmp_path, "knn", {"set": {"n_neighbors": 4}}, {"status": "complete"})
    rows = {row["model"]: row for row in leaderboard(tmp_path)}
    assert rows["svc"]["set"] == {"kernel": "linear", "C": 0.0625}
    assert rows["knn"]["set"] == {"n_neighbors": 4}


def test_json_output_has_no_nan(cli, tmp_path):
    add_run(tmp_path / "r", "knn", metrics={"test_accuracy": math.nan, "psnr": math.inf, "status": "complete"})
    result = cli("leaderboard", "--runs", tmp_path / "r", "--json")
    assert result.code == 0 and "NaN" not in result.out and "Infinity" not in result.out
    assert json.loads(result.out)["runs"][0]["psnr"] is None


def test_an_empty_leaderboard_says_so(cli, tmp_path):
    result = cli("leaderboard", "--runs", tmp_path / "none")
    assert result.code == 0 and "No runs in" in result.out and "digitlab train" in result.out
