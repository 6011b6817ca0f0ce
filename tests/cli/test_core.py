import csv
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image
from sklearn.neighbors import KNeighborsClassifier

from digitlab.data import kaggle
from digitlab.evaluation.metrics import rmse
from digitlab.models.neural import resolve_precision
from digitlab.tasks.denoise import noisy_pair

N_TRAIN, N_TEST = 2000, 300


def test_train_knn_reports_what_scikit_learn_gives(cli, mini):
    result = cli("train", "knn", "--dataset", "mnist-mini", "--set", "n_neighbors=4", "--set", "weights=distance",
                 "--n-train", N_TRAIN, "--n-test", N_TEST, "--json")
    assert result.code == 0, result.err
    data = result.json()
    for key in ("run", "model", "params", "train_accuracy", "test_accuracy", "fit_seconds", "predict_seconds"):
        assert key in data
    assert data["params"]["n_neighbors"] == 4 and data["params"]["weights"] == "distance"
    reference = KNeighborsClassifier(n_neighbors=4, weights="distance").fit(mini.X_train[:N_TRAIN],
                                                                            mini.y_train[:N_TRAIN])
    expected = float(np.mean(reference.predict(mini.X_test[:N_TEST]) == mini.y_test[:N_TEST]))
    assert data["test_accuracy"] == pytest.approx(expected, abs=1e-12)
    assert data["train_accuracy"] == 1.0  # distance weights: every training image is its own neighbour


def test_shift_augmentation_gives_five_times_the_training_images(cli):
    data = cli("train", "knn", "--dataset", "mnist-mini", "--augment", "shift", "--n-train", 500,
               "--n-test", 100, "--json").json()
    assert data["n_train"] == 2500 and data["augment"] == "shift"


def test_denoise_matches_scikit_learns_multioutput_classifier(cli, mini):
    result = cli("denoise", "knn-denoise", "--noise", "uniform:100", "--dataset", "mnist-mini",
                 "--n-train", N_TRAIN, "--n-test", 200, "--seed", 42, "--json")
    assert result.code == 0, result.err
    data = result.json()
    noisy_train, noisy_test = noisy_pair("uniform:100", mini.X_train[:N_TRAIN], mini.X_test[:200], 42)
    reference = KNeighborsClassifier().fit(noisy_train, mini.X_train[:N_TRAIN]).predict(noisy_test)
    assert data["rmse"] == pytest.approx(rmse(mini.X_test[:200], reference), abs=0.5)
    assert data["psnr"] == pytest.approx(20 * np.log10(255 / data["rmse"]))
    assert data["noisy_rmse"] == pytest.approx(rmse(mini.X_test[:200], np.clip(noisy_test, 0, 255)))
    for key in ("ssim", "fit_seconds", "predict_seconds", "plot"):
        assert key in data
    png = Image.open(data["plot"])
    assert np.asarray(png.convert("L")).std() > 0


def test_saved_model_evaluates_to_the_same_accuracy(cli):
    trained = cli("train", "random-forest", "--dataset", "mnist-mini", "--n-train", 1000, "--n-test", 200,
                  "--set", "n_estimators=20", "--json").json()
    evaluated = cli("evaluate", trained["model_file"], "--n-test", 200, "--json")
    assert evaluated.code == 0, evaluated.err
    assert evaluated.json()["test_accuracy"] == trained["test_accuracy"]
    info = cli("info", trained["model_file"], "--json").json()
    assert info["model"] == "random-forest" and info["params"]["n_estimators"] == 20


def test_a_trained_net_is_described_by_info_with_layers_and_how_it_was_trained(cli):
    trained = cli("train", "cnn", "--preset", "fast", "--dataset", "mnist-mini", "--n-train", 400, "--n-test", 100,
                  "--epochs", 2, "--batch-size", 64, "--set", "n_threads=1", "--json")
    assert trained.code == 0, trained.err
    info = cli("info", trained.json()["model_file"], "--json")
    assert info.code == 0, info.err
    data = info.json()
    assert data["class"] == "CNNClassifier" and data["model"] == "cnn" and data["n_train"] == 400
    # The fast preset's precision is "auto": bfloat16 on a CPU that computes it natively, else float32.
    assert data["epochs_run"] == 2 and 1 <= data["best_epoch"] <= 2
    assert data["precision"] == resolve_precision("auto")
    assert data["test_accuracy"] == trained.json()["test_accuracy"]
    assert data["params"]["preset"] == "fast" and data["layers"][0]["layer"].startswith("Conv2d 1 -> 16, 3x3")
    assert data["total_parameters"] == sum(row["parameters"] for row in data["layers"])


def test_predict_writes_a_kaggle_submission(cli, mini, tmp_path):
    model = cli("train", "knn", "--dataset", "mnist-mini", "--n-train", 1000, "--n-test", 50, "--json").json()
    test_csv = tmp_path / "test.csv"
    kaggle.write_test_csv(test_csv, mini.X_test[:30])
    submission = tmp_path / "submission.csv"
    result = cli("predict", model["model_file"], "--input", test_csv, "--output", submission, "--json")
    assert result.code == 0, result.err
    rows = list(csv.reader(submission.open()))
    assert rows[0] == ["ImageId", "Label"]
    assert [int(r[0]) for r in rows[1:]] == list(range(1, 31))
    assert all(0 <= int(r[1]) <= 9 for r in rows[1:])


