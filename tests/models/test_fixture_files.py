"""Model files written by earlier digitlab code still load and predict exactly as they did when written."""

from pathlib import Path

import numpy as np
import pytest

from digitlab.models import persist

FIXTURES = Path(__file__).parent.parent / "fixtures" / "models"
KINDS = {"cnn.safetensors": "classify", "dae-mlp.safetensors": "denoise", "random-forest.skops": "classify",
         "knn-fast.skops": "classify"}


@pytest.fixture(scope="module")
def expected():
    with np.load(FIXTURES / "expected.npz") as data:
        return dict(data)


@pytest.mark.parametrize("file_name", sorted(KINDS))
def test_an_old_model_file_predicts_what_it_predicted_when_saved(file_name, expected):
    saved = persist.load(FIXTURES / file_name)
    name = file_name.split(".")[0]
    assert saved.meta["model"] == name and saved.meta["task"] == KINDS[file_name]
    if KINDS[file_name] == "classify":
        np.testing.assert_array_equal(saved.estimator.predict(expected["probe"]), expected[f"{name}.predict"])
        np.testing.assert_allclose(saved.estimator.predict_proba(expected["probe"]), expected[f"{name}.proba"],
                                   rtol=0, atol=1e-6)
    else:
        np.testing.assert_array_equal(saved.estimator.predict(expected["noisy_probe"]), expected[f"{name}.predict"])
