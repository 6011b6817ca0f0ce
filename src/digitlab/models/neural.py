"""scikit-learn-compatible wrappers around digitlab's PyTorch nets, their training loop and their files.

Every wrapper takes images as (n, 784) rows on the 0..255 scale (uint8, int16 or float) and scales them
inside: pixels / 255, then centred and divided by the training set's mean and standard deviation (two
numbers, saved with the model). Classifiers predict labels and probabilities; denoisers take noisy rows
and the clean (n, 784) uint8 rows as ``y`` and predict clean uint8 rows.

Training (``fit``) is the same loop for all: Adam(W) on shuffled mini-batches drawn with a seeded
``torch.Generator``, an optional one-cycle learning-rate schedule, an optional held-out validation split
with early stopping that keeps the best weights, a ``progress`` callback, a checkpoint written after every
epoch and ``resume_from`` to continue from one. Ctrl-C during ``fit`` keeps the best weights so far and
sets ``interrupted_``. The same ``random_state`` on the same machine gives the same weights.

Files: :func:`save_net` writes one ``.safetensors`` file (weights as tensors, everything else as JSON in
its metadata); :func:`load_net` rebuilds the estimator from an allow-list of digitlab classes, so loading
runs no code. :func:`describe_net` lists the layers with their output shapes and parameter counts.

Example::

    from digitlab.models.neural import CNNClassifier, save_net, load_net
    clf = CNNClassifier(preset="fast", random_state=0).fit(X_train, y_train)   # X_train (n, 784) uint8
    save_net(clf, "cnn.safetensors"); load_net("cnn.safetensors").score(X_test, y_test)
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import sys
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np

# Busy-waiting OpenMP threads starve everything else on a shared CPU: on 2 cores under load, a 2-thread run
# measured 4x slower than 1 thread with the default policy. This only takes effect if torch is not yet loaded.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import torch  # noqa: E402
from safetensors import SafetensorError, safe_open
from safetensors.torch import save_file
from sklearn.base import BaseEstimator, ClassifierMixin, MultiOutputMixin
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import InvalidParameterError  # scikit-learn's own (a ValueError)
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data
from torch import nn
from torch.nn import functional as F

from .._version import __version__
from ..data.noise import parse_noise
from ..errors import ModelError, UsageError
from ..fileio import atomic_path
from . import nets

FORMAT = "digitlab-net"  # the metadata key and the "format" field of every file save_net writes
FORMAT_VERSION = 1
CANVAS = nets.SIDE * nets.SIDE  # 784: shorter feature vectors are zero-padded into the 28x28 canvas
EVAL_BATCH = 1000  # rows per forward pass when predicting

# The fit parameters every wrapper shares, documented once here.
_COMMON_DOC = """
    epochs : int — passes over the training rows.
    batch_size : int — rows per optimiser step (the last incomplete batch of each epoch is dropped).
    lr : float — learning rate (the peak rate under the one-cycle schedule).
    weight_decay : float — decoupled weight decay (AdamW).
    validation_fraction : float — share of the rows held out to pick the best epoch and stop early; 0 = none.
    patience : int — epochs without a better validation score before stopping.
    random_state : int or None — seed for initial weights, split, shuffling, dropout and augmentation.
    n_threads : int or None — torch threads; None = every core.
    progress : callable or None — called with one dict per batch and per epoch: {"event": "batch", "epoch",
        "epochs", "step", "steps", "loss"} and {"event": "epoch", "epoch", "epochs", "loss", "lr", "seconds",
        "best_epoch", and with a validation split "val_loss", "val_score"}; an ensemble adds "member", "members".
        Raising KeyboardInterrupt from it stops training as Ctrl-C does.
    verbose : bool — print one line per epoch on stderr.
    checkpoint_path : str or None — write a checkpoint there after every epoch (atomically).
    resume_from : str or None — continue fitting from that checkpoint (same data and parameters).
