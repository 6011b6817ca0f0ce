"""Named datasets: lookup order, verification, locate, the shipped mini set and csv:PATH."""

import hashlib
import json
from importlib import resources

import numpy as np
import pytest

from digitlab.data import datasets, idx, kaggle
from digitlab.data.datasets import load_dataset, locate
from digitlab.errors import DataError, DatasetNotFound, DownloadError, UsageError


def _folders(root):
    return {
        "data-dir": root / "dd",
        "env": root / "env",
        "cache": root / "cache" / "datasets",
        "system": root / "system",
    }


def test_lookup_order_data_dir_env_cache_system(fake, isolated_data, monkeypatch):
    f = _folders(isolated_data)
    for folder in f.values():
        fake.write(folder / "fake")
    monkeypatch.setenv("DIGITLAB_DATA", str(f["env"]))

    assert load_dataset("fake", f["data-dir"]).source == str(f["data-dir"] / "fake")
    assert load_dataset("fake").source == str(f["env"] / "fake")
    monkeypatch.delenv("DIGITLAB_DATA")
    assert load_dataset("fake").source == str(f["cache"] / "fake")
    (f["cache"] / "fake" / "t10k-labels-idx1-ubyte.gz").unlink()  # an incomplete folder does not count
    assert load_dataset("fake").source == str(f["system"] / "fake")


def test_loaded_arrays_have_the_api_shapes(fake, isolated_data):
    ds = load_dataset("fake", fake.write(isolated_data / "dd" / "fake").parent)
    assert ds.verified and ds.name == "fake"
    for X, n in ((ds.X_train, 12), (ds.X_test, 6)):
        assert X.shape == (n, 784) and X.dtype == np.uint8 and X.flags.c_contiguous
    assert ds.y_train.dtype == np.uint8 and ds.y_train.shape == (12,)
    np.testing.assert_array_equal(ds.X_train, fake.arrays["train_images"].reshape(12, 784))
    np.testing.assert_array_equal(ds.y_test, fake.arrays["test_labels"])


def test_env_without_the_dataset_falls_through(fake, isolated_data, monkeypatch):
    (isolated_data / "env" / "mnist").mkdir(parents=True)
    monkeypatch.setenv("DIGITLAB_DATA", str(isolated_data / "env"))
    fake.write(isolated_data / "system" / "fake")
    assert load_dataset("fake").source == str(isolated_data / "system" / "fake")


def test_uncompressed_files_are_accepted(fake, isolated_data):
    fake.write(isolated_data / "dd" / "fake", raw=True)
    ds = load_dataset("fake", isolated_data / "dd")
    assert ds.verified
    np.testing.assert_array_equal(ds.X_test, fake.arrays["test_images"].reshape(6, 784))


def test_recompressed_file_still_verifies(fake, isolated_data):
    folder = fake.write(isolated_data / "dd" / "fake")
    import gzip

    path = folder / "train-images-idx3-ubyte.gz"
    path.write_bytes(gzip.compress(gzip.decompress(path.read_bytes()), compresslevel=1, mtime=12345))
    assert load_dataset("fake", isolated_data / "dd").verified


def test_explicit_data_dir_lacking_a_file_is_an_error_not_a_download(fake, isolated_data):
    folder = fake.write(isolated_data / "dd" / "fake")
    (folder / "train-labels-idx1-ubyte.gz").unlink()
    with pytest.raises(DataError, match=r"Data folder .*dd/fake lacks train-labels-idx1-ubyte.gz \(or the uncompressed"):
        load_dataset("fake", isolated_data / "dd")
    assert not (isolated_data / "cache").exists()


def test_explicit_data_dir_messages(fake, isolated_data):
    files = ("train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz, t10k-images-idx3-ubyte.gz and "
             "t10k-labels-idx1-ubyte.gz")
    with pytest.raises(DatasetNotFound) as err:
        load_dataset("fake", isolated_data / "nowhere")
    assert str(err.value) == (f"Data folder {isolated_data / 'nowhere'} does not exist; "
                              f"it should hold a fake/ folder with {files}.")
    (isolated_data / "empty").mkdir()
    with pytest.raises(DatasetNotFound, match=rf"Data folder .*empty has no fake/ sub-folder; it should hold a fake/ folder with {files}\.$"):
        load_dataset("fake", isolated_data / "empty")
    fake.write(isolated_data / "flat")
    with pytest.raises(DatasetNotFound, match=r"has no fake/ sub-folder but holds the fake files itself, so pass its parent folder instead"):
        load_dataset("fake", isolated_data / "flat")
    (isolated_data / "flat" / "t10k-images-idx3-ubyte.gz").rename(isolated_data / "t10k-images-idx3-ubyte.gz")
    (isolated_data / "flat").rename(isolated_data / "fake")
    with pytest.raises(DatasetNotFound, match=rf"fake lacks t10k-images-idx3-ubyte.gz \(or the uncompressed t10k-images-idx3-ubyte\); put {files} there\.$"):
        load_dataset("fake", isolated_data)


