import pytest

from digitlab.errors import ModelError
from digitlab.models import registry


def test_every_model_has_a_task_and_summary():
    for name in registry.names():
        spec = registry.get(name)
        assert spec.task in ("classify", "denoise")
        assert spec.summary


def test_names_filter_by_task():
    assert "knn-denoise" in registry.names("denoise")
    assert "knn-denoise" not in registry.names("classify")
    assert "sgd" in registry.names("classify")


def test_parameters_come_from_the_factory_signature():
    params = registry.parameters("knn")
    assert params["n_neighbors"] == 5 and params["weights"] == "uniform"


def test_make_applies_overrides_and_seed():
    model = registry.make("knn", {"n_neighbors": 4, "weights": "distance"})
    assert model.n_neighbors == 4 and model.weights == "distance"
    assert registry.make("random-forest", seed=7).random_state == 7
    assert registry.make("random-forest", {"random_state": 3}, seed=7).random_state == 3


def test_unknown_model_is_refused_with_the_choices():
    with pytest.raises(ModelError, match="Unknown model 'nope'.*knn"):
        registry.get("nope")


def test_unknown_parameter_is_refused_with_what_is_accepted():
    with pytest.raises(ModelError, match="no parameter 'n_neighbours'.*n_neighbors"):
        registry.make("knn", {"n_neighbours": 3})


def test_resolve_lists_every_parameter_the_model_is_built_with():
    resolved = registry.resolve("random-forest", {"n_estimators": 10}, seed=7)
    assert resolved["n_estimators"] == 10 and resolved["random_state"] == 7
    assert set(resolved) == set(registry.parameters("random-forest"))
    assert registry.make("random-forest", {"n_estimators": 10}, seed=7).get_params()["random_state"] == 7


def test_parameters_hide_the_settings_digitlab_fills_in_itself():
    public = registry.parameters("cnn")
    every = registry.parameters("cnn", internal=True)
    hidden = {"progress", "verbose", "checkpoint_path", "resume_from"}
    assert not hidden & set(public) and hidden <= set(every)
    assert set(every) - set(public) == hidden
    assert registry.parameters("knn") == registry.parameters("knn", internal=True)  # a scikit-learn factory


def test_resolve_lists_internal_settings_only_when_given():
    assert "progress" not in registry.resolve("mlp", {"epochs": 2})
    resolved = registry.resolve("mlp", {"verbose": True, "checkpoint_path": "ck.safetensors"})
    assert resolved["verbose"] is True and resolved["checkpoint_path"] == "ck.safetensors"
    assert registry.make("mlp", {"verbose": True}).verbose is True


@pytest.mark.parametrize("name, params, message", [
    ("knn", {"n_neighbors": 0}, "The 'n_neighbors' parameter of KNeighborsClassifier must be an int in the range"),
    ("knn-fast", {"n_neighbors": -2}, "The 'n_neighbors' parameter of FastKNNClassifier must be an int in the range"),
    ("knn-fast", {"n_components": 0}, "The 'n_components' parameter of FastKNNClassifier must be an int in the "
                                      r"range \[1, inf\) or None. Got 0 instead."),
    ("knn-fast-denoise", {"mode": "median"}, "The 'mode' parameter of FastKNNDenoiser must be a str among"),
    ("mlp", {"n_hidden": 0}, r"The 'n_hidden' parameter of MLPClassifier must be an int in the range \[1, 65536\]"),
    ("cnn", {"lr": 1e30}, r"The 'lr' parameter of CNNClassifier must be a float in the range \(0.0, 1.0\] or None. "
                          r"Got 1e\+30 instead."),
    ("cnn", {"widths": (32, 30000, 128)}, "a tuple of 3 ints in the range"),
    ("dae-conv", {"noise": "pink:3"}, "noise 'pink:3' is not one of"),
    ("svc", {"C": -1}, "The 'C' parameter of SVC must be a float in the range"),  # inside a pipeline
    ("ovr-svc", {"C": 0}, "The 'C' parameter of SVC"),  # inside a wrapper inside a pipeline
])
def test_make_refuses_a_bad_value_before_any_data_with_one_sentence(name, params, message):
    with pytest.raises(ModelError, match=message) as err:
        registry.make(name, params)
    assert "\n" not in str(err.value)


def test_every_model_builds_with_its_defaults():
    for name in registry.names():
        registry.make(name, seed=0)