"""


# ---------------------------------------------------------------------------------------------------
# Training machinery shared by every wrapper
# ---------------------------------------------------------------------------------------------------


def random_affine(x: torch.Tensor, generator: torch.Generator, rotation: float, zoom: float,
                  shift: float) -> torch.Tensor:
    """Rotate by up to ``rotation`` degrees, scale by up to ``zoom`` (a fraction) and shift by up to
    ``shift`` pixels, independently per image; x is (n, 1, H, W), background at its border value."""
    n, _, h, w = x.shape
    u = torch.rand(n, 4, generator=generator) * 2 - 1  # uniform in [-1, 1]
    angle = u[:, 0] * math.radians(rotation)
    scale = 1 + u[:, 1] * zoom
    # affine_grid maps output coordinates to input ones on [-1, 1]: dividing by the scale zooms in.
    cos, sin = torch.cos(angle) / scale, torch.sin(angle) / scale
    tx, ty = u[:, 2] * shift * 2 / w, u[:, 3] * shift * 2 / h
    theta = torch.stack([torch.stack([cos, -sin, tx], 1), torch.stack([sin, cos, ty], 1)], 1)
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    return F.grid_sample(x, grid, mode="bilinear", padding_mode="border", align_corners=False)


PRECISIONS = ("auto", "float32", "bfloat16")


def resolve_precision(precision: str) -> str:
    """The arithmetic training runs in: "float32", or "bfloat16" mixed precision (torch.autocast: weights,
    optimiser state and evaluation stay float32). "auto" picks bfloat16 where the CPU computes it natively
    (AVX512-BF16 or AMX), where it measured 1.9x faster for the CNN (benchmarks/RESULTS.md), else float32."""
    if precision not in PRECISIONS:
        raise InvalidParameterError(f"precision must be one of {', '.join(PRECISIONS)}, got {precision!r}.")
    if precision != "auto":
        return precision
    native = getattr(torch.cpu, "_is_avx512_bf16_supported", lambda: False)() or \
        getattr(torch.cpu, "_is_amx_tile_supported", lambda: False)()
    return "bfloat16" if native else "float32"


class _Stop(Exception):
    """Raised inside the loop when early stopping ends training."""


class _NeuralBase(BaseEstimator):
    """The training loop, checkpoints and persistence shared by every wrapper.

    A subclass says which net to build (``_net_spec``), how inputs are shaped (``_image_input``), how
    targets become tensors (``_encode_targets``), the loss and the validation score.
    """

    _image_input = True  # feed (n, 1, 28, 28) rather than (n, 784)

    # --- what a subclass provides -------------------------------------------------------------------
    def _net_spec(self) -> tuple[str, dict]:
        raise NotImplementedError

    def _settings(self) -> dict:
        """The effective training settings (a preset may fill those left as None)."""
        return {k: getattr(self, k) for k in ("epochs", "batch_size", "lr", "weight_decay", "schedule")}

    def _augment(self, xb: torch.Tensor, generator: torch.Generator, target: torch.Tensor) -> torch.Tensor:
        """The batch the net trains on, from the prepared inputs ``xb`` and their targets."""
        return xb

    def _precision(self) -> str:
        """The ``precision`` asked for ("auto", "float32" or "bfloat16"); nets without the parameter use float32."""
        return getattr(self, "precision", "float32")

    # --- input handling -----------------------------------------------------------------------------
    def _seed(self) -> int:
        if isinstance(self.random_state, (int, np.integer)):
            return int(self.random_state)
        return int(check_random_state(self.random_state).randint(2**31 - 1))

    def _to_tensor(self, X: np.ndarray) -> torch.Tensor:
        """Rows on the 0..255 scale -> standardised float32 tensor shaped for the net."""
        t = torch.tensor(np.asarray(X, dtype=np.float32))
        t = (t / 255.0 - self.input_mean_) / self.input_std_
        if self._image_input:
            if t.shape[1] < CANVAS:
                t = F.pad(t, (0, CANVAS - t.shape[1]), value=(0.0 - self.input_mean_) / self.input_std_)
            t = t.reshape(-1, 1, nets.SIDE, nets.SIDE).contiguous(memory_format=torch.channels_last)
        return t

    def _check_X(self, X, y="no_validation", reset=False):
        kw = dict(dtype=[np.float32, np.float64], ensure_min_samples=1)
        if isinstance(y, str) and y == "no_validation":
            X = validate_data(self, X, reset=reset, **kw)
        else:
            X, y = validate_data(self, X, y, reset=reset, multi_output=not isinstance(self, ClassifierMixin), **kw)
        if self._image_input and X.shape[1] > CANVAS:
            raise ValueError(f"{type(self).__name__} reads 28x28 images: rows of at most {CANVAS} pixels, "
                             f"got {X.shape[1]}.")
        return X if isinstance(y, str) and y == "no_validation" else (X, y)

    def _validate_params(self, s: dict) -> None:
        for name in ("epochs", "batch_size"):
            if not isinstance(s[name], (int, np.integer)) or s[name] < 1:
                raise InvalidParameterError(f"{name} must be a positive integer, got {s[name]!r}.")
        if not (isinstance(s["lr"], (int, float)) and s["lr"] > 0):
            raise InvalidParameterError(f"lr must be a positive number, got {s['lr']!r}.")
        if not 0 <= self.validation_fraction < 1:
            raise InvalidParameterError(f"validation_fraction must be in [0, 1), got {self.validation_fraction!r}.")
        if not isinstance(self.patience, (int, np.integer)) or self.patience < 1:
            raise InvalidParameterError(f"patience must be a positive integer, got {self.patience!r}.")
        resolve_precision(self._precision())
        if s["schedule"] not in ("onecycle", "constant"):
            raise InvalidParameterError(f"schedule must be 'onecycle' or 'constant', got {s['schedule']!r}.")

    # --- the loop -----------------------------------------------------------------------------------
    def _fit_tensors(self, X: np.ndarray, T: torch.Tensor) -> None:
        """Train on rows X (0..255) and encoded targets T; sets net_, history_, interrupted_ and more."""
        s = self._settings()
        self._validate_params(s)
        seed = self._seed()
        n = X.shape[0]
        n_val = int(round(self.validation_fraction * n))
        if n_val < 1 or n - n_val < 2:
            n_val = 0
        split = torch.randperm(n, generator=torch.Generator().manual_seed(seed))
        val_idx, train_idx = split[:n_val], split[n_val:]
        Xf = np.asarray(X, dtype=np.float32)
        scaled = Xf[train_idx.numpy()] / 255.0
        self.input_mean_ = float(scaled.mean())
        self.input_std_ = float(scaled.std()) or 1.0
        del scaled
        Xt = self._to_tensor(Xf)
        X_train, T_train, X_val, T_val = Xt[train_idx], T[train_idx], Xt[val_idx], T[val_idx]
        del Xt

        name, config = self._net_spec()
        threads_before = torch.get_num_threads()
        torch.set_num_threads(int(self.n_threads or os.cpu_count() or 1))
        try:
            with torch.random.fork_rng(devices=[]):
                torch.manual_seed(seed)
                self._loop(name, config, s, seed, X_train, T_train, X_val, T_val)
        finally:
            torch.set_num_threads(threads_before)

    def _loop(self, name, config, s, seed, X_train, T_train, X_val, T_val) -> None:
        net = nets.build(name, config)
        if self._image_input:
            net = net.to(memory_format=torch.channels_last)
        opt = torch.optim.AdamW(net.parameters(), lr=s["lr"], weight_decay=s["weight_decay"])
        n_train, bs = X_train.shape[0], s["batch_size"]
        steps = max(1, n_train // bs)
        if s["schedule"] == "onecycle" and s["epochs"] * steps >= 10:  # fewer steps cannot hold the cycle
            sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=s["lr"], total_steps=s["epochs"] * steps,
                                                        pct_start=0.25)
        else:
            sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda step: 1.0)
        gen = torch.Generator().manual_seed(seed + 1)
        self.precision_ = resolve_precision(self._precision())
        amp = self.precision_ == "bfloat16"  # weights, optimiser and evaluation stay float32
        self.net_name_, self.net_config_ = name, config
        self.net_ = net
        history: list[dict] = []
        best_state, best_score, best_epoch = None, None, -1
        start, stopped = 0, False
        if self.resume_from:
            ck = _read_checkpoint(self, self.resume_from, X_train.shape[0] + X_val.shape[0])
            net.load_state_dict(ck["net"])
            _load_optimizer(opt, ck["optim_tensors"], ck["info"]["optimizer"])
            if ck["info"]["scheduler"] is not None:
                sched.load_state_dict(ck["info"]["scheduler"])
            torch.set_rng_state(ck["rng"]["torch"])
            gen.set_state(ck["rng"]["gen"])
            history = ck["info"]["history"]
            best_state = ck["best"] or None
            best_score, best_epoch = ck["info"]["best_score"], ck["info"]["best_epoch"]
            start, stopped = ck["info"]["epoch"], ck["info"]["stopped"]
        self.resumed_from_epoch_ = start if self.resume_from else None
        self.interrupted_ = False
        t_fit = time.perf_counter()
        epoch = start
        try:
            if stopped:
                raise _Stop
            for epoch in range(start, s["epochs"]):
                t0 = time.perf_counter()
                net.train()
                order = torch.randperm(n_train, generator=gen)
                total, count = 0.0, 0
                for step in range(steps):
                    idx = order[step * bs:(step + 1) * bs] if n_train >= bs else order
                    xb = self._augment(X_train[idx], gen, T_train[idx])
                    with torch.autocast("cpu", dtype=torch.bfloat16, enabled=amp):
                        out = net(xb)
                    loss = self._loss(out.float(), T_train[idx])
                    opt.zero_grad(set_to_none=True)
                    loss.backward()
                    opt.step()
                    sched.step()
                    total += float(loss.detach()) * len(idx)
                    count += len(idx)
                    self._report(event="batch", epoch=epoch + 1, epochs=s["epochs"], step=step + 1, steps=steps,
                                 loss=total / count)
                record = {"epoch": epoch + 1, "loss": total / count, "lr": opt.param_groups[0]["lr"]}
                if len(X_val):
                    val_loss, val_score = self._evaluate(net, X_val, T_val)
                    record.update(val_loss=val_loss, val_score=val_score)
                    better = best_score is None or val_score > best_score
                else:
                    val_score, better = None, True
                record["seconds"] = time.perf_counter() - t0
                history.append(record)
                if better:
                    best_state = {k: v.detach().clone() for k, v in net.state_dict().items()}
                    best_score, best_epoch = val_score, epoch + 1
                stopped = len(X_val) > 0 and epoch + 1 - best_epoch >= self.patience
                if self.checkpoint_path:
                    _write_checkpoint(self, self.checkpoint_path, net, opt, sched, gen, best_state, history,
                                      epoch + 1, best_score, best_epoch, stopped, n_train + len(X_val))
                self._report(event="epoch", epochs=s["epochs"], best_epoch=best_epoch, **record)
                if self.verbose:
                    extra = (f"  val_loss {record['val_loss']:.4f}  val_score {record['val_score']:.4f}"
                             if len(X_val) else "")
                    print(f"epoch {epoch + 1}/{s['epochs']}  loss {record['loss']:.4f}{extra}  "
                          f"{record['seconds']:.1f}s", file=sys.stderr)
                if stopped:
                    break
        except _Stop:
            pass
        except KeyboardInterrupt:
            self.interrupted_ = True
        if best_state is not None:
            net.load_state_dict(best_state)
        net.eval()
        self.history_ = history
        self.best_epoch_ = best_epoch
        self.n_epochs_ = len(history)
        self.stopped_early_ = bool(stopped) and len(history) < s["epochs"]
        self.fit_seconds_ = time.perf_counter() - t_fit

    def _report(self, **info) -> None:
        if self.progress is not None:
            self.progress(info)

    @torch.inference_mode()
    def _forward(self, net: nn.Module, X: torch.Tensor) -> torch.Tensor:
        net.eval()
        return torch.cat([net(X[i:i + EVAL_BATCH]) for i in range(0, len(X), EVAL_BATCH)]) if len(X) else X

    def _predict_raw(self, X) -> torch.Tensor:
        check_is_fitted(self, "net_")
        X = self._check_X(X)
        threads_before = torch.get_num_threads()
        torch.set_num_threads(int(self.n_threads or os.cpu_count() or 1))
        try:
            return self._forward(self.net_, self._to_tensor(X))
        finally:
            torch.set_num_threads(threads_before)

    # --- persistence hooks --------------------------------------------------------------------------
    def _state(self) -> tuple[dict[str, torch.Tensor], dict]:
        tensors = {f"net.{k}": v for k, v in self.net_.state_dict().items()}
        info = {"net": self.net_name_, "config": _jsonable(self.net_config_),
                "preprocessing": {"scale": 1 / 255, "mean": self.input_mean_, "std": self.input_std_,
                                  "image": self._image_input},
                "n_features_in": int(self.n_features_in_), "history": self.history_,
                "best_epoch": self.best_epoch_, "interrupted": self.interrupted_,
                "fit_seconds": self.fit_seconds_, "precision": self.precision_}
        return tensors, info

    def _set_state(self, tensors: dict[str, torch.Tensor], info: dict) -> None:
        net = nets.build(info["net"], info["config"])
        net.load_state_dict(_strip(tensors, "net."), strict=True)
        net.eval()
        if self._image_input:
            net = net.to(memory_format=torch.channels_last)
        self.net_, self.net_name_, self.net_config_ = net, info["net"], info["config"]
        pre = info["preprocessing"]
        self.input_mean_, self.input_std_ = float(pre["mean"]), float(pre["std"])
        self.n_features_in_ = int(info["n_features_in"])
        self.history_ = info["history"]
        self.best_epoch_ = info["best_epoch"]
        self.n_epochs_ = len(self.history_)
        self.interrupted_ = bool(info["interrupted"])
        self.fit_seconds_ = info.get("fit_seconds")
        self.precision_ = info.get("precision", "float32")
        self.resumed_from_epoch_ = None
        self.stopped_early_ = False

    def _nets(self) -> list[nn.Module]:
        return [self.net_]


class _ClassifierBase(ClassifierMixin, _NeuralBase):
    def fit(self, X, y):
        """Train on rows X (n, n_pixels) on the 0..255 scale and labels y; returns self."""
        X, y = self._check_X(X, y, reset=True)
        check_classification_targets(y)
        self.classes_, encoded = np.unique(y, return_inverse=True)
        if X.shape[0] < 2:
            raise ValueError(f"{type(self).__name__} needs at least 2 samples, got 1 sample.")
        if len(self.classes_) < 2:
            raise ValueError(f"{type(self).__name__} needs at least 2 classes; y has only one class.")
        self._fit_tensors(X, torch.as_tensor(encoded, dtype=torch.long))
        return self

    def _loss(self, out: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return F.cross_entropy(out, target)

    def _evaluate(self, net, X, T) -> tuple[float, float]:
        out = self._forward(net, X)
        return float(F.cross_entropy(out, T)), float((out.argmax(1) == T).float().mean())

    def _n_outputs(self) -> int:
        return len(self.classes_)

    def predict_proba(self, X) -> np.ndarray:
        """Class probabilities, (n, n_classes), columns in the order of ``classes_``."""
        return torch.softmax(self._predict_raw(X).double(), dim=1).numpy()

    def predict(self, X) -> np.ndarray:
        best = self._predict_raw(X).argmax(1).numpy()
        return self.classes_[best]

    def _state(self):
        tensors, info = super()._state()
        info["classes"] = _classes_to_json(self.classes_)
        return tensors, info

    def _set_state(self, tensors, info):
        super()._set_state(tensors, info)
        self.classes_ = _classes_from_json(info["classes"])


class _DenoiserBase(MultiOutputMixin, _NeuralBase):
    def fit(self, X, y):
        """Train on noisy rows X (0..255 scale, any range) and clean rows y (n, n_pixels) uint8; returns self."""
        X, y = self._check_X(X, y, reset=True)
        if X.shape[0] < 2:
            raise ValueError(f"{type(self).__name__} needs at least 2 samples, got 1 sample.")
        Y = np.asarray(y, dtype=np.float32)
        if Y.ndim == 1:
            Y = Y[:, None]
        self.n_outputs_ = Y.shape[1]
        if self._image_input and self.n_outputs_ > CANVAS:
            raise ValueError(f"{type(self).__name__} outputs 28x28 images: y must have at most {CANVAS} columns.")
        self._fit_tensors(X, self._encode_targets(torch.tensor(np.clip(Y, 0, 255) / 255.0)))
        return self

    def _encode_targets(self, T: torch.Tensor) -> torch.Tensor:
        if self._image_input:
            T = F.pad(T, (0, CANVAS - T.shape[1])).reshape(-1, 1, nets.SIDE, nets.SIDE)
        return T

    def _loss(self, out, target):
        return F.mse_loss(torch.sigmoid(out), target)

    def _evaluate(self, net, X, T):
        mse = float(F.mse_loss(torch.sigmoid(self._forward(net, X)), T))
        return mse, -mse  # higher score is better

    def predict(self, X) -> np.ndarray:
        """Cleaned rows (n, n_outputs) uint8 on the 0..255 scale."""
        out = torch.sigmoid(self._predict_raw(X)).flatten(1)[:, :self.n_outputs_]
        return np.rint(out.numpy() * 255).astype(np.uint8)

    def _state(self):
        tensors, info = super()._state()
        info["n_outputs"] = int(self.n_outputs_)
        return tensors, info

    def _set_state(self, tensors, info):
        super()._set_state(tensors, info)
        self.n_outputs_ = int(info["n_outputs"])


# ---------------------------------------------------------------------------------------------------
# The models in the registry
# ---------------------------------------------------------------------------------------------------


class MLPClassifier(_ClassifierBase):
    """Seed 003's shallow network: 784 -> 400 leaky-ReLU units -> 10, trained with AdamW and a one-cycle
    schedule (the seed's constant-rate Adam, ``schedule="constant", batch_size=32``, early-stopped at 97.3%).

    Parameters
    ----------
    n_hidden : int — hidden units.
    """

    _image_input = False

    def __init__(self, n_hidden=400, epochs=15, batch_size=64, lr=1e-3, weight_decay=1e-4, schedule="onecycle",
                 validation_fraction=0.1, patience=5, random_state=0, n_threads=None, progress=None,
                 verbose=False, checkpoint_path=None, resume_from=None):
        self.n_hidden = n_hidden
        self.epochs = epochs
        self.batch_size = batch_size
        self.lr = lr
        self.weight_decay = weight_decay
        self.schedule = schedule
        self.validation_fraction = validation_fraction
        self.patience = patience
        self.random_state = random_state
        self.n_threads = n_threads
        self.progress = progress
        self.verbose = verbose
        self.checkpoint_path = checkpoint_path
        self.resume_from = resume_from

    def _net_spec(self):
        return "MLP", _jsonable(asdict(nets.MLPConfig(n_inputs=self.n_features_in_, n_hidden=self.n_hidden,
                                                      n_classes=len(self.classes_))))


class LeNet5Classifier(_ClassifierBase):
    """Seed 003's LeNet-5-like CNN (conv5x6, pool, conv5x16, pool, dense 120-84-10, leaky ReLU), Adam.
    """

    def __sklearn_tags__(self):
        # An image net sees tabular toy data (scikit-learn's checks use 2-10 features) as a few pixels in the
        # corner of a blank 28x28 canvas: it may legitimately score poorly there.
        tags = super().__sklearn_tags__()
        tags.classifier_tags.poor_score = True
        return tags

    def __init__(self, epochs=20, batch_size=32, lr=1e-3, weight_decay=0.0, schedule="constant",
                 validation_fraction=0.1, patience=5, random_state=0, n_threads=None, progress=None,
                 verbose=False, checkpoint_path=None, resume_from=None):
        self.epochs = epochs
        self.batch_size = batch_size
        self.lr = lr
        self.weight_decay = weight_decay
        self.schedule = schedule
        self.validation_fraction = validation_fraction
        self.patience = patience
        self.random_state = random_state
        self.n_threads = n_threads
        self.progress = progress
        self.verbose = verbose
        self.checkpoint_path = checkpoint_path
        self.resume_from = resume_from

    def _net_spec(self):
        return "LeNet5", _jsonable(asdict(nets.LeNet5Config(n_classes=len(self.classes_))))


# The CNN's two presets (measured on full MNIST, 2-core CPU, one thread, benchmarks/RESULTS.md):
# "standard" 99.70% in 15.4 min of training (18 epochs, bfloat16), "fast" 99.06% in 21 s. A CNNClassifier
# parameter left as None takes its preset's value.
CNN_PRESETS: dict[str, dict[str, Any]] = {
    "standard": dict(net="CNN", widths=(32, 64, 128), dropout=0.4, epochs=18, batch_size=128, lr=3e-3,
                     rotation=10.0, zoom=0.1, shift=2.0, precision="auto"),
    # bfloat16 gains little on a net this small and cost 0.1 point after its single epoch (0.9899 vs 0.9909)
    "fast": dict(net="FastCNN", widths=(16, 32, 64), dropout=0.1, epochs=1, batch_size=128, lr=1e-2,
                 rotation=0.0, zoom=0.0, shift=0.0, precision="float32"),
}


class CNNClassifier(_ClassifierBase):
    """A modern CNN: batch norm, dropout, random affine augmentation on the fly, AdamW with a one-cycle schedule.

    Parameters
    ----------
    preset : "standard" or "fast" — fills every parameter below left as None (see ``CNN_PRESETS``):
        "standard" is the accurate net (99.7% on MNIST, ~15 min), "fast" a tiny net trained one epoch (99.1%, ~20 s).
    widths : tuple of 3 ints or None — channels of the net's three stages.
    dropout : float or None — dropout rate.
    rotation, zoom, shift : float or None — augmentation ranges: degrees, scale fraction, pixels; 0 turns one off.
    precision : "auto", "float32", "bfloat16" or None — training arithmetic (see ``resolve_precision``).
    """

    def __sklearn_tags__(self):
        # An image net sees tabular toy data (scikit-learn's checks use 2-10 features) as a few pixels in the
        # corner of a blank 28x28 canvas: it may legitimately score poorly there.
        tags = super().__sklearn_tags__()
        tags.classifier_tags.poor_score = True
        return tags

    def __init__(self, preset="standard", widths=None, dropout=None, epochs=None, batch_size=None, lr=None,
                 weight_decay=5e-4, schedule="onecycle", rotation=None, zoom=None, shift=None, precision=None,
                 validation_fraction=0.05, patience=5, random_state=0, n_threads=None, progress=None,
                 verbose=False, checkpoint_path=None, resume_from=None):
        self.preset = preset
        self.widths = widths
        self.dropout = dropout
        self.epochs = epochs
        self.batch_size = batch_size
        self.lr = lr
        self.weight_decay = weight_decay
        self.schedule = schedule
        self.rotation = rotation
        self.zoom = zoom
        self.shift = shift
        self.precision = precision
        self.validation_fraction = validation_fraction
        self.patience = patience
        self.random_state = random_state
        self.n_threads = n_threads
        self.progress = progress
        self.verbose = verbose
        self.checkpoint_path = checkpoint_path
        self.resume_from = resume_from

    def _resolved(self) -> dict[str, Any]:
        if self.preset not in CNN_PRESETS:
            raise InvalidParameterError(f"preset must be one of {', '.join(CNN_PRESETS)}, got {self.preset!r}.")
        values = dict(CNN_PRESETS[self.preset])
        for key in values:
            if getattr(self, key, None) is not None:
                values[key] = getattr(self, key)
        return values

    def _settings(self):
        r = self._resolved()
        return {"epochs": r["epochs"], "batch_size": r["batch_size"], "lr": r["lr"],
                "weight_decay": self.weight_decay, "schedule": self.schedule}

    def _net_spec(self):
        r = self._resolved()
        config_cls = nets.NETS[r["net"]][1]
        return r["net"], _jsonable(asdict(config_cls(n_classes=len(self.classes_), widths=tuple(r["widths"]),
                                                     dropout=r["dropout"])))

    def _precision(self):
        return self._resolved()["precision"]

    def _augment(self, xb, generator, target):
        r = self._resolved()
        if not (r["rotation"] or r["zoom"] or r["shift"]):
            return xb
        return random_affine(xb, generator, r["rotation"], r["zoom"], r["shift"])


class CNNEnsembleClassifier(ClassifierMixin, BaseEstimator):
    """Averaged probabilities of ``n_members`` CNNs trained with seeds random_state, random_state+1, ...

    Takes every CNNClassifier parameter; with ``checkpoint_path``/``resume_from`` member i uses
    ``<stem>.member<i><suffix>``, so an interrupted ensemble resumes at the member it stopped in.

    By default three standard CNNs each train on every image (``validation_fraction=0.0``): measured on full
    MNIST (benchmarks/RESULTS.md), that gave 0.9974 in 46 min on one thread, while five members that held 5 %
    out reached 0.9969 — with the one-cycle schedule the last epochs are the best or within a hair of it (best
    validation epoch 18 of 18 with seed 0, 13 of 18 by one image in 3,000 with seed 42), so the held-out
    images are better spent on training.
    """

    def __sklearn_tags__(self):
        # An image net sees tabular toy data (scikit-learn's checks use 2-10 features) as a few pixels in the
        # corner of a blank 28x28 canvas: it may legitimately score poorly there.
        tags = super().__sklearn_tags__()
        tags.classifier_tags.poor_score = True
        return tags

    def __init__(self, n_members=3, preset="standard", widths=None, dropout=None, epochs=None, batch_size=None,
                 lr=None, weight_decay=5e-4, schedule="onecycle", rotation=None, zoom=None, shift=None,
                 precision=None, validation_fraction=0.0, patience=5, random_state=0, n_threads=None,
                 progress=None, verbose=False, checkpoint_path=None, resume_from=None):
        self.n_members = n_members
        self.preset = preset
        self.widths = widths
        self.dropout = dropout
        self.epochs = epochs
        self.batch_size = batch_size
        self.lr = lr
        self.weight_decay = weight_decay
        self.schedule = schedule
        self.rotation = rotation
        self.zoom = zoom
        self.shift = shift
        self.precision = precision
        self.validation_fraction = validation_fraction
        self.patience = patience
        self.random_state = random_state
        self.n_threads = n_threads
        self.progress = progress
        self.verbose = verbose
        self.checkpoint_path = checkpoint_path
        self.resume_from = resume_from

    def _member(self, i: int, seed: int) -> CNNClassifier:
        params = {k: v for k, v in self.get_params(deep=False).items() if k != "n_members"}
        params["random_state"] = seed + i
        for key in ("checkpoint_path", "resume_from"):
            if params[key]:
                path = Path(params[key])
                member_path = path.with_name(f"{path.stem}.member{i}{path.suffix}")
                params[key] = str(member_path) if key == "checkpoint_path" or member_path.exists() else None
        if self.progress is not None:
            params["progress"] = lambda info, i=i: self.progress({**info, "member": i + 1, "members": self.n_members})
        return CNNClassifier(**params)

    def fit(self, X, y):
        """Train the members one after the other on the same rows; returns self."""
        if not isinstance(self.n_members, (int, np.integer)) or self.n_members < 1:
            raise InvalidParameterError(f"n_members must be a positive integer, got {self.n_members!r}.")
        X, y = validate_data(self, X, y, reset=True, dtype=[np.float32, np.float64])
        check_classification_targets(y)
        seed = CNNClassifier(random_state=self.random_state)._seed()
        self.members_, self.interrupted_ = [], False
        t0 = time.perf_counter()
        for i in range(self.n_members):
            member = self._member(i, seed).fit(X, y)
            self.members_.append(member)
            if member.interrupted_:
                self.interrupted_ = True
                break
        self.classes_ = self.members_[0].classes_
        self.fit_seconds_ = time.perf_counter() - t0
        return self

    def predict_proba(self, X) -> np.ndarray:
        """Mean of the members' class probabilities."""
        check_is_fitted(self, "members_")
        X = validate_data(self, X, reset=False, dtype=[np.float32, np.float64])
        return np.mean([m.predict_proba(X) for m in self.members_], axis=0)

    def predict(self, X) -> np.ndarray:
        best = self.predict_proba(X).argmax(1)
        return self.classes_[best]

    def _state(self):
        tensors, members = {}, []
        for i, m in enumerate(self.members_):
            t, info = m._state()
            tensors.update({f"members.{i}.{k}": v for k, v in t.items()})
            members.append(info)
        return tensors, {"members": members, "classes": _classes_to_json(self.classes_),
                         "n_features_in": int(self.n_features_in_), "interrupted": self.interrupted_,
                         "fit_seconds": self.fit_seconds_}

    def _set_state(self, tensors, info):
        params = {k: v for k, v in self.get_params(deep=False).items() if k != "n_members"}
        self.members_ = []
        for i, member_info in enumerate(info["members"]):
            m = CNNClassifier(**params)
            m._set_state(_strip(tensors, f"members.{i}."), member_info)
            m.classes_ = _classes_from_json(info["classes"])
            self.members_.append(m)
        self.classes_ = _classes_from_json(info["classes"])
        self.n_features_in_ = int(info["n_features_in"])
        self.interrupted_ = bool(info["interrupted"])
        self.fit_seconds_ = info.get("fit_seconds")

    def _nets(self):
        return [m.net_ for m in self.members_]


class DAEMLPDenoiser(_DenoiserBase):
    """Seed 001's denoising autoencoder 784 -> 10 (ReLU) -> 784 (sigmoid), L2 loss, Adam.

    Parameters
    ----------
    n_latent : int — size of the code.
    """

    _image_input = False

    def __init__(self, n_latent=10, epochs=5, batch_size=64, lr=1e-3, weight_decay=0.0, schedule="constant",
                 validation_fraction=0.1, patience=3, random_state=0, n_threads=None, progress=None,
                 verbose=False, checkpoint_path=None, resume_from=None):
        self.n_latent = n_latent
        self.epochs = epochs
        self.batch_size = batch_size
        self.lr = lr
        self.weight_decay = weight_decay
        self.schedule = schedule
        self.validation_fraction = validation_fraction
        self.patience = patience
        self.random_state = random_state
        self.n_threads = n_threads
        self.progress = progress
        self.verbose = verbose
        self.checkpoint_path = checkpoint_path
        self.resume_from = resume_from

    def _net_spec(self):
        return "DAEMLP", _jsonable(asdict(nets.DAEMLPConfig(n_inputs=self.n_features_in_, n_latent=self.n_latent,
                                                            n_outputs=self.n_outputs_)))


class ConvDenoiser(_DenoiserBase):
    """A small U-Net denoiser (28 -> 14 -> 7 and back, skip connections, batch norm) trained on L2 loss with
    AdamW and a one-cycle schedule. Inputs are centred on the noisy training set's mean, so it copes with
    heavy, unclipped noise. With its defaults and fresh noise (``digitlab denoise dae-conv``) it measured
    30.28 dB at uniform:100 and 22.07 dB at uniform:500 (knn-denoise: 11.97 dB), benchmarks/RESULTS.md.

    Parameters
    ----------
    width : int — channels at full resolution (doubled at each of the two lower levels).
    n_blocks : int — conv3-BN-ReLU layers per level.
    precision : "auto", "float32" or "bfloat16" — training arithmetic (see ``resolve_precision``).
    noise : str or None — a noise spec (``uniform:500``, see :mod:`digitlab.data.noise`): every training batch
        gets fresh noise of that kind on its clean targets, so the net never sees the same noisy digit twice
        (``digitlab denoise`` sets it to the task's noise). None trains on the noisy rows X as given. The
        validation split always uses X as given.
    """

    def __init__(self, width=16, n_blocks=2, epochs=20, batch_size=128, lr=3e-3, weight_decay=1e-4,
                 schedule="onecycle", precision="auto", noise=None, validation_fraction=0.02, patience=3,
                 random_state=0, n_threads=None, progress=None, verbose=False, checkpoint_path=None,
                 resume_from=None):
        self.width = width
        self.n_blocks = n_blocks
        self.precision = precision
        self.noise = noise
        self.epochs = epochs
        self.batch_size = batch_size
        self.lr = lr
        self.weight_decay = weight_decay
        self.schedule = schedule
        self.validation_fraction = validation_fraction
        self.patience = patience
        self.random_state = random_state
        self.n_threads = n_threads
        self.progress = progress
        self.verbose = verbose
        self.checkpoint_path = checkpoint_path
        self.resume_from = resume_from

    def _net_spec(self):
        return "ConvDenoiser", _jsonable(asdict(nets.ConvDenoiserConfig(width=self.width, n_blocks=self.n_blocks)))

    def _noise_model(self):
        """The parsed ``noise`` parameter, or None."""
        if self.noise is None:
            return None
        try:
            return parse_noise(str(self.noise))
        except UsageError as exc:
            raise InvalidParameterError(str(exc)) from None

    def _validate_params(self, s):
        super()._validate_params(s)
        if self._noise_model() is not None and self.n_outputs_ != self.n_features_in_:
            raise ValueError(f"noise={self.noise!r} draws the inputs from the clean targets, so X and y need the "
                             f"same number of columns; got {self.n_features_in_} and {self.n_outputs_}.")

    def _augment(self, xb, generator, target):
        noise = self._noise_model()
        if noise is None:
            return xb
        clean = torch.round(target.flatten(1)[:, :self.n_features_in_] * 255).to(torch.uint8).numpy()
        seed = int(torch.randint(2**31 - 1, (1,), generator=generator))
        return self._to_tensor(noise.apply(clean, seed))


for _cls in (MLPClassifier, LeNet5Classifier, CNNClassifier, DAEMLPDenoiser, ConvDenoiser):
    _cls.__doc__ = _cls.__doc__.rstrip() + "\n" + _COMMON_DOC

# The only classes load_net will build: the allow-list.
ESTIMATORS: dict[str, type] = {cls.__name__: cls for cls in (
    MLPClassifier, LeNet5Classifier, CNNClassifier, CNNEnsembleClassifier, DAEMLPDenoiser, ConvDenoiser)}


# ---------------------------------------------------------------------------------------------------
# Files: models, checkpoints, descriptions
# ---------------------------------------------------------------------------------------------------


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, (np.integer, np.floating, np.bool_)):
        return value.item()
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    raise TypeError(f"{type(value).__name__} cannot be saved in a model file")


