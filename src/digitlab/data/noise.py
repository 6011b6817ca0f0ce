"""Noise models for denoising tasks, as the notebooks apply them, seeded and parsed from a short spec.

``uniform:HIGH``   adds ``randint(0, HIGH)`` (0..HIGH-1) to each pixel, unclipped, as integers
                   (the classification chapter: HIGH=100; the k-NN denoising notebook: HIGH=500).
``gaussian:SIGMA`` adds normal noise of standard deviation SIGMA on the [0, 1] scale, i.e. SIGMA*255
                   on the pixel scale; float32 on the 0..255 scale, unclipped (the autoencoder notebook: 0.1).
``saltpepper:P``   sets a fraction P of the pixels to 0 or 255 (equally likely); uint8.
``none``           returns a copy of the images.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..errors import UsageError

KINDS = ("none", "uniform", "gaussian", "saltpepper")
_FORMS = "none, uniform:HIGH, gaussian:SIGMA, saltpepper:P"
# Bounds that keep noisy pixels finite in the dtypes the models read (int32, float32) with a wide margin: noise
# 4,000 times the whole pixel range already drowns every digit.
MAX_HIGH = 1_000_000
MAX_SIGMA = 4_000.0


@dataclass(frozen=True)
class Noise:
    """A parsed noise spec; ``apply`` adds it to clean 0..255 images."""

    kind: str  # one of KINDS
    amount: float = 0.0  # HIGH, SIGMA or P

    def __str__(self) -> str:
        if self.kind == "none":
            return "none"
        amount = int(self.amount) if self.kind == "uniform" else self.amount
        return f"{self.kind}:{amount}"

    def apply(self, X: np.ndarray, seed: int | np.random.Generator | None = None) -> np.ndarray:
        """Return a noisy copy of the 0..255 images ``X`` (any shape), reproducible from ``seed``."""
        X = np.asarray(X)
        rng = np.random.default_rng(seed)
        if self.kind == "uniform":
            return _uniform(X, int(self.amount), rng)
        if self.kind == "gaussian":
            return _gaussian(X, self.amount, rng)
        if self.kind == "saltpepper":
            return _salt_pepper(X, self.amount, rng)
        return X.copy()


def parse_noise(spec: str) -> Noise:
    """Parse ``none``, ``uniform:HIGH``, ``gaussian:SIGMA`` or ``saltpepper:P``; a bad spec is a UsageError."""
    kind, _, value = spec.strip().lower().partition(":")
    if kind not in KINDS:
        raise UsageError(f"noise {spec!r} is not one of {_FORMS}.")
    if kind == "none":
        if value:
            raise UsageError(f"noise {spec!r}: 'none' takes no value.")
        return Noise("none")
    if not value:
        raise UsageError(f"noise {spec!r} needs a value, as in {_example(kind)}.")
    if kind == "uniform":
        if not value.isdigit() or not 1 <= int(value) <= MAX_HIGH:
            raise UsageError(f"noise {spec!r}: HIGH must be a whole number from 1 to {MAX_HIGH:,}, as in "
                             f"uniform:100.")
        return Noise("uniform", int(value))
    try:
        amount = float(value)
    except ValueError:
        amount = math.nan
    if kind == "gaussian" and not 0 < amount <= MAX_SIGMA:  # NaN fails too
        raise UsageError(f"noise {spec!r}: SIGMA must be a number above 0 and at most {MAX_SIGMA:g}, as in "
                         f"gaussian:0.1.")
    if kind == "saltpepper" and not 0 < amount < 1:  # NaN fails too
        raise UsageError(f"noise {spec!r}: P must be a number between 0 and 1 (exclusive), as in saltpepper:0.05.")
    return Noise(kind, amount)


def _example(kind: str) -> str:
    return {"uniform": "uniform:100", "gaussian": "gaussian:0.1", "saltpepper": "saltpepper:0.05"}[kind]


def _uniform(X: np.ndarray, high: int, rng: np.random.Generator) -> np.ndarray:
    """X + randint(0, high), in the smallest signed integer type that holds 255 + high - 1."""
    dtype = np.int16 if 255 + high - 1 <= np.iinfo(np.int16).max else np.int32
    return X.astype(dtype) + rng.integers(0, high, size=X.shape, dtype=dtype)


def _gaussian(X: np.ndarray, sigma: float, rng: np.random.Generator) -> np.ndarray:
    """X + N(0, (sigma * 255)^2) as float32 on the pixel scale."""
    noise = rng.standard_normal(size=X.shape, dtype=np.float32)
    noise *= np.float32(sigma * 255.0)
    return X.astype(np.float32) + noise


def _salt_pepper(X: np.ndarray, p: float, rng: np.random.Generator) -> np.ndarray:
    """A uint8 copy of X with a fraction ``p`` of pixels (in expectation) set to 0 or 255."""
    out = X.astype(np.uint8, copy=True)
    hit = rng.random(X.shape, dtype=np.float32) < p
    white = rng.random(X.shape, dtype=np.float32) < 0.5
    out[hit & white] = 255
    out[hit & ~white] = 0
    return out
