"""Outside MNIST: how well digitlab's classifiers read digits by other writers, pens and scanners — the check set
of :mod:`outside_set` (fonts Debian ships, distorted, written as PNG/JPEG scans) read through
``digitlab.predict(model, folder)``, the path a user's images take.

    .venv/bin/python benchmarks/outside.py build                       # the set into /tmp/digitlab-outside (~1 min)
    .venv/bin/python benchmarks/outside.py sheet                       # benchmarks/outside-sheet.png, for the README
    .venv/bin/python benchmarks/outside.py score never sgd knn-fast cnn-fast      # train on full MNIST, then read
    .venv/bin/python benchmarks/outside.py score cnn-fast --set stroke=1.0 --tag=-stroke1 --seed 1
    .venv/bin/python benchmarks/outside.py table                       # the results so far as Markdown tables

``score`` trains each model named (a row of ``MODELS``: a registry model and its parameters) on full MNIST's
60,000 training images with ``--seed``, scores it on MNIST's 10,000 test digits, then predicts the check set's
folder with ``digitlab.predict``: an image ``predict`` cannot read counts as wrong. Trained models are kept in
``--out`` (``<model><tag>-s<seed>.*``) and reused when there; every result is printed as a Markdown row and
appended as JSON to ``OUT/results.jsonl``, with the accuracy per distortion and per kind of font.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import functools
import hashlib
import json
import math
import os
import shutil
import sys
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import outside_set  # noqa: E402  (beside this script)
from neural import load_avg  # noqa: E402

from digitlab.models.neural import OUTSIDE_AUGMENT  # noqa: E402

DEFAULT_SET = Path("/tmp/digitlab-outside")
SHEET = Path(__file__).resolve().parent / "outside-sheet.png"
MANIFEST = "outside-set.json"

# name -> (registry model, parameters, training rows or None for all 60,000)
MODELS = {
    "never": ("never", {}, None),
    "sgd": ("sgd", {}, 10_000),  # the classification chapter's linear model; 60,000 rows take minutes for no gain
    "random-forest": ("random-forest", {}, None),
    "knn": ("knn", {"n_neighbors": 4, "weights": "distance"}, None),  # the chapter's exercise settings
    "knn-fast": ("knn-fast", {}, None),
    "mlp": ("mlp", {}, None),
    "lenet5": ("lenet5", {}, None),
    "cnn-fast": ("cnn", {"preset": "fast"}, None),
    "cnn-fast-all": ("cnn", {"preset": "fast", **OUTSIDE_AUGMENT}, None),  # every augmentation on
    "cnn": ("cnn", {}, None),
    "pretrained": ("pretrained", {}, None),  # digitlab.pretrained(): not trained here (see `trained`)
}
# font families written by hand (the rest are print fonts), for the breakdown
HANDWRITING = ("breip", "ecolier", "femkeklaver", "dkg", "humor-sans", "becausewe", "comicneue", "dancingscript")


def build(folder: Path, seed: int) -> None:
    """The set into ``folder`` (an earlier build there is replaced; any other non-empty folder refused)."""
    if folder.exists() and any(folder.iterdir()) and not (folder / MANIFEST).exists():
        sys.exit(f"{folder} holds other files; give an empty or new folder.")
    for sub in (folder / str(d) for d in range(10)):
        shutil.rmtree(sub, ignore_errors=True)
    folder.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    fonts = outside_set.find_fonts()
    names = outside_set.build(folder, seed, fonts)
    counts = defaultdict(int)
    for name in names:
        counts[outside_set.distortion_of(name)] += 1
    digest = hashlib.sha256()
    for name in sorted(names):
        digest.update(name.encode() + b"\0" + (folder / name).read_bytes())
    manifest = {"seed": seed, "images": len(names), "sha256": digest.hexdigest(),
                "fonts": {f.name: str(f.path) for f in fonts}, "distortions": dict(counts),
                "jpeg": sum(n.endswith(".jpg") for n in names)}
    (folder / MANIFEST).write_text(json.dumps(manifest, indent=1) + "\n", encoding="utf-8")
    print(f"{len(names)} images ({manifest['jpeg']} JPEG) from {len(fonts)} fonts in {folder}, sha256 "
          f"{manifest['sha256'][:16]}, "
          f"{time.perf_counter() - t0:.0f} s (load {load_avg()})")


def model_parts(spec: str, extra: dict) -> tuple[str, dict, int | None]:
    name, params, n_train = MODELS[spec]
    return name, {**params, **extra}, n_train


def trained(spec: str, extra: dict, args, data) -> tuple[object, dict]:
    """The model ``spec`` trained on full MNIST (or loaded from an earlier run), with its MNIST figures."""
    import digitlab
    from digitlab.models import registry

    if spec == "pretrained":  # the shipped model (`digitlab predict` without --model), or the file $DIGITLAB_PRETRAINED
        model = digitlab.load_model(os.environ.get("DIGITLAB_PRETRAINED") or digitlab.pretrained())
        return model, {"model": "pretrained", "params": {}, "n_train": 60_000, "fit_s": 0.0,
                       "mnist_test_accuracy": float(np.mean(model.predict(data.X_test) == data.y_test)),
                       "load_before_fit": load_avg(), "load_after_fit": load_avg()}
    out = Path(args.out)
    stem = out / f"{spec}{args.tag}-s{args.seed}"
    found = [p for p in (stem.with_suffix(".safetensors"), stem.with_suffix(".skops")) if p.exists()]
    facts_path = stem.with_suffix(".json")
    if found and facts_path.exists():
        return digitlab.load_model(found[0]), json.loads(facts_path.read_text(encoding="utf-8"))
    name, params, n_train = model_parts(spec, extra)
    if args.threads and "n_threads" in registry.parameters(name):
        params["n_threads"] = args.threads
    model = registry.make(name, params, seed=args.seed)
    X, y = data.X_train[:n_train], data.y_train[:n_train]
    load_before, t0 = load_avg(), time.perf_counter()
    model.fit(X, y)
    fit_s = time.perf_counter() - t0
    mnist = float(np.mean(model.predict(data.X_test) == data.y_test))
    facts = {"model": name, "params": {k: v for k, v in params.items() if k != "n_threads"},
             "n_train": len(X), "mnist_test_accuracy": mnist, "fit_s": fit_s, "load_before_fit": load_before,
             "load_after_fit": load_avg()}
    digitlab.save_model(model, stem)
    facts_path.write_text(json.dumps(facts, indent=1) + "\n", encoding="utf-8")
    return model, facts


def outside_scores(model, folder: Path) -> dict:
    """Accuracy on the check set read through ``digitlab.predict``, overall and per distortion and font kind."""
    import digitlab

    expected = [str(p.relative_to(folder)).replace(os.sep, "/")
                for p in sorted(folder.rglob("*")) if p.suffix in (".png", ".jpg")]
    t0 = time.perf_counter()
    result = digitlab.predict(model, folder)
    seconds = time.perf_counter() - t0
    said = {name: int(row["label"]) for name, row in zip(result.names, result.rows())}
    right = {name: said.get(name) == outside_set.label_of(name) for name in expected}
    groups = defaultdict(list)
    for name, ok in right.items():
        groups[outside_set.distortion_of(name)].append(ok)
        font = outside_set.font_of(name)
        groups["handwriting" if font.startswith(HANDWRITING) else "print"].append(ok)
    return {"outside_accuracy": float(np.mean(list(right.values()))), "n": len(expected),
            "unread": len(expected) - len(said), "predict_s": seconds,
            "by_group": {k: float(np.mean(v)) for k, v in sorted(groups.items())},
            "wrong": sorted(n for n, ok in right.items() if not ok)}


SCANS = 2_000  # MNIST test digits read back as scans (and as they are), to see what reading user images costs


@functools.lru_cache(maxsize=2)
def mnist_scans(data_dir: str, normalise: bool) -> tuple[np.ndarray, np.ndarray]:
    """The first SCANS MNIST test digits printed 5x larger, dark on light, and read back with ``to_mnist``."""
    from PIL import Image

    from digitlab.data.datasets import load_dataset
    from digitlab.data.images import to_mnist

    data = load_dataset("mnist", data_dir, download=False)
    pages = (Image.fromarray(255 - d).resize((140, 140), Image.Resampling.BICUBIC)
             for d in data.X_test[:SCANS].reshape(-1, 28, 28))
    with stroke_normalisation(normalise):
        return np.stack([to_mnist(np.asarray(page)) for page in pages]), data.y_test[:SCANS]


def score(args) -> None:
    from digitlab.data.datasets import load_dataset

    folder = Path(args.folder)
    if not (folder / MANIFEST).exists():
        sys.exit(f"No check set in {folder}: run `outside.py build --folder {folder}` first.")
    extra = {k: _value(v) for k, _, v in (item.partition("=") for item in args.set)}
    Path(args.out).mkdir(parents=True, exist_ok=True)
    data = load_dataset("mnist", args.data, download=False)
    print(f"# {dt.datetime.now():%Y-%m-%d %H:%M} {' '.join(sys.argv)}  (cpus {os.cpu_count()}, load {load_avg()})",
          flush=True)
    for spec in args.models:
        model, facts = trained(spec, extra, args, data)
        for mode in (["off", "on"] if args.stroke_normalise == "both" else [args.stroke_normalise]):
            with stroke_normalisation(mode == "on"):
                found = outside_scores(model, folder)
            X_scans, y_scans = mnist_scans(args.data, mode == "on")
            found["mnist_scans_accuracy"] = float(np.mean(model.predict(X_scans) == y_scans))
            found["mnist_first_accuracy"] = float(np.mean(model.predict(data.X_test[:SCANS]) == y_scans))
            row = {"date": dt.datetime.now().isoformat(timespec="seconds"), "spec": spec, "tag": args.tag,
                   "seed": args.seed, "stroke_normalise": mode, **facts, **found, "load_after_predict": load_avg()}
            with open(Path(args.out) / "results.jsonl", "a", encoding="utf-8") as fh:
                fh.write(json.dumps(row) + "\n")
            groups = " ".join(f"{k} {v:.3f}" for k, v in found["by_group"].items())
            print(f"| {spec}{args.tag} s{args.seed} strokes {mode} | {facts['mnist_test_accuracy']:.4f} | "
                  f"first {found['mnist_first_accuracy']:.4f} scans {found['mnist_scans_accuracy']:.4f} | {found['outside_accuracy']:.4f} | fit {facts['fit_s']:.0f} s | unread {found['unread']} | "
                  f"load {load_avg()} | {groups}", flush=True)


@contextlib.contextmanager
def stroke_normalisation(on: bool):
    """Off: user images read as digitlab read them before it normalised very thin and very thick strokes."""
    from digitlab.data import images

    kept = images.THIN, images.THICK
    if not on:
        images.THIN, images.THICK = -math.inf, math.inf
    try:
        yield
    finally:
        images.THIN, images.THICK = kept


def table(out: Path, mode: str) -> None:
    """Markdown tables from ``OUT/results.jsonl`` (the last row of each model, tag, seed and reading mode): one row
    per model and tag, mean over its seeds (each seed's figure listed), then the accuracy per distortion."""
    rows = {}
    for line in (out / "results.jsonl").read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        rows[(row["spec"], row["tag"], row["seed"], row.get("stroke_normalise", "off"))] = row
    variants = defaultdict(dict)
    for (spec, tag, seed, reading), row in rows.items():
        if mode in ("both", reading):
            variants[(spec, tag, reading)][seed] = row
    order = list(MODELS)
    variants = dict(sorted(variants.items(), key=lambda kv: (order.index(kv[0][0]), kv[0][1], kv[0][2])))
    kinds = [*outside_set.DISTORTIONS, "handwriting", "print"]
    print("| model | reading | seeds | MNIST test | outside | MNIST scans |\n| --- | --- | --- | --- | --- | --- |")
    for (spec, tag, reading), by_seed in variants.items():
        seeds = sorted(by_seed)

        def figure(key):
            values = [by_seed[s][key] for s in seeds if key in by_seed[s]]
            each = ", ".join(f"{v:.4f}" for v in values)
            return f"{np.mean(values):.4f}" + (f" ({each})" if len(values) > 1 else "") if values else "—"

        print(f"| {spec}{tag} | {reading} | {', '.join(map(str, seeds))} | {figure('mnist_test_accuracy')} | "
              f"{figure('outside_accuracy')} | {figure('mnist_scans_accuracy')} |")
    print(f"\n| model | reading | {' | '.join(kinds)} |\n| --- | --- |{' --- |' * len(kinds)}")
    for (spec, tag, reading), by_seed in variants.items():
        means = [np.mean([r["by_group"][k] for r in by_seed.values()]) for k in kinds]
        print(f"| {spec}{tag} | {reading} | {' | '.join(f'{m:.3f}' for m in means)} |")


def _value(text: str):
    from digitlab.models.registry import parse_value

    return parse_value(text)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("part", choices=["build", "sheet", "score", "table"])
    ap.add_argument("models", nargs="*", help=f"for score: the models to train and read with ({', '.join(MODELS)})")
    ap.add_argument("--folder", default=str(DEFAULT_SET), help="where the check set is (built)")
    ap.add_argument("--seed", type=int, default=0, help="the set's seed for build; the models' for score")
    ap.add_argument("--data", default=os.environ.get("DIGITLAB_DATA", "/work/shared/datasets"),
                    help="folder holding mnist/ with the four idx files")
    ap.add_argument("--out", default="runs/outside", help="folder for trained models and results.jsonl")
    ap.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="a further model parameter")
    ap.add_argument("--tag", default="", help="suffix naming a variant's saved model (with --set)")
    ap.add_argument("--threads", type=int, help="torch threads for the nets (default: every core)")
    ap.add_argument("--stroke-normalise", choices=["on", "off", "both"], default="both",
                    help="off: read the images as digitlab did before it normalised very thin and thick strokes")
    args = ap.parse_args(argv)
    unknown = sorted(set(args.models) - set(MODELS))
    if unknown or (args.part == "score") != bool(args.models):
        ap.error(f"unknown model {unknown[0]}" if unknown else "score takes model names, build and sheet none")
    if args.part == "build":
        build(Path(args.folder), args.seed)
    elif args.part == "sheet":
        folder = Path(args.folder)
        names = [str(p.relative_to(folder)) for p in sorted(folder.rglob("*")) if p.suffix in (".png", ".jpg")]
        outside_set.contact_sheet(folder, names).save(SHEET, optimize=True)
        print(SHEET)
    elif args.part == "table":
        table(Path(args.out), args.stroke_normalise)
    else:
        score(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
