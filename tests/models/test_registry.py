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