def _params_json(estimator) -> dict:
    """Constructor parameters that describe the model (callbacks and file paths are not saved)."""
    skip = {"progress", "checkpoint_path", "resume_from"}
    return {k: _jsonable(v) for k, v in estimator.get_params(deep=False).items() if k not in skip}


def _classes_to_json(classes: np.ndarray) -> dict:
    return {"dtype": classes.dtype.str if classes.dtype.kind != "O" else "object", "values": classes.tolist()}


def _classes_from_json(data: dict) -> np.ndarray:
    dtype = np.dtype(data["dtype"])
    if dtype.kind not in "biufUO":
        raise ValueError(f"class labels of dtype {dtype} are not supported")
    return np.array(data["values"], dtype=dtype)


def _strip(tensors: dict, prefix: str) -> dict:
    return {k[len(prefix):]: v for k, v in tensors.items() if k.startswith(prefix)}


def _digest(tensors: dict[str, torch.Tensor]) -> str:
    """sha256 over every tensor's name, dtype, shape and bytes: detects a changed or truncated file."""
    h = hashlib.sha256()
    for name in sorted(tensors):
        t = tensors[name].detach().contiguous()
        h.update(f"{name}|{t.dtype}|{tuple(t.shape)}|".encode())
        h.update(t.reshape(-1).view(torch.uint8).numpy().tobytes() if t.numel() else b"")
    return h.hexdigest()


