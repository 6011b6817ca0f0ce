"""Kaggle Digit Recognizer CSVs: round trips, the submission format and every kind of bad input."""

import csv

import numpy as np
import pytest

from digitlab.data import kaggle
from digitlab.errors import DataError

HEADER = "label," + ",".join(f"pixel{i}" for i in range(784))


def _row(label, pixels=None):
    pixels = [0] * 784 if pixels is None else pixels
    return ",".join(map(str, [label, *pixels]))


@pytest.fixture
def images():
    rng = np.random.default_rng(3)
    return rng.integers(0, 256, (7, 784), dtype=np.uint8), rng.integers(0, 10, 7).astype(np.uint8)


def test_train_round_trip(tmp_path, images):
    X, y = images
    kaggle.write_train_csv(tmp_path / "train.csv", X, y)
    X2, y2 = kaggle.read_train_csv(tmp_path / "train.csv")
    assert X2.dtype == y2.dtype == np.uint8 and X2.shape == (7, 784) and X2.flags.c_contiguous
    np.testing.assert_array_equal(X2, X)
    np.testing.assert_array_equal(y2, y)
    assert (tmp_path / "train.csv").read_text().splitlines()[0] == HEADER


def test_test_round_trip_accepts_28x28_images(tmp_path, images):
    X, _ = images
    kaggle.write_test_csv(tmp_path / "test.csv", X.reshape(7, 28, 28))
    np.testing.assert_array_equal(kaggle.read_test_csv(tmp_path / "test.csv"), X)


def test_crlf_bom_and_trailing_blank_lines_are_fine(tmp_path):
    path = tmp_path / "train.csv"
    path.write_bytes(("\ufeff" + HEADER + "\r\n" + _row(3) + "\r\n\r\n").encode())
    X, y = kaggle.read_train_csv(path)
    assert X.shape == (1, 784) and y.tolist() == [3]


def test_many_rows_cross_parse_blocks(tmp_path, monkeypatch):
    monkeypatch.setattr(kaggle, "_BLOCK", 3)
    X = np.arange(10 * 784).reshape(10, 784) % 256
    kaggle.write_test_csv(tmp_path / "test.csv", X)
    np.testing.assert_array_equal(kaggle.read_test_csv(tmp_path / "test.csv"), X)
    text = (tmp_path / "test.csv").read_text().splitlines()
    text[9] = text[9].replace(",", ",x", 1)  # line 10 in the fourth block
    (tmp_path / "test.csv").write_text("\n".join(text))
    with pytest.raises(DataError, match=r"line 10, column pixel1: 'x\d+' is not an integer"):
        kaggle.read_test_csv(tmp_path / "test.csv")


def test_submission_format(tmp_path):
    kaggle.write_submission(tmp_path / "submission.csv", np.array([7, 2, 1, 0]))
    assert (tmp_path / "submission.csv").read_text() == "ImageId,Label\n1,7\n2,2\n3,1\n4,0\n"


def test_submission_rejects_non_digits_and_writes_nothing(tmp_path):
    with pytest.raises(ValueError):
        kaggle.write_submission(tmp_path / "s.csv", np.array([1, 10]))
    assert list(tmp_path.iterdir()) == []


def _bad_train(lines):
    return "\n".join(lines) + "\n"


BAD_TRAIN = {
    "missing column": (_bad_train([HEADER.rsplit(",", 1)[0], _row(1)[:-2]]),
                       r"line 1 lacks column 'pixel783'; expected the header label,...,pixel783"),
    "no label column": (_bad_train([HEADER.split(",", 1)[1], _row(1).split(",", 1)[1]]),
                        r"line 1 lacks column 'label' \(is this a test.csv\?\)"),
    "extra column": (_bad_train([HEADER + ",comment", _row(1) + ",x"]),
                     r"line 1 has an unexpected column 'comment' at position 786"),
    "wrong column name": (_bad_train([HEADER.replace("pixel5,", "pixel_5,"), _row(1)]),
                          r"line 1, column 7 is named 'pixel_5', expected 'pixel5'"),
    "short row": (_bad_train([HEADER, _row(1), _row(2)[:-2]]),
                  r"line 3 has 784 values, expected 785"),
    "long row": (_bad_train([HEADER, _row(1) + ",0"]),
                 r"line 2 has 786 values, expected 785"),
    "non-integer": (_bad_train([HEADER, _row(1, [0] * 10 + ["12.5"] + [0] * 773)]),
                    r"line 2, column pixel10: '12.5' is not an integer"),
    "empty value": (_bad_train([HEADER, _row(1), _row(1, [0] * 783 + [""])]),
                    r"line 3, column pixel783 is empty, expected an integer"),
    "NaN": (_bad_train([HEADER, _row(1, ["NaN"] + [0] * 783)]),
            r"line 2, column pixel0 is 'NaN' \(missing\), expected an integer"),
    "pixel above 255": (_bad_train([HEADER, _row(1), _row(1, [0] * 99 + [256] + [0] * 684)]),
                        r"line 3, column pixel99: 256 is outside the pixel range 0..255"),
    "huge pixel": (_bad_train([HEADER, _row(1, [0] * 99 + [70000] + [0] * 684)]),
                   r"line 2, column pixel99: 70000 is outside the pixel range 0..255"),
    "negative pixel": (_bad_train([HEADER, _row(1, [-1] + [0] * 783)]),
                       r"line 2, column pixel0: -1 is outside the pixel range 0..255"),
    "label 10": (_bad_train([HEADER, _row(4), _row(10)]),
                 r"line 3, column label: 10 is not a digit 0..9"),
    "label -1": (_bad_train([HEADER, _row(-1)]), r"line 2, column label: -1 is not a digit 0..9"),
    "empty file": ("", r"the file is empty, expected a header line label,...,pixel783"),
    "blank file": ("\n\n", r"the file is empty"),
    "header only": (HEADER + "\n", r"has a header but no data rows"),
}