def test_predict_reads_a_folder_of_images(cli, mini, tmp_path):
    model = cli("train", "knn", "--dataset", "mnist-mini", "--n-train", 2000, "--n-test", 50, "--json").json()
    folder = tmp_path / "digits"
    folder.mkdir()
    for i in range(5):  # dark ink on white paper, larger than 28x28, as a photo or scan would be
        Image.fromarray(255 - mini.X_test[i].reshape(28, 28)).resize((112, 112)).save(folder / f"d{i}.png")
    out = tmp_path / "labels.csv"
    result = cli("predict", model["model_file"], "--input", folder, "--output", out, "--json")
    assert result.code == 0, result.err
    predicted = result.json()["predictions"]
    assert sorted(predicted) == [f"d{i}.png" for i in range(5)]
    assert sum(predicted[f"d{i}.png"] == mini.y_test[i] for i in range(5)) >= 4


def test_leaderboard_lists_runs_best_first(cli):
    cli("train", "never", "--dataset", "mnist-mini", "--json")
    cli("train", "knn", "--dataset", "mnist-mini", "--n-train", 1000, "--n-test", 100, "--json")
    rows = cli("leaderboard", "--json").json()["runs"]
    assert [row["model"] for row in rows] == ["knn", "never"]
    table = cli("leaderboard")
    assert table.code == 0 and "knn" in table.out and "test acc" in table.out


def test_datasets_and_models_list_what_exists(cli):
    names = [row["name"] for row in cli("datasets", "--json").json()["datasets"]]
    assert {"mnist", "fashion-mnist", "mnist-mini"} <= set(names)
    models = {row["name"]: row for row in cli("models", "--json").json()["models"]}
    assert models["knn"]["defaults"]["n_neighbors"] == 5 and models["knn-denoise"]["task"] == "denoise"


# --- bad input: one sentence, non-zero exit, no traceback, nothing half-written ------------------------

@pytest.mark.parametrize("args,fragments", [
    (["train", "nope"], ["Unknown model 'nope'"]),
    (["train", "knn", "--dataset", "mnist-mini", "--set", "n_neighbours=3"], ["no parameter 'n_neighbours'"]),
    (["train", "knn", "--dataset", "mnist-mini", "--set", "n_neighbors"], ["KEY=VALUE"]),
    (["train", "knn", "--dataset", "mnist-mini", "--set", "weights=sideways", "--n-train", "50"], ["weights"]),
    (["train", "knn", "--dataset", "mnist-mini", "--augment", "rotate"], ["--augment 'rotate'"]),
    (["train", "knn", "--dataset", "nope"], ["nope"]),
    (["train", "knn-denoise", "--dataset", "mnist-mini"], ["denoiser"]),
    (["denoise", "knn", "--dataset", "mnist-mini"], ["not a denoiser"]),
    (["denoise", "knn-denoise", "--noise", "pink:3"], ["pink:3"]),
    (["train", "cnn", "--dataset", "mnist-mini", "--n-train", "50", "--preset", "turbo"], ["preset", "turbo"]),
    (["train", "knn", "--dataset", "mnist-mini", "--preset", "fast"], ["no parameter 'preset'"]),
    (["train", "mlp", "--dataset", "mnist-mini", "--n-train", "50", "--epochs", "0"], ["epochs", "range [1, inf)"]),
    (["denoise", "dae-conv", "--dataset", "mnist-mini", "--n-train", "50", "--set", "noise=pink:3"], ["pink:3"]),
    (["denoise", "dae-conv", "--dataset", "mnist-mini", "--n-train", "50", "--set", "precision=half"],
     ["precision", "half"]),
    (["evaluate", "absent.skops"], ["absent.skops", "not found"]),
    (["leaderboard", "--sort", "colour"], ["colour"]),
])
def test_bad_input_is_one_clear_sentence(cli, assert_clean_error, args, fragments):
    assert_clean_error(cli(*args), *fragments)


def test_a_pickle_passed_as_a_model_is_refused(cli, assert_clean_error, tmp_path):
    import pickle

    path = tmp_path / "model.skops"
    path.write_bytes(pickle.dumps({"not": "a model"}))
    assert_clean_error(cli("evaluate", path), "pickle")


def test_bad_csv_names_the_row_and_leaves_no_output(cli, assert_clean_error, tmp_path):
    model = cli("train", "never", "--dataset", "mnist-mini", "--json").json()
    bad = tmp_path / "test.csv"
    bad.write_text("pixel0," + ",".join(f"pixel{i}" for i in range(1, 784)) + "\n" + ",".join(["0"] * 783) + ",x\n")
    out = tmp_path / "submission.csv"
    assert_clean_error(cli("predict", model["model_file"], "--input", bad, "--output", out), "test.csv")
    assert not out.exists()


def test_unwritable_runs_folder_is_refused(cli, assert_clean_error, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    assert_clean_error(cli("train", "never", "--dataset", "mnist-mini", "--runs", blocker / "runs"),
                       "Cannot create a run folder")


def test_the_installed_command_exits_non_zero_without_traceback():
    proc = subprocess.run([sys.executable, "-c", "from digitlab.cli import run; run()", "train", "nope"],
                          capture_output=True, text=True)
    assert proc.returncode == 1
    assert "Unknown model" in proc.stderr and "Traceback" not in proc.stderr
