import numpy as np
import pytest

from digitlab.errors import UsageError
from digitlab.models import persist
from digitlab.tasks.denoise import DenoiseConfig, denoise, noisy_pair

TINY_DAE = {"width": 4, "n_blocks": 1, "epochs": 1, "n_threads": 1, "validation_fraction": 0.0}


def test_noisy_pair_is_seeded_and_draws_train_and_test_noise_independently(mini):
    X_train, X_test = mini.X_train[:50], mini.X_test[:50]
    a_train, a_test = noisy_pair("uniform:100", X_train, X_test, seed=1)
    b_train, b_test = noisy_pair("uniform:100", X_train, X_test, seed=1)
    assert np.array_equal(a_train, b_train) and np.array_equal(a_test, b_test)
    noise_train, noise_test = a_train - X_train, a_test - X_test
    assert noise_train.min() >= 0 and noise_train.max() <= 99
    assert not np.array_equal(noise_train, noise_test)


def test_conv_denoiser_learns_the_tasks_noise_model_unless_told_otherwise(mini, tmp_path):
    config = DenoiseConfig("dae-conv", dict(TINY_DAE), noise="uniform:500", dataset="mnist-mini", n_train=300,
                           n_test=50)
    result, run = denoise(config, mini, tmp_path)
    assert result["params"]["noise"] == "uniform:500" and run.read()["params"]["noise"] == "uniform:500"
    assert persist.load(result["model_file"]).estimator.noise == "uniform:500"
    assert result["rmse"] < result["noisy_rmse"]

    config = DenoiseConfig("dae-conv", {**TINY_DAE, "noise": None}, noise="uniform:500", dataset="mnist-mini",
                           n_train=300, n_test=50)
    result, _ = denoise(config, mini, tmp_path)
    assert result["params"]["noise"] is None


def test_a_classifier_is_not_a_denoiser(mini, tmp_path):
    with pytest.raises(UsageError, match="is a classifier, not a denoiser"):
        denoise(DenoiseConfig("knn", {}, dataset="mnist-mini", n_train=100, n_test=10), mini, tmp_path)