@pytest.mark.parametrize("case", BAD_TRAIN)
def test_bad_train_csv(tmp_path, case):
    text, message = BAD_TRAIN[case]
    path = tmp_path / "train.csv"
    path.write_text(text)
    with pytest.raises(DataError, match=message) as err:
        kaggle.read_train_csv(path)
    assert str(err.value).startswith(f"{path}: ")
    assert str(err.value).count(". ") == 0  # one sentence


def test_test_csv_with_a_label_column(tmp_path):
    path = tmp_path / "test.csv"
    path.write_text(HEADER + "\n" + _row(1) + "\n")
    with pytest.raises(DataError, match=r"unexpected column 'label' at position 1 \(is this a train.csv\?\)"):
        kaggle.read_test_csv(path)


def test_test_csv_pixel_out_of_range(tmp_path):
    path = tmp_path / "test.csv"
    path.write_text(HEADER.split(",", 1)[1] + "\n" + ",".join(["300"] + ["0"] * 783) + "\n")
    with pytest.raises(DataError, match=r"line 2, column pixel0: 300 is outside the pixel range 0..255"):
        kaggle.read_test_csv(path)


def test_missing_file_and_folder(tmp_path):
    with pytest.raises(DataError, match=r"nope.csv: file not found\."):
        kaggle.read_train_csv(tmp_path / "nope.csv")
    with pytest.raises(DataError, match=r"is a folder, expected a CSV file"):
        kaggle.read_test_csv(tmp_path)


def test_binary_file(tmp_path):
    (tmp_path / "x.csv").write_bytes(b"\x89PNG\r\n\x1a\n\xff\xfe")
    with pytest.raises(DataError, match=r"x.csv: is not a text CSV file"):
        kaggle.read_train_csv(tmp_path / "x.csv")


# ----------------------------------------------------------------------------- quoting, long fields, writer


def test_quoted_values_and_header_are_accepted(tmp_path, images):
    X, y = images
    path = tmp_path / "train.csv"
    with open(path, "w", newline="") as fh:
        writer = csv.writer(fh, quoting=csv.QUOTE_ALL)
        writer.writerow(kaggle.TRAIN_COLUMNS)
        writer.writerows(np.column_stack([y, X]).tolist())
    assert path.read_text().startswith('"label","pixel0"')
    X2, y2 = kaggle.read_train_csv(path)
    np.testing.assert_array_equal(X2, X)
    np.testing.assert_array_equal(y2, y)


def test_quoted_bad_value_is_named_unquoted(tmp_path):
    path = tmp_path / "test.csv"
    path.write_text(",".join(kaggle.TEST_COLUMNS) + "\n" + ",".join(['"3"', '"x"'] + ['"0"'] * 782) + "\n")
    with pytest.raises(DataError, match=r"line 2, column pixel1: 'x' is not an integer\.$"):
        kaggle.read_test_csv(path)


@pytest.mark.parametrize("field, message", [
    ("7" * 10_000_000, r"column pixel5: 7{40}… is outside the pixel range 0\.\.255\.$"),
    ("x" * 10_000_000, r"column pixel5: 'x{40}…' is not an integer\.$"),
])
def test_a_huge_field_is_quoted_cut_short(tmp_path, field, message):
    path = tmp_path / "test.csv"
    pixels = ["0"] * 784
    pixels[5] = field
    path.write_text(",".join(kaggle.TEST_COLUMNS) + "\n" + ",".join(pixels) + "\n")
    with pytest.raises(DataError, match=message) as err:
        kaggle.read_test_csv(path)
    assert len(str(err.value)) < 200


def test_a_huge_column_name_is_quoted_cut_short(tmp_path):
    path = tmp_path / "train.csv"
    path.write_text(HEADER.replace("pixel5,", "p" * 1_000_000 + ",") + "\n" + _row(1) + "\n")
    with pytest.raises(DataError, match=r"line 1, column 7 is named 'p{40}…', expected 'pixel5'") as err:
        kaggle.read_train_csv(path)
    assert len(str(err.value)) < 200


def test_write_predictions_round_trips_awkward_names(tmp_path):
    rows = [("a,b.png", 3), ('say "hi".png', 4), ("two\nlines.png", 5), ("plain.png", 0)]
    path = tmp_path / "pred.csv"
    kaggle.write_predictions(path, rows, ("image", "label"))
    with open(path, newline="", encoding="utf-8") as fh:
        back = list(csv.reader(fh))
    assert back == [["image", "label"]] + [[name, str(label)] for name, label in rows]
    with pytest.raises(ValueError):
        kaggle.write_predictions(tmp_path / "bad.csv", [("a.png",)], ("image", "label"))
    assert not (tmp_path / "bad.csv").exists()
