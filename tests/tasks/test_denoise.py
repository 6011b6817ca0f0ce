import numpy as np
import pytest

from digitlab.errors import UsageError
from digitlab.models import persist
from digitlab.runs import Run
from digitlab.tasks.denoise import denoise, noisy_pair

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
    result = denoise("dae-conv", mini, noise="uniform:500", params=dict(TINY_DAE), n_train=300, n_test=50,
                     runs=tmp_path)
    assert result.metrics["params"]["noise"] == "uniform:500" and Run(result.run).read()["params"]["noise"] == \
        "uniform:500"
    assert persist.load(result.metrics["model_file"]).estimator.noise == "uniform:500"
    assert result.metrics["rmse"] < result.metrics["noisy_rmse"]
    assert result.metrics["noisy_psnr"] < result.metrics["psnr"] and not result.warnings
    result = denoise("dae-conv", mini, noise="uniform:500", params={**TINY_DAE, "noise": None}, n_train=300, n_test=50)
    assert result.metrics["params"]["noise"] is None


def test_cleaning_that_makes_images_worse_is_warned_about(mini):
    from sklearn.dummy import DummyRegressor

    result = denoise(DummyRegressor(strategy="constant", constant=np.full(784, 255.0)), mini, n_train=100, n_test=20)
    assert result.metrics["rmse"] > result.metrics["noisy_rmse"]
    assert any("made the images worse" in w for w in result.warnings)


def test_a_classifier_is_not_a_denoiser(mini, tmp_path):
    with pytest.raises(UsageError, match="is a classifier, not a denoiser"):
        denoise("knn", mini, n_train=100, n_test=10, runs=tmp_path)
