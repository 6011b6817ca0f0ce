"""Real runs of each kind, made once through the public API on mnist-mini, and the report built from them."""

from __future__ import annotations

import json
import shutil
import warnings
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

import digitlab
from digitlab.ranking import RunWarning


@dataclass
class Runs:
    root: Path
    by_kind: dict[str, Path]  # "knn", "mlp", "denoise", "search", "binary", "failed", "damaged" -> run folder

    @property
    def readable(self) -> list[Path]:
        return [path for kind, path in self.by_kind.items() if kind != "damaged"]


@pytest.fixture(scope="session")
def runs(tmp_path_factory) -> Runs:
    """Five runs of four kinds, a failed run and a damaged one: about ten seconds on two cores."""
    root = tmp_path_factory.mktemp("report-runs")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # an SGD stopped at max_iter, pixels as 256 classes: beside the point here
        made = {
            "knn": digitlab.train("knn", "mnist-mini", n_train=500, n_test=100, runs=root),
            "mlp": digitlab.train("mlp", "mnist-mini", params={"n_hidden": 16, "epochs": 1, "n_threads": 1},
                                  n_train=300, n_test=100, runs=root),
            "denoise": digitlab.denoise("knn-denoise", "mnist-mini", n_train=300, n_test=20, runs=root),
            "search": digitlab.search("knn", "mnist-mini", grid="n_neighbors=1,3", cv=2, n_train=200, runs=root),
            "binary": digitlab.binary("mnist-mini", digit=5, model="sgd", compare="never", params={"max_iter": 20},
                                      cv=2, n_train=300, runs=root),
        }
    folders = {kind: result.run for kind, result in made.items()}
    folders["failed"] = _folder(root, "20261122-050000-train-cnn-mnist-mini",
                                {"kind": "train", "model": "cnn", "dataset": "mnist-mini", "set": {"epochs": 3}},
                                {"status": "failed", "error": "no space left on device"})
    folders["damaged"] = _folder(root, "20261122-050100-train-damaged", None, None)
    (folders["damaged"] / "config.json").write_text('{"kind": "train",', encoding="utf-8")
    return Runs(root, folders)


def _folder(root: Path, name: str, config: dict | None, metrics: dict | None) -> Path:
    path = root / name
    path.mkdir()
    for part, data in (("config.json", config), ("metrics.json", metrics)):
        if data is not None:
            (path / part).write_text(json.dumps(data), encoding="utf-8")
    return path


@pytest.fixture(scope="session")
def site(runs, tmp_path_factory):
    """The report of every run, built once (tests that change it build their own)."""
    with pytest.warns(RunWarning, match="skipped run .*damaged"):
        return digitlab.report(runs.root, output=tmp_path_factory.mktemp("site") / "report")


@pytest.fixture
def copy_runs(runs, tmp_path):
    """``copy_runs("knn", ...)``: a fresh runs folder holding copies of those runs."""
    def copy(*kinds: str) -> Path:
        root = tmp_path / "runs"
        root.mkdir()
        for kind in kinds:
            shutil.copytree(runs.by_kind[kind], root / runs.by_kind[kind].name)
        return root
    return copy


@pytest.fixture
def links():
    """``links(page)``: the files a page's addresses point to (see ``local_targets``)."""
    return local_targets


class Links(HTMLParser):
    """Every address a page refers to (href and src), and the text of its table cells."""

    def __init__(self):
        super().__init__()
        self.addresses: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.addresses += [value for name, value in attrs if name in ("href", "src") and value is not None]


def local_targets(page: Path) -> list[Path]:
    """The files a page's addresses point to; an address that leaves the disk fails the test."""
    parser = Links()
    parser.feed(page.read_text(encoding="utf-8"))
    targets = []
    for address in parser.addresses:
        parts = urlsplit(address)
        assert not parts.scheme and not parts.netloc, f"{page}: {address} is not a relative link"
        targets.append((page.parent / unquote(parts.path)).resolve())
    return targets