def _write(path, tensors: dict[str, torch.Tensor], header: dict) -> None:
    tensors = {k: v.detach().contiguous().clone() for k, v in tensors.items()}
    header = {**header, "weights_sha256": _digest(tensors)}
    with atomic_path(path) as tmp:
        save_file(tensors, str(tmp), metadata={FORMAT: json.dumps(header)})


def _read(path) -> tuple[dict[str, torch.Tensor], dict]:
    """Tensors and header of a file written by _write; ModelError if it is not one or was changed."""
    path = Path(path)
    if not path.is_file():
        raise ModelError(f"Model file {path} does not exist.")
    try:
        with safe_open(str(path), framework="pt") as fh:
            meta = fh.metadata() or {}
            tensors = {k: fh.get_tensor(k) for k in fh.keys()}
    except (SafetensorError, OSError, ValueError, RuntimeError) as exc:
        raise ModelError(f"{path} is not a safetensors model file ({str(exc).splitlines()[0]}).") from None
    try:
        header = json.loads(meta[FORMAT])
        assert isinstance(header, dict) and header.get("format") == FORMAT
    except (KeyError, ValueError, AssertionError):
        raise ModelError(f"{path} is a safetensors file but not a digitlab network (no valid '{FORMAT}' metadata).")\
            from None
    if header.get("format_version") != FORMAT_VERSION:
        raise ModelError(f"{path} has digitlab network format version {header.get('format_version')!r}; "
                         f"this digitlab reads version {FORMAT_VERSION}.")
    if header.get("weights_sha256") != _digest(tensors):
        raise ModelError(f"{path} has been altered or damaged: its weights do not match the checksum it records.")
    return tensors, header


