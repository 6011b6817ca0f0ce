"""Fits on a Dask cluster: the cross-validation fits of search, binary, multiclass and multilabel, and the members
of a CNN ensemble, each on a worker of Dask's distributed scheduler.

``scheduler`` is an address (``tcp://HOST:8786``, ``tls://...``: a cluster started with ``dask scheduler`` and
``dask worker``), ``local:N`` (a LocalCluster of N worker processes of one thread each, started for the task and
closed after), or a ``distributed.Client`` the caller keeps. The cross-validation fits go through joblib's Dask
backend, as scikit-learn documents it, with the training arrays sent to every worker once; the ensemble's
members are submitted one per worker. Without a scheduler nothing here imports ``distributed``.

    >>> import digitlab
    >>> digitlab.search("knn", "mnist-mini", grid="n_neighbors=3,4,5", scheduler="local:2")  # doctest: +SKIP
"""

from __future__ import annotations

import contextlib
import time
from typing import Any, Callable, Iterator

from ..errors import ClusterError, ParameterError

LOCAL = "local:"
# The scheduler is given up on after this many seconds (connecting, and waiting for a first worker).
CONNECT_SECONDS = 10
# What every worker must share with the client, beside digitlab itself: results must not depend on the machine.
LIBRARIES = ("numpy", "scikit-learn", "torch")


def parse(scheduler: str) -> tuple[str, Any]:
    """``("local", N)`` for ``local:N``, else ``("address", scheduler)``; a malformed spec is refused."""
    if not isinstance(scheduler, str) or not scheduler.strip():
        raise ParameterError("scheduler", f"must be a Dask scheduler's address (tcp://HOST:8786) or local:N, "
                                          f"got {scheduler!r}.")
    spec = scheduler.strip()
    if spec.startswith(LOCAL) or spec == "local":
        count = spec[len(LOCAL):]
        if not count.isdigit() or int(count) < 1:
            raise ParameterError("scheduler", f"{spec!r}: local:N needs a number of workers of at least 1, "
                                              f"like local:2.")
        return "local", int(count)
    return "address", spec


def spec(scheduler) -> str | None:
    """The scheduler as a run's configuration records it: the spec given, or a Client's scheduler address."""
    if scheduler is None or isinstance(scheduler, str):
        return scheduler
    return getattr(getattr(scheduler, "scheduler", None), "address", None) or repr(scheduler)


def versions() -> dict[str, str | None]:
    """What this process runs: digitlab's version as imported, Python's X.Y, and the installed versions of the
    libraries whose results a fit depends on (None for one that is missing). Run on every worker by
    ``check_workers``."""
    import platform
    from importlib import metadata

    from .._version import __version__

    found: dict[str, str | None] = {"digitlab": __version__, "python": ".".join(platform.python_version_tuple()[:2])}
    for name in LIBRARIES:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = None
    return found


def worker_versions(client) -> dict[str, Any]:
    """Each worker's ``versions()``, or the exception it raised (a worker without digitlab cannot even unpickle
    the function), by worker address."""
    return client.run(versions, on_error="return")


def _release(version: str | None) -> str | None:
    """A version without its local label: a CUDA worker's torch 2.13.0+cu124 computes as a laptop's 2.13.0+cpu."""
    return version.split("+")[0] if version else version


def _listed(report: dict[str, str | None], names) -> str:
    words = [f"{name} {report.get(name) or '(missing)'}" for name in names]
    return ", ".join(words[:-1]) + " and " + words[-1] if len(words) > 1 else words[0]


def check_workers(client) -> None:
    """Refuse workers that cannot run digitlab's fits as this machine does: one sentence naming the worker and
    the versions (digitlab, Python, numpy, scikit-learn, torch) where they differ from this machine's."""
    mine = versions()
    problems = []
    for address, theirs in sorted(worker_versions(client).items()):
        if isinstance(theirs, BaseException):
            problems.append(f"Dask worker {address} cannot run digitlab's code ({theirs}); "
                            f"install digitlab {mine['digitlab']} there with {_listed(mine, LIBRARIES)}, as on this "
                            f"machine")
            continue
        differ = [name for name in mine if _release(theirs.get(name)) != _release(mine[name])]
        if differ:
            problems.append(f"Dask worker {address} runs {_listed(theirs, differ)} where this machine runs "
                            f"{_listed(mine, differ)}; install the same versions on every worker")
    if problems:
        more = f" (and {len(problems) - 1} more worker(s) like it)" if len(problems) > 1 else ""
        raise ClusterError(f"{problems[0]}{more}")


