"""The public API from a notebook's point of view: one import, results with models, figures and plots drawn on
the caller's axes — and nothing written anywhere."""

import os
import subprocess
import sys

import numpy as np
import pytest

import digitlab


@pytest.fixture
def no_writes(tmp_path, monkeypatch):
    """Fail if anything opens a file for writing while the block runs (an audit hook sees every open)."""
    monkeypatch.chdir(tmp_path)
    written: list[str] = []
    state = {"on": False}

    def hook(event, args):
        if state["on"] and event == "open" and isinstance(args[0], (str, bytes)) and args[1] \
                and any(c in args[1] for c in "wax+"):
            written.append(str(args[0]))

    sys.addaudithook(hook)  # hooks cannot be removed; this one is idle outside the block
    state["on"] = True
    yield written
    state["on"] = False
    assert list(tmp_path.iterdir()) == []


def test_a_notebook_session_through_the_public_api_writes_nothing(no_writes):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    data = digitlab.load_dataset("mnist-mini")
    knn = digitlab.train("knn-fast", data, n_train=2000, n_test=300)
    assert knn.model.predict(data.X_test[:5]).shape == (5,)
    proba = knn.model.predict_proba(data.X_test[:5])
    assert proba.shape == (5, 10) and np.allclose(proba.sum(axis=1), 1)
    cnn = digitlab.train("cnn", data, params={"preset": "fast", "epochs": 1, "n_threads": 1}, n_train=4000, n_test=200)
    assert cnn.model.predict_proba(data.X_test[:3]).shape == (3, 10) and cnn.metrics["test_accuracy"] > 0.5
    five = digitlab.binary(data, digit=5, model="sgd", compare="never", params={"max_iter": 50}, n_train=600)
    cleaned = digitlab.denoise("knn-fast-denoise", data, noise="uniform:100", n_train=1000, n_test=50)
    best = digitlab.search("knn", data, grid="n_neighbors=3,5", cv=2, n_train=600)
    drawn = 0
    for result in (knn, cnn, five, cleaned, best):
        assert result.run is None and "run" not in result.metrics
        for name in dir(result):
            if name.startswith("plot_") and not (name == "plot_history" and "history" not in result.metrics):
                fig, ax = plt.subplots()
                drawn_on = getattr(result, name)(ax=ax)
                assert drawn_on.figure_ is fig and drawn_on.ax_ is ax, name
                assert "digitlab plot" in repr(drawn_on) and not hasattr(drawn_on, "_repr_png_")
                assert ax.has_data() or ax.images or ax.texts or ax.figure.axes != [ax], name
                plt.close(fig)
                drawn += 1
    assert drawn >= 12
    assert no_writes == []
    assert callable(digitlab.evaluate) and callable(digitlab.leaderboard)  # not shadowed by modules imported above


def test_results_show_a_summary_in_jupyter(mini):
    result = digitlab.train("knn", mini, n_train=300, n_test=50)
    html = result._repr_html_()
    assert "<table" in html and "test_accuracy" in html and f"{result.metrics['test_accuracy']:.4f}" in html
    assert "knn" in repr(result) and "test accuracy" in repr(result)


def test_the_facade_lists_its_names_and_loads_lazily():
    assert {"load_dataset", "list_datasets", "list_models", "make_model", "save_model", "load_model", "to_mnist",
            "add_noise", "train", "denoise", "binary", "multiclass", "multilabel", "search", "evaluate",
            "predict"} <= set(digitlab.__all__)
    code = "import sys, digitlab; print(sorted(m for m in ('torch', 'sklearn', 'matplotlib') if m in sys.modules))"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True).stdout.strip() == "[]"
    with pytest.raises(AttributeError):
        digitlab.no_such_name


def test_the_commands_help_loads_neither_torch_nor_scikit_learn():
    code = ("import sys\nfrom digitlab.cli import main\nmain(['--help'])\n"
            "print(sorted(m for m in ('torch', 'sklearn') if m in sys.modules), file=sys.stderr)")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert "train" in proc.stdout and proc.stderr.strip().endswith("[]")


@pytest.mark.parametrize("first, preset, expected", [
    ("numpy, digitlab", None, "300000"),  # a notebook's order: digitlab names libgomp's spin before PyTorch loads
    ("numpy, digitlab", "5000", "5000"),  # the user's own value is kept
    ("torch, digitlab", None, None),  # PyTorch already read its environment: nothing to change
])
def test_digitlab_sets_the_openmp_spin_before_pytorch_loads(first, preset, expected):
    env = {k: v for k, v in os.environ.items() if k != "GOMP_SPINCOUNT"}
    if preset:
        env["GOMP_SPINCOUNT"] = preset
    code = f"import os, {first}; print(os.environ.get('GOMP_SPINCOUNT'))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env).stdout.strip()
    assert out == str(expected)


def test_small_helpers(tmp_path):
    assert {row["name"] for row in digitlab.list_models("denoise")} >= {"knn-denoise", "dae-conv"}
    assert "mnist-mini" in {row["name"] for row in digitlab.list_datasets()}
    model = digitlab.make_model("knn", n_neighbors=3)
    assert model.get_params()["n_neighbors"] == 3
    X = np.zeros((2, 784), np.uint8)
    noisy = digitlab.add_noise(X, "uniform:100", seed=0)
    assert noisy.dtype == np.int16 and 0 <= noisy.min() and noisy.max() <= 99
    data = digitlab.load_dataset("mnist-mini")
    model.fit(data.X_train[:100], data.y_train[:100])
    path = digitlab.save_model(model, tmp_path / "knn")
    assert (digitlab.load_model(path).predict(data.X_test[:20]) == model.predict(data.X_test[:20])).all()
    digitlab.write_kaggle_csv(tmp_path / "train.csv", data.X_train[:20], data.y_train[:20])
    digitlab.write_kaggle_csv(tmp_path / "test.csv", data.X_test[:5])
    X, y = digitlab.read_kaggle_csv(tmp_path / "train.csv")
    assert (X == data.X_train[:20]).all() and (y == data.y_train[:20]).all()
    assert (digitlab.read_kaggle_csv(tmp_path / "test.csv") == data.X_test[:5]).all()
    with pytest.raises(digitlab.DigitlabError, match="file not found"):
        digitlab.read_kaggle_csv(tmp_path / "absent.csv")
    digit = digitlab.to_mnist(data.X_test[0].reshape(28, 28))
    assert digit.shape == (784,) and digit.dtype == np.uint8


def test_no_public_name_is_also_a_module_of_the_package():
    """Importing such a module would replace the public function by the module."""
    import pkgutil

    modules = {info.name for info in pkgutil.iter_modules(digitlab.__path__)}
    assert modules & set(digitlab.__all__) == set()
