"""Fits on a Dask cluster (``scheduler=``, ``--scheduler``): the same answers as here, a worker killed in the middle
of a search, an unreachable scheduler, workers of other versions, an ensemble's members one per worker, and
nothing of Dask loaded without the option. Clusters are LocalClusters of 2 worker processes of 1 thread each."""

from __future__ import annotations

import json
import logging
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("distributed")

from digitlab.errors import ClusterError, ParameterError  # noqa: E402
from digitlab.tasks import cluster  # noqa: E402
from digitlab.tasks.binary import binary  # noqa: E402
from digitlab.tasks.multiclass import multiclass  # noqa: E402
from digitlab.tasks.multilabel import multilabel  # noqa: E402
from digitlab.tasks.search import search  # noqa: E402
from digitlab.tasks.train import train  # noqa: E402

SRC = Path(__file__).resolve().parents[2] / "src"
N = 900
GRID = "n_neighbors=1,3,5,7 weights=uniform,distance"
TIMINGS = ("fit_seconds", "predict_seconds", "cv_fit_seconds", "search_seconds", "mean_fit_seconds")
pytestmark = pytest.mark.timeout(90)


def untimed(value):
    """A result's figures without the seconds things took (the only figures a cluster may change)."""
    if isinstance(value, dict):
        return {k: untimed(v) for k, v in value.items() if k not in TIMINGS}
    if isinstance(value, list):
        return [untimed(v) for v in value]
    if isinstance(value, np.ndarray):
        return value.tolist()
    return value