def save_net(estimator, path, meta: dict | None = None) -> Path:
    """Write a fitted neural estimator to ``path`` as one .safetensors file (weights + JSON metadata).

    ``meta`` (how the model was trained and scored, from ``digitlab.models.persist``) is kept in the header.
    """
    name = type(estimator).__name__
    if ESTIMATORS.get(name) is not type(estimator):
        raise ModelError(f"save_net saves digitlab's neural models only, not {name}.")
    try:
        check_is_fitted(estimator)
    except Exception:
        raise ModelError(f"The {name} has not been fitted; there is nothing to save.") from None
    tensors, state = estimator._state()
    header = {"format": FORMAT, "format_version": FORMAT_VERSION, "digitlab_version": __version__,
              "torch_version": torch.__version__, "class": name, "params": _params_json(estimator),
              "state": _jsonable(state), "meta": _jsonable(meta or {})}
    _write(path, tensors, header)
    return Path(path)


def load_net(path):
    """Rebuild the estimator saved by :func:`save_net`; runs no code from the file."""
    return load_net_with_header(path)[0]


def load_net_with_header(path):
    """:func:`load_net` and :func:`read_header` from one read of the file: (estimator, header)."""
    tensors, header = _read(path)
    cls = ESTIMATORS.get(header.get("class"))
    if cls is None:
        raise ModelError(f"{path} names an unknown model class {header.get('class')!r}; digitlab loads only: "
                         f"{', '.join(ESTIMATORS)}.")
    try:
        params = {k: tuple(v) if isinstance(v, list) else v for k, v in header["params"].items()}
        estimator = cls(**params)
        estimator._set_state(tensors, header["state"])
    except (KeyError, TypeError, ValueError, RuntimeError) as exc:
        msg = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ModelError(f"{path} cannot be loaded as a {cls.__name__}: {msg}.") from None
    return estimator, header


