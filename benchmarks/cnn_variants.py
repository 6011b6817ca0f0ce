"""Recipes tried on the standard CNN for issue 14, beside what the library trains (full MNIST, both cores):

    .venv/bin/python benchmarks/cnn_variants.py ema --seed 0 [--epochs 30] [--decay 0.999]
    .venv/bin/python benchmarks/cnn_variants.py smooth --seed 0 [--smoothing 0.1]
    .venv/bin/python benchmarks/cnn_variants.py residual --seed 0 [--dropout 0.2] [--proba-out residual-s0.npy]
    .venv/bin/python benchmarks/cnn_variants.py tta  /tmp/cnn-r2/all-s0/cnn.safetensors ...
    .venv/bin/python benchmarks/cnn_variants.py ensemble [--subsets] /tmp/cnn-r2/all-s0/cnn.safetensors \
        residual-s0.npy ...

``ema``: the standard CNN on every image (``validation_fraction=0``) with an exponential moving average of its
weights and batch-norm buffers kept after every step (PyTorch's ``AveragedModel``), added to the library's
training loop from outside; prints the test accuracy of the averaged weights and of the last ones, and the fit
seconds. ``residual``: another net, not in the library, through the same training loop and the standard preset's
recipe: conv3 then max-pool, batch norm, ReLU at each of 28x28 -> 14x14 and 14x14 -> 7x7, a one-conv residual
block (x + ReLU(BN(conv3(x)))) at each width, global average pooling, dropout, a linear layer. ``tta``:
test-time augmentation of saved models (probabilities averaged over the digit as given, shifted one pixel each
way and rotated 5 degrees each way). ``ensemble``: probabilities of saved models averaged (a
``.npy`` file stands for a net the library cannot load, the residual one: its test probabilities, written by
``--proba-out``); a saved ensemble counts as its members, each scored alone. One JSON line per result.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import time

import numpy as np
from scipy import ndimage

from digitlab.data.datasets import load_dataset
from digitlab.models import neural, persist
from digitlab.models.neural import training


def mnist():
    return load_dataset("mnist", data_dir=os.environ.get("DIGITLAB_DATA", "/work/shared/datasets"))


class WeightAverage(training.Callback):
    """The EMA of the weights, updated after every step; made the kept weights after the last epoch (it runs after
    KeepBest, which kept the last epoch's own: they are kept aside as ``state.last_weights``)."""

    def __init__(self, decay: float):
        self.decay, self.average = decay, None

    def on_batch_end(self, state, info):
        from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn

        if self.average is None:
            self.average = AveragedModel(state.net, multi_avg_fn=get_ema_multi_avg_fn(self.decay), use_buffers=True)
        self.average.update_parameters(state.net)

    def on_epoch_end(self, state, record):
        if state.epoch == state.settings.epochs:
            state.last_weights = state.best_state
            state.best_state = {k: v.detach().clone() for k, v in self.average.module.state_dict().items()}


def _fit_every_image(data, seed: int, epochs: int | None) -> tuple[neural.CNNClassifier, float]:
    """The standard CNN trained on all 60,000 images (no validation split), and the seconds ``fit`` took."""
    start = time.perf_counter()
    extra = {"epochs": epochs} if epochs else {}
    clf = neural.CNNClassifier(random_state=seed, validation_fraction=0.0, **extra).fit(data.X_train, data.y_train)
    return clf, time.perf_counter() - start


def ema(seed: int, epochs: int | None, decay: float) -> dict:
    data = mnist()
    states = []
    library_run = training.run

    def run_with_average(state, split, objective, callbacks):
        callbacks.insert(1, WeightAverage(decay))  # right after KeepBest
        states.append(library_run(state, split, objective, callbacks))
        return states[-1]

    training.run = run_with_average
    try:
        clf, fit_s = _fit_every_image(data, seed, epochs)
    finally:
        training.run = library_run
    averaged = clf.score(data.X_test, data.y_test)
    clf.net_.load_state_dict(states[-1].last_weights)
    return {"seed": seed, "epochs": clf.resolved_params_["epochs"], "decay": decay, "averaged_weights": averaged,
            "last_weights": clf.score(data.X_test, data.y_test), "fit_s": round(fit_s, 1)}


def smooth(seed: int, epochs: int | None, smoothing: float) -> dict:
    import torch.nn.functional as F

    data = mnist()
    library_loss = neural.CNNClassifier._loss
    neural.CNNClassifier._loss = lambda self, out, target: F.cross_entropy(out, target, label_smoothing=smoothing)
    try:
        clf, fit_s = _fit_every_image(data, seed, epochs)
    finally:
        neural.CNNClassifier._loss = library_loss
    return {"seed": seed, "epochs": clf.resolved_params_["epochs"], "smoothing": smoothing,
            "test_accuracy": clf.score(data.X_test, data.y_test), "fit_s": round(fit_s, 1)}


def _residual_net():
    """The ``residual`` net and its config class (built here so the benchmark alone knows them)."""
    from dataclasses import dataclass

    import torch
    from torch import nn

    from digitlab.models.neural import networks

    @dataclass
    class ResidualConfig(networks._Checked):
        n_classes: int = 10
        widths: tuple[int, int, int] = (32, 64, 128)
        dropout: float = 0.2

    class Block(nn.Module):
        def __init__(self, c: int):
            super().__init__()
            self.conv, self.norm = nn.Conv2d(c, c, 3, 1, 1, bias=False), nn.BatchNorm2d(c)

        def forward(self, x):
            return x + torch.relu(self.norm(self.conv(x)))

    class Residual(nn.Module):
        def __init__(self, config: ResidualConfig):
            super().__init__()
            self.config = config
            c1, c2, c3 = config.widths

            def conv(c_in, c_out, pool):
                return [nn.Conv2d(c_in, c_out, 3, 1, 1, bias=False), *([nn.MaxPool2d(2)] if pool else []),
                        nn.BatchNorm2d(c_out), nn.ReLU(inplace=True), Block(c_out)]

            self.features = nn.Sequential(*conv(1, c1, True), *conv(c1, c2, False), *conv(c2, c3, True),
                                          nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Dropout(config.dropout))
            self.out = nn.Linear(c3, config.n_classes)

        def forward(self, x):
            return self.out(self.features(x))

    return Residual, ResidualConfig


def residual(seed: int, epochs: int | None, dropout: float, proba_out: str | None) -> dict:
    from digitlab.models.neural import networks

    networks.NETS["Residual"] = _residual_net()

    class ResidualClassifier(neural.CNNClassifier):
        def _net_spec(self):
            r = self._resolved()
            return "Residual", networks.config_json("Residual", n_classes=len(self.classes_),
                                                    widths=tuple(r["widths"]), dropout=r["dropout"])

    data = mnist()
    extra = {"epochs": epochs} if epochs else {}
    start = time.perf_counter()
    clf = ResidualClassifier(random_state=seed, dropout=dropout, **extra).fit(data.X_train, data.y_train)
    fit_s = time.perf_counter() - start
    if proba_out:
        np.save(proba_out, clf.predict_proba(data.X_test))
    return {"seed": seed, "net": "Residual", "dropout": dropout, "epochs": clf.resolved_params_["epochs"],
            "test_accuracy": clf.score(data.X_test, data.y_test), "train_loop_s": round(clf.fit_seconds_, 1),
            "fit_s": round(fit_s, 1)}


def _variants(X: np.ndarray) -> dict[str, np.ndarray]:
    images = X.reshape(-1, 28, 28).astype(np.float32)

    def rotated(degrees):
        return np.clip(ndimage.rotate(images, degrees, axes=(2, 1), reshape=False, order=1), 0, 255)

    shifted = {f"shift {dy},{dx}": np.roll(images, (dy, dx), axis=(1, 2))
               for dy, dx in ((-1, 0), (1, 0), (0, -1), (0, 1))}
    return {k: v.reshape(-1, 784) for k, v in {"as given": images, **shifted, "rotate 5": rotated(5),
                                                "rotate -5": rotated(-5)}.items()}


def tta(paths: list[str]) -> list[dict]:
    data = mnist()
    variants = _variants(data.X_test)
    rows = []
    for path in paths:
        model = persist.load(path).estimator
        proba = {name: model.predict_proba(X) for name, X in variants.items()}

        def acc(p):
            return float(np.mean(model.classes_[p.argmax(1)] == data.y_test))

        rows.append({"model": path, "as given": acc(proba["as given"]),
                     "given + 4 shifts": acc(sum(v for k, v in proba.items() if not k.startswith("rotate"))),
                     "given + 2 rotations": acc(sum(v for k, v in proba.items() if not k.startswith("shift"))),
                     "all 7": acc(sum(proba.values()))})
    return rows


def _test_probabilities(path: str, X: np.ndarray) -> list[tuple[str, np.ndarray]]:
    """(name, test probabilities) of each net in ``path``: a .npy file of them, a saved classifier, or each member
    of a saved ensemble (classes 0-9 in order, as every MNIST model here has)."""
    if path.endswith(".npy"):
        return [(path, np.load(path))]
    model = persist.load(path).estimator
    if hasattr(model, "members_"):
        return [(f"{path}[member {i}]", m.predict_proba(X)) for i, m in enumerate(model.members_)]
    return [(path, model.predict_proba(X))]


def ensemble(paths: list[str], subsets: bool) -> list[dict]:
    """Each net's accuracy and that of all of them averaged; with ``subsets`` also every combination of two or more
    (all of them listed, so that none is picked for its luck on the test set)."""
    data = mnist()
    nets = [net for path in paths for net in _test_probabilities(path, data.X_test)]

    def acc(p):
        return float(np.mean(p.argmax(1) == data.y_test))

    rows = [{"members": {name: acc(p) for name, p in nets}, "ensemble": acc(np.mean([p for _, p in nets], axis=0))}]
    sizes = range(2, len(nets)) if subsets else []
    rows += [{"nets": [name for name, _ in combo], "ensemble": acc(np.mean([p for _, p in combo], axis=0))}
             for k in sizes for combo in itertools.combinations(nets, k)]
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("part", choices=["ema", "smooth", "residual", "tta", "ensemble"])
    parser.add_argument("models", nargs="*", help="saved classifiers (tta, ensemble)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--epochs", type=int, help="training epochs (default: the preset's 18)")
    parser.add_argument("--decay", type=float, default=0.999, help="EMA decay per step")
    parser.add_argument("--smoothing", type=float, default=0.1, help="label smoothing")
    parser.add_argument("--dropout", type=float, default=0.2, help="dropout before the output layer (residual)")
    parser.add_argument("--proba-out", help="write the residual net's test probabilities to this .npy file")
    parser.add_argument("--subsets", action="store_true", help="ensemble: score every combination of the nets too")
    args = parser.parse_intermixed_args()  # flags may come between the part and the models
    if args.part == "ema":
        rows = [ema(args.seed, args.epochs, args.decay)]
    elif args.part == "smooth":
        rows = [smooth(args.seed, args.epochs, args.smoothing)]
    elif args.part == "residual":
        rows = [residual(args.seed, args.epochs, args.dropout, args.proba_out)]
    elif args.part == "tta":
        rows = tta(args.models)
    else:
        rows = ensemble(args.models, args.subsets)
    for row in rows:
        print(json.dumps(row))


if __name__ == "__main__":
    main()
