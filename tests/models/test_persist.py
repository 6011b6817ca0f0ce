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


@pytest.mark.parametrize("name", ["model.skops", "model.safetensors"])
def test_a_pickle_renamed_to_a_model_file_is_refused(tmp_path, fitted, name):
    # .safetensors too: the format check looks for a safetensors header before it looks for a pickle's first byte
    X, y = fitted
    path = tmp_path / name
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


def test_a_net_whose_header_length_starts_with_a_pickles_first_byte_loads(tmp_path):
    # A safetensors file begins with its header's length, little-endian: one in 256 begins with 0x80, which is
    # also how a pickle begins. Such a net was refused as a pickle (found on a LeNet-5 trained on full MNIST).
    from pathlib import Path

    fixtures = Path(__file__).resolve().parents[1] / "fixtures" / "models"
    model = persist.load(fixtures / "cnn.safetensors")
    probe = np.load(fixtures / "expected.npz")["probe"]
    for pad in range(300):
        path = persist.save(model.estimator, tmp_path / "net.safetensors", {**model.meta, "note": "x" * pad})
        if path.read_bytes()[:1] == b"\x80":
            break
    else:
        pytest.fail("no padding gave a header length whose first byte is 0x80")
    np.testing.assert_array_equal(persist.load(path).estimator.predict(probe), model.estimator.predict(probe))
