"""Test accuracy against training seconds for every digitlab classifier on full MNIST, with the public records
as reference lines: ``benchmarks/accuracy-vs-time.png``, shown in the README.

    .venv/bin/python benchmarks/plot.py [--out benchmarks/accuracy-vs-time.png]

The points are figures measured on this project's 2-core CPU and recorded in ``benchmarks/RESULTS.md`` (each row
of ``MEASURED`` names its section and command); the plot is drawn by ``digitlab.evaluation.plots.
accuracy_vs_time``, the function behind ``digitlab leaderboard --plot``. Training seconds are the training loop
(or ``fit``) only, on 60,000 images unless the label says otherwise.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # a script that only writes a file

from digitlab.evaluation.plots import accuracy_vs_time, save_figure  # noqa: E402

HERE = Path(__file__).resolve().parent

# (label, test accuracy, training seconds, where RESULTS.md records it)
MEASURED = [
    ("sgd (10,000 rows)", 0.8555, 12.8, "Outside MNIST: outside.py score sgd"),
    ("random-forest", 0.9705, 48.4, "Outside MNIST: outside.py score random-forest"),
    ("knn-fast", 0.9913, 1.4, "k-NN, Round two: knn.py --parts classify"),
    ("mlp", 0.9829, 63.7, "Outside MNIST: outside.py score mlp"),
    ("lenet5", 0.9884, 341.4, "Outside MNIST: outside.py score lenet5"),
    # The fast preset in bfloat16 on the Intel Xeon (mean of seeds 0-2); on the AMD EPYC in float32: 0.9921, 4.34 s.
    ("cnn --preset fast", 0.9913, 4.91, "Neural, Round two: the fast preset, sixth session (median of 9)"),
    ("pretrained (fast net, 14 epochs, every augmentation)", 0.9946, 167.0, "Web app, The shipped pretrained CNN"),
    # The two CNN points come from one run of the default ensemble (members = the standard CNN with seeds 0-2) on
    # the host CPU of 2026-12-07; the other host gave 0.9969 (415 s) and 0.9974 (45.6 min on one thread).
    ("cnn (mean of seeds 0-2)", 0.9967, 1381.2 / 3, "Neural, Round two: the standard CNN, fifth session"),
    ("cnn-ensemble (3)", 0.9969, 1381.2, "Neural, Round two: the standard CNN, fifth session"),
]

# Published results on MNIST's test set without extra training data (issue 14 names the sources).
RECORDS = [
    {"label": "k-NN record (deskew, blur, shifts; LeCun's table)", "accuracy": 0.9878},
    {"label": "non-neural record (IDM)", "accuracy": 0.9946},
    {"label": "15-CNN ensemble, mean of 100 trials (Deotte)", "accuracy": 0.99745},
    {"label": "single CNN (Byerly et al.)", "accuracy": 0.9983},
    {"label": "3-CNN ensemble (An et al.)", "accuracy": 0.9987},
]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=HERE / "accuracy-vs-time.png")
    args = ap.parse_args()
    rows = [{"model": label, "label": label, "test_accuracy": acc, "fit_seconds": seconds}
            for label, acc, seconds, _ in MEASURED]
    figure = accuracy_vs_time(rows, RECORDS, title="digitlab on full MNIST, 2-core CPU: accuracy against training time")
    save_figure(figure, args.out)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