def read_header(path) -> dict:
    """The JSON metadata of a saved net (class, params, preprocessing, history, versions) without loading it."""
    return _read(path)[1]


def _write_checkpoint(est, path, net, opt, sched, gen, best_state, history, epoch, best_score, best_epoch,
                      stopped, n_rows) -> None:
    opt_state = opt.state_dict()
    tensors = {f"net.{k}": v for k, v in net.state_dict().items()}
    if best_state is not None:
        tensors.update({f"best.{k}": v for k, v in best_state.items()})
    for pid, state in opt_state["state"].items():
        for key, value in state.items():
            tensors[f"optim.{pid}.{key}"] = value if torch.is_tensor(value) else torch.tensor(value)
    tensors["rng.torch"] = torch.get_rng_state()
    tensors["rng.gen"] = gen.get_state()
    info = {"epoch": epoch, "history": history, "best_score": best_score, "best_epoch": best_epoch,
            "stopped": stopped, "n_rows": n_rows, "optimizer": _jsonable(opt_state["param_groups"]),
            "scheduler": _jsonable(sched.state_dict()) if isinstance(sched, torch.optim.lr_scheduler.OneCycleLR)
            else None, "mean": est.input_mean_, "std": est.input_std_, "net": est.net_name_,
            "config": est.net_config_}
    header = {"format": FORMAT, "format_version": FORMAT_VERSION, "digitlab_version": __version__,
              "kind": "checkpoint", "class": type(est).__name__, "params": _params_json(est), "state": info}
    _write(path, tensors, header)


