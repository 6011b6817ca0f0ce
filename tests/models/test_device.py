"""The ``device`` parameter, tested on a machine without a GPU: resolution, the sentence when CUDA is missing,
device-free model files, and ``device="cpu"`` training exactly as before GPUs were supported."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from sklearn.utils._param_validation import InvalidParameterError

from digitlab.data.noise import parse_noise
from digitlab.errors import ModelError
from digitlab.models import registry
from digitlab.models.neural import (CNNClassifier, CNNEnsembleClassifier, ConvDenoiser, MLPClassifier, load_net,
                                    read_header, save_net, training_facts)
from digitlab.models.neural.augment import add_noise
from digitlab.models.neural.compute import resolve_device, resolve_precision

FIXTURES = Path(__file__).parent.parent / "fixtures" / "models"


@pytest.fixture
def no_gpu(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(torch.version, "cuda", None)


def test_auto_is_the_cpu_without_a_gpu_and_cuda_with_one(monkeypatch, no_gpu):
    assert resolve_device("auto") == torch.device("cpu") == resolve_device("cpu")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "current_device", lambda: 0)
    assert resolve_device("auto") == torch.device("cuda", 0) == resolve_device("cuda")
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda: True)
    assert resolve_precision("auto", torch.device("cuda", 0)) == "bfloat16"
    assert resolve_precision("float32", torch.device("cuda", 0)) == "float32"


def test_cuda_on_a_machine_without_one_is_one_sentence_before_any_work(no_gpu):
    sentence = (f"device='cuda' was asked for but PyTorch sees no CUDA GPU on this machine (torch {torch.__version__}, "
                f"CPU build); use device='cpu' or 'auto'.")
    with pytest.raises(ModelError) as err:
        registry.make("cnn", {"device": "cuda"})
    assert str(err.value) == sentence
    with pytest.raises(InvalidParameterError) as err:
        MLPClassifier(device="cuda").fit(np.zeros((4, 784)), [0, 1, 0, 1])
    assert str(err.value) == sentence
    with pytest.raises(ModelError, match="The 'device' parameter of CNNClassifier must be a str among"):
        registry.make("cnn", {"device": "tpu"})


def test_device_cpu_retrains_the_fixture_cnn_to_exactly_its_recorded_predictions(mini):
    # The recipe of tests/fixtures/models/make_fixtures.py, with explicit epochs (no preset scaling).
    expected = dict(np.load(FIXTURES / "expected.npz"))
    model = registry.make("cnn", {"preset": "fast", "net": "FastCNN", "epochs": 2, "n_threads": 1, "device": "cpu",
                                  "precision": "float32"}, seed=0)
    model.fit(mini.X_train[:600], mini.y_train[:600])
    np.testing.assert_array_equal(model.predict(expected["probe"]), expected["cnn.predict"])
    # The fixture was recorded on another CPU: oneDNN picks its float32 kernels by instruction set (AVX2, AVX-512,
    # AMX), which sums in another order, so after two epochs the probabilities agree to some 1e-5, not bit for bit:
    # at most 2e-6 apart on an Intel Xeon with AMX, 5.3e-5 on an AMD EPYC with AVX2 only, while seed 1 instead of 0
    # moves them by up to 0.93. Bit-identical retraining on one machine:
    # test_same_seed_same_weights_other_seed_other_weights.
    np.testing.assert_allclose(model.predict_proba(expected["probe"]), expected["cnn.proba"], rtol=0, atol=2e-4)


def test_a_model_file_holds_no_device_but_records_the_one_trained_on(mini, tmp_path):
    X, y = mini.X_train[:200], mini.y_train[:200]
    clf = CNNClassifier(preset="fast", epochs=1, device="cpu", n_threads=1).fit(X, y)
    assert clf.device_ == "cpu" and clf.resolved_params_["device"] == "cpu" and training_facts(clf)["device"] == "cpu"
    header = read_header(save_net(clf, tmp_path / "cnn.safetensors"))
    assert "device" not in header["params"] and header["state"]["device"] == "cpu"
    back = load_net(tmp_path / "cnn.safetensors")
    assert back.device == "auto" and back.device_ == "cpu"
    assert all(p.device.type == "cpu" for p in back.net_.parameters())
    np.testing.assert_array_equal(back.predict_proba(X[:20]), clf.predict_proba(X[:20]))
    assert load_net(FIXTURES / "cnn.safetensors").device_ == "cpu"  # files from before GPUs: trained on the CPU


def test_auto_without_a_gpu_trains_as_cpu(mini, no_gpu):
    X, y = mini.X_train[:200], mini.y_train[:200]
    a = MLPClassifier(epochs=2, n_hidden=16, device="auto", n_threads=1).fit(X, y)
    b = MLPClassifier(epochs=2, n_hidden=16, device="cpu", n_threads=1).fit(X, y)
    for k, v in a.net_.state_dict().items():
        assert torch.equal(v, b.net_.state_dict()[k])


def test_the_ensemble_passes_its_device_to_its_members():
    ens = CNNEnsembleClassifier(n_members=2, device="cpu")
    assert ens._member(1, 0).device == "cpu" and ens._member(1, 0).random_state == 1


@pytest.mark.parametrize("spec", ["uniform:100", "gaussian:0.1", "saltpepper:0.3", "none"])
def test_noise_drawn_on_the_device_is_the_noise_the_data_module_defines(spec):
    clean = torch.tensor(np.random.default_rng(0).integers(0, 256, (200, 784)), dtype=torch.float32)
    noisy = add_noise(clean, parse_noise(spec), torch.Generator().manual_seed(0))
    reference = parse_noise(spec).apply(clean.numpy().astype(np.uint8), 0).astype(np.float32)
    added, expected = (noisy - clean).numpy(), reference - clean.numpy()
    assert noisy.device == clean.device and noisy.dtype == torch.float32
    if spec.startswith("uniform"):
        assert set(np.unique(added)) == set(np.unique(expected)) == set(range(100))
    elif spec.startswith("gaussian"):
        assert abs(added.std() - expected.std()) < 0.3 and abs(added.mean()) < 0.3
    elif spec.startswith("saltpepper"):
        changed = noisy.numpy() != clean.numpy()
        assert set(np.unique(noisy.numpy()[changed])) <= {0.0, 255.0}
        assert abs(((noisy == 0) | (noisy == 255)).float().mean().item() - 0.3) < 0.02
    else:
        assert torch.equal(noisy, clean)


def test_a_checkpoint_resumes_only_on_the_device_it_was_made_on(mini, tmp_path, resign):
    X, y = mini.X_train[:60], mini.y_train[:60]
    ck = tmp_path / "ck.safetensors"
    MLPClassifier(epochs=1, n_hidden=8, n_threads=1, checkpoint_path=str(ck)).fit(X, y)
    gpu = resign(ck, tmp_path / "gpu.safetensors", lambda h: h["state"].update(device="cuda"))
    with pytest.raises(ModelError, match=r"was made on the CUDA; resume it there \(device='cuda'\)"):
        MLPClassifier(epochs=1, n_hidden=8, n_threads=1, device="cpu", resume_from=str(gpu)).fit(X, y)


def test_fresh_noise_on_the_cpu_still_uses_the_data_modules_draw(mini):
    X = mini.X_train[:64]
    den = ConvDenoiser(width=4, n_blocks=1, epochs=1, batch_size=32, noise="uniform:100", device="cpu", n_threads=1)
    seen = []
    original = den._augment

    def spy(xb, gen, target):
        before = gen.get_state().clone()
        seen.append((before, target.clone(), original(xb, gen, target)))
        return seen[-1][2]
    den._augment = spy
    den.fit(X, X)
    before, target, first = seen[0]
    seed = int(torch.randint(2**31 - 1, (1,), generator=torch.Generator().set_state(before)))
    clean = torch.round(target.flatten(1) * 255).to(torch.uint8).numpy()
    assert torch.equal(first, den._to_tensor(parse_noise("uniform:100").apply(clean, seed)))
