"""The friction a new user met in their first hour, each point checked through the command line."""

import csv

import numpy as np
from PIL import Image

from digitlab.data import kaggle


def test_a_csv_dataset_is_recorded_by_absolute_path_and_evaluates_from_elsewhere(cli, mini, tmp_path, monkeypatch):
    (tmp_path / "a").mkdir(), (tmp_path / "b").mkdir()
    kaggle.write_train_csv(tmp_path / "a" / "train.csv", mini.X_train[:600], mini.y_train[:600])
    monkeypatch.chdir(tmp_path / "a")
    trained = cli("train", "knn", "--dataset", "csv:train.csv", "--json")
    assert trained.code == 0, trained.err
    assert trained.json()["dataset"] == f"csv:{tmp_path / 'a' / 'train.csv'}"
    monkeypatch.chdir(tmp_path / "b")
    evaluated = cli("evaluate", trained.json()["model_file"], "--json")
    assert evaluated.code == 0, evaluated.err
    assert evaluated.json()["test_accuracy"] == trained.json()["test_accuracy"]
    board = cli("leaderboard", "--json").json()["runs"]
    assert board[0]["dataset"] == "csv:train.csv"


def test_the_leaderboard_lists_the_demos_runs_from_any_folder(cli, monkeypatch, tmp_path):
    from digitlab import demo

    monkeypatch.setattr(demo, "LINEUP", (demo.Step("train", "never"), demo.Step("train", "knn", n_train=500,
                                                                                   n_test=100)))
    monkeypatch.chdir(tmp_path)
    assert cli("demo", "--dataset", "mnist-mini").code == 0
    (tmp_path / "elsewhere").mkdir()
    monkeypatch.chdir(tmp_path / "elsewhere")
    rows = cli("leaderboard", "--json").json()["runs"]
    assert [row["model"] for row in rows] == ["knn", "never"]
    assert "knn" in cli("leaderboard").out


def test_an_explicit_data_folder_without_mnist_is_an_error_not_a_fallback(cli, assert_clean_error, tmp_path):
    (tmp_path / "data").mkdir()
    assert_clean_error(cli("train", "knn", "--data-dir", tmp_path / "data"), str(tmp_path / "data"))


def test_evaluate_reports_per_class_figures_and_the_most_confused_digits(cli):
    model = cli("train", "knn", "--dataset", "mnist-mini", "--n-train", 1000, "--n-test", 300, "--json").json()
    data = cli("evaluate", model["model_file"], "--n-test", 300, "--json").json()
    assert len(data["per_class"]) == 10 and sum(row["support"] for row in data["per_class"]) == 300
    assert np.asarray(data["confusion_matrix"]).sum() == 300
    worst = data["most_confused"][0]
    assert worst["count"] == max(data["confusion_matrix"][a][p] for a in range(10) for p in range(10) if a != p)
    table = cli("evaluate", model["model_file"], "--n-test", 300)
    assert "Most confused" in table.out and "precision" in table.out


def test_predict_gives_probabilities_writes_to_stdout_and_keeps_what_the_model_saw(cli, mini, tmp_path):
    model = cli("train", "knn-fast", "--dataset", "mnist-mini", "--n-train", 2000, "--n-test", 50, "--json").json()
    folder = tmp_path / "digits"
    (folder / "more").mkdir(parents=True)
    for i, where in enumerate([folder, folder, folder / "more"]):
        Image.fromarray(255 - mini.X_test[i].reshape(28, 28)).resize((96, 96)).save(where / f"d{i}.png")
    result = cli("predict", model["model_file"], "-i", folder, "-o", "-", "--save-preprocessed", tmp_path / "seen")
    assert result.code == 0, result.err
    rows = list(csv.DictReader(result.out.splitlines()))
    assert [row["image"] for row in rows] == ["d0.png", "d1.png", "more/d2.png"]
    assert all(0 < float(row["probability"]) <= 1 and row["runner_up"] != row["label"] for row in rows)
    assert sorted(p.name for p in (tmp_path / "seen").rglob("*.png")) == ["d0.28x28.png", "d1.28x28.png",
                                                                          "d2.28x28.png"]
    assert not (tmp_path / "-").exists()


