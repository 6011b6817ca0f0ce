import json

import numpy as np
import pytest

from digitlab.errors import ParameterError, UsageError
from digitlab.models import persist
from digitlab.runs import Run
from digitlab.tasks.resume import CHECKPOINT
from digitlab.tasks.train import train

SMALL_MLP = {"n_hidden": 32, "epochs": 3, "batch_size": 64, "validation_fraction": 0.0}


def test_without_runs_nothing_is_written_and_the_model_is_returned(mini, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = train("knn", mini, params={"n_neighbors": 3}, n_train=500, n_test=100)
    assert list(tmp_path.iterdir()) == [] and result.run is None
    assert np.mean(result.model.predict(mini.X_test[:100]) == mini.y_test[:100]) == result.metrics["test_accuracy"]
    assert len(result.metrics["per_class"]) == 10 and np.asarray(result.metrics["confusion_matrix"]).sum() == 100


def test_train_records_config_metrics_plots_and_a_loadable_model(mini, tmp_path):
    result = train("knn", mini, params={"n_neighbors": 3}, n_train=500, n_test=100, runs=tmp_path)
    recorded = Run(result.run).read()
    assert recorded["set"] == {"n_neighbors": 3} and recorded["params"]["n_neighbors"] == 3
    assert recorded["test_accuracy"] == result.metrics["test_accuracy"] and recorded["status"] == "complete"
    assert {"confusion_matrix.png", "misclassified.png"} <= set(result.metrics["plots"])
    saved = persist.load(result.metrics["model_file"])
    assert np.mean(saved.estimator.predict(mini.X_test[:100]) == mini.y_test[:100]) == result.metrics["test_accuracy"]


def test_arrays_and_a_users_own_estimator_are_accepted(mini):
    from sklearn.linear_model import LogisticRegression

    data = (mini.X_train[:300] / 255.0, mini.y_train[:300], mini.X_test[:50] / 255.0, mini.y_test[:50])
    result = train(LogisticRegression(max_iter=50), data)
    assert result.metrics["model"] == "LogisticRegression" and result.metrics["dataset"] == "arrays"
    assert 0.5 < result.metrics["test_accuracy"] <= 1


def test_an_interrupted_net_keeps_its_best_model_and_resumes_from_its_checkpoint(mini, tmp_path):
    def interrupt_after_first_epoch(advance=1, description=None, total=None, completed=None):
        if description and "epoch 2/3" in description:
            raise KeyboardInterrupt

    first = train("mlp", mini, params=dict(SMALL_MLP), n_train=600, n_test=100, seed=3, runs=tmp_path,
                  progress=interrupt_after_first_epoch)
    assert first.metrics["interrupted"] is True and first.metrics["status"] == "interrupted"
    assert (first.run / CHECKPOINT).is_file() and persist.load(first.metrics["model_file"]).meta["model"] == "mlp"
    assert json.loads((first.run / "metrics.json").read_text())["status"] == "interrupted"

    epochs = []
    resumed = train(resume=first.run, runs=tmp_path,
                    progress=lambda advance=1, description=None, **kw: description and "val" in description
                    and epochs.append(description))
    assert resumed.run == first.run and resumed.metrics["interrupted"] is False
    assert [d.split(" epoch ")[1].split()[0] for d in epochs] == []  # no validation split: no val reports
    assert resumed.metrics["status"] == "complete" and not (first.run / CHECKPOINT).exists()
    uninterrupted = train("mlp", mini, params=dict(SMALL_MLP), n_train=600, n_test=100, seed=3)
    assert resumed.metrics["test_accuracy"] == pytest.approx(uninterrupted.metrics["test_accuracy"], abs=0.02)


def test_interrupted_before_the_first_epoch_ends_keeps_no_model(mini, tmp_path):
    def interrupt_at_once(advance=1, description=None, **kw):
        if description and " epoch 1/" in description:
            raise KeyboardInterrupt

    result = train("mlp", mini, params=dict(SMALL_MLP), n_train=600, n_test=100, runs=tmp_path,
                   progress=interrupt_at_once)
    assert result.metrics["status"] == "interrupted" and result.metrics["test_accuracy"] is None
    assert "model_file" not in result.metrics and not list(result.run.glob("model.*"))
    assert not (result.run / CHECKPOINT).exists()  # nothing was validated: nothing to resume


def test_resuming_refuses_options_that_contradict_the_run(mini, tmp_path):
    def stop(advance=1, description=None, **kw):
        if description and "epoch 2/3" in description:
            raise KeyboardInterrupt

    first = train("mlp", mini, params=dict(SMALL_MLP), n_train=600, n_test=100, runs=tmp_path, progress=stop)
    with pytest.raises(UsageError, match="n_train 500"):
        train(resume=first.run.name, runs=tmp_path, n_train=500)
    with pytest.raises(UsageError, match="dataset 'fashion-mnist'"):
        train("mlp", "fashion-mnist", resume=first.run.name, runs=tmp_path)


def test_resuming_a_model_without_epochs_is_refused(mini, tmp_path):
    result = train("knn", mini, n_train=100, n_test=10, runs=tmp_path)
    with pytest.raises(UsageError, match="no checkpoint.safetensors to resume"):
        train(resume=result.run, runs=tmp_path)


def test_no_save_leaves_neither_model_nor_checkpoint(mini, tmp_path):
    result = train("mlp", mini, params=dict(SMALL_MLP, epochs=1), n_train=300, n_test=50, runs=tmp_path,
                   save_model=False)
    assert sorted(p.name for p in result.run.iterdir() if not p.name.endswith(".png")) == ["config.json",
                                                                                            "metrics.json"]
    assert len(result.metrics["history"]) == 1 and "history.png" in result.metrics["plots"]


def test_a_failed_run_is_marked_failed(mini, tmp_path):
    with pytest.raises(Exception):
        train("knn", mini, params={"n_neighbors": 5000}, n_train=100, n_test=10, runs=tmp_path)
    (run,) = tmp_path.iterdir()
    assert json.loads((run / "metrics.json").read_text())["status"] == "failed"


def test_bad_parameters_name_the_parameter(mini):
    with pytest.raises(ParameterError, match="n_train must be a whole number of at least 1"):
        train("knn", mini, n_train=0)
    with pytest.raises(ParameterError, match="augment 'rotate' is not known"):
        train("knn", mini, augment="rotate")
