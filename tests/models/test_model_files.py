"""Model files are checked before they drive any allocation: a damaged or edited file is one ModelError sentence.

The edits here are the fault-injection report's: a header asking for a huge net, edited classes or input
size, a checkpoint with a negative epoch, a small skops file that unpacks to gigabytes. Headers are edited
and the checksum recomputed (``resign``), as someone editing on purpose would: the checks must hold without it.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import zipfile
from pathlib import Path

import numpy as np
import pytest
import skops.io as sio
from safetensors import safe_open
from safetensors.torch import save

from digitlab.errors import ModelError
from digitlab.models import persist
from digitlab.models.neural import MLPClassifier, files, load_net, read_header, save_net, storage

FIXTURES = Path(__file__).parent.parent / "fixtures" / "models"


def load_tensors_and_header(path):
    with safe_open(str(path), framework="pt") as fh:
        return {k: fh.get_tensor(k) for k in fh.keys()}, json.loads(fh.metadata()[storage.FORMAT])


def damaged(match=""):
    return pytest.raises(ModelError, match=r"the model file is damaged \(.*" + match)


@pytest.fixture(scope="module")
def cnn_v2(tmp_path_factory):
    """The fixture CNN saved again by today's code: format version 2."""
    path = tmp_path_factory.mktemp("v2") / "cnn.safetensors"
    save_net(load_net(FIXTURES / "cnn.safetensors"), path, meta=read_header(FIXTURES / "cnn.safetensors")["meta"])
    return path


def test_the_fixture_files_are_version_1_and_a_new_file_version_2(cnn_v2):
    assert read_header(FIXTURES / "cnn.safetensors")["format_version"] == 1
    assert read_header(cnn_v2)["format_version"] == 2 and "sha256" in read_header(cnn_v2)


def test_a_header_asking_for_a_32_gb_net_is_refused_before_building_it(cnn_v2, tmp_path, resign):
    def huge_params(header):
        header["params"]["widths"] = [32, 30000, 128]
        header["state"]["config"]["widths"] = [32, 30000, 128]

    with damaged(r"The 'widths' parameter of CNNClassifier must be a tuple of 3 ints in the range \[1, 4096\]"):
        load_net(resign(cnn_v2, tmp_path / "huge.safetensors", huge_params))
    with damaged("widths must be an integer from 1 to 4096, got 30000"):
        load_net(resign(cnn_v2, tmp_path / "huge.safetensors",
                        lambda header: header["state"]["config"].update(widths=[32, 30000, 128])))


def test_a_net_within_bounds_is_compared_with_the_tensors_before_it_is_built(cnn_v2, tmp_path, resign, peak_growth):
    # A CNN of 4,096 channels per stage needs 600 MB of weights; the file holds a 29,000-weight net.
    def bigger(header):
        header["params"].update(preset="standard", widths=[4096] * 3)
        header["state"].update(net="CNN", config={"n_classes": 10, "widths": [4096] * 3, "dropout": 0.4})

    path = resign(cnn_v2, tmp_path / "bigger.safetensors", bigger, version=1)

    def load():
        with damaged("tensor net.features.0.weight is 16x1x3x3 float32 where the network its header describes "
                     "has 4096x1x3x3 float32"):
            load_net(path)
    assert peak_growth(load) < 50 * 2**20


@pytest.mark.parametrize("edit, message", [
    (lambda h: h["state"]["classes"].update(values=[0, 1, 2]), "its net has n_classes=10 but the model 3"),
    (lambda h: h["state"].update(n_features_in=5000), "'n_features_in' is 5000, expected an integer from 1 to 784"),
    (lambda h: h["state"].update(n_features_in=0), "'n_features_in' is 0"),
    (lambda h: h["state"]["preprocessing"].update(std=0.0), "'std' is 0.0, expected a positive number"),
    (lambda h: h["state"].update(best_epoch=7), "'best_epoch' is 7"),
    (lambda h: h["state"].update(net="DAEMLP"), "'net' is 'DAEMLP', expected CNN or PoolFirstCNN or FastCNN"),
    (lambda h: h["params"].update(n_threads=10**9), None),  # more threads than cores: every core
    (lambda h: h["params"].update(lr="fast"), "The 'lr' parameter of CNNClassifier must be"),
    (lambda h: h["state"]["classes"].update(dtype="<U999999999"), "class labels of dtype"),
    (lambda h: h.update(state=[]), "'state' is .., expected dict"),
    (lambda h: h["state"].update(preprocessing=3), "'preprocessing' is 3, expected dict"),
    (lambda h: h["state"].update(classes=[1, 2]), "'classes' is \\[1, 2\\], expected dict"),
])
@pytest.mark.parametrize("version", [1, 2])
def test_edited_facts_are_refused_at_load_not_at_predict(cnn_v2, tmp_path, resign, edit, message, version):
    path = resign(cnn_v2, tmp_path / "edited.safetensors", edit, version)
    if message is None:
        load_net(path).predict(np.zeros((2, 784), np.uint8))
        return
    with damaged(message) as err:
        load_net(path)
    assert str(path) in str(err.value) and "\n" not in str(err.value)


def test_a_version_2_header_is_covered_by_the_checksum(cnn_v2, tmp_path):
    tensors, header = load_tensors_and_header(cnn_v2)
    header["meta"]["test_accuracy"] = 1.0  # edited without recomputing the checksum
    path = tmp_path / "edited.safetensors"
    path.write_bytes(save(tensors, metadata={storage.FORMAT: json.dumps(header)}))
    with pytest.raises(ModelError, match="altered or damaged: its content does not match the checksum"):
        load_net(path)


