"""The report's builder on real runs: a page per run, links that resolve on disk, what each kind of page shows,
escaping, and the rules that keep it from overwriting what is not its own."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys

import pytest

import digitlab
from digitlab.errors import DigitlabError, OutputError
from digitlab.ranking import RunWarning


def _page(site, run) -> str:
    """The HTML of a run's page (its folder in the report is the run folder's name, which is already safe)."""
    return (site.index.parent / "runs" / run.name / "index.html").read_text(encoding="utf-8")


def test_every_readable_run_gets_a_page_and_every_link_resolves(site, runs, links):
    assert site.metrics["n_runs"] == len(runs.readable) == len(site.pages)
    assert [m for m in site.metrics["skipped"] if "damaged" in m] == site.metrics["skipped"] != []
    assert sorted(page.parent.name for page in site.pages) == sorted(path.name for path in runs.readable)
    index = site.index.read_text(encoding="utf-8")
    assert index.count('<tr class="status-') == len(runs.readable)
    assert "could not be read" in index and "damaged" in index
    for page in [site.index, *site.pages]:
        for target in links(page):
            assert target.is_file(), f"{page} links to {target}, which is missing"
    assert (site.index.parent / "accuracy_vs_time.png").stat().st_size > 0
    assert not list(site.index.parent.rglob("*.part"))


def test_each_kind_of_run_shows_its_own_figures(site, runs):
    knn = _page(site, runs.by_kind["knn"])
    assert "Precision, recall and F1 per class" in knn and "Most confused" in knn
    assert 'src="confusion_matrix.png"' in knn and 'src="misclassified.png"' in knn
    mlp = _page(site, runs.by_kind["mlp"])
    assert 'src="history.png"' in mlp and "Per epoch" in mlp and "validation loss" in mlp
    denoise = _page(site, runs.by_kind["denoise"])
    metrics = json.loads((runs.by_kind["denoise"] / "metrics.json").read_text())
    row = re.search(r"PSNR \(dB\), higher is cleaner</td>\s*<td[^>]*>([\d.]+)</td>\s*<td[^>]*>([\d.]+)</td>", denoise)
    assert row and row.groups() == (f"{metrics['noisy_psnr']:.2f}", f"{metrics['psnr']:.2f}")
    assert 'src="denoise.png"' in denoise
    search = _page(site, runs.by_kind["search"])
    assert "Candidates, best first" in search and "n_neighbors=3" in search and 'src="search_results.png"' in search
    binary = _page(site, runs.by_kind["binary"])
    assert "never (baseline)" in binary and 'src="roc_curves.png"' in binary
    assert "This run failed" in _page(site, runs.by_kind["failed"]) and "no space left on device" in _page(
        site, runs.by_kind["failed"])
    assert 'class="status-failed"' in site.index.read_text(encoding="utf-8")


def test_charts_a_run_lacks_are_drawn_from_its_metrics(runs, tmp_path, copy_runs):
    root = copy_runs("mlp")
    run = next(root.iterdir())
    for png in run.glob("*.png"):
        png.unlink()
    result = digitlab.report(root, output=tmp_path / "out")
    page = result.pages[0].read_text(encoding="utf-8")
    assert "drawn from the run&#39;s metrics" in page or "Drawn from the run&#39;s metrics" in page
    for name in ("confusion_matrix.png", "history.png"):
        assert f'src="{name}"' in page and (result.pages[0].parent / name).stat().st_size > 0


def test_names_choose_runs_by_folder_name_or_path_and_the_report_stays_when_runs_go(runs, tmp_path, copy_runs,
                                                                                     links):
    elsewhere = copy_runs("denoise")
    result = digitlab.report(runs.root, names=[runs.by_kind["knn"].name, next(elsewhere.iterdir())],
                             output=tmp_path / "out")
    assert result.metrics["n_runs"] == 2 and result.metrics["skipped"] == []
    assert sorted(p.parent.name for p in result.pages) == sorted([runs.by_kind["knn"].name,
                                                                  runs.by_kind["denoise"].name])
    shutil.rmtree(elsewhere)  # the report holds copies of the images it shows
    for page in [result.index, *result.pages]:
        assert all(target.is_file() for target in links(page))
    with pytest.raises(DigitlabError, match="No run folder no-such-run"):
        digitlab.report(runs.root, names=["no-such-run"], output=tmp_path / "other")
    assert not (tmp_path / "other").exists()


def test_a_damaged_run_asked_for_by_name_is_skipped_with_a_warning(runs, tmp_path):
    with pytest.warns(RunWarning, match="skipped run .*damaged"):
        result = digitlab.report(runs.root, names=[runs.by_kind["damaged"], runs.by_kind["knn"]],
                                 output=tmp_path / "out")
    assert result.metrics["n_runs"] == 1 and len(result.metrics["skipped"]) == 1


def test_run_names_and_figures_are_escaped(runs, tmp_path, copy_runs, links):
    root = copy_runs("knn")
    run = next(root.iterdir()).rename(root / "<script>alert(1)<script> & co")
    metrics = json.loads((run / "metrics.json").read_text())
    metrics |= {"model": "<script>alert('x')</script>", "set": {"<b>k</b>": "<img src=x onerror=alert(1)>"}}
    (run / "metrics.json").write_text(json.dumps(metrics))
    shutil.copy(run / "misclassified.png", run / 'odd "name" #1?.png')
    result = digitlab.report(root, output=tmp_path / "out")
    for page in [result.index, *result.pages]:
        text = page.read_text(encoding="utf-8")
        assert "<script>alert" not in text and "<img src=x" not in text and "<b>k" not in text
        assert all(target.is_file() for target in links(page))
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in result.index.read_text(encoding="utf-8")
    assert 'src="odd%20%22name%22%20%231%3F.png"' in result.pages[0].read_text(encoding="utf-8")


def test_the_output_folder_must_be_new_empty_or_a_previous_report(runs, tmp_path):
    foreign = tmp_path / "notes"
    foreign.mkdir()
    (foreign / "thesis.tex").write_text("mine")
    with pytest.raises(OutputError, match="not a digitlab report"):
        digitlab.report(runs.root, names=[runs.by_kind["knn"]], output=foreign)
    assert [p.name for p in foreign.iterdir()] == ["thesis.tex"]
    with pytest.raises(OutputError, match="is a file"):
        digitlab.report(runs.root, names=[runs.by_kind["knn"]], output=foreign / "thesis.tex")
    (tmp_path / "empty").mkdir()
    assert digitlab.report(runs.root, names=[runs.by_kind["knn"]], output=tmp_path / "empty").index.is_file()


def test_a_rebuild_replaces_its_own_files_only(runs, tmp_path):
    out = tmp_path / "out"
    first = digitlab.report(runs.root, names=[runs.by_kind["knn"], runs.by_kind["denoise"]], output=out)
    (out / "my-notes.txt").write_text("kept")
    (out / "runs" / "extra.txt").write_text("kept too")
    second = digitlab.report(runs.root, names=[runs.by_kind["knn"]], output=out)
    assert [p.parent.name for p in second.pages] == [runs.by_kind["knn"].name]
    assert not (out / "runs" / runs.by_kind["denoise"].name).exists()  # the page of a run no longer reported
    assert (out / "my-notes.txt").read_text() == "kept" and (out / "runs" / "extra.txt").is_file()
    assert first.index == second.index and re.search(r"\b1 run\b", second.index.read_text(encoding="utf-8"))


def test_the_default_output_is_report_in_the_runs_folder_and_the_result_shows_in_jupyter(runs, tmp_path, copy_runs):
    root = copy_runs("search")
    result = digitlab.report(root)
    assert result.index == root / "report" / "index.html"
    assert digitlab.leaderboard(root)[0]["model"] == "knn"  # the report folder is not taken for a run
    assert result.index.as_uri() in result._repr_html_() and "1 run)" in repr(result)


def test_the_report_keeps_the_leaderboard_function_public():
    code = ("import digitlab, tempfile\ndigitlab.report(tempfile.mkdtemp(), output=tempfile.mkdtemp() + '/r')\n"
            "import digitlab.ranking\nprint(callable(digitlab.leaderboard), callable(digitlab.report))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.stdout.split() == ["True", "True"], proc.stderr
