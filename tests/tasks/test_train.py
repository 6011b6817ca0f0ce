import numpy as np
import pytest

from digitlab.errors import UsageError
from digitlab.models import persist
from digitlab.runs import Run
from digitlab.tasks.train import CHECKPOINT, TrainConfig, config_of_run, train

SMALL_MLP = {"n_hidden": 32, "epochs": 3, "batch_size": 64, "validation_fraction": 0.0}


def test_train_records_config_metrics_and_a_loadable_model(mini, tmp_path):
    config = TrainConfig("knn", {"n_neighbors": 3}, "mnist-mini", n_train=500, n_test=100)
    result, run = train(config, mini, tmp_path)
    recorded = run.read()
    assert recorded["set"] == {"n_neighbors": 3} and recorded["params"]["n_neighbors"] == 3
    assert recorded["test_accuracy"] == result["test_accuracy"]
    saved = persist.load(result["model_file"])
    assert np.mean(saved.estimator.predict(mini.X_test[:100]) == mini.y_test[:100]) == result["test_accuracy"]


def test_an_interrupted_net_keeps_its_best_model_and_resumes_from_its_checkpoint(mini, tmp_path):
    def interrupt_after_first_epoch(info):
        if info["event"] == "epoch" and info["epoch"] == 1:
            raise KeyboardInterrupt

    config = TrainConfig("mlp", dict(SMALL_MLP), "mnist-mini", n_train=600, n_test=100, seed=3)
    first, run = train(config, mini, tmp_path, watch=interrupt_after_first_epoch)
    assert first["interrupted"] is True
    assert (run.path / CHECKPOINT).is_file() and persist.load(first["model_file"]).meta["model"] == "mlp"

    epochs_seen = []
    resumed, same_run = train(config_of_run(Run(run.path), TrainConfig), mini, tmp_path, run=Run(run.path),
                              watch=lambda info: info["event"] == "epoch" and epochs_seen.append(info["epoch"]))
    assert same_run.path == run.path and resumed["interrupted"] is False
    assert epochs_seen == [2, 3]  # continues after the checkpointed epoch instead of starting again

    uninterrupted, _ = train(config, mini, tmp_path)
    assert resumed["test_accuracy"] == pytest.approx(uninterrupted["test_accuracy"], abs=0.02)


def test_resuming_a_model_without_epochs_is_refused(mini, tmp_path):
    config = TrainConfig("knn", {}, "mnist-mini", n_train=100, n_test=10)
    _, run = train(config, mini, tmp_path)
    with pytest.raises(UsageError, match="no epochs to resume"):
        train(config, mini, tmp_path, run=run)
