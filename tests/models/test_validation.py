"""Parameters are checked before any work: declared constraints (scikit-learn's own check proves they cover
every parameter), data-dependent checks at the start of fit, and the CNN presets' epochs scaled to the data."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.utils._param_validation import InvalidParameterError
from sklearn.utils.estimator_checks import check_param_validation

from digitlab.models.knn import FastKNNClassifier, FastKNNDenoiser
from digitlab.models.neural import (CNNClassifier, CNNEnsembleClassifier, ConvDenoiser, DAEMLPDenoiser,
                                    LeNet5Classifier, MLPClassifier, load_net, save_net)
from digitlab.models.neural.classifiers import MAX_EPOCH_SCALE, preset_epochs

FAST = dict(n_threads=1)


@pytest.mark.parametrize("estimator", [
    MLPClassifier(epochs=1, **FAST), LeNet5Classifier(epochs=1, **FAST), CNNClassifier(epochs=1, **FAST),
    CNNEnsembleClassifier(n_members=1, epochs=1, **FAST), DAEMLPDenoiser(epochs=1, **FAST),
    ConvDenoiser(epochs=1, **FAST), FastKNNClassifier(deskew=False), FastKNNDenoiser(),
], ids=lambda e: type(e).__name__)
def test_every_parameter_has_a_constraint_checked_first_thing_in_fit(estimator):
    # scikit-learn's own check: a constraint for each parameter, and fit raising InvalidParameterError with
    # "The '<name>' parameter of <Class> must be ... Got ... instead." for a bad type and for each bad value.
    check_param_validation(type(estimator).__name__, estimator)


@pytest.fixture(scope="module")
def rows(mini):
    return mini.X_train[:600], mini.y_train[:600]


def test_n_neighbors_beyond_the_training_rows_is_refused_before_the_search_is_built(rows):
    X, y = rows
    with pytest.raises(InvalidParameterError, match=r"The 'n_neighbors' parameter of FastKNNClassifier must be an "
                       r"int in the range \[1, 600\] \(the training set holds 600 samples\). Got 700 instead."):
        FastKNNClassifier(n_neighbors=700).fit(X, y)
    with pytest.raises(InvalidParameterError, match=r"\[1, 1\] \(the training set holds 1 sample\)"):
        FastKNNClassifier().fit(X[:1], y[:1])
    with pytest.raises(InvalidParameterError, match=r"\[1, 10\] \(the training set holds 10 samples, shifts"):
        FastKNNDenoiser(n_neighbors=11, augment="shift").fit(X[:2], X[:2])
    assert FastKNNClassifier(n_neighbors=600, n_components=None, deskew=False).fit(X, y).predict(X[:2]).shape == (2,)


@pytest.mark.parametrize("make", [lambda: CNNClassifier(preset="fast", **FAST), lambda: MLPClassifier(**FAST)])
def test_a_net_refuses_one_row_or_one_class_as_a_parameter_error(rows, make):
    X, y = rows
    with pytest.raises(InvalidParameterError, match="needs at least 2 training images, got 1 sample"):
        make().fit(X[:1], y[:1])
    with pytest.raises(InvalidParameterError, match="needs at least 2 classes; y has only one class"):
        make().fit(X[:5], np.zeros(5))


def test_fresh_noise_needing_matching_columns_is_a_parameter_error(rows):
    X = rows[0][:20]
    with pytest.raises(InvalidParameterError, match="same number of columns; got 700 and 784"):
        ConvDenoiser(noise="uniform:100", **FAST).fit(X[:, :700], X)


def test_preset_epochs_give_small_sets_as_many_steps_as_mnist_within_bounds():
    assert preset_epochs(18, 60_000) == 18 and preset_epochs(1, 60_000) == 1  # full MNIST: as recorded
    assert preset_epochs(18, 300_000) == 18  # more rows (shift augmentation): never fewer epochs
    assert preset_epochs(1, 6_000) == 10 and preset_epochs(1, 12_000) == 5
    assert preset_epochs(1, 600) == MAX_EPOCH_SCALE and preset_epochs(18, 10) == 18 * MAX_EPOCH_SCALE


def test_resolved_params_show_what_a_fit_really_used_and_survive_the_file(rows, tmp_path):
    X, y = rows[0][:200], rows[1][:200]
    clf = CNNClassifier(preset="fast", batch_size=64, **FAST).fit(X, y)
    used = clf.resolved_params_
    assert used["epochs"] == MAX_EPOCH_SCALE == clf.n_epochs_ and used["widths"] == (16, 32, 64)
    assert used["batch_size"] == 64 and used["preset"] == "fast" and clf.epochs is None
    assert not {"progress", "verbose", "checkpoint_path", "resume_from"} & set(used)
    back = load_net(save_net(clf, tmp_path / "cnn.safetensors"))
    assert back.resolved_params_ == {**used, "widths": [16, 32, 64]}
    explicit = CNNClassifier(preset="fast", epochs=2, **FAST).fit(X, y)
    assert explicit.resolved_params_["epochs"] == 2 == explicit.n_epochs_  # an explicit number is kept
    ens = CNNEnsembleClassifier(n_members=2, preset="fast", epochs=1, random_state=5, **FAST).fit(X, y)
    assert ens.resolved_params_["n_members"] == 2 and ens.resolved_params_["random_state"] == 5
    assert ens.resolved_params_["dropout"] == 0.1
