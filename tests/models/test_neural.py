"""The neural wrappers: scikit-learn contract, training (loss falls, seeds, early stopping, Ctrl-C, resume)
and model files (round trip, tampering). Small data: scikit-learn's 8x8 digits blown up to 28x28."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from safetensors import safe_open
from safetensors.torch import save_file
from sklearn.datasets import load_digits
from sklearn.utils.estimator_checks import parametrize_with_checks

from digitlab.errors import ModelError
from digitlab.models import neural
from digitlab.models.neural import (CNNClassifier, CNNEnsembleClassifier, ConvDenoiser, DAEMLPDenoiser,
                                    LeNet5Classifier, MLPClassifier, describe_net, load_net, save_net)

FAST = dict(n_threads=1)  # one thread: quicker than two for tiny nets, and immune to a busy machine
TINY_CNN = dict(widths=(4, 8, 8), **FAST)


@pytest.fixture(scope="module")
def digits():
    """300 MNIST-like rows: 8x8 digits scaled x3 into the middle of a 28x28 canvas, uint8 0..255."""
    d = load_digits()
    small = d.images[:360].reshape(-1, 8, 8) * (255 / 16)
    big = np.kron(small, np.ones((3, 3)))  # 24x24
    canvas = np.zeros((len(big), 28, 28))
    canvas[:, 2:26, 2:26] = big
    X = np.rint(canvas).astype(np.uint8).reshape(-1, 784)
    return X[:300], d.target[:300], X[300:], d.target[300:360]


@pytest.fixture(scope="module")
def noisy(digits):
    X = digits[0][:200]
    noise = np.random.default_rng(0).integers(0, 100, X.shape)
    return (X.astype(np.int16) + noise).astype(np.int16), X  # unclipped, as digitlab's uniform noise


# --- scikit-learn's own estimator checks, on tiny settings ----------------------------------------

def _check_instances():
    return [
        MLPClassifier(epochs=8, n_hidden=32, batch_size=32, lr=1e-2, validation_fraction=0.0, **FAST),
        # The image nets see the checks' 2-10 features as pixels in a blank 28x28 canvas and carry the
        # poor_score tag, so a few steps are enough here.
        LeNet5Classifier(epochs=3, validation_fraction=0.0, **FAST),
        CNNClassifier(epochs=2, batch_size=32, validation_fraction=0.0, **TINY_CNN),
        CNNEnsembleClassifier(n_members=2, epochs=1, batch_size=32, validation_fraction=0.0, **TINY_CNN),
        DAEMLPDenoiser(epochs=2, validation_fraction=0.0, **FAST),
        ConvDenoiser(width=4, n_blocks=1, epochs=2, validation_fraction=0.0, **FAST),
    ]


@parametrize_with_checks(_check_instances())
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)


# --- training -------------------------------------------------------------------------------------

@pytest.mark.parametrize("make", [
    lambda: MLPClassifier(epochs=6, validation_fraction=0.0, **FAST),
    lambda: LeNet5Classifier(epochs=6, validation_fraction=0.0, **FAST),
    lambda: CNNClassifier(epochs=6, batch_size=32, lr=1e-2, widths=(8, 16, 16), validation_fraction=0.0, **FAST),
    lambda: CNNClassifier(preset="fast", epochs=3, batch_size=32, validation_fraction=0.0, **FAST),
])
def test_classifier_loss_falls_and_it_learns(digits, make):
    X, y, X_test, y_test = digits
    clf = make().fit(X, y)
    losses = [h["loss"] for h in clf.history_]
    assert losses[-1] < 0.8 * losses[0]
    assert clf.score(X_test, y_test) > 0.5  # 60 unseen digits, under 60 optimiser steps
    assert clf.predict_proba(X_test).shape == (60, 10)


@pytest.mark.parametrize("make", [
    lambda: DAEMLPDenoiser(epochs=4, batch_size=16, lr=1e-2, validation_fraction=0.0, **FAST),
    lambda: ConvDenoiser(width=8, epochs=4, batch_size=16, validation_fraction=0.0, **FAST),
])
def test_denoiser_loss_falls_and_output_is_uint8(noisy, make):
    Xn, X = noisy
    den = make().fit(Xn, X)
    assert den.history_[-1]["loss"] < 0.8 * den.history_[0]["loss"]
    for inputs in (Xn, Xn.astype(np.float32), np.clip(Xn, 0, 255).astype(np.uint8)):
        out = den.predict(inputs[:5])
        assert out.dtype == np.uint8 and out.shape == (5, 784)


def test_same_seed_same_weights_other_seed_other_weights(digits):
    X, y = digits[0], digits[1]
    make = lambda seed: CNNClassifier(epochs=2, batch_size=32, random_state=seed, **TINY_CNN).fit(X, y)  # noqa: E731
    a, b, c = make(3), make(3), make(4)
    for k, v in a.net_.state_dict().items():
        assert torch.equal(v, b.net_.state_dict()[k]), k
    assert not torch.equal(a.net_.out.weight, c.net_.out.weight)
    assert a.history_[-1]["loss"] == b.history_[-1]["loss"]


def test_validation_split_early_stopping_keeps_best_weights(digits):
    X, y = digits[0], digits[1]
    snapshots = {}
    clf = MLPClassifier(epochs=30, lr=3e-2, validation_fraction=0.2, patience=2, **FAST)
    clf.set_params(progress=lambda info: info["event"] == "epoch" and snapshots.__setitem__(
        info["epoch"], {k: v.clone() for k, v in clf.net_.state_dict().items()}))
    clf.fit(X, y)
    scores = [h["val_score"] for h in clf.history_]
    assert clf.best_epoch_ == 1 + int(np.argmax(scores))
    assert clf.n_epochs_ < 30 and clf.stopped_early_
    for k, v in clf.net_.state_dict().items():
        assert torch.equal(v, snapshots[clf.best_epoch_][k])


def test_keyboard_interrupt_keeps_best_weights_so_far(digits):
    X, y = digits[0], digits[1]
    snapshots = {}

    def progress(info):
        if info["event"] == "epoch":
            snapshots[info["epoch"]] = {k: v.clone() for k, v in clf.net_.state_dict().items()}
        if info["event"] == "batch" and info["epoch"] == 4 and info["step"] == 2:
            raise KeyboardInterrupt  # what Ctrl-C does in the middle of epoch 4

    clf = MLPClassifier(epochs=10, validation_fraction=0.2, progress=progress, **FAST)
    clf.fit(X, y)
    assert clf.interrupted_ and clf.n_epochs_ == 3
    best = 1 + int(np.argmax([h["val_score"] for h in clf.history_]))
    assert clf.best_epoch_ == best
    for k, v in clf.net_.state_dict().items():
        assert torch.equal(v, snapshots[best][k])
    assert clf.predict(X[:3]).shape == (3,)


@pytest.mark.parametrize("make", [
    lambda **kw: CNNClassifier(epochs=4, batch_size=32, validation_fraction=0.2, **TINY_CNN, **kw),
    lambda **kw: ConvDenoiser(width=4, epochs=4, batch_size=32, validation_fraction=0.2, **FAST, **kw),
])
def test_resumed_run_continues_from_its_checkpoint(digits, noisy, tmp_path, make):
    X, y = (digits[0], digits[1]) if "Classifier" in type(make()).__name__ else noisy
    ck = tmp_path / "run.ckpt.safetensors"
    whole = make().fit(X, y)

    def stop_after_2(info):
        if info["event"] == "epoch" and info["epoch"] == 2:
            raise KeyboardInterrupt

    first = make(checkpoint_path=str(ck), progress=stop_after_2).fit(X, y)
    assert first.interrupted_ and neural.read_header(ck)["state"]["epoch"] == 2
    seen = []
    resumed = make(checkpoint_path=str(ck), resume_from=str(ck), progress=lambda i: seen.append(i)).fit(X, y)
    assert resumed.resumed_from_epoch_ == 2
    assert seen[0]["epoch"] == 3 and seen[0]["step"] == 1  # starts at epoch 3, not 1
    assert len(resumed.history_) == 4 and resumed.history_[:2] == first.history_[:2]
    # The loss continues where the checkpoint left it: the resumed run is the uninterrupted one.
    assert [h["loss"] for h in resumed.history_] == [h["loss"] for h in whole.history_]
    for k, v in resumed.net_.state_dict().items():
        assert torch.equal(v, whole.net_.state_dict()[k]), k


def test_resume_with_other_parameters_is_refused(digits, tmp_path):
    X, y = digits[0], digits[1]
    ck = tmp_path / "c.safetensors"
    MLPClassifier(epochs=1, checkpoint_path=str(ck), **FAST).fit(X, y)
    with pytest.raises(ModelError, match="different parameters.*lr"):
        MLPClassifier(epochs=1, lr=0.1, resume_from=str(ck), **FAST).fit(X, y)


def test_ensemble_averages_members_with_distinct_seeds(digits):
    X, y, X_test, _ = digits
    ens = CNNEnsembleClassifier(n_members=2, epochs=2, batch_size=32, **TINY_CNN).fit(X, y)
    assert [m.random_state for m in ens.members_] == [0, 1]
    expected = (ens.members_[0].predict_proba(X_test) + ens.members_[1].predict_proba(X_test)) / 2
    np.testing.assert_allclose(ens.predict_proba(X_test), expected)


def test_bfloat16_training_learns_keeps_float32_weights_and_is_repeatable(digits):
    X, y, X_test, y_test = digits
    make = lambda: CNNClassifier(epochs=6, batch_size=32, lr=1e-2, widths=(8, 16, 16),  # noqa: E731
                                 validation_fraction=0.0, precision="bfloat16", **FAST).fit(X, y)
    a, b = make(), make()
    assert a.precision_ == "bfloat16"
    assert all(p.dtype == torch.float32 for p in a.net_.parameters())
    assert a.history_[-1]["loss"] < 0.8 * a.history_[0]["loss"]
    assert a.score(X_test, y_test) > 0.5
    assert a.history_[-1]["loss"] == b.history_[-1]["loss"]  # same seed, same machine: same run


def test_fresh_noise_draws_new_noisy_inputs_each_batch_from_the_clean_targets(noisy):
    Xn, X = noisy
    seen = []
    den = ConvDenoiser(width=4, n_blocks=1, epochs=2, batch_size=50, validation_fraction=0.0, noise="uniform:100",
                       **FAST)
    original = den._augment
    den._augment = lambda xb, gen, target: seen.append(original(xb, gen, target)) or seen[-1]
    den.fit(Xn, X)
    first, again = seen[0], seen[len(seen) // 2]  # epoch 1 and epoch 2 start; batches are reshuffled
    assert first.shape == (50, 1, 28, 28) and not torch.equal(first, again)
    # The drawn inputs are clean digits plus uniform noise in [0, 100) on the pixel scale.
    pixels = (first * den.input_std_ + den.input_mean_) * 255
    clean_batches = torch.tensor(X, dtype=torch.float32)
    diffs = pixels.flatten(1)[:, None, :] - clean_batches[None, :, :]
    match = ((diffs > -0.5) & (diffs < 99.5)).all(-1)  # each input fits exactly one clean digit's range
    assert match.any(1).all()
    a = ConvDenoiser(width=4, n_blocks=1, epochs=2, batch_size=50, noise="uniform:100", **FAST).fit(Xn, X)
    b = ConvDenoiser(width=4, n_blocks=1, epochs=2, batch_size=50, noise="uniform:100", **FAST).fit(Xn, X)
    assert a.history_ == [{**h, "seconds": a.history_[i]["seconds"]} for i, h in enumerate(b.history_)]


def test_fresh_noise_is_refused_when_it_cannot_apply(noisy):
    Xn, X = noisy
    with pytest.raises(ValueError, match="noise 'pink:3' is not one of"):
        ConvDenoiser(noise="pink:3", **FAST).fit(Xn, X)
    with pytest.raises(ValueError, match="same number of columns"):
        ConvDenoiser(noise="uniform:100", **FAST).fit(Xn[:, :700], X)


def test_precision_presets_and_auto():
    assert neural.resolve_precision("float32") == "float32"
    assert neural.resolve_precision("auto") in ("float32", "bfloat16")
    assert CNNClassifier(preset="fast")._resolved()["precision"] == "auto"
    assert CNNClassifier(preset="standard")._resolved()["precision"] == "auto"
    assert CNNClassifier(preset="fast", precision="bfloat16")._resolved()["precision"] == "bfloat16"


def test_bad_preset_and_parameters_are_refused(digits):
    X, y = digits[0], digits[1]
    with pytest.raises(ValueError, match="preset"):
        CNNClassifier(preset="turbo").fit(X, y)
    with pytest.raises(ValueError, match="precision. parameter of ConvDenoiser must be a str among"):
        ConvDenoiser(precision="float16").fit(X, X)
    with pytest.raises(ValueError, match="epochs"):
        MLPClassifier(epochs=0).fit(X, y)


@pytest.mark.parametrize("net", ["PoolFirstCNN", "FastCNN", "CNN"])
def test_the_net_parameter_picks_the_network_and_files_keep_it(digits, tmp_path, net):
    X, y = digits[0], digits[1]
    clf = CNNClassifier(preset="fast", net=net, epochs=1, batch_size=32, **TINY_CNN).fit(X, y)
    assert clf.net_name_ == net and type(clf.net_).__name__ == net and clf.resolved_params_["net"] == net
    back = load_net(save_net(clf, tmp_path / "model.safetensors"))
    assert type(back.net_).__name__ == net
    np.testing.assert_array_equal(back.predict_proba(digits[2]), clf.predict_proba(digits[2]))


def test_the_fast_preset_trains_the_pool_first_net_and_a_bad_net_is_refused(digits):
    assert CNNClassifier(preset="fast")._resolved()["net"] == "PoolFirstCNN"
    assert CNNClassifier(preset="standard")._resolved()["net"] == "CNN"
    with pytest.raises(ValueError, match="The 'net' parameter of CNNClassifier must be a str among"):
        CNNClassifier(net="ResNet50").fit(digits[0], digits[1])


@pytest.mark.parametrize("preset, share", [("standard", 0.0), ("fast", 0.05)])
def test_each_preset_holds_out_its_own_share_and_a_given_share_wins(digits, preset, share):
    """'standard' trains on every image with its schedule run to the end (no validation, no early stop);
    'fast' validates its epoch on 5 % of the rows; validation_fraction given overrides either."""
    X, y = digits[0], digits[1]
    clf = CNNClassifier(preset=preset, epochs=2, batch_size=32, **TINY_CNN).fit(X, y)
    assert clf.resolved_params_["validation_fraction"] == share
    assert all(("val_score" in h) == (share > 0) for h in clf.history_) and clf.n_epochs_ == 2
    given = CNNClassifier(preset=preset, epochs=2, batch_size=32, validation_fraction=0.2, **TINY_CNN).fit(X, y)
    assert given.resolved_params_["validation_fraction"] == 0.2 and all("val_score" in h for h in given.history_)
    ensemble = CNNEnsembleClassifier(preset=preset, n_members=1, epochs=1, batch_size=32, **TINY_CNN).fit(X, y)
    assert ensemble.resolved_params_["validation_fraction"] == share


# --- files ----------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def fitted(digits, noisy):
    X, y = digits[0], digits[1]
    return {
        "mlp": MLPClassifier(epochs=1, **FAST).fit(X, y.astype(str)),  # string labels survive the round trip
        "lenet5": LeNet5Classifier(epochs=1, **FAST).fit(X, y),
        "cnn": CNNClassifier(epochs=1, batch_size=32, **TINY_CNN).fit(X, y),
        "ensemble": CNNEnsembleClassifier(n_members=2, epochs=1, batch_size=32, **TINY_CNN).fit(X, y),
        "dae-mlp": DAEMLPDenoiser(epochs=1, **FAST).fit(*noisy),
        "dae-conv": ConvDenoiser(width=4, epochs=1, **FAST).fit(*noisy),
    }


@pytest.mark.parametrize("name", ["mlp", "lenet5", "cnn", "ensemble", "dae-mlp", "dae-conv"])
def test_save_load_round_trip_gives_identical_outputs(fitted, digits, tmp_path, name):
    est = fitted[name]
    path = save_net(est, tmp_path / "model.safetensors")
    back = load_net(path)
    assert type(back) is type(est) and back.get_params()["epochs"] == est.get_params()["epochs"]
    X_test = digits[2]
    if hasattr(est, "classes_"):
        np.testing.assert_array_equal(back.classes_, est.classes_)
        np.testing.assert_array_equal(back.predict_proba(X_test), est.predict_proba(X_test))
        np.testing.assert_array_equal(back.predict(X_test), est.predict(X_test))
    else:
        np.testing.assert_array_equal(back.predict(X_test), est.predict(X_test))
    header = neural.read_header(path)
    assert header["class"] == type(est).__name__ and header["digitlab_version"]
    assert describe_net(back) == describe_net(est)


def test_file_holds_weights_as_tensors_and_the_rest_as_json(fitted, tmp_path):
    path = save_net(fitted["dae-mlp"], tmp_path / "dae.safetensors")
    with safe_open(str(path), framework="pt") as fh:
        assert sorted(fh.keys()) == ["net.decoder.bias", "net.decoder.weight", "net.encoder.bias",
                                     "net.encoder.weight"]
        header = json.loads(fh.metadata()["digitlab-net"])
    assert header["params"]["n_latent"] == 10
    assert set(header["state"]["preprocessing"]) >= {"mean", "std", "scale"}
    assert len(header["state"]["history"]) == 1


def test_training_facts_of_a_net_and_of_an_ensemble(fitted):
    facts = neural.training_facts(fitted["cnn"])
    assert facts["epochs_run"] == 1 and facts["best_epoch"] == 1 and facts["interrupted"] is False
    assert facts["precision"] == neural.resolve_precision("auto") and facts["training_seconds"] >= 0
    facts = neural.training_facts(fitted["ensemble"])
    assert facts["members"] == 2 and facts["epochs_run"] == [1, 1] and facts["best_epoch"] == [1, 1]


def test_describe_net_prints_the_seed_001_autoencoder(fitted):
    rows = describe_net(fitted["dae-mlp"])
    assert rows == [("Linear 784 -> 10 [ReLU]", (10,), 7850), ("Linear 10 -> 784 [Sigmoid]", (784,), 8624)]
    assert sum(r[2] for r in rows) == 16_474


def _rewrite(src, dst, *, header_change=None, tensor_change=None):
    with safe_open(str(src), framework="pt") as fh:
        meta = dict(fh.metadata())
        tensors = {k: fh.get_tensor(k) for k in fh.keys()}
    if header_change:
        header = json.loads(meta["digitlab-net"])
        header_change(header)
        meta["digitlab-net"] = json.dumps(header)
    if tensor_change:
        tensor_change(tensors)
    save_file(tensors, str(dst), metadata=meta)


def test_tampered_or_foreign_files_are_refused(fitted, tmp_path):
    good = save_net(fitted["mlp"], tmp_path / "good.safetensors")
    cases = {
        "weights": dict(tensor_change=lambda t: t["net.out.bias"].add_(1.0)),
        "class": dict(header_change=lambda h: h.__setitem__("class", "subprocess.Popen")),
        "params": dict(header_change=lambda h: h["params"].__setitem__("bogus", 1)),
        "format": dict(header_change=lambda h: h.__setitem__("format_version", 99)),
    }
    for case, change in cases.items():
        bad = tmp_path / f"{case}.safetensors"
        _rewrite(good, bad, **change)
        with pytest.raises(ModelError) as err:
            load_net(bad)
        assert str(bad) in str(err.value) and "\n" not in str(err.value), case
    renamed = tmp_path / "renamed.safetensors"
    renamed.write_bytes(b"\x80\x04K\x01." * 20)  # a pickle given a .safetensors name
    with pytest.raises(ModelError, match="not a safetensors"):
        load_net(renamed)
    plain = tmp_path / "plain.safetensors"
    save_file({"w": torch.zeros(2)}, str(plain))
    with pytest.raises(ModelError, match="not a digitlab network"):
        load_net(plain)
    with pytest.raises(ModelError, match="does not exist"):
        load_net(tmp_path / "missing.safetensors")
