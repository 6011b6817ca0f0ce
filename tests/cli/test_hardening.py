"""What a fault-injection pass broke, checked through the command line: nothing lost, nothing clobbered."""

import csv
import json
import os
import stat

import pytest
from PIL import Image

from digitlab.data import kaggle


@pytest.fixture(scope="module")
def model_file(tmp_path_factory):
    from digitlab.cli import main

    runs = tmp_path_factory.mktemp("runs")
    assert main(["train", "knn-fast", "--dataset", "mnist-mini", "--n-train", "2000", "--n-test", "50",
                 "--runs", str(runs), "--quiet"]) == 0
    return next(runs.glob("*/model.skops"))


def test_one_bad_image_does_not_stop_a_folder(cli, mini, model_file, tmp_path):
    folder = tmp_path / "digits"
    folder.mkdir()
    for i in range(3):
        Image.fromarray(mini.X_test[i].reshape(28, 28)).save(folder / f"good, {i}.png")
    (folder / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n not really")
    Image.new("L", (40, 40), 0).save(folder / "blank.png")
    result = cli("predict", model_file, "-i", folder, "-o", tmp_path / "labels.csv")
    assert result.code == 0, result.err
    assert "broken.png" in result.err and "blank.png: the image is blank" in result.err
    with open(tmp_path / "labels.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert [row["image"] for row in rows] == ["good, 0.png", "good, 1.png", "good, 2.png"]  # quoted, round-trips


def test_the_output_may_not_be_the_input_or_the_model(cli, assert_clean_error, mini, model_file, tmp_path):
    test_csv = tmp_path / "test.csv"
    kaggle.write_test_csv(test_csv, mini.X_test[:5])
    before = test_csv.read_bytes(), model_file.read_bytes()
    assert_clean_error(cli("predict", model_file, "-i", test_csv, "-o", test_csv), "same file as the input")
    assert_clean_error(cli("predict", model_file, "-i", test_csv, "-o", model_file), "same file as the input")
    assert (test_csv.read_bytes(), model_file.read_bytes()) == before


def test_an_existing_folder_as_output_is_one_sentence(cli, assert_clean_error, mini, model_file, tmp_path):
    test_csv = tmp_path / "test.csv"
    kaggle.write_test_csv(test_csv, mini.X_test[:5])
    assert_clean_error(cli("predict", model_file, "-i", test_csv, "-o", tmp_path), "is a folder")


@pytest.mark.skipif(not os.path.exists("/dev/null"), reason="no /dev/null on this system")
def test_dev_null_stays_a_device(cli, mini, model_file, tmp_path):
    test_csv = tmp_path / "test.csv"
    kaggle.write_test_csv(test_csv, mini.X_test[:5])
    assert cli("predict", model_file, "-i", test_csv, "-o", "/dev/null").code == 0
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)


@pytest.mark.tmpfs_size("320k")
def test_a_full_disk_keeps_the_figures_and_says_them(cli, tmpfs):
    result = cli("train", "knn-fast", "--dataset", "mnist-mini", "--n-train", 3000, "--n-test", 200,
                 "--runs", tmpfs)
    assert result.code != 0 and "Traceback" not in result.err
    assert "no space left on device while writing" in result.err and "test accuracy 0." in result.err
    (run,) = tmpfs.iterdir()
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["test_accuracy"] > 0.9 and metrics["status"] == "complete"
    assert not [p for p in run.iterdir() if p.name.endswith(".part")]