def _read_checkpoint(est, path, n_rows) -> dict:
    tensors, header = _read(path)
    info = header.get("state", {})
    if header.get("kind") != "checkpoint":
        raise ModelError(f"{path} is a saved model, not a training checkpoint.")
    if header.get("class") != type(est).__name__:
        raise ModelError(f"{path} is a checkpoint of a {header.get('class')}, not of a {type(est).__name__}.")
    ignored = {"verbose", "n_threads"}  # may change between runs without changing the result
    mine = _params_json(est)
    diff = sorted(k for k in set(header["params"]) | set(mine)
                  if k not in ignored and header["params"].get(k) != mine.get(k))
    if diff:
        raise ModelError(f"{path} was made with different parameters ({', '.join(diff)}); resume with the same ones.")
    if info["n_rows"] != n_rows or info["mean"] != est.input_mean_ or info["config"] != est.net_config_:
        raise ModelError(f"{path} was made on different training data; resume with the same data.")
    optim_tensors: dict[int, dict] = {}
    for k, v in _strip(tensors, "optim.").items():
        pid, key = k.split(".", 1)
        optim_tensors.setdefault(int(pid), {})[key] = v
    return {"info": info, "net": _strip(tensors, "net."), "best": _strip(tensors, "best."),
            "optim_tensors": optim_tensors, "rng": {"torch": tensors["rng.torch"], "gen": tensors["rng.gen"]}}


