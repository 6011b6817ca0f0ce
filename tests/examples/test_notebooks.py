"""The notebooks in examples/ run top to bottom with nbclient, on the tests' own Python and this checkout's src/,
show every plot they draw exactly once, print sensible figures, and leave no file behind."""

from __future__ import annotations

import json
import os
import re
import sys
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
CELL_TIMEOUT = 300  # seconds; each notebook takes well under a minute on mnist-mini
KERNEL = "digitlab-tests"
DRAWS = re.compile(r"\.plot_\w+\(|plt\.show\(\)")  # a cell that draws one figure
BELOW_API = re.compile(r"\bdigitlab\.\w+\.|(from|import) digitlab\.")  # digitlab.<module>.<name>

pytestmark = pytest.mark.slow


def run_notebook(name: str, tmp_path: Path, monkeypatch) -> tuple[nbformat.NotebookNode, Path]:
    """Execute examples/<name>.ipynb in an empty working folder; returns it with outputs and ``tmp_path``.

    The kernel is this interpreter (``sys.executable``), from a kernel spec of its own found first through
    ``JUPYTER_PATH``, so no user-wide "python3" kernel can stand in; it imports digitlab from this checkout's
    src/ and keeps its temporary files and any run folder under ``tmp_path``.
    """
    work, tmp, runs, spec = (tmp_path / part for part in ("work", "tmp", "runs", f"jupyter/kernels/{KERNEL}"))
    for folder in (work, tmp, runs, spec):
        folder.mkdir(parents=True)
    (spec / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "digitlab tests", "language": "python"}))
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "jupyter"))
    src = os.pathsep.join(filter(None, [str(ROOT / "src"), os.environ.get("PYTHONPATH")]))
    env = {**os.environ, "PYTHONPATH": src, "DIGITLAB_RUNS": str(runs), "TMPDIR": str(tmp),
           "MPLBACKEND": "module://matplotlib_inline.backend_inline"}  # plots inline even where MPLBACKEND=Agg
    notebook = nbformat.read(EXAMPLES / f"{name}.ipynb", as_version=4)
    where_cell = "import sys, digitlab\nprint(sys.executable)\nprint(digitlab.__file__)"
    notebook.cells.append(nbformat.v4.new_code_cell(where_cell))
    client = NotebookClient(notebook, kernel_name=KERNEL, timeout=CELL_TIMEOUT,
                            resources={"metadata": {"path": str(work)}})
    client.execute(env=env)
    where = notebook.cells.pop().outputs[0].text.splitlines()
    assert where == [sys.executable, str(ROOT / "src" / "digitlab" / "__init__.py")], f"the kernel ran {where}"
    return notebook, tmp_path


def printed(notebook) -> str:
    """Everything the notebook's cells printed, in order."""
    return "".join(out.get("text", "") for cell in notebook.cells if cell.cell_type == "code"
                   for out in cell.outputs if out.output_type == "stream" and out.name == "stdout")


def number(pattern: str, text: str) -> float:
    found = re.search(pattern, text)
    assert found, f"the notebook printed nothing matching {pattern!r}"
    return float(found.group(1).replace(",", ""))


def check_common(notebook, tmp_path: Path, figures: int) -> None:
    """The dataset chosen in the first cell, only the public API, exactly one image from each cell that draws
    (``figures`` of them), and nothing left on disk outside the notebook's own temporary folder."""
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert code[0].source.startswith('DATA = "mnist-mini"'), "the first code cell must choose the dataset"
    for cell in code:
        assert not BELOW_API.search(cell.source), f"a cell reaches below the public API:\n{cell.source}"
        drawn = DRAWS.search(cell.source)
        images = sum("image/png" in out.get("data", {}) for out in cell.outputs)
        assert images == (1 if drawn else 0), f"{images} image(s) from the cell:\n{cell.source}"
        assert not any(out.output_type == "error" for out in cell.outputs)
    assert sum(bool(DRAWS.search(cell.source)) for cell in code) == figures
    leftovers = {part: sorted(p.name for p in (tmp_path / part).iterdir()) for part in ("work", "runs")}
    assert leftovers == {"work": [], "runs": []}, f"the notebook left files behind: {leftovers}"
    assert not list((tmp_path / "tmp").glob("digitlab*")), "a temporary folder of the notebook was not removed"