def test_checksum_mismatch_names_the_file(fake, isolated_data):
    folder = fake.write(isolated_data / "dd" / "fake")
    bad = fake.arrays["test_images"].copy()
    bad[0, 0, 0] ^= 1
    idx.write(folder / "t10k-images-idx3-ubyte.gz", bad)
    with pytest.raises(DataError, match=r"dd/fake/t10k-images-idx3-ubyte.gz does not match the published checksum"):
        load_dataset("fake", isolated_data / "dd")


def test_label_count_must_match_image_count(make_fake, isolated_data):
    make_fake({
        "train_images": np.zeros((4, 28, 28), np.uint8), "train_labels": np.zeros(3, np.uint8),
        "test_images": np.zeros((2, 28, 28), np.uint8), "test_labels": np.zeros(2, np.uint8),
    }).write(isolated_data / "dd" / "fake")
    with pytest.raises(DataError, match=r"train-labels-idx1-ubyte.gz holds 3 labels but .* holds 4 images"):
        load_dataset("fake", isolated_data / "dd")


def test_not_found_without_download(fake, isolated_data):
    with pytest.raises(DatasetNotFound) as err:
        load_dataset("fake", download=False)
    cache, system = isolated_data / "cache" / "datasets" / "fake", isolated_data / "system" / "fake"
    assert str(err.value).startswith(f"Dataset fake was not found in {cache} or {system}, and downloading is "
                                     f"turned off; to get fake by hand, put train-images-idx3-ubyte.gz, ")
    assert not isinstance(err.value, DownloadError)


def test_unknown_name_lists_valid_names():
    with pytest.raises(DataError, match=r"Unknown dataset 'mnsit'; valid names are mnist, fashion-mnist, mnist-mini, csv:PATH\."):
        load_dataset("mnsit")


def test_locate_reports_rule_path_and_verification(fake, isolated_data, monkeypatch):
    [loc] = locate("fake")
    assert (loc.found_by, loc.path, loc.verified) == ("not-found", None, False)
    assert "will be downloaded" in loc.detail
    cache = isolated_data / "cache" / "datasets"
    assert (loc.download_to, loc.cache_dir) == (str(cache / "fake"), str(cache))

    fake.write(isolated_data / "env" / "fake")
    monkeypatch.setenv("DIGITLAB_DATA", str(isolated_data / "env"))
    [loc] = locate("fake")
    assert (loc.found_by, loc.path, loc.verified) == ("env", str(isolated_data / "env" / "fake"), True)
    assert loc.download_to is None and loc.as_dict()["cache_dir"] == str(cache)

    idx.write(isolated_data / "env" / "fake" / "t10k-labels-idx1-ubyte.gz", np.ones(6, np.uint8))
    [loc] = locate("fake")
    assert loc.found_by == "env" and not loc.verified and "published checksum" in loc.detail
    assert locate("fake", verify=False)[0].detail == "not checked"

    [loc] = locate("fake", isolated_data / "empty")
    assert loc.found_by == "not-found" and "does not exist" in loc.detail


def test_locate_all_includes_every_table_entry(isolated_data):
    locations = {loc.name: loc for loc in datasets.locate_all(verify=False)}
    assert set(datasets.DATASETS) <= set(locations)
    assert locations["mnist-mini"].found_by == "package" and locations["mnist-mini"].verified
    row = locations["mnist"].as_dict()
    assert set(row) >= {"name", "found_by", "path", "verified", "description"}
    assert row["description"].startswith("MNIST")


def test_locate_a_csv(tmp_path):
    [loc] = locate(f"csv:{tmp_path / 'train.csv'}")
    assert loc.found_by == "not-found" and "file not found" in loc.detail
    (tmp_path / "train.csv").write_text("label\n")
    [loc] = locate(f"csv:{tmp_path / 'train.csv'}")
    assert (loc.found_by, loc.path, loc.verified) == ("file", str(tmp_path / "train.csv"), False)


def test_cache_dir_follows_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("DIGITLAB_CACHE", str(tmp_path))
    assert datasets.cache_dir() == tmp_path / "datasets"


# ----------------------------------------------------------------------------- mnist-mini


def test_mini_sizes_and_class_balance(mini):
    assert mini.source == "package" and mini.verified
    assert mini.X_train.shape == (6000, 784) and mini.X_test.shape == (1000, 784)
    assert mini.X_train.dtype == np.uint8 and mini.X_train.flags.c_contiguous
    np.testing.assert_array_equal(np.bincount(mini.y_train), [600] * 10)
    np.testing.assert_array_equal(np.bincount(mini.y_test), [100] * 10)
    assert 0 < mini.X_train.mean() < 60  # white digits on black, as in MNIST