def _connect(address: str):
    """A Client of the scheduler at ``address`` with at least one worker, or one sentence within
    CONNECT_SECONDS."""
    deadline = time.monotonic() + CONNECT_SECONDS
    from distributed import Client

    try:
        client = Client(address, timeout=max(1.0, deadline - time.monotonic() - 1.0), set_as_default=False)
    except (OSError, TimeoutError, ValueError):
        raise ClusterError(f"Cannot reach the Dask scheduler at {address} within {CONNECT_SECONDS} s; start it "
                           f"with `dask scheduler`", instead="local:N") from None
    try:
        client.wait_for_workers(1, timeout=max(1.0, deadline - time.monotonic()))
    except (OSError, TimeoutError):
        client.close()
        raise ClusterError(f"The Dask scheduler at {address} has no workers after {CONNECT_SECONDS} s; start "
                           f"`dask worker {address}` on each machine that is to run fits") from None
    return client


@contextlib.contextmanager
def _client(scheduler) -> Iterator[Any]:
    """The Client for ``scheduler``, closed after (with its LocalCluster) unless the caller gave it."""
    if not isinstance(scheduler, str):
        yield scheduler
        return
    kind, value = parse(scheduler)
    if kind == "address":
        client = _connect(value)
        with contextlib.closing(client):
            yield client
        return
    import logging

    from distributed import Client, LocalCluster

    # Quiet: a worker restarted after a crash, or slow to stop, is Dask's business, not a warning for the user.
    with LocalCluster(n_workers=value, threads_per_worker=1, processes=True, dashboard_address=":0",
                      silence_logs=logging.ERROR) as cluster, Client(cluster, set_as_default=False) as client:
        yield client


class Workers:
    """Where a task's fits run: this process (no scheduler) or a Dask cluster (``client``)."""

    def __init__(self, client=None):
        self.client = client

    @contextlib.contextmanager
    def fits(self, *data) -> Iterator[None]:
        """``run_fits`` runs its fits on the cluster while inside, with ``data`` (the arrays the fits are given,
        the very objects) sent to every worker once; without a cluster, nothing changes."""
        if self.client is None:
            yield
            return
        from joblib import parallel_config

        with _worker_faults(), parallel_config(backend="dask", client=self.client, scatter=list(data)):
            yield


@contextlib.contextmanager
def session(scheduler=None) -> Iterator[Workers]:
    """``Workers`` on the cluster ``scheduler`` names (see the module), checked and closed after; None: here."""
    if scheduler is None:
        yield Workers()
        return
    with _client(scheduler) as client:
        check_workers(client)
        yield Workers(client)


@contextlib.contextmanager
def _worker_faults() -> Iterator[None]:
    """A cluster that keeps losing the workers running a fit (Dask retries a fit elsewhere a few times first),
    or loses its scheduler, is one sentence."""
    from distributed import KilledWorker
    from distributed.client import FutureCancelledError
    from distributed.comm import CommClosedError

    try:
        yield
    except KilledWorker as exc:
        raise ClusterError(f"Dask workers died running the same fit again and again ({exc}); see the workers' "
                           f"logs (out of memory?)") from None
    except FutureCancelledError as exc:
        raise ClusterError(f"Dask gave up on a fit ({exc}): every worker holding the training data left; run "
                           f"again with workers that stay") from None
    except CommClosedError as exc:
        raise ClusterError(f"The connection to the Dask scheduler was lost during the fits ({exc})") from None


def _fit_member(member, X, y):
    """On a worker: fit one ensemble member there (with the worker's threads unless the member says how many),
    on the CPU copy for the trip back; returns the member and the worker's address."""
    from distributed import get_worker

    worker = get_worker()
    if member.n_threads is None:
        member.set_params(n_threads=worker.state.nthreads)
    member.fit(X, y)
    member.net_.to("cpu")
    return member, worker.address


class MemberTrainer:
    """``train_members`` for ``CNNEnsembleClassifier.fit``: one member per worker (round robin; another worker
    takes a member whose worker dies), the training rows sent to every worker once. ``workers`` records the
    address each member trained on. Members train without checkpoints or per-batch progress; ``progress`` hears
    of each member as it finishes."""

    def __init__(self, client, progress: Callable[..., None] | None = None):
        self.client, self.progress = client, progress
        self.workers: list[str] = []

    def __call__(self, members: list, X, y) -> list:
        from distributed import as_completed

        addresses = sorted(self.client.scheduler_info()["workers"])
        X_f, y_f = self.client.scatter([X, y], broadcast=True)
        futures = []
        for i, member in enumerate(members):
            member.set_params(progress=None, checkpoint_path=None, resume_from=None)
            futures.append(self.client.submit(_fit_member, member, X_f, y_f, pure=False,
                                              workers=[addresses[i % len(addresses)]], allow_other_workers=True))
        place = {future.key: i for i, future in enumerate(futures)}
        done: list = [None] * len(members)
        with _worker_faults():
            for n, future in enumerate(as_completed(futures, loop=self.client.loop), 1):
                done[place[future.key]] = future.result()
                if self.progress is not None:
                    self.progress(0, description=f"member {n}/{len(members)} trained on {done[place[future.key]][1]}")
        self.workers = [address for _, address in done]
        return [member for member, _ in done]


__all__ = ["parse", "session", "Workers", "check_workers", "versions", "worker_versions", "MemberTrainer",
           "CONNECT_SECONDS"]
