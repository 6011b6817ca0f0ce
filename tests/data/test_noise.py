"""Noise specs: parsing, dtypes, unclipped ranges and seeded determinism."""

import numpy as np
import pytest

from digitlab.data.noise import Noise, parse_noise
from digitlab.errors import UsageError


@pytest.fixture
def X():
    return np.random.default_rng(0).integers(0, 256, (200, 784), dtype=np.uint8)


def test_uniform_is_randint_added_unclipped(X):
    noisy = parse_noise("uniform:100").apply(X, seed=1)
    assert noisy.shape == X.shape and noisy.dtype == np.int16
    added = noisy.astype(np.int32) - X
    assert added.min() == 0 and added.max() == 99  # randint(0, 100) excludes 100
    assert noisy.max() > 255  # not clipped
    assert abs(added.mean() - 49.5) < 0.5


def test_uniform_500_matches_seed_000_range(X):
    noisy = parse_noise("uniform:500").apply(X, seed=0)
    assert noisy.dtype == np.int16 and noisy.max() <= 255 + 499 and noisy.max() > 600


def test_uniform_huge_high_widens_the_dtype(X):
    assert parse_noise("uniform:40000").apply(X[:2], seed=0).dtype == np.int32


def test_gaussian_is_on_the_unit_scale_times_255(X):
    noisy = parse_noise("gaussian:0.1").apply(X, seed=3)
    assert noisy.dtype == np.float32 and noisy.shape == X.shape
    added = noisy - X
    assert abs(added.std() - 25.5) < 0.3 and abs(added.mean()) < 0.3
    assert noisy.min() < 0 or noisy.max() > 255  # not clipped


def test_salt_and_pepper(X):
    zeros = np.zeros((100, 784), np.uint8) + 128
    noisy = parse_noise("saltpepper:0.1").apply(zeros, seed=5)
    assert noisy.dtype == np.uint8
    hit = noisy != 128
    assert abs(hit.mean() - 0.1) < 0.01
    assert set(np.unique(noisy[hit])) == {0, 255}
    assert abs((noisy[hit] == 255).mean() - 0.5) < 0.05


@pytest.mark.parametrize("spec", ["uniform:100", "gaussian:0.1", "saltpepper:0.05"])
def test_same_seed_same_noise_other_seed_other_noise(X, spec):
    noise = parse_noise(spec)
    np.testing.assert_array_equal(noise.apply(X, seed=7), noise.apply(X, seed=7))
    assert not np.array_equal(noise.apply(X, seed=7), noise.apply(X, seed=8))
    assert noise.apply(X, seed=7).shape == X.shape


def test_input_is_left_untouched(X):
    before = X.copy()
    for spec in ("uniform:10", "gaussian:0.5", "saltpepper:0.5", "none"):
        parse_noise(spec).apply(X, seed=0)
    np.testing.assert_array_equal(X, before)


def test_none_returns_a_copy(X):
    out = parse_noise("none").apply(X, seed=0)
    np.testing.assert_array_equal(out, X)
    assert out is not X and out.dtype == X.dtype


def test_square_images_keep_their_shape():
    assert parse_noise("uniform:5").apply(np.zeros((3, 28, 28), np.uint8), seed=0).shape == (3, 28, 28)


@pytest.mark.parametrize("spec, parsed", [
    ("uniform:100", Noise("uniform", 100)), (" Gaussian:0.1 ", Noise("gaussian", 0.1)),
    ("saltpepper:0.05", Noise("saltpepper", 0.05)), ("none", Noise("none")),
])
def test_parse(spec, parsed):
    assert parse_noise(spec) == parsed
    assert parse_noise(str(parsed)) == parsed


@pytest.mark.parametrize("spec, message", [
    ("foo:3", r"noise 'foo:3' is not one of none, uniform:HIGH, gaussian:SIGMA, saltpepper:P\."),
    ("", r"is not one of"),
    ("uniform", r"noise 'uniform' needs a value, as in uniform:100"),
    ("uniform:0", r"HIGH must be a whole number from 1"),
    ("uniform:-5", r"HIGH must be a whole number from 1"),
    ("uniform:2.5", r"HIGH must be a whole number from 1"),
    ("gaussian:0", r"SIGMA must be a number above 0"),
    ("gaussian:abc", r"SIGMA must be a number above 0"),
    ("gaussian:inf", r"SIGMA must be a number above 0"),
    ("saltpepper:1", r"P must be a number between 0 and 1 \(exclusive\)"),
    ("saltpepper:0", r"P must be a number between 0 and 1"),
    ("saltpepper:nan", r"P must be a number between 0 and 1"),
    ("none:3", r"'none' takes no value"),
])
def test_bad_specs(spec, message):
    with pytest.raises(UsageError, match=message):
        parse_noise(spec)




@pytest.mark.parametrize("spec, words", [("uniform:1000000000000", "from 1 to 1,000,000"),
                                         ("gaussian:1e300", "at most 4000"), ("gaussian:nan", "above 0")])
def test_extreme_noise_is_refused_before_it_overflows(spec, words):
    with pytest.raises(UsageError, match=words):
        parse_noise(spec)
    assert parse_noise("uniform:1000000").apply(np.full((1, 4), 255, np.uint8), 0).max() < 1_000_255
