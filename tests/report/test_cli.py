"""`digitlab report` and the demo's report, through the command line."""

from __future__ import annotations

from pathlib import Path


def test_report_prints_the_index_and_reports_runs_by_name(cli, runs, tmp_path):
    result = cli("report", "--runs", runs.root, "--output", tmp_path / "out")
    assert result.code == 0, result.err
    assert Path(result.out.strip()) == tmp_path / "out" / "index.html" and (tmp_path / "out" / "index.html").is_file()
    assert "skipped run" in result.err and "damaged" in result.err  # the damaged run: a warning, not a failure
    chosen = cli("report", runs.by_kind["knn"].name, runs.by_kind["search"], "--runs", runs.root, "-o",
                 tmp_path / "two", "--json")
    assert chosen.code == 0, chosen.err
    data = chosen.json()
    assert data["n_runs"] == 2 and data["index"] == str(tmp_path / "two" / "index.html")
    assert sorted(Path(page).parent.name for page in data["pages"]) == sorted(
        [runs.by_kind["knn"].name, runs.by_kind["search"].name])


def test_report_refuses_a_folder_it_did_not_write_and_an_unknown_run(cli, runs, tmp_path, assert_clean_error):
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "data.csv").write_text("1,2\n")
    assert_clean_error(cli("report", "--runs", runs.root, "-o", tmp_path / "mine"), "not a digitlab report")
    assert_clean_error(cli("report", "nothing-here", "--runs", runs.root, "-o", tmp_path / "new"),
                       "No run folder nothing-here")


def test_the_demo_ends_with_the_report_of_its_lineup(cli, monkeypatch, tmp_path):
    from digitlab import demo

    monkeypatch.setattr(demo, "LINEUP", (demo.Step("train", "never", n_train=200, n_test=50),
                                         demo.Step("train", "knn", n_train=300, n_test=50)))
    (tmp_path / "runs").mkdir()
    (tmp_path / "runs" / "20261122-040000-train-old").mkdir()  # a run that is not the demo's
    (tmp_path / "runs" / "20261122-040000-train-old" / "config.json").write_text('{"kind": "train"}')
    result = cli("demo", "--dataset", "mnist-mini", "--runs", tmp_path / "runs")
    assert result.code == 0, result.err
    index = Path(result.out.split("report: ")[1].strip())
    assert index.name == "index.html" and index.is_file()
    pages = sorted(p.parent.name for p in index.parent.glob("runs/*/index.html"))
    assert len(pages) == 2 and all(("never" in p) != ("knn" in p) for p in pages)