def test_an_oversized_file_is_refused_before_it_is_read(cnn_v2, tmp_path, monkeypatch):
    monkeypatch.setattr(storage, "MAX_TENSOR_BYTES", 1000)
    monkeypatch.setattr(storage, "MAX_HEADER_BYTES", 1000)
    with damaged("more than any digitlab network holds"):
        load_net(cnn_v2)


def test_saved_models_and_checkpoints_get_the_usual_permissions(cnn_v2, tmp_path):
    expected = 0o666 & ~_umask()
    path = save_net(load_net(cnn_v2), tmp_path / "model.safetensors")
    assert stat.S_IMODE(path.stat().st_mode) == expected
    X = np.random.default_rng(0).integers(0, 256, (40, 784), dtype=np.uint8)
    ck = tmp_path / "ck.safetensors"
    MLPClassifier(epochs=1, n_hidden=4, n_threads=1, checkpoint_path=str(ck)).fit(X, np.arange(40) % 2)
    assert stat.S_IMODE(ck.stat().st_mode) == expected


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


# --- checkpoints ----------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def run(tmp_path_factory):
    X = np.random.default_rng(0).integers(0, 256, (60, 784), dtype=np.uint8)
    y = np.arange(60) % 3
    ck = tmp_path_factory.mktemp("ck") / "run.safetensors"
    make = lambda **kw: MLPClassifier(epochs=3, n_hidden=8, batch_size=8, n_threads=1, **kw)  # noqa: E731

    def stop_after_1(info):
        if info["event"] == "epoch":
            raise KeyboardInterrupt
    make(checkpoint_path=str(ck), progress=stop_after_1).fit(X, y)
    return X, y, ck, make


@pytest.mark.parametrize("edit, message", [
    (lambda h: h["state"].update(epoch=-3), "'epoch' is -3, expected an epoch from 0 to 3"),
    (lambda h: h["state"].update(epoch=2), "'history' is"),
    (lambda h: h["state"].update(best_epoch=9), "'best_epoch' is 9"),
    (lambda h: h["state"]["optimizer"][0].update(params=[0]), "optimiser settings do not fit the net"),
    (lambda h: h["state"]["scheduler"].update(total_steps=10**9), "schedule does not fit"),
    (lambda h: h["state"]["scheduler"].update(last_epoch=-5), "schedule does not fit"),
])
def test_a_damaged_checkpoint_is_refused_when_resuming(run, tmp_path, resign, edit, message):
    X, y, ck, make = run
    bad = resign(ck, tmp_path / "bad.safetensors", edit)
    with damaged(message) as err:
        make(resume_from=str(bad)).fit(X, y)
    assert str(bad) in str(err.value)
    assert make(resume_from=str(ck)).fit(X, y).resumed_from_epoch_ == 1  # the intact one resumes


def test_a_checkpoint_with_a_tensor_of_the_wrong_shape_is_refused(run, tmp_path):
    X, y, ck, make = run
    tensors, header = load_tensors_and_header(ck)
    tensors["optim.0.exp_avg"] = tensors["optim.0.exp_avg"][:4]
    header.pop("sha256")
    header["sha256"] = storage.digest(tensors, header)
    bad = tmp_path / "bad.safetensors"
    bad.write_bytes(save(tensors, metadata={storage.FORMAT: json.dumps(header)}))
    with damaged("tensor optim.0.exp_avg is 4x784 float32 where the run being resumed has 8x784 float32"):
        make(resume_from=str(bad)).fit(X, y)


# --- skops files ----------------------------------------------------------------------------------------------

def test_a_small_skops_file_that_unpacks_past_the_bound_is_refused_unread(tmp_path, monkeypatch, peak_growth):
    # The report's file: 3.9 MB of zip holding a 4 GB array. Here the same shape at a smaller scale: the bound
    # is lowered to 16 MB and the file holds 64 MB of zeros in 64 kB.
    monkeypatch.setattr(persist, "MAX_UNPACKED_BYTES", 16 * 2**20)
    path = tmp_path / "bomb.skops"
    sio.dump({"meta": {"format": persist.FORMAT}, "estimator": np.zeros(8 * 2**20)}, path,
             compression=zipfile.ZIP_DEFLATED, compresslevel=9)
    assert path.stat().st_size < 2**20

    def load():
        with pytest.raises(ModelError, match=r"damaged \(it unpacks to 0.1 GiB, more than any digitlab model"):
            persist.load(path)
    assert peak_growth(load) < 32 * 2**20


def test_a_skops_array_claiming_more_than_it_holds_is_refused(tmp_path):
    src = FIXTURES / "knn-fast.skops"
    path = tmp_path / "claims.skops"
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(path, "w") as zout:
        for info in zin.infolist():
            data = zin.read(info.filename)
            if info.filename.endswith(".npy") and len(data) > 100_000:
                header = data[:data.index(b"\n") + 1].decode("latin1")
                shape = header[header.index("(") + 1:header.index(")")]
                data = data.replace(f"({shape})".encode(), b"(1000000000, 784)", 1)
            zout.writestr(info, data)
    with pytest.raises(ModelError, match="damaged .*claims 6,272,000,000,000 bytes"):
        persist.load(path)


def test_the_largest_real_models_fit_the_skops_bound():
    # scikit-learn's k-NN (and the seeds' k-NN denoiser) on 300,000 shift-augmented images, as float64 / int64
    assert 2 * 300_000 * 784 * 8 < persist.MAX_UNPACKED_BYTES


def test_every_fixture_still_loads(tmp_path):
    for name in ("cnn.safetensors", "dae-mlp.safetensors", "random-forest.skops", "knn-fast.skops"):
        shutil.copy(FIXTURES / name, tmp_path / name)
        assert persist.load(tmp_path / name).meta["format"] == persist.FORMAT
    assert files.ESTIMATORS
