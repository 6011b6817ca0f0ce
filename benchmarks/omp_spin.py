"""What digitlab's GOMP_SPINCOUNT default (src/digitlab/__init__.py) does to training on the CPU: each job trained in
a fresh process, alternately without the default (the variable removed right after ``import digitlab``, as before
digitlab set it) and with it, the same imports in the same order otherwise, so the host's drift hits both alike.
The variable must be set before PyTorch loads, hence one process per training.

    .venv/bin/python benchmarks/omp_spin.py [--rounds 3] [--jobs fast cnn dae-conv]

Jobs (full MNIST, both cores): ``fast`` the fast preset (one epoch on 57,000 images), ``cnn`` one epoch of the
standard preset on 10,000 images, ``dae-conv`` one epoch of the denoiser's defaults on 10,000 uniform:100 images.
Prints seconds of the training loop and the worker threads' voluntary context switches.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys

CHILD = r"""
import sys, json, os
import digitlab
if sys.argv[1] == "without":
    os.environ.pop("GOMP_SPINCOUNT", None)  # as before digitlab named it; PyTorch loads below, in either mode
from digitlab.data.datasets import load_dataset
from digitlab.models import neural
job = sys.argv[2]
data = load_dataset("mnist", sys.argv[3], download=False)
if job == "fast":
    model = neural.CNNClassifier(preset="fast", random_state=0).fit(data.X_train, data.y_train)
elif job == "cnn":
    model = neural.CNNClassifier(epochs=1, random_state=0).fit(data.X_train[:10000], data.y_train[:10000])
else:
    from digitlab.data.noise import parse_noise
    clean = data.X_train[:10000]
    noisy = parse_noise("uniform:100").apply(clean, 1)
    model = neural.ConvDenoiser(epochs=1, noise="uniform:100", random_state=0).fit(noisy, clean)
switches = sum(int(open(f"/proc/self/task/{t}/status").read().split("voluntary_ctxt_switches:")[1].split()[0])
               for t in os.listdir("/proc/self/task"))
print(json.dumps({"loop_s": model.fit_seconds_, "switches": switches,
                  "spin": os.environ.get("GOMP_SPINCOUNT")}))
"""


def run(mode: str, job: str, data: str) -> dict:
    env = {k: v for k, v in os.environ.items() if k != "GOMP_SPINCOUNT"}
    out = subprocess.run([sys.executable, "-c", CHILD, mode, job, data], env=env, capture_output=True, text=True,
                         check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--jobs", nargs="+", choices=["fast", "cnn", "dae-conv"], default=["fast", "cnn", "dae-conv"])
    ap.add_argument("--data", default=os.environ.get("DIGITLAB_DATA", "/work/shared/datasets"))
    args = ap.parse_args()
    print(f"# {' '.join(sys.argv)} (load {' / '.join(f'{x:.1f}' for x in os.getloadavg())})", flush=True)
    results: dict[tuple[str, str], list[dict]] = {}
    for r in range(args.rounds):
        for job in args.jobs:
            for mode in ("without", "with"):
                row = run(mode, job, args.data)
                results.setdefault((job, mode), []).append(row)
                print(f"round {r + 1} {job} {mode} the default: {row['loop_s']:.2f} s, "
                      f"{row['switches']:,} context switches (GOMP_SPINCOUNT {row['spin']})", flush=True)
    print("\n| job | without the default (median s) | with it (median s) | speed-up |\n| --- | --- | --- | --- |")
    for job in args.jobs:
        without = statistics.median(r["loop_s"] for r in results[(job, "without")])
        with_ = statistics.median(r["loop_s"] for r in results[(job, "with")])
        print(f"| {job} | {without:.2f} | {with_:.2f} | {without / with_:.2f}x |")


if __name__ == "__main__":
    main()
