"""Search equals GridSearchCV / RandomizedSearchCV on the same folds; bad specs are refused."""

import pytest
from sklearn.model_selection import GridSearchCV, RandomizedSearchCV

from digitlab.errors import UsageError
from digitlab.models import registry
from digitlab.tasks.search import search
from digitlab.tasks.search_space import candidates, parse_distributions, parse_grid

N = 1200


def test_grid_matches_gridsearchcv(mini):
    X, y = mini.X_train[:N], mini.y_train[:N]
    grid = parse_grid("n_neighbors=3,4,5 weights=uniform,distance", "knn")
    assert grid == {"n_neighbors": [3, 4, 5], "weights": ["uniform", "distance"]}
    result = search("knn", (X, y, mini.X_test, mini.y_test), grid=grid, cv=3, seed=42)
    folds = 3  # scikit-learn's own cv=3, as the seed
    ref = GridSearchCV(registry.make("knn"), grid, cv=folds).fit(X, y)
    assert result.metrics["best_params"] == ref.best_params_
    assert result.metrics["best_cv_accuracy"] == pytest.approx(ref.best_score_)
    by_params = {tuple(sorted(r["params"].items())): r["mean_cv_accuracy"] for r in result.metrics["results"]}
    for params, score in zip(ref.cv_results_["params"], ref.cv_results_["mean_test_score"]):
        assert by_params[tuple(sorted(params.items()))] == pytest.approx(score)
    assert result.metrics["test_accuracy"] == pytest.approx(ref.score(mini.X_test, mini.y_test))
    assert result.model.get_params()["n_neighbors"] == ref.best_params_["n_neighbors"]


def test_random_matches_randomizedsearchcv(mini):
    X, y = mini.X_train[:N], mini.y_train[:N]
    dists = parse_distributions("C=loguniform:1e-3,1e1", "linear-svc")
    result = search("linear-svc", (X, y, mini.X_test, mini.y_test), grid=dists, n_iter=3, cv=3, seed=7, n_jobs=2)
    folds = 3  # scikit-learn's own cv=3, as the seed
    # The registry's linear-svc is a pipeline (pixel scaling, then the SVM): its C is model__C there.
    ref = RandomizedSearchCV(registry.make("linear-svc", seed=7), {"model__C": dists["C"]}, n_iter=3, cv=folds,
                             random_state=7).fit(X, y)
    assert result.metrics["best_params"]["C"] == pytest.approx(ref.best_params_["model__C"])
    assert result.metrics["best_cv_accuracy"] == pytest.approx(ref.best_score_)
    assert result.metrics["test_accuracy"] == pytest.approx(ref.score(mini.X_test, mini.y_test))


def test_distribution_kinds():
    d = parse_distributions("n_neighbors=randint:1,3 weights=uniform,distance", "knn")
    assert d["weights"] == ["uniform", "distance"]
    assert set(d["n_neighbors"].rvs(200, random_state=0)) == {1, 2, 3}
    d = parse_distributions("C=uniform:0.5,2", "linear-svc")
    assert d["C"].support() == (0.5, 2.0)
    assert len(candidates(distributions=d, n_iter=5, seed=0)) == 5


@pytest.mark.parametrize("text, words", [
    ("k=3,4", "does not have"),
    ("n_neighbors=", "empty value"),
    ("n_neighbors=3,,5", "empty value"),
    ("n_neighbors", "NAME=VALUES"),
    ("", "empty"),
    ("n_neighbors=loguniform:1,5", "number of draws"),
])
def test_bad_grid(text, words):
    with pytest.raises(UsageError, match=words):
        parse_grid(text, "knn")


@pytest.mark.parametrize("text, words", [
    ("C=loguniform:1e-3", "two numbers"),
    ("C=loguniform:0,1", "above 0"),
    ("C=loguniform:5,1", "below HIGH"),
    ("C=gamma:1,2", "unknown distribution"),
    ("C=uniform:a,b", "two numbers"),
    ("max_iter=randint:1.5,3", "whole numbers"),
    ("D=uniform:1,2", "does not have"),
])
def test_bad_distributions(text, words):
    with pytest.raises(UsageError, match=words):
        parse_distributions(text, "linear-svc")


def test_cv_below_two(mini):
    with pytest.raises(UsageError, match="at least 2"):
        search("knn", (mini.X_train[:100], mini.y_train[:100], mini.X_test, mini.y_test), grid={"n_neighbors": [3]},
               cv=1)
