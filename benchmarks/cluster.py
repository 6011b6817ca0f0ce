"""Benchmark the cross-validation fits of a search on a Dask cluster against the same search without Dask.

The same search (same candidates, folds and seed, hence the same answers: checked) runs in each mode:

- ``here``: in this process, one fit at a time (``n_jobs=1``, the default; Dask not imported);
- ``n_jobs=2``: in this process's joblib pool of 2 (loky), the one-machine alternative;
- ``local:1``, ``local:2``: on a Dask LocalCluster of 1 or 2 worker processes of one thread each, started for the
  search and closed after (``scheduler="local:N"``, as ``digitlab search --scheduler local:N``): cold workers,
  whose first fits import scikit-learn;
- ``warm:1``, ``warm:2``: the same cluster started and warmed (imports done) before the clock starts, its Client
  passed as ``scheduler``: what long-lived ``dask worker`` processes of a real cluster give.

For each: the wall time of the whole call (cluster start and close included), of the cross-validation phase
alone (from its first progress report to the start of the refit), the fits' own seconds (fit + score of every
fit, as each fit timed itself), and the overhead per fit: worker time not spent fitting, (CV wall x workers -
fits' own seconds) / fits.

    .venv/bin/python benchmarks/cluster.py                                   # knn grid, 4,000 mnist-mini images
    .venv/bin/python benchmarks/cluster.py --model svc --set kernel=linear --random 4 \\
        --grid 'C=loguniform:1e-3,1e0' --cv 3 --n-train 3000               # the notebooks' SVC search, smaller

Prints one Markdown table row per mode and appends JSON rows to ``--out`` (default benchmarks/cluster.jsonl is
not committed: pass a path under runs/).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import time
from pathlib import Path

TIMINGS = ("fit_seconds", "predict_seconds", "search_seconds", "mean_fit_seconds")
MODES = {"here": dict(n_jobs=1), "n_jobs=2": dict(n_jobs=2), "local:1": dict(scheduler="local:1"),
         "local:2": dict(scheduler="local:2"), "warm:1": {}, "warm:2": {}}
WORKERS = {"here": 1, "n_jobs=2": 2, "local:1": 1, "local:2": 2, "warm:1": 1, "warm:2": 2}


def warm_cluster(n: int):
    """A LocalCluster of ``n`` one-thread workers that have imported what a fit needs (as long-lived workers of a
    real cluster have after their first task), and its Client: the ``warm:N`` modes pass that Client."""
    import logging

    from distributed import Client, LocalCluster

    cluster = LocalCluster(n_workers=n, threads_per_worker=1, dashboard_address=":0", silence_logs=logging.ERROR)
    client = Client(cluster, set_as_default=False)
    client.wait_for_workers(n, timeout=60)
    client.run(lambda: __import__("digitlab.tasks.search", fromlist=["search"]).registry.make("knn"))
    return cluster, client


def untimed(value):
    if isinstance(value, dict):
        return {k: untimed(v) for k, v in value.items() if k not in TIMINGS}
    if isinstance(value, list):
        return [untimed(v) for v in value]
    return value


class PhaseClock:
    """A search's progress report that notes when the cross-validation began and when the refit began."""

    def __init__(self):
        self.cv_start = self.refit_start = None

    def __call__(self, advance=1, description=None, total=None, completed=None):
        now = time.perf_counter()
        if total is not None and self.cv_start is None:
            self.cv_start = now
        if description and "fitting on all" in description and self.refit_start is None:
            self.refit_start = now


def run_mode(mode: str, args, data, params) -> dict:
    from digitlab import search

    warm = warm_cluster(WORKERS[mode]) if mode.startswith("warm") else None
    where = dict(scheduler=warm[1]) if warm else MODES[mode]
    clock = PhaseClock()
    start = time.perf_counter()
    result = search(args.model, data, grid=args.grid, n_iter=args.random, cv=args.cv, params=params,
                    seed=args.seed, progress=clock, **where)
    wall = time.perf_counter() - start
    if warm:
        warm[1].close()
        warm[0].close()
    m = result.metrics
    n_fits = m["n_candidates"] * m["cv"]
    cv_wall = clock.refit_start - clock.cv_start
    return {"mode": mode, "wall_s": wall, "cv_wall_s": cv_wall, "fits": n_fits, "fits_own_s": m["search_seconds"],
            "mean_fit_s": m["search_seconds"] / n_fits,
            "overhead_per_fit_s": (cv_wall * WORKERS[mode] - m["search_seconds"]) / n_fits,
            "slowest_candidate_fit_s": max(r["mean_fit_seconds"] for r in m["results"]),
            "refit_s": m["fit_seconds"], "best_params": m["best_params"], "best_cv_accuracy": m["best_cv_accuracy"],
            "test_accuracy": m["test_accuracy"], "_metrics": untimed(m)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="knn")
    parser.add_argument("--grid", default="n_neighbors=3,4,5 weights=uniform,distance")
    parser.add_argument("--random", type=int, default=None, help="randomized search: N candidates")
    parser.add_argument("--set", action="append", default=[], help="fixed parameter KEY=VALUE")
    parser.add_argument("--cv", type=int, default=5)
    parser.add_argument("--dataset", default="mnist-mini")
    parser.add_argument("--n-train", type=int, default=4000)
    parser.add_argument("--n-test", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--modes", nargs="+", default=list(MODES), choices=list(MODES))
    parser.add_argument("--out", type=Path, default=Path("runs/bench-cluster/results.jsonl"))
    args = parser.parse_args()

    from digitlab import load_dataset
    from digitlab.models.registry import parse_value

    params = {k: parse_value(v) for k, _, v in (s.partition("=") for s in args.set)}
    d = load_dataset(args.dataset)
    data = (d.X_train[:args.n_train], d.y_train[:args.n_train], d.X_test[:args.n_test], d.y_test[:args.n_test])
    args.out.parent.mkdir(parents=True, exist_ok=True)
    print(f"load average {os.getloadavg()[0]:.1f} at the start; {args.model} on {len(data[0]):,} "
          f"{args.dataset} images, {args.cv}-fold CV")
    print("| mode | wall s | CV wall s | fits | fits' own s | mean fit s | overhead per fit s | refit s | "
          "same answers |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    reference = None
    for mode in args.modes:
        row = run_mode(mode, args, data, params)
        metrics = row.pop("_metrics")
        reference = reference if reference is not None else metrics
        row["same_answers"] = metrics == reference
        print(f"| {mode} | {row['wall_s']:.2f} | {row['cv_wall_s']:.2f} | {row['fits']} | {row['fits_own_s']:.2f} | "
              f"{row['mean_fit_s']:.3f} | {row['overhead_per_fit_s']:.3f} | {row['refit_s']:.2f} | "
              f"{'yes' if row['same_answers'] else 'NO'} |", flush=True)
        with open(args.out, "a", encoding="utf-8") as fh:
            fh.write(json.dumps({"date": dt.datetime.now().isoformat(timespec="seconds"), "model": args.model,
                                 "grid": args.grid, "random": args.random, "set": args.set, "cv": args.cv,
                                 "n_train": len(data[0]), "python": platform.python_version(),
                                 "load": os.getloadavg()[0], **row}) + "\n")
    print(f"load average {os.getloadavg()[0]:.1f} at the end")


if __name__ == "__main__":
    main()
