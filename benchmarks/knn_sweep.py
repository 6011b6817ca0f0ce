"""Speed and accuracy of a few ``FastKNNClassifier`` settings around the defaults, on full MNIST (10,000 test
digits against 60,000): the sweep behind RESULTS.md's "Round two" table of what each step gave.

    .venv/bin/python benchmarks/knn_sweep.py [--data DIR] [--repeats 3]

Each line: the settings, test accuracy, median wall seconds of ``predict`` over ``--repeats`` runs (fit excluded).
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

import numpy as np

from digitlab.data.datasets import load_dataset
from digitlab.models.knn import FastKNNClassifier

SETTINGS = [
    dict(rerank=None),
    dict(chunk_size=256),
    dict(n_components=20, rerank_window=5),
    dict(n_components=16, rerank_window=5),
    dict(n_components=24, rerank_candidates=24, rerank_window=5),
    dict(rerank_candidates=16),
    dict(),
    dict(chunk_size=1024),
]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default=os.environ.get("DIGITLAB_DATA", "/work/shared/datasets"))
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    d = load_dataset("mnist", data_dir=args.data, download=False)
    X_train, X_test = d.X_train.astype(np.float64), d.X_test.astype(np.float64)
    print(f"# load average at start: {os.getloadavg()[0]:.1f}")
    for params in SETTINGS:
        model = FastKNNClassifier(**params).fit(X_train, d.y_train)
        seconds = []
        for _ in range(args.repeats):
            start = time.perf_counter()
            predicted = model.predict(X_test)
            seconds.append(time.perf_counter() - start)
        print(f"{params or 'defaults'}: test accuracy {np.mean(predicted == d.y_test):.4f}, "
              f"predict {statistics.median(seconds):.2f} s", flush=True)


if __name__ == "__main__":
    main()