def test_notebooks_are_committed_without_outputs():
    for path in sorted(EXAMPLES.glob("*.ipynb")):
        notebook = nbformat.read(path, as_version=4)
        nbformat.validate(notebook)
        for cell in notebook.cells:
            if cell.cell_type == "code":
                assert cell.outputs == [] and cell.execution_count is None, f"{path.name} holds outputs"
    assert sorted(p.stem for p in EXAMPLES.glob("*.ipynb")) == ["classification", "denoising", "kaggle"]


def test_classification(tmp_path, monkeypatch):
    notebook, tmp = run_notebook("classification", tmp_path, monkeypatch)
    check_common(notebook, tmp, figures=13)
    text = printed(notebook)
    # mnist-mini holds 600 of each digit, so answering "not 5" is right for exactly 90 % of the images
    assert "Only 600 of the 6,000 training images are 5s." in text
    assert number(r"'not 5' every time is right for ([\d.]+)%", text) == 90.0
    assert number(r"SGD answers correctly for ([\d.]+)%", text) > 90.0
    tn, fp, fn, tp = (number(rf"{kind} ([\d,]+):", text) for kind in
                      ("true negatives", "false positives", "false negatives", "true positives"))
    assert tn + fp + fn + tp == 6000 and fn + tp == 600
    assert 0.85 <= number(r"There precision is ([\d.]+)", text) < 0.95
    sgd_auc, forest_auc = number(r"ROC AUC: SGD ([\d.]+)", text), number(r"random forest ([\d.]+)", text)
    assert 0.85 < sgd_auc < forest_auc <= 1.0
    assert number(r"test accuracy ([\d.]+)\n", text) > 0.85  # sgd-scaled, all ten digits
    assert number(r"best: .*test accuracy ([\d.]+)", text) > 0.93  # the k-NN search
    assert number(r"cross-validated F1: macro ([\d.]+)", text) > 0.9


def test_denoising(tmp_path, monkeypatch):
    notebook, tmp = run_notebook("denoising", tmp_path, monkeypatch)
    check_common(notebook, tmp, figures=5)
    text = printed(notebook)
    assert number(r"uniform:100: values from 0 to (\d+)", text) > 255  # the notebooks' noise is not clipped
    assert number(r"saltpepper:0.1: values from 0 to (\d+)", text) == 255
    noisy = number(r"k-NN recipe\s+([\d.]+)dB", text)
    knn = number(r"k-NN recipe\s+[\d.]+dB\s+([\d.]+)dB", text)
    dae = number(r"dae-conv\s+[\d.]+dB\s+([\d.]+)dB", text)
    assert noisy == number(r"dae-conv\s+([\d.]+)dB", text)  # both cleaned the same noisy test images
    assert 12 < noisy < 15 and knn > noisy - 1
    assert dae > knn + 5, "the convolutional denoiser should clearly beat the k-NN recipe"


def test_kaggle(tmp_path, monkeypatch):
    notebook, tmp = run_notebook("kaggle", tmp_path, monkeypatch)
    check_common(notebook, tmp, figures=4)
    text = printed(notebook)
    assert re.search(r"label,pixel0,pixel1,.*\n", text)
    assert "trained on 4,800 rows" in text and "held-out rows" in text  # a fifth of train.csv held out
    assert re.search(r"ImageId,Label\n1,\d\n2,\d\n", text)
    assert number(r"1,000 rows, score ([\d.]+)", text) > 0.9
    scans = re.findall(r"scan\d_true(\d)\.png\s+(\d)\s+([\d.]+)%", text)
    assert len(scans) == 6
    assert sum(true == label for true, label, _ in scans) >= 4, f"the hand-made scans were mostly misread: {scans}"