def test_show_prints_its_plots_as_names_not_a_python_list(cli):
    result = cli("show", "--dataset", "mnist-mini", "--n", 10)
    assert result.code == 0 and "digits.png" in result.out and "['" not in result.out


def test_a_denoiser_that_makes_images_worse_is_warned_about(cli):
    result = cli("denoise", "dae-mlp", "--dataset", "mnist-mini", "--n-train", 200, "--n-test", 50, "--epochs", 1,
                 "--set", "n_threads=1", "--json")
    data = result.json()
    assert "noisy_psnr" in data
    assert ("made the images worse" in result.err) == (data["rmse"] > data["noisy_rmse"])


def test_holdout_sets_the_test_share_of_a_csv_and_zero_trains_on_every_row(cli, mini, tmp_path):
    kaggle.write_train_csv(tmp_path / "train.csv", mini.X_train[:500], mini.y_train[:500])
    tenth = cli("train", "knn", "--dataset", f"csv:{tmp_path / 'train.csv'}", "--holdout", 0.1, "--json").json()
    assert tenth["n_train"] + tenth["n_test"] == 500 and 45 <= tenth["n_test"] <= 55  # 10 % of each class
    everything = cli("train", "knn", "--dataset", f"csv:{tmp_path / 'train.csv'}", "--holdout", 0, "--json")
    assert everything.code == 0, everything.err
    assert everything.json()["n_train"] == 500 and everything.json()["test_accuracy"] is None
    assert "no test split" in everything.err
    evaluated = cli("evaluate", tenth["model_file"], "--json").json()  # on the split the model was tested on
    assert evaluated["n_test"] == tenth["n_test"] and evaluated["test_accuracy"] == tenth["test_accuracy"]
    refused = cli("train", "knn", "--dataset", "mnist-mini", "--holdout", 0.1)
    assert refused.code == 2 and "--holdout applies to csv:PATH datasets only" in refused.err


def test_printed_params_are_the_ones_the_preset_resolved(cli):
    data = cli("train", "cnn", "--preset", "fast", "--dataset", "mnist-mini", "--n-train", 600, "--n-test", 50,
               "--set", "n_threads=1", "--json").json()
    assert isinstance(data["params"]["epochs"], int) and data["params"]["epochs"] > 1  # scaled to 600 images
    assert data["params"]["lr"] is not None and data["params"]["preset"] == "fast"


def test_denoisers_show_their_noise_in_its_own_column_and_params_as_given(cli):
    cli("denoise", "dae-mlp", "--dataset", "mnist-mini", "--n-train", 200, "--n-test", 20, "--epochs", 1,
        "--set", "n_threads=1", "--json")
    cli("denoise", "knn-denoise", "--dataset", "mnist-mini", "--n-train", 200, "--n-test", 20, "--json")
    rows = cli("leaderboard", "--json").json()["runs"]
    assert {row["model"]: row["set"] for row in rows} == {"dae-mlp": {"epochs": 1, "n_threads": 1},
                                                          "knn-denoise": None}
    assert {row["noise"] for row in rows} == {"uniform:100"}


def test_the_demo_folds_convergence_warnings_into_one_line_of_its_own(cli, monkeypatch):
    from digitlab import demo

    monkeypatch.setattr(demo, "LINEUP", (demo.Step("train", "sgd", {"max_iter": 2}, n_train=300, n_test=50),))
    result = cli("demo", "--dataset", "mnist-mini")
    assert result.code == 0, result.err
    assert "stopped at max_iter before converging" in result.err
    assert "Maximum number of iteration" not in result.err
