"""The CNN shipped inside digitlab: small, honest about its figures (the header's test accuracy is what full
MNIST's test split gives), and the default of ``predict`` and ``serve``."""

from __future__ import annotations

import numpy as np
import pytest

import digitlab
from digitlab.models import persist

BAR = 0.990


def test_the_shipped_model_is_small_and_records_how_it_was_made():
    path = digitlab.pretrained()
    assert path.is_file() and path.stat().st_size < 1_000_000
    meta = persist.load(path).meta
    assert meta["task"] == "classify" and meta["model"] == "cnn" and meta["dataset"] == "mnist"
    assert meta["n_train"] == 60_000 and meta["n_test"] == 10_000
    assert meta["test_accuracy"] >= BAR


def test_the_shipped_model_reads_the_mini_test_digits(mini):
    model = digitlab.load_model(digitlab.pretrained())
    assert np.mean(model.predict(mini.X_test) == mini.y_test) >= 0.98
    result = digitlab.predict(None, mini.X_test[:20])
    assert result.metrics["model_file"] == str(digitlab.pretrained()) and len(result.labels) == 20


@pytest.mark.full
def test_the_header_figure_is_the_accuracy_on_full_mnist():
    saved = persist.load(digitlab.pretrained())
    mnist = digitlab.load_dataset("mnist")
    accuracy = float(np.mean(saved.estimator.predict(mnist.X_test) == mnist.y_test))
    assert accuracy >= BAR
    # the same figure, give or take one digit in 10,000: another CPU's float rounding may flip a borderline digit
    assert accuracy == pytest.approx(saved.meta["test_accuracy"], abs=1e-4)