@pytest.fixture(scope="module")
def worker_env():
    """Worker processes must import this checkout's digitlab: they get its src/ on PYTHONPATH."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(SRC), os.environ.get("PYTHONPATH")])))
        yield


def local_cluster():
    from distributed import LocalCluster

    return LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0",
                        silence_logs=logging.ERROR)


@pytest.fixture(scope="module")
def client(worker_env):
    """A LocalCluster of 2 worker processes shared by the tests that do not harm it, and its Client."""
    from distributed import Client

    with local_cluster() as lc, Client(lc, set_as_default=False) as c:
        c.wait_for_workers(2, timeout=30)
        yield c


@pytest.fixture(scope="module")
def data(mini):
    return mini.X_train[:N], mini.y_train[:N], mini.X_test[:300], mini.y_test[:300]


@pytest.fixture(scope="module")
def reference(data):
    """The search run here, without Dask."""
    return search("knn", data, grid=GRID, cv=3, seed=3)


def spy_scatter(client, monkeypatch) -> list:
    """Record what the client sends to its workers with ``scatter``: (shapes of the arrays, broadcast)."""
    calls, real = [], client.scatter

    def scatter(payload, *args, **kwargs):
        items = payload if isinstance(payload, (list, tuple)) else [payload]
        calls.append(([getattr(x, "shape", None) for x in items], kwargs.get("broadcast")))
        return real(payload, *args, **kwargs)

    monkeypatch.setattr(client, "scatter", scatter)
    return calls


def test_a_search_on_the_cluster_gives_the_local_answers_with_the_data_sent_once(client, data, reference,
                                                                                  monkeypatch):
    from distributed import get_task_stream

    here = reference
    sent = spy_scatter(client, monkeypatch)
    with get_task_stream(client) as stream:
        there = search("knn", data, grid=GRID, cv=3, seed=3, scheduler=client)
    assert untimed(there.metrics) == untimed(here.metrics)
    assert np.array_equal(there.test_predictions, here.test_predictions)
    assert there.model.get_params() == here.model.get_params()
    fits = [t for t in stream.data if "fit_and_score" in t["key"]]
    assert {t["worker"] for t in fits} == set(client.scheduler_info()["workers"])  # both workers took fits
    assert sent == [([(N, 784), (N,)], True)]  # X and y once, to every worker; nothing else (no fold indices)


@pytest.mark.parametrize("task, kwargs", [
    (multiclass, dict(model="knn", cv=3)),
    (binary, dict(digit=3, model="knn", compare=None, cv=3)),
    (multilabel, dict(model="knn", cv=3)),
])
def test_cross_validation_on_the_cluster_gives_the_local_answers(client, data, task, kwargs):
    here = task(data, **kwargs)
    there = task(data, **kwargs, scheduler=client)
    assert untimed(there.metrics) == untimed(here.metrics)


def test_a_worker_killed_in_the_middle_of_a_search_changes_nothing(worker_env, data, reference):
    from distributed import Client

    with local_cluster() as lc, Client(lc, set_as_default=False) as c:
        c.wait_for_workers(2, timeout=30)
        victim, pid = sorted(c.run(os.getpid).items())[0]
        killed = []

        def progress(advance=1, description=None, **_):
            if advance and description and "fit" in description and not killed:  # the first fit is back
                os.kill(pid, signal.SIGKILL)
                killed.append(description)

        there = search("knn", data, grid=GRID, cv=3, seed=3, scheduler=c, progress=progress)
        c.wait_for_workers(2, timeout=30)  # the nanny started a replacement
        assert pid not in c.run(os.getpid).values()
    assert killed == ["knn: fit 1/24"]  # killed with 23 fits to go
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
    assert untimed(there.metrics) == untimed(reference.metrics)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_an_unreachable_scheduler_is_one_sentence_within_ten_seconds(data):
    address = f"tcp://127.0.0.1:{free_port()}"
    start = time.monotonic()
    with pytest.raises(ClusterError) as caught:
        search("knn", data, grid=GRID, cv=3, scheduler=address)
    assert time.monotonic() - start < 10
    assert str(caught.value) == (f"Cannot reach the Dask scheduler at {address} within 10 s; start it with "
                                 f"`dask scheduler` or use scheduler='local:N'.")


def test_the_command_line_words_the_unreachable_scheduler_with_its_flag(cli, assert_clean_error, monkeypatch):
    monkeypatch.setattr(cluster, "CONNECT_SECONDS", 2)
    address = f"tcp://127.0.0.1:{free_port()}"
    result = cli("search", "knn", "--grid", "n_neighbors=3,5", "--cv", "2", "--dataset", "mnist-mini", "--n-train",
                 "200", "--scheduler", address)
    assert_clean_error(result, f"Cannot reach the Dask scheduler at {address} within 2 s; start it with "
                               f"`dask scheduler` or use --scheduler local:N.")
    assert result.code == 1


def test_a_scheduler_without_workers_is_one_sentence(monkeypatch):
    from distributed import LocalCluster

    monkeypatch.setattr(cluster, "CONNECT_SECONDS", 2)
    with LocalCluster(n_workers=0, dashboard_address=":0", silence_logs=logging.ERROR) as bare:
        with pytest.raises(ClusterError, match=rf"^The Dask scheduler at {bare.scheduler_address} has no workers "
                                               rf"after 2 s; start `dask worker {bare.scheduler_address}` on each"):
            with cluster.session(bare.scheduler_address):
                pass


def test_workers_of_other_versions_are_named_with_the_versions(client, monkeypatch):
    cluster.check_workers(client)  # the same code and libraries: accepted
    mine = cluster.versions()
    first, second = sorted(client.scheduler_info()["workers"])
    cuda_build = {**mine, "torch": mine["torch"].split("+")[0] + "+cu124"}  # another build of the same release
    reports = {first: cuda_build, second: {**mine, "digitlab": "0.0.9", "torch": "1.13.1"}}
    monkeypatch.setattr(cluster, "worker_versions", lambda c: reports)
    with pytest.raises(ClusterError) as caught:
        cluster.check_workers(client)
    assert str(caught.value) == (f"Dask worker {second} runs digitlab 0.0.9 and torch 1.13.1 where this machine "
                                 f"runs digitlab {mine['digitlab']} and torch {mine['torch']}; install the same "
                                 f"versions on every worker.")
    # A worker without digitlab cannot unpickle the probe: Dask hands back the exception it raised there.
    reports[first] = Exception("ModuleNotFoundError(\"No module named 'digitlab'\")")
    with pytest.raises(ClusterError, match=rf"^Dask worker {first} cannot run digitlab's code \(.*No module named "
                                           rf"'digitlab'.*\); install digitlab {mine['digitlab']} there with numpy "
                                           rf".*scikit-learn .* and torch .*\(and 1 more worker"):
        cluster.check_workers(client)


def test_an_ensembles_members_train_one_per_worker_and_its_file_is_a_local_ones(cli, mini, worker_env):
    from digitlab.models import persist

    args = ["--preset", "fast", "--epochs", "1", "--set", "n_members=2", "--set", "widths=4,4,4", "--set",
            "n_threads=1", "--dataset", "mnist-mini", "--n-train", "400", "--n-test", "100"]
    figures = cli("train", "cnn-ensemble", *args, "--scheduler", "local:2", "--json").json()
    assert len(figures["member_workers"]) == 2 and len(set(figures["member_workers"])) == 2
    loaded = persist.load(figures["model_file"]).estimator
    assert type(loaded).__name__ == "CNNEnsembleClassifier" and len(loaded.members_) == 2
    here = train("cnn-ensemble", "mnist-mini", n_train=400, n_test=100, params=dict(
        preset="fast", epochs=1, n_members=2, widths=(4, 4, 4), n_threads=1))
    assert figures["test_accuracy"] == here.metrics["test_accuracy"]
    assert np.allclose(loaded.predict_proba(mini.X_test[:100]), here.model.predict_proba(mini.X_test[:100]),
                       atol=1e-6)
    assert json.loads((Path(figures["run"]) / "config.json").read_text())["scheduler"] == "local:2"


def test_digitlab_scheduler_in_the_environment_is_honoured(cli, client, monkeypatch):
    from distributed import get_task_stream

    monkeypatch.setenv("DIGITLAB_SCHEDULER", client.scheduler.address)
    with get_task_stream(client) as stream:
        figures = cli("multiclass", "--model", "knn", "--dataset", "mnist-mini", "--n-train", "600", "--json").json()
    assert len([t for t in stream.data if "_fold" in t["key"]]) >= 1
    assert json.loads((Path(figures["run"]) / "config.json").read_text())["scheduler"] == client.scheduler.address
    # Set for the chapter's commands, it does not stop a model that trains in one process.
    assert cli("train", "never", "--dataset", "mnist-mini", "--n-train", "100", "--n-test", "50").code == 0


def test_a_local_search_does_not_load_dask():
    code = ("import sys, digitlab; from digitlab.tasks import cluster; "
            "digitlab.search('knn', 'mnist-mini', grid='n_neighbors=3,5', cv=2, n_train=200); "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('distributed', 'dask')))")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(SRC), os.environ.get("PYTHONPATH")]))}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


@pytest.mark.parametrize("spec, words", [
    ("local:0", "at least 1"), ("local:two", "local:N"), ("local", "local:N"), ("", "address"), (" ", "address"),
])
def test_bad_scheduler_specs_are_refused(spec, words):
    with pytest.raises(ParameterError, match=words):
        cluster.parse(spec)


def test_the_scheduler_is_refused_where_it_cannot_serve(mini):
    with pytest.raises(ParameterError, match="cnn-ensemble.*knn trains in one process"):
        train("knn", "mnist-mini", n_train=50, scheduler="local:2")
    with pytest.raises(ParameterError, match="local:N"):
        search("knn", "mnist-mini", grid="n_neighbors=3", scheduler="local:x")
