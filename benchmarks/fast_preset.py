"""The fast preset's steps side by side in one process: each variant of ``CNNClassifier(preset="fast")`` trained
on full MNIST in turn, round after round, so the host's drift hits every variant alike. Prints one row per
training and, per variant, the accuracy over the seeds and the median training-loop seconds.

    .venv/bin/python benchmarks/fast_preset.py [--rounds 3] [--seeds 0] [--variants pool-first fast-cnn]

Issue 14's bar: >= 99.0 % in <= 6 s of training (the loop, ``fit_seconds_``), median of 3 runs, on 2 cores.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from neural import load_avg  # noqa: E402  (beside this script)

from digitlab.data.datasets import load_dataset  # noqa: E402
from digitlab.models.neural import CNNClassifier  # noqa: E402

# name -> parameters on top of preset="fast"; each step of the preset's history, in order
VARIANTS = {
    "fast-cnn": {"net": "FastCNN"},  # the preset before issue 14's round two: conv-BN-ReLU-pool blocks
    "pool-first": {},  # today's preset: PoolFirstCNN, conv-pool-BN-ReLU blocks, precision "auto"
    "pool-first-32": {"widths": (16, 32, 32)},  # a narrower last block
    "pool-first-b256": {"batch_size": 256, "lr": 0.02},  # larger batches
    "pool-first-holdout": {"validation_fraction": 0.05},  # pool-first with its 5 % hold-out named, beside -all
    "pool-first-all": {"validation_fraction": 0.0},  # every image trained on
    "pool-first-bf16": {"precision": "bfloat16"},  # bfloat16 forced; "auto" picks it where the CPU has it
    "pool-first-f32": {"precision": "float32"},  # the preset's arithmetic until its precision became "auto"
}


def train(data, params: dict, seed: int) -> dict:
    clf = CNNClassifier(preset="fast", random_state=seed, **params)
    load = load_avg()
    t0 = time.perf_counter()
    clf.fit(data.X_train, data.y_train)
    wall = time.perf_counter() - t0
    return {"accuracy": clf.score(data.X_test, data.y_test), "loop_s": clf.fit_seconds_, "fit_s": wall,
            "load": load}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=3, help="trainings of each variant and seed")
    ap.add_argument("--seeds", type=int, nargs="+", default=[0])
    ap.add_argument("--variants", nargs="+", choices=list(VARIANTS), default=list(VARIANTS))
    ap.add_argument("--data", default=os.environ.get("DIGITLAB_DATA", "/work/shared/datasets"))
    args = ap.parse_args()
    data = load_dataset("mnist", args.data, download=False)
    print(f"# {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} {' '.join(sys.argv)} (load {load_avg()})",
          flush=True)
    rows: dict[str, list[dict]] = {name: [] for name in args.variants}
    for r in range(args.rounds):
        for seed in args.seeds:
            for name in args.variants:
                row = train(data, VARIANTS[name], seed)
                rows[name].append({**row, "seed": seed})
                print(f"round {r + 1} seed {seed} {name}: {row['accuracy']:.4f} in {row['loop_s']:.2f} s "
                      f"(fit {row['fit_s']:.2f} s, load {row['load']})", flush=True)
    print("\n| variant | parameters | test accuracy (per seed) | training loop s (median) |\n| --- | --- | --- | --- |")
    base = statistics.median(r["loop_s"] for r in rows[args.variants[0]])
    for name in args.variants:
        accs = sorted({(r["seed"], r["accuracy"]) for r in rows[name]})
        median = statistics.median(r["loop_s"] for r in rows[name])
        print(f"| {name} | {VARIANTS[name] or 'the preset'} | {', '.join(f'{a:.4f}' for _, a in accs)} | "
              f"{median:.2f} ({base / median:.2f}x {args.variants[0]}) |")


if __name__ == "__main__":
    main()
