"""The nets' parameters, declared once (digitlab.models.neural.params): signatures, defaults, docstrings."""

from __future__ import annotations

import inspect
import subprocess
import sys

import pytest
from sklearn.base import clone
from sklearn.neighbors import KNeighborsClassifier

from digitlab.models import persist
from digitlab.models.neural import ESTIMATORS, CNNClassifier, MLPClassifier, NeuralEstimator
from digitlab.models.neural import params

AUGMENTS = dict(elastic=None, stroke=None, blur=None)  # new in round two: the preset's value (0, none)
NET = dict(net=None)  # new in round two (issue 14): the preset's net
HOLDOUT = dict(validation_fraction=None)  # the preset's since round two: 0 for 'standard', 0.05 for 'fast'

# Every class's defaults as its hand-written __init__ gave them before the parameters were declared once.
BEFORE = {
    "MLPClassifier": dict(n_hidden=400, epochs=15, batch_size=64, lr=1e-3, weight_decay=1e-4, schedule="onecycle",
                          validation_fraction=0.1, patience=5),
    "LeNet5Classifier": dict(epochs=20, batch_size=32, lr=1e-3, weight_decay=0.0, schedule="constant",
                             validation_fraction=0.1, patience=5),
    "CNNClassifier": dict(preset="standard", widths=None, dropout=None, epochs=None, batch_size=None, lr=None,
                          weight_decay=5e-4, schedule="onecycle", rotation=None, zoom=None, shift=None,
                          precision=None, patience=5, **AUGMENTS, **NET, **HOLDOUT),
    "CNNEnsembleClassifier": dict(n_members=3, preset="standard", widths=None, dropout=None, epochs=None,
                                  batch_size=None, lr=None, weight_decay=5e-4, schedule="onecycle", rotation=None,
                                  zoom=None, shift=None, precision=None, patience=5,
                                  **AUGMENTS, **NET, **HOLDOUT),
    "DAEMLPDenoiser": dict(n_latent=10, epochs=5, batch_size=64, lr=1e-3, weight_decay=0.0, schedule="constant",
                           validation_fraction=0.1, patience=3),
    # epochs 20 -> 12 and lr 3e-3 -> 6e-3 in round two (issue 14, seventh session); saved files keep their own
    "ConvDenoiser": dict(width=16, n_blocks=2, epochs=12, batch_size=128, lr=6e-3, weight_decay=1e-4,
                         schedule="onecycle", precision="auto", noise=None, validation_fraction=0.02, patience=3),
}
RUN = dict(random_state=0, n_threads=None, progress=None, verbose=False, checkpoint_path=None, resume_from=None,
           device="auto")  # device: new with GPU support


@pytest.mark.parametrize("name", sorted(ESTIMATORS))
def test_the_generated_init_has_the_old_defaults_in_a_real_signature(name):
    cls = ESTIMATORS[name]
    signature = inspect.signature(cls)
    kinds = {p.kind for p in signature.parameters.values()}
    assert kinds == {inspect.Parameter.KEYWORD_ONLY}  # no **kwargs, nothing positional
    expected = {**BEFORE[name], **RUN}
    assert {k: p.default for k, p in signature.parameters.items()} == expected
    assert cls().get_params() == expected
    for key in expected:  # the docstring documents every parameter with its default
        assert f"\n    {key} : " in cls.__doc__, key


def test_init_only_stores_and_clone_keeps_every_parameter():
    clf = CNNClassifier(preset="fast", widths=(4, 8, 8), epochs=3, n_threads=1)
    assert clf.widths == (4, 8, 8) and clf.epochs == 3 and clf.lr is None
    copy = clone(clf)
    assert copy is not clf and copy.get_params() == clf.get_params()


def test_an_unknown_or_positional_parameter_is_a_type_error_naming_the_class():
    with pytest.raises(TypeError, match=r"MLPClassifier\(\) got an unexpected keyword argument 'n_hiden'"):
        MLPClassifier(n_hiden=3)
    with pytest.raises(TypeError):
        MLPClassifier(400)


def test_a_class_may_only_change_the_default_of_a_shared_parameter():
    with pytest.raises(TypeError, match="no shared parameter 'epoch'"):
        params.table({}, {"epoch": 3})


def test_is_net_uses_the_class_not_its_module():
    class MyNet(MLPClassifier):
        pass

    assert MyNet.__module__ != "digitlab.models.neural"
    assert persist.is_net(MyNet()) and persist.is_net(CNNClassifier())
    assert isinstance(CNNClassifier(), NeuralEstimator)
    assert not persist.is_net(KNeighborsClassifier())


def test_importing_models_registry_and_persist_loads_no_torch():
    code = ("import sys, digitlab.models, digitlab.models.registry as r, digitlab.models.persist as p\n"
            "from sklearn.neighbors import KNeighborsClassifier\n"
            "assert not p.is_net(KNeighborsClassifier())\n"
            "r.parameters('knn')\n"
            "print('torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
