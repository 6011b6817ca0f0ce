import pickle

import numpy as np
import pytest
import skops.io as sio

from digitlab.errors import ModelError
from digitlab.models import persist, registry


@pytest.fixture(scope="module")
def fitted():
    rng = np.random.default_rng(1)
    X = rng.integers(0, 256, (90, 784), dtype=np.uint8)
    y = np.repeat(np.arange(3), 30).astype(np.uint8)
    X[y == 2, 300:400] = 255
    return X, y


@pytest.mark.parametrize("name", ["svc", "random-forest", "knn", "sgd-scaled"])
def test_saved_model_reloads_and_predicts_exactly_as_before(tmp_path, fitted, name):
    X, y = fitted
    model = registry.make(name, seed=0).fit(X, y)
    path = persist.save(model, tmp_path / "model", {"model": name, "task": "classify"})
    assert path.suffix == ".skops"
    loaded = persist.load(path)
    assert loaded.meta["model"] == name and loaded.meta["format"] == persist.FORMAT
    np.testing.assert_array_equal(loaded.estimator.predict(X), model.predict(X))


def test_a_pickle_renamed_to_skops_is_refused(tmp_path, fitted):
    X, y = fitted
    path = tmp_path / "model.skops"
    path.write_bytes(pickle.dumps(registry.make("knn").fit(X, y)))
    with pytest.raises(ModelError, match="pickle"):
        persist.load(path)


def test_a_tampered_file_is_refused(tmp_path, fitted):
    X, y = fitted
    path = persist.save(registry.make("knn").fit(X, y), tmp_path / "model.skops")
    data = bytearray(path.read_bytes())
    middle = len(data) // 2
    data[middle:middle + 64] = b"\x00" * 64
    path.write_bytes(bytes(data))
    with pytest.raises(ModelError, match="damaged|altered|not one written"):
        persist.load(path)


class Sneaky:
    """A type nobody trusted."""


def test_a_file_holding_an_untrusted_type_is_refused(tmp_path):
    path = tmp_path / "model.skops"
    sio.dump({"meta": {"format": persist.FORMAT}, "estimator": Sneaky()}, path)
    with pytest.raises(ModelError, match="does not trust"):
        persist.load(path)


def test_a_skops_file_not_written_by_digitlab_is_refused(tmp_path, fitted):
    X, y = fitted
    path = tmp_path / "model.skops"
    sio.dump(registry.make("knn").fit(X, y), path)
    with pytest.raises(ModelError, match="not one written by digitlab"):
        persist.load(path)


@pytest.mark.parametrize("content,message", [(b"", "empty"), (b"hello world, not a model", "not a digitlab model")])
def test_other_files_are_refused(tmp_path, content, message):
    path = tmp_path / "model.skops"
    path.write_bytes(content)
    with pytest.raises(ModelError, match=message):
        persist.load(path)


def test_missing_file_is_named(tmp_path):
    with pytest.raises(ModelError, match="not found"):
        persist.load(tmp_path / "absent.skops")


def test_unknown_suffix_is_refused(tmp_path, fitted):
    X, y = fitted
    with pytest.raises(ModelError, match="skops"):
        persist.save(registry.make("knn").fit(X, y), tmp_path / "model.pkl")
