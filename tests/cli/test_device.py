"""--device on `digitlab train` and `digitlab denoise`: the nets' ``device`` parameter; the tests run on the CPU."""

import pytest

TINY = ["--dataset", "mnist-mini", "--n-train", "200", "--n-test", "50", "--json"]


def test_device_is_documented_in_help(cli):
    for command in ("train", "denoise"):
        result = cli(command, "--help")
        assert "--device" in result.out and "cuda" in result.out


def test_device_cpu_reaches_the_net(cli):
    figures = cli("train", "cnn", "--preset", "fast", "--epochs", "1", "--set", "widths=4,4,4", "--device", "cpu",
                  *TINY).json()
    assert figures["params"]["device"] == "cpu"
    figures = cli("denoise", "dae-mlp", "--epochs", "1", "--device", "cpu", *TINY).json()
    assert figures["model"] == "dae-mlp"


def test_cuda_without_a_gpu_is_one_sentence(cli, assert_clean_error):
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has a CUDA GPU")
    result = cli("train", "cnn", "--device", "cuda", *TINY)
    assert_clean_error(result, "device='cuda' was asked for but PyTorch sees no CUDA GPU on this machine")
    assert len(result.err.strip().splitlines()) == 1


@pytest.mark.parametrize("command, model", [("train", "knn"), ("denoise", "knn-denoise")])
def test_device_is_refused_for_models_without_one(cli, assert_clean_error, command, model):
    assert_clean_error(cli(command, model, "--device", "cpu", *TINY), "--device is for the neural models (",
                       f"{model} computes on the CPU only.")
