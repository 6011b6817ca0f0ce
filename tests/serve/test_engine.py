"""What the server computes, without HTTP: models from files or fitted estimators (checked for their role), a
denoiser's cleaned image, and the low-confidence flag."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from digitlab.errors import ModelError
from digitlab.serve.engine import BLANK, LOW_CONFIDENCE, Engine, RequestProblem

from .conftest import png_bytes

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "models"


@pytest.fixture(scope="module")
def shipped():
    return Engine()


def test_a_denoiser_adds_the_cleaned_image(mini):
    engine = Engine(FIXTURES / "cnn.safetensors", FIXTURES / "dae-mlp.safetensors")
    answer = engine.predict_pixels(mini.X_test[0])
    assert len(answer["cleaned"]) == 784 and all(0 <= v <= 255 for v in answer["cleaned"])
    facts = engine.describe()
    assert facts["model"]["source"] == "cnn.safetensors" and facts["denoiser"]["task"] == "denoise"


def test_models_are_checked_for_their_role():
    with pytest.raises(ModelError, match="denoiser"):
        Engine(FIXTURES / "dae-mlp.safetensors")
    with pytest.raises(ModelError, match="classif"):
        Engine(None, FIXTURES / "cnn.safetensors")


def test_a_fitted_estimator_without_probabilities_is_served(mini):
    from sklearn.linear_model import RidgeClassifier

    estimator = RidgeClassifier().fit(mini.X_train[:1000], mini.y_train[:1000])
    answer = Engine(estimator).predict_pixels(mini.X_test[0], preprocess=False)
    assert answer["label"] == estimator.predict(mini.X_test[:1])[0]
    assert answer["probabilities"] is None and answer["top"] == [] and answer["low_confidence"] is False
    assert Engine(estimator).describe()["model"]["source"] is None


def test_two_digits_side_by_side_are_flagged(shipped, mini):
    pair = np.hstack([mini.X_test[0].reshape(28, 28), mini.X_test[1].reshape(28, 28)])
    answer = shipped.predict_image(png_bytes(pair))
    assert answer["low_confidence"] is True
    assert any("side by side" in w for w in answer["warnings"]) and answer["warnings"][0].startswith("The image ")


class Unsure:
    """A fitted classifier that hesitates between 3 and 8."""

    classes_ = np.arange(10)

    def predict_proba(self, X):
        return np.tile([0, 0, 0, 0.55, 0, 0, 0, 0, 0.45, 0], (len(X), 1))

    def predict(self, X):
        return np.full(len(X), 3)


def test_a_low_top_probability_is_flagged(mini):
    answer = Engine(Unsure()).predict_pixels(mini.X_test[0])
    assert answer["label"] == 3 and answer["top"][:2] == [{"label": 3, "probability": 0.55},
                                                          {"label": 8, "probability": 0.45}]
    assert 0.55 < LOW_CONFIDENCE and answer["low_confidence"] is True and answer["warnings"] == []


def test_a_blank_image_asks_for_a_drawing(shipped):
    for attempt in (lambda: shipped.predict_pixels(np.zeros(784)),
                    lambda: shipped.predict_image(png_bytes(np.full((50, 50), 255, np.uint8)))):
        with pytest.raises(RequestProblem) as caught:
            attempt()
        assert caught.value.status == 400 and caught.value.sentence == BLANK
