"""Benchmark digitlab's neural nets on full MNIST: test accuracy and training wall time of each classifier;
RMSE, PSNR, SSIM and readability of each denoiser on the same noisy arrays.

Run one part at a time (the long trainings should not share the CPU with each other):

    .venv/bin/python benchmarks/neural.py mlp lenet5 fast         # minutes
    .venv/bin/python benchmarks/neural.py cnn                     # the accurate CNN (~20 min on 2 cores)
    .venv/bin/python benchmarks/neural.py ensemble                # several CNNs
    .venv/bin/python benchmarks/neural.py denoise --noise uniform:100 uniform:500 gaussian:0.1
    .venv/bin/python benchmarks/neural.py throughput              # training images/s: float32 vs bfloat16

Every result is printed as a Markdown table row and appended as JSON to ``OUT/results.jsonl``; trained
models go to ``OUT`` as .safetensors. Readability is the accuracy of a fixed trained CNN (``OUT/cnn.safetensors``
from the ``cnn`` part, else the fast preset's model, else the CNN shipped with digitlab) on the cleaned test digits.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np

from digitlab.data.datasets import load_dataset
from digitlab.data.noise import parse_noise
from digitlab.evaluation.metrics import accuracy, denoise_scores
from digitlab.models import neural, pretrained
from digitlab.models.classical import knn_denoise

CLASSIFIERS = {
    "mlp": lambda kw: neural.MLPClassifier(**kw),
    "lenet5": lambda kw: neural.LeNet5Classifier(**kw),
    "fast": lambda kw: neural.CNNClassifier(preset="fast", **kw),
    "cnn": lambda kw: neural.CNNClassifier(**kw),
    "ensemble": lambda kw: neural.CNNEnsembleClassifier(**kw),
}


def load_avg() -> str:
    try:
        return " / ".join(f"{x:.1f}" for x in os.getloadavg())
    except OSError:
        return "?"


def record(out: Path, row: dict) -> None:
    row = {"date": dt.datetime.now().isoformat(timespec="seconds"), "host_cpus": os.cpu_count(),
           "python": platform.python_version(), **row}
    with open(out / "results.jsonl", "a", encoding="utf-8") as fh:
        fh.write(json.dumps(row) + "\n")


def epoch_printer(info: dict) -> None:
    if info["event"] == "epoch":
        member = f"member {info['member']}/{info['members']} " if "member" in info else ""
        val = f" val_score {info['val_score']:.4f}" if "val_score" in info else ""
        print(f"  {member}epoch {info['epoch']}/{info['epochs']} loss {info['loss']:.4f}{val} "
              f"{info['seconds']:.0f}s (load {load_avg()})", flush=True)


def run_classifier(name: str, data, args, out: Path) -> None:
    kw = dict(random_state=args.seed, progress=epoch_printer)
    if args.threads:
        kw["n_threads"] = args.threads
    for key in ("epochs", "batch_size", "lr"):
        if getattr(args, key) is not None:
            kw[key] = getattr(args, key)
    if name == "ensemble" and args.members:
        kw["n_members"] = args.members
    if args.extra:
        kw.update(json.loads(args.extra))
    clf = CLASSIFIERS[name](kw)
    load_before = load_avg()
    t0 = time.perf_counter()
    clf.fit(data.X_train, data.y_train)
    wall = time.perf_counter() - t0
    t0 = time.perf_counter()
    acc = accuracy(data.y_test, clf.predict(data.X_test))
    predict_s = time.perf_counter() - t0
    neural.save_net(clf, out / f"{name}.safetensors")
    row = {"part": name, "params": {k: v for k, v in kw.items() if k != "progress"}, "test_accuracy": acc,
           "fit_wall_s": wall, "train_loop_s": clf.fit_seconds_, "predict_s": predict_s,
           "epochs_run": getattr(clf, "n_epochs_", None), "interrupted": bool(clf.interrupted_),
           "load_before": load_before, "load_after": load_avg()}
    record(out, row)
    print(f"| {name} | {acc:.4f} | {wall:.1f} s | {clf.fit_seconds_:.1f} s | load {load_before} -> {load_avg()} |",
          flush=True)


def seconds_per_step(net, x, y, steps: int, warmup: int, precision: str = "float32", augment=None) -> float:
    """Wall seconds per training step (``augment``, forward, backward, AdamW) of ``net`` on the batch ``x``, ``y``,
    after ``warmup`` untimed steps; bfloat16 mixed precision when ``precision`` says so."""
    import torch

    opt = torch.optim.AdamW(net.parameters(), 1e-3)
    for i in range(warmup + steps):
        if i == warmup:
            t0 = time.perf_counter()
        xb = augment(x) if augment is not None else x
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=precision == "bfloat16"):
            out_ = net(xb)
        loss = torch.nn.functional.cross_entropy(out_.float(), y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    return (time.perf_counter() - t0) / steps


def run_throughput(args, out: Path) -> None:
    """Training images per second of the standard CNN (augmentation, forward, backward, AdamW step on random
    batches of 128) in float32 and in bfloat16 mixed precision, with one thread and with every core."""
    import torch

    from digitlab.models.neural import networks as nets

    for threads in sorted({1, os.cpu_count() or 1}):
        for precision in ("float32", "bfloat16"):
            torch.set_num_threads(threads)
            torch.manual_seed(args.seed)
            net = nets.build("CNN", dict(n_classes=10, widths=(32, 64, 128), dropout=0.4))
            net = net.to(memory_format=torch.channels_last)
            x = torch.randn(128, 1, 28, 28).contiguous(memory_format=torch.channels_last)
            y = torch.randint(0, 10, (128,))
            gen = torch.Generator().manual_seed(args.seed)
            step = seconds_per_step(net, x, y, 20, 3, precision, lambda b: neural.random_affine(b, gen, 10.0, 0.1, 2.0))
            rate = 128 / step
            record(out, {"part": "throughput", "threads": threads, "precision": precision, "images_per_s": rate,
                         "load": load_avg()})
            print(f"| {threads} | {precision} | {rate:.0f} images/s | load {load_avg()} |", flush=True)


def reader(out: Path):
    """The CNN that reads cleaned digits: this run's ``cnn``, else its fast preset's, else the shipped model."""
    for name in ("cnn", "fast"):
        path = out / f"{name}.safetensors"
        if path.exists():
            return name, neural.load_net(path)
    return pretrained.NAME, neural.load_net(pretrained.path())


def noisy_test_images(noise, clean_test: np.ndarray, seed: int) -> np.ndarray:
    """The noisy test arrays every denoiser of a run is scored on (the training copy uses ``seed + 1``)."""
    return noise.apply(clean_test, seed=seed + 2)


def run_denoise(data, args, out: Path) -> None:
    ref_name, ref = reader(out)
    n_test = args.n_test
    clean_test = data.X_test[:n_test]
    for spec in args.noise:
        noise = parse_noise(spec)
        noisy_train = noise.apply(data.X_train, seed=args.seed + 1)
        noisy_test = noisy_test_images(noise, clean_test, args.seed)
        print(f"{spec}: noisy input PSNR {denoise_scores(clean_test, noisy_test, noisy_test)['noisy_psnr']:.1f} dB",
              flush=True)
        for method in args.denoisers:
            kw = dict(random_state=args.seed, progress=epoch_printer)
            if args.threads:
                kw["n_threads"] = args.threads
            if method == "knn-denoise":
                model = knn_denoise(n_neighbors=5)
            elif method == "dae-mlp":
                model = neural.DAEMLPDenoiser(**kw)
            else:
                kw["noise"] = spec  # fresh noise every batch, as `digitlab denoise dae-conv` trains it
                if args.extra:
                    kw.update(json.loads(args.extra))
                model = neural.ConvDenoiser(**kw)
            load_before = load_avg()
            t0 = time.perf_counter()
            model.fit(noisy_train, data.X_train)
            fit_s = time.perf_counter() - t0
            t0 = time.perf_counter()
            cleaned = np.asarray(model.predict(noisy_test)).astype(np.uint8)
            predict_s = time.perf_counter() - t0
            scores = denoise_scores(clean_test, noisy_test, cleaned)
            readable = accuracy(data.y_test[:n_test], ref.predict(cleaned))
            if method != "knn-denoise":
                neural.save_net(model, out / f"{method}-{spec.replace(':', '')}{args.tag}.safetensors")
            params = {k: v for k, v in model.get_params().items() if k != "progress"}
            row = {"part": "denoise", "noise": spec, "method": method, "params": params, "n_test": n_test, **scores,
                   "readability": readable, "reader": ref_name, "fit_s": fit_s, "predict_s": predict_s,
                   "load_before": load_before, "load_after": load_avg()}
            record(out, row)
            print(f"| {spec} | {method} | {scores['rmse']:.2f} | {scores['psnr']:.2f} | {scores['ssim']:.3f} | "
                  f"{readable:.4f} | {fit_s:.0f} s | {predict_s:.1f} s |", flush=True)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("parts", nargs="+", choices=[*CLASSIFIERS, "denoise", "throughput"])
    ap.add_argument("--data", default=os.environ.get("DIGITLAB_DATA", "/work/shared/datasets"),
                    help="folder holding mnist/ with the four idx files")
    ap.add_argument("--out", default="runs/bench-neural", help="folder for models and results.jsonl")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=None, help="torch threads (default: every core)")
    ap.add_argument("--epochs", type=int)
    ap.add_argument("--batch-size", type=int)
    ap.add_argument("--lr", type=float)
    ap.add_argument("--members", type=int, help="ensemble size")
    ap.add_argument("--extra", help="JSON of further model parameters, e.g. '{\"widths\": [24, 48, 96]}'")
    ap.add_argument("--noise", nargs="+", default=["uniform:100", "uniform:500", "gaussian:0.1"])
    ap.add_argument("--denoisers", nargs="+", default=["knn-denoise", "dae-mlp", "dae-conv"],
                    choices=["knn-denoise", "dae-mlp", "dae-conv"])
    ap.add_argument("--tag", default="", help="suffix for the saved denoiser files")
    ap.add_argument("--n-test", type=int, default=10000, help="test images scored by the denoisers")
    args = ap.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    data = load_dataset("mnist", args.data, download=False) if set(args.parts) - {"throughput"} else None
    print(f"# {dt.datetime.now():%Y-%m-%d %H:%M} {' '.join(sys.argv)}  (cpus {os.cpu_count()}, load {load_avg()})",
          flush=True)
    for part in args.parts:
        if part == "throughput":
            run_throughput(args, out)
        elif part == "denoise":
            run_denoise(data, args, out)
        else:
            run_classifier(part, data, args, out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