def _load_optimizer(opt, state_tensors: dict, param_groups: list) -> None:
    groups = []
    for g in param_groups:
        g = dict(g)
        if "betas" in g:
            g["betas"] = tuple(g["betas"])
        groups.append(g)
    opt.load_state_dict({"state": state_tensors, "param_groups": groups})


def training_facts(estimator) -> dict[str, Any]:
    """How a fitted net was trained, for ``digitlab info``: epochs run, best epoch, seconds, arithmetic."""
    check_is_fitted(estimator)
    members = getattr(estimator, "members_", None)
    if members is None:
        facts: dict[str, Any] = {"epochs_run": estimator.n_epochs_, "best_epoch": estimator.best_epoch_}
    else:  # an ensemble: one entry per member
        facts = {"members": len(members), "epochs_run": [m.n_epochs_ for m in members],
                 "best_epoch": [m.best_epoch_ for m in members]}
    if estimator.fit_seconds_ is not None:
        facts["training_seconds"] = round(float(estimator.fit_seconds_), 1)
    facts["precision"] = (members or [estimator])[0].precision_
    facts["interrupted"] = bool(estimator.interrupted_)
    return facts


def describe_net(estimator) -> list[tuple[str, tuple[int, ...], int]]:
    """Rows (layer, output shape without the batch axis, parameters) in forward order, for ``digitlab info``.

    Activations are folded into the layer before them, as in "Linear 784 -> 10 [ReLU]"; for an ensemble the
    first member is listed and one row stands for the others. The total is the sum of the last column.
    """
    check_is_fitted(estimator)
    all_nets = estimator._nets()
    net = all_nets[0]
    image = getattr(estimator, "_image_input", True)
    x = torch.zeros((1, 1, nets.SIDE, nets.SIDE) if image else (1, estimator.n_features_in_))
    rows: list[list] = []
    hooks = []

    def hook(module, _inputs, output):
        if isinstance(module, (nn.ReLU, nn.LeakyReLU, nn.Sigmoid)) and rows:
            rows[-1][0] += f" [{type(module).__name__}]"
            return
        rows.append([_label(module), tuple(output.shape[1:]), sum(p.numel() for p in module.parameters())])

    for module in net.modules():
        if not list(module.children()):
            hooks.append(module.register_forward_hook(hook))
    try:
        with torch.inference_mode():
            net.eval()
            net(x)
    finally:
        for h in hooks:
            h.remove()
    if isinstance(estimator, _DenoiserBase) and rows:
        rows[-1][0] += " [Sigmoid]"
    out = [(r[0], r[1], int(r[2])) for r in rows]
    if len(all_nets) > 1:
        rest = sum(p.numel() for n in all_nets[1:] for p in n.parameters())
        out.append((f"{len(all_nets) - 1} more members like the one above", out[-1][1], int(rest)))
    return out


def _label(m: nn.Module) -> str:
    if isinstance(m, nn.Linear):
        return f"Linear {m.in_features} -> {m.out_features}"
    if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)):
        k, s, p = m.kernel_size[0], m.stride[0], m.padding[0]
        return (f"{type(m).__name__} {m.in_channels} -> {m.out_channels}, {k}x{k}"
                + (f", stride {s}" if s > 1 else "") + (f", pad {p}" if p else ""))
    if isinstance(m, nn.BatchNorm2d):
        return f"BatchNorm2d {m.num_features}"
    if isinstance(m, nn.MaxPool2d):
        return "MaxPool2d 2x2"
    if isinstance(m, nn.Dropout):
        return f"Dropout {m.p:g}"
    return type(m).__name__
