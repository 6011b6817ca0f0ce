import numpy as np
import pytest
from sklearn.utils.estimator_checks import parametrize_with_checks

from digitlab.models import registry
from digitlab.models.classical import ScalePixels


@parametrize_with_checks([ScalePixels()])
def test_scale_pixels_follows_the_estimator_contract(estimator, check):
    check(estimator)


def test_scale_pixels_maps_0_255_to_0_1():
    X = np.array([[0, 255, 51]], dtype=np.uint8)
    np.testing.assert_allclose(ScalePixels().fit(X).transform(X), [[0.0, 1.0, 0.2]], rtol=1e-6)


@pytest.mark.parametrize("name", [n for n in registry.names() if registry.get(n).factory.startswith(
    "digitlab.models.classical")])
def test_each_seed_model_fits_and_predicts_on_pixels(name):
    rng = np.random.default_rng(0)
    X = rng.integers(0, 256, (60, 784), dtype=np.uint8)
    if registry.get(name).task == "denoise":
        y = X
    else:
        y = np.repeat(np.arange(3), 20).astype(np.uint8)
        X[y == 1, :100] = 255  # make the classes separable
    model = registry.make(name, seed=0).fit(X, y)
    pred = model.predict(X[:5])
    assert pred.shape == ((5, 784) if registry.get(name).task == "denoise" else (5,))
