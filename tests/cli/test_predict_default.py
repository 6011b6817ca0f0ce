"""``digitlab predict`` without a model file uses the shipped CNN; without ``-o`` images are shown as a table."""

from __future__ import annotations

import numpy as np
from PIL import Image


def _digits(folder, mini, n=3):
    folder.mkdir()
    for i in range(n):
        Image.fromarray(255 - mini.X_test[i].reshape(28, 28)).resize((140, 140)).save(folder / f"d{i}.png")
    return folder


def test_predict_without_a_model_file_or_output_prints_a_table(cli, mini, tmp_path):
    folder = _digits(tmp_path / "digits", mini)
    result = cli("predict", "--input", folder)
    assert result.code == 0, result.err
    assert "the CNN shipped with digitlab" in result.out
    for i in range(3):
        assert f"d{i}.png" in result.out
    rows = cli("predict", "-i", folder, "--json").json()["rows"]
    assert [row["label"] for row in rows] == list(mini.y_test[:3])
    assert all(0.5 < row["probability"] <= 1 for row in rows)


def test_a_model_file_and_an_output_still_work_as_before(cli, mini, tmp_path):
    folder = _digits(tmp_path / "digits", mini)
    import digitlab

    out = tmp_path / "labels.csv"
    result = cli("predict", digitlab.pretrained(), "-i", folder, "-o", out)
    assert result.code == 0 and out.read_text().startswith("image,label,probability")


def test_a_kaggle_csv_needs_an_output(cli, tmp_path, assert_clean_error):
    test_csv = tmp_path / "test.csv"
    np.savetxt(test_csv, np.zeros((2, 784), int), fmt="%d", delimiter=",",
               header=",".join(f"pixel{i}" for i in range(784)), comments="")
    result = cli("predict", "-i", test_csv)
    assert result.code == 2
    assert_clean_error(result, "test.csv", "--output")