def test_mini_manifest_matches_the_shipped_files():
    folder = resources.files("digitlab.data").joinpath("mini")
    manifest = json.loads(folder.joinpath("manifest.json").read_text())
    assert manifest["counts"] == {"train": 6000, "test": 1000} and isinstance(manifest["seed"], int)
    for role, entry in manifest["files"].items():
        content = idx.decompress(folder.joinpath(entry["name"]).read_bytes())
        assert hashlib.sha256(content).hexdigest() == entry["sha256"] == datasets.DATASETS["mnist-mini"].files[role].sha256
        assert list(idx.parse(content).shape) == entry["shape"]


def test_mini_with_a_wrong_checksum_is_refused(monkeypatch):
    spec = datasets.DATASETS["mnist-mini"]
    files = dict(spec.files, test_labels=datasets.FileSpec(spec.files["test_labels"].name, "0" * 64))
    monkeypatch.setitem(datasets.DATASETS, "mnist-mini", datasets.DatasetSpec(**{**spec.__dict__, "files": files}))
    with pytest.raises(DataError, match=r"mnist-mini \(packaged\) t10k-labels-idx1-ubyte.gz does not match the published checksum"):
        load_dataset("mnist-mini")


# ----------------------------------------------------------------------------- csv:PATH


def test_csv_dataset_is_a_seeded_stratified_holdout(tmp_path, mini):
    path = tmp_path / "train.csv"
    kaggle.write_train_csv(path, mini.X_test, mini.y_test)
    ds = load_dataset(f"csv:{path}", test_fraction=0.25, seed=1)
    assert ds.X_train.shape == (750, 784) and ds.X_test.shape == (250, 784)
    np.testing.assert_array_equal(np.bincount(ds.y_test), [25] * 10)
    assert ds.source == str(path) and not ds.verified and ds.name == f"csv:{path}"
    again = load_dataset(f"csv:{path}", test_fraction=0.25, seed=1)
    np.testing.assert_array_equal(again.X_test, ds.X_test)
    other = load_dataset(f"csv:{path}", test_fraction=0.25, seed=2)
    assert not np.array_equal(other.X_test, ds.X_test)
    # train and test together are exactly the file's rows
    rows = np.vstack([ds.X_train, ds.X_test])
    assert sorted(map(bytes, rows)) == sorted(map(bytes, mini.X_test))


@pytest.mark.parametrize("fraction", [1, -0.1, 1.5, "0.2"])
def test_csv_bad_test_fraction(tmp_path, fraction):
    path = tmp_path / "train.csv"
    kaggle.write_train_csv(path, np.zeros((10, 784), np.uint8), np.arange(10))
    with pytest.raises(UsageError, match="holdout must be a fraction from 0"):
        load_dataset(f"csv:{path}", test_fraction=fraction)


def test_csv_holdout_zero_trains_on_every_row(tmp_path):
    path = tmp_path / "train.csv"
    kaggle.write_train_csv(path, np.zeros((10, 784), np.uint8), np.arange(10))
    data = load_dataset(f"csv:{path}", test_fraction=0)
    assert len(data.X_train) == 10 and len(data.X_test) == 0 and data.holdout == 0.0


def test_csv_missing_file(tmp_path):
    with pytest.raises(DataError, match=r"nope.csv: file not found"):
        load_dataset(f"csv:{tmp_path / 'nope.csv'}")


# ----------------------------------------------------------------------------- full MNIST


@pytest.mark.full
def test_full_mnist_loads_verified_from_digitlab_data():
    ds = load_dataset("mnist", download=False)
    assert ds.verified
    assert ds.X_train.shape == (60000, 784) and ds.X_test.shape == (10000, 784)
    assert ds.y_train.shape == (60000,) and ds.y_test.shape == (10000,)
    assert ds.X_train.dtype == ds.y_train.dtype == np.uint8
    np.testing.assert_array_equal(ds.y_train[:8], [5, 0, 4, 1, 9, 2, 1, 3])


@pytest.mark.full
def test_rebuilding_the_mini_set_is_byte_identical(tmp_path):
    import importlib.util
    from pathlib import Path

    script = Path(__file__).resolve().parents[2] / "scripts" / "build_mini.py"
    module_spec = importlib.util.spec_from_file_location("build_mini", script)
    build_mini = importlib.util.module_from_spec(module_spec)
    module_spec.loader.exec_module(build_mini)
    build_mini.build(tmp_path)
    shipped = resources.files("digitlab.data").joinpath("mini")
    for path in sorted(tmp_path.iterdir()):
        assert path.read_bytes() == shipped.joinpath(path.name).read_bytes(), path.name
