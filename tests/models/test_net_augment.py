"""The CNN's training-time augmentations for digits by other hands, pens and cameras (elastic, stroke, blur),
on mnist-mini: shapes kept, seeded, really changing the images, off by default, and a net trains with them."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from digitlab.errors import ModelError
from digitlab.models import registry
from digitlab.models.neural import (CNN_PRESETS, OUTSIDE_AUGMENT, CNNClassifier, random_blur, random_elastic,
                                    random_stroke)

AUGMENTS = {"elastic": (random_elastic, 3.0), "stroke": (random_stroke, 2.0), "blur": (random_blur, 1.5)}


@pytest.fixture(scope="module")
def batch(mini):
    """64 mnist-mini digits standardised and shaped as the CNN's training batches are."""
    x = torch.tensor(mini.X_train[:64], dtype=torch.float32).reshape(-1, 1, 28, 28) / 255.0
    return ((x - 0.13) / 0.31).contiguous(memory_format=torch.channels_last)


def _ink(x: torch.Tensor) -> torch.Tensor:
    """Pixels per image brighter than halfway between the background and the image's peak."""
    low, high = x.amin(dim=(1, 2, 3), keepdim=True), x.amax(dim=(1, 2, 3), keepdim=True)
    return (x > (low + high) / 2).sum(dim=(1, 2, 3))


@pytest.mark.parametrize("name", sorted(AUGMENTS))
def test_an_augmentation_keeps_shape_dtype_layout_and_is_seeded(batch, name):
    fn, amount = AUGMENTS[name]
    a = fn(batch, torch.Generator().manual_seed(3), amount)
    b = fn(batch, torch.Generator().manual_seed(3), amount)
    c = fn(batch, torch.Generator().manual_seed(4), amount)
    assert a.shape == batch.shape and a.dtype == batch.dtype
    assert a.is_contiguous(memory_format=torch.channels_last)
    assert torch.equal(a, b) and not torch.equal(a, c)
    changed = (a - batch).abs().amax(dim=(1, 2, 3)) > 0.1
    assert changed.float().mean() > 0.6  # most images change (a small draw leaves an image nearly as it was)
    assert torch.isfinite(a).all()


@pytest.mark.parametrize("name", sorted(AUGMENTS))
def test_an_augmentation_keeps_the_background_and_stroke_and_blur_the_peak(batch, name):
    fn, amount = AUGMENTS[name]
    out = fn(batch, torch.Generator().manual_seed(0), amount)
    torch.testing.assert_close(out.amin(dim=(1, 2, 3)), batch.amin(dim=(1, 2, 3)), atol=1e-4, rtol=0)
    if name != "elastic":  # a warp samples between pixels, as random_affine does: its peak may dip a little
        torch.testing.assert_close(out.amax(dim=(1, 2, 3)), batch.amax(dim=(1, 2, 3)), atol=1e-4, rtol=0)


def test_stroke_makes_some_digits_bolder_and_some_thinner(batch):
    before, after = _ink(batch), _ink(random_stroke(batch, torch.Generator().manual_seed(0), 2.0))
    assert (after > before * 1.3).sum() > 10 and (after < before * 0.9).sum() > 5
    assert after.float().mean() > before.float().mean()  # the range leans to wider: [-1, 2] pixels


def test_blur_smooths_and_elastic_moves_ink_without_losing_it(batch):
    def roughness(x):
        return (x[..., 1:, :] - x[..., :-1, :]).abs().sum() + (x[..., :, 1:] - x[..., :, :-1]).abs().sum()

    assert roughness(random_blur(batch, torch.Generator().manual_seed(0), 1.5)) < 0.9 * roughness(batch)
    warped = random_elastic(batch, torch.Generator().manual_seed(0), 3.0)
    background = batch.amin()
    mass_before, mass_after = (batch - background).sum(dim=(1, 2, 3)), (warped - background).sum(dim=(1, 2, 3))
    assert ((mass_after / mass_before - 1).abs() < 0.3).all()  # squeezed or stretched here and there, not lost


def test_off_in_both_presets_and_off_draws_nothing(batch):
    for preset in CNN_PRESETS.values():
        assert preset["elastic"] == preset["stroke"] == preset["blur"] == 0.0
    for clf in (CNNClassifier(preset="fast"),
                CNNClassifier(preset="standard", rotation=0.0, zoom=0.0, shift=0.0)):
        generator = torch.Generator().manual_seed(0)
        state = generator.get_state()
        assert torch.equal(clf._augment(batch, generator, None), batch)
        assert torch.equal(generator.get_state(), state)  # nothing drawn: training goes on as before


def test_outside_augment_turns_every_augmentation_on(batch):
    clf = CNNClassifier(preset="fast", **OUTSIDE_AUGMENT)
    resolved = clf._resolved()
    assert all(resolved[name] == value > 0 for name, value in OUTSIDE_AUGMENT.items())
    generator = torch.Generator().manual_seed(0)
    assert not torch.equal(clf._augment(batch, generator, None), batch)


def test_a_cnn_trains_with_every_augmentation_the_same_way_twice(mini):
    X, y = mini.X_train[:600], mini.y_train[:600]
    kw = dict(preset="fast", epochs=3, n_threads=1, device="cpu", elastic=2.0, stroke=1.0, blur=1.0)
    a = CNNClassifier(**kw).fit(X, y)
    b = CNNClassifier(**kw).fit(X, y)
    plain = CNNClassifier(**{**kw, "elastic": 0.0, "stroke": 0.0, "blur": 0.0}).fit(X, y)
    probe = mini.X_test[:200]
    np.testing.assert_array_equal(a.predict_proba(probe), b.predict_proba(probe))
    assert not np.array_equal(a.predict_proba(probe), plain.predict_proba(probe))
    assert np.mean(a.predict(probe) == mini.y_test[:200]) > 0.4  # 3 epochs on 600 heavily augmented images; chance 0.1
    assert a.resolved_params_["stroke"] == 1.0 and plain.resolved_params_["stroke"] == 0.0


@pytest.mark.parametrize("name, bad", [("elastic", 8), ("stroke", 3.5), ("blur", -0.1)])
def test_an_out_of_range_augmentation_is_one_sentence(name, bad):
    with pytest.raises(ModelError, match=f"The '{name}' parameter of CNNClassifier must be"):
        registry.make("cnn", {name: bad})
