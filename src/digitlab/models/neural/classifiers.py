"""The neural classifiers: the Kaggle post's MLP and LeNet-5, a modern CNN with presets, and an ensemble of CNNs.

Each predicts labels and probabilities from (n, 784) rows on the 0..255 scale.

Example::

    from digitlab.models.neural import CNNClassifier
    clf = CNNClassifier(preset="fast", random_state=0).fit(X_train, y_train)   # X_train (n, 784) uint8
    clf.score(X_test, y_test)
"""

from __future__ import annotations

import time
from numbers import Real
from pathlib import Path
from typing import Any

import numpy as np
import torch
from sklearn.base import ClassifierMixin
from sklearn.utils._param_validation import Interval, InvalidParameterError, StrOptions
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data
from torch.nn import functional as F

from ...shapes import SIDE
from . import networks, storage
from .augment import random_affine, random_blur, random_elastic, random_stroke
from .base import NetEstimator, NeuralEstimator, read_fit_seconds, read_n_features_in
from .compute import PRECISIONS
from .networks import LIMITS
from .params import SHARED, IntTuple, Param, count, optional


class _NetClassifierMixin(ClassifierMixin):
    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        if self._image_input:
            # An image net sees tabular toy data (scikit-learn's checks use 2-10 features) as a few pixels in
            # the corner of a blank 28x28 canvas: it may legitimately score poorly there.
            tags.classifier_tags.poor_score = True
        return tags


class _ClassifierBase(_NetClassifierMixin, NetEstimator):
    def fit(self, X, y):
        """Train on rows X (n, n_pixels) on the 0..255 scale and labels y; returns self."""
        self._validate_params()
        X, y = self._check_X(X, y, reset=True)
        check_classification_targets(y)
        self.classes_, encoded = np.unique(y, return_inverse=True)
        if X.shape[0] < 2:
            raise InvalidParameterError(f"{type(self).__name__} needs at least 2 training images, got 1 sample.")
        if len(self.classes_) < 2:
            raise InvalidParameterError(f"{type(self).__name__} needs at least 2 classes; y has only one class.")
        self._fit_tensors(X, torch.as_tensor(encoded, dtype=torch.long))
        return self

    def _loss(self, out: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return F.cross_entropy(out, target)

    def _evaluate(self, net, X, T) -> tuple[float, float]:
        out = self._forward(net, X)
        return float(F.cross_entropy(out, T)), float((out.argmax(1) == T).float().mean())

    def predict_proba(self, X) -> np.ndarray:
        """Class probabilities, (n, n_classes), columns in the order of ``classes_``."""
        return torch.softmax(self._predict_raw(X).double(), dim=1).numpy()

    def predict(self, X) -> np.ndarray:
        """Labels, (n,)."""
        best = self._predict_raw(X).argmax(1).numpy()
        return self.classes_[best]

    def _target_info(self) -> dict:
        return {"classes": classes_to_json(self.classes_)}

    def _set_target_info(self, info: dict) -> None:
        self.classes_ = classes_from_json(storage.want(info, "classes", dict))

    def _config_facts(self) -> dict[str, Any]:
        return {**super()._config_facts(), "n_classes": len(self.classes_)}


def classes_to_json(classes: np.ndarray) -> dict:
    return {"dtype": classes.dtype.str if classes.dtype.kind != "O" else "object", "values": classes.tolist()}


def classes_from_json(data: dict) -> np.ndarray:
    """The class labels a file records; Damaged unless they are 2 or more labels of a plain dtype."""
    text = storage.want(data, "dtype", str)
    try:
        dtype = np.dtype(text)
    except (TypeError, ValueError, OverflowError):
        raise storage.Damaged(f"class labels of dtype {text[:40]!r}") from None
    if dtype.kind not in "biufUO" or dtype.itemsize > 1024:  # longer labels than 256 characters: not digitlab's
        raise storage.Damaged(f"class labels of dtype {dtype} are not supported")
    values = storage.want(data, "values", list, lambda v: 2 <= len(v) <= LIMITS["n_classes"][1],
                          "a list of 2 or more labels")
    try:
        classes = np.array(values, dtype=dtype)
    except (ValueError, TypeError, OverflowError):
        raise storage.Damaged(f"class labels that are not {dtype}") from None
    if classes.ndim != 1:
        raise storage.Damaged("class labels that are not a flat list")
    return classes


class MLPClassifier(_ClassifierBase):
    """The Kaggle post's shallow network: 784 -> 400 leaky-ReLU units -> 10, trained with AdamW and a one-cycle
    schedule (the post's constant-rate Adam, ``schedule="constant", batch_size=32``, early-stopped at 97.3%).
    """

    _image_input = False
    _net_names = ("MLP",)
    _own_params = {"n_hidden": Param(400, "int", "Hidden units.", (count(*LIMITS["n_hidden"]),))}
    _shared_defaults = dict(epochs=15, batch_size=64, weight_decay=1e-4)

    def _net_spec(self):
        return "MLP", networks.config_json("MLP", n_inputs=self.n_features_in_, n_hidden=self.n_hidden,
                                           n_classes=len(self.classes_))


class LeNet5Classifier(_ClassifierBase):
    """The Kaggle post's LeNet-5-like CNN (conv5x6, pool, conv5x16, pool, dense 120-84-10, leaky ReLU), Adam."""

    _net_names = ("LeNet5",)
    _own_params: dict[str, Param] = {}
    _shared_defaults = dict(batch_size=32, schedule="constant")

    def _net_spec(self):
        return "LeNet5", networks.config_json("LeNet5", n_classes=len(self.classes_))


# The CNN's two presets (measured on full MNIST, 2-core CPU, benchmarks/RESULTS.md): "standard" 99.69% on
# average over seeds 0-2 in about 7 min of training on both cores (18 epochs), "fast" 99.2% in a median of 4.3 s
# (PoolFirstCNN, float32; FastCNN, its net until issue 14, gave 99.1% in 5.5 s in the same run). Those on an AMD
# EPYC; on an Intel Xeon with AMX, 7.7 min, and 99.1% in 4.9 s in bfloat16 (7.3 s in float32). A CNNClassifier
# parameter left as None takes its preset's value.
CNN_PRESETS: dict[str, dict[str, Any]] = {
    # Every image trained on, the one-cycle schedule run to its end: over seeds 0-2 that gave 0.9969 +- 0.0001,
    # against 0.9964 +- 0.0010 holding 5 % out, where early stopping once ended a run at epoch 15 of 18 (0.9953),
    # before the low learning rates where the net gains most.
    "standard": dict(net="CNN", widths=(32, 64, 128), dropout=0.4, epochs=18, batch_size=128, lr=3e-3,
                     rotation=10.0, zoom=0.1, shift=2.0, elastic=0.0, stroke=0.0, blur=0.0, precision="auto",
                     validation_fraction=0.0),
    # precision "auto", as the standard preset: bfloat16 where the CPU computes it natively. On the Xeon (AMX)
    # it made the single epoch 1.5x faster (4.9 s against 7.3 s in one run, 4.0 s against 6.1-6.5 s in another)
    # for 0.0005 of accuracy (PoolFirstCNN, seeds 0-2, benchmarks/fast_preset.py pool-first against
    # pool-first-f32); on the EPYC (AVX512-BF16) it gained 23 % and cost 0.1 point (0.9899 vs 0.9909, FastCNN,
    # an earlier round). No augmentation: it is the preset for speed. With FastCNN, every augmentation on
    # (rotation 10, zoom 0.1, shift 2, elastic 2, stroke 1, blur 1) raised its accuracy on digits from outside
    # MNIST from 0.923 to 0.954 (benchmarks/outside.py, seeds 0-2) with MNIST's unchanged (0.9911 -> 0.9909), but
    # made its epoch 10-50 % longer (12.2 s against a median of 11.1 s; 11.7 s against 7.9 s in an earlier pair):
    # the shipped pretrained model trains with it instead (scripts/build_pretrained.py, FastCNN).
    # Its single epoch holds 5 % out: every image gave 0.9915 on average over seeds 0-2 against 0.9921, in the same
    # time (benchmarks/fast_preset.py, pool-first-all against pool-first-holdout).
    "fast": dict(net="PoolFirstCNN", widths=(16, 32, 64), dropout=0.1, epochs=1, batch_size=128, lr=1e-2,
                 rotation=0.0, zoom=0.0, shift=0.0, elastic=0.0, stroke=0.0, blur=0.0, precision="auto",
                 validation_fraction=0.05),
}
# Every training-time augmentation, at the ranges that raised accuracy on digits from outside MNIST most without
# costing MNIST's (benchmarks/RESULTS.md, "Outside MNIST"): ``CNNClassifier(preset="fast", **OUTSIDE_AUGMENT)``.
OUTSIDE_AUGMENT = dict(rotation=10.0, zoom=0.1, shift=2.0, elastic=2.0, stroke=1.0, blur=1.0)

# A preset's epochs are its number on MNIST's 60,000 training images. A smaller set gets more epochs, for as
# many optimiser steps as on 60,000 images, up to MAX_EPOCH_SCALE times the preset's epochs. Measured on the
# shipped 6,000-image mnist-mini (1,000 test images, both cores, idle 2-core machine, PoolFirstCNN): "fast" trains
# 10 epochs instead of 1, test accuracy 0.974 -> 0.988 with seed 42 (0.988, 0.989, 0.988 with seeds 0-2;
# knn-fast: 0.980), in 4.3-4.9 s of training (FastCNN, one thread on a loaded machine: 0.963 -> 0.982 in 12-19 s).
# A set of 60,000 images or more gets the preset's epochs: full-MNIST figures stand.
REFERENCE_ROWS = 60_000
MAX_EPOCH_SCALE = 10


def preset_epochs(epochs: int, n_rows: int) -> int:
    """A preset's ``epochs`` for a training set of ``n_rows`` rows (see REFERENCE_ROWS)."""
    scale = min(MAX_EPOCH_SCALE, max(1.0, REFERENCE_ROWS / max(n_rows, 1)))
    return max(epochs, round(epochs * scale))


_PRESET = "the preset's value"
CNN_NETS = ("CNN", "PoolFirstCNN", "FastCNN")  # the nets a CNNClassifier builds and loads
_CNN_PARAMS = {
    "preset": Param("standard", "{'standard', 'fast'}",
                    "Fills every parameter left as None (see CNN_PRESETS): 'standard' is the accurate net (99.7% "
                    "on MNIST, 7-8 min on 2 cores with native bfloat16, about 23 min with AVX2 only), 'fast' a tiny "
                    "net trained one epoch (99.1-99.2%, 4-5 s; about 11 s with AVX2 only).",
                    (StrOptions(set(CNN_PRESETS)),)),
    "net": Param(None, "{'CNN', 'PoolFirstCNN', 'FastCNN'} or None",
                 f"The network (digitlab.models.neural.networks): 'CNN' seven conv-BN layers (the standard preset), "
                 f"'PoolFirstCNN' three conv-pool-BN blocks (the fast preset), 'FastCNN' three conv-BN-pool blocks "
                 f"(the fast preset before PoolFirstCNN). None: {_PRESET}.", (StrOptions(set(CNN_NETS)), None)),
    "widths": Param(None, "tuple of 3 ints or None",
                    f"Channels of the net's three stages. None: {_PRESET}.", (IntTuple(3, *LIMITS["widths"]), None)),
    "dropout": Param(None, "float or None", f"Dropout rate. None: {_PRESET}.",
                     (Interval(Real, 0, 1, closed="left"), None)),
    "epochs": optional(SHARED["epochs"], "the preset's, scaled up for fewer than 60,000 rows (see preset_epochs)"),
    "batch_size": optional(SHARED["batch_size"], _PRESET),
    "lr": optional(SHARED["lr"], _PRESET),
    "rotation": Param(None, "float or None", f"Augmentation: rotation range in degrees; 0 = none. None: {_PRESET}.",
                      (Interval(Real, 0, 180, closed="both"), None)),
    "zoom": Param(None, "float or None", f"Augmentation: scale range as a fraction; 0 = none. None: {_PRESET}.",
                  (Interval(Real, 0, 1, closed="left"), None)),
    "shift": Param(None, "float or None", f"Augmentation: shift range in pixels; 0 = none. None: {_PRESET}.",
                   (Interval(Real, 0, SIDE // 2, closed="both"), None)),
    "elastic": Param(None, "float or None",
                     f"Augmentation: a smooth random warp moving pixels by up to this many pixels (a wobbly hand); "
                     f"0 = none. None: {_PRESET}.", (Interval(Real, 0, SIDE // 4, closed="both"), None)),
    "stroke": Param(None, "float or None",
                    f"Augmentation: strokes made up to this many pixels wider, or up to one narrower (grey "
                    f"dilation or erosion, ink scaled back to its peak): other pens. 0 = none. None: {_PRESET}.",
                    (Interval(Real, 0, 3, closed="both"), None)),
    "blur": Param(None, "float or None",
                  f"Augmentation: Gaussian blur with a standard deviation of up to this many pixels (ink scaled "
                  f"back to its peak): out-of-focus photos. 0 = none. None: {_PRESET}.",
                  (Interval(Real, 0, 3, closed="both"), None)),
    "precision": Param(None, "{'auto', 'float32', 'bfloat16'} or None",
                       f"Training arithmetic (see ``resolve_precision``). None: {_PRESET}.",
                       (StrOptions(set(PRECISIONS)), None)),
    "validation_fraction": optional(SHARED["validation_fraction"],
                                    "the preset's: 0 for 'standard' (every image, the schedule run to its end), "
                                    "0.05 for 'fast'"),
}


class CNNClassifier(_ClassifierBase):
    """A modern CNN: batch norm, dropout, random affine augmentation on the fly, AdamW with a one-cycle schedule."""

    _net_names = CNN_NETS
    _own_params = _CNN_PARAMS
    _shared_defaults = dict(weight_decay=5e-4)

    def _resolved(self, n_rows: int | None = None) -> dict[str, Any]:
        values = self.get_params(deep=False)
        preset = CNN_PRESETS[self.preset]
        for key, value in preset.items():
            if values.get(key) is None:
                values[key] = value
        if self.epochs is None and n_rows:
            values["epochs"] = preset_epochs(preset["epochs"], n_rows)
        return values

    def _net_spec(self):
        r = self._resolved()
        return r["net"], networks.config_json(r["net"], n_classes=len(self.classes_), widths=tuple(r["widths"]),
                                              dropout=r["dropout"])

    def _augment(self, xb, generator, target):
        """Geometry first (affine, then elastic), then the pen (stroke width), then the focus (blur); each
        draws random numbers only when its range is not 0, so a net without them trains as before they existed."""
        r = self._resolved()
        if r["rotation"] or r["zoom"] or r["shift"]:
            xb = random_affine(xb, generator, r["rotation"], r["zoom"], r["shift"])
        if r["elastic"]:
            xb = random_elastic(xb, generator, r["elastic"])
        if r["stroke"]:
            xb = random_stroke(xb, generator, r["stroke"])
        if r["blur"]:
            xb = random_blur(xb, generator, r["blur"])
        return xb


def _one_after_another(members: list[CNNClassifier], X, y) -> list[CNNClassifier]:
    """Fit the members in turn, stopping after one that was interrupted (Ctrl-C)."""
    fitted = []
    for member in members:
        fitted.append(member.fit(X, y))
        if member.interrupted_:
            break
    return fitted


class CNNEnsembleClassifier(_NetClassifierMixin, NeuralEstimator):
    """Averaged probabilities of ``n_members`` CNNs trained with seeds random_state, random_state+1, ...

    Takes every CNNClassifier parameter; with ``checkpoint_path``/``resume_from`` member i uses
    ``<stem>.member<i><suffix>``, so an interrupted ensemble resumes at the member it stopped in.

    By default three standard CNNs each train on every image (the standard preset's ``validation_fraction=0``;
    the members of a fast ensemble hold 5 % out, as the fast preset does): measured on full
    MNIST (benchmarks/RESULTS.md), that gave 0.9974 in 46 min on one thread, while five members that held 5 %
    out reached 0.9969 — with the one-cycle schedule the last epochs are the best or within a hair of it (best
    validation epoch 18 of 18 with seed 0, 13 of 18 by one image in 3,000 with seed 42), so the held-out
    images are better spent on training.
    """

    _own_params = {"n_members": Param(3, "int", "CNNs trained and averaged.", (count(),)), **_CNN_PARAMS}
    _shared_defaults = CNNClassifier._shared_defaults

    def _member_params(self) -> dict[str, Any]:
        return {k: v for k, v in self.get_params(deep=False).items() if k != "n_members"}

    def _member(self, i: int, seed: int) -> CNNClassifier:
        params = self._member_params()
        params["random_state"] = seed + i
        for key in ("checkpoint_path", "resume_from"):
            if params[key]:
                path = Path(params[key])
                member_path = path.with_name(f"{path.stem}.member{i}{path.suffix}")
                params[key] = str(member_path) if key == "checkpoint_path" or member_path.exists() else None
        if self.progress is not None:
            params["progress"] = lambda info, i=i: self.progress({**info, "member": i + 1, "members": self.n_members})
        return CNNClassifier(**params)

    def fit(self, X, y, train_members=None):
        """Train the members on the same rows; returns self.

        ``train_members(members, X, y)`` trains the unfitted members given (CNNClassifiers seeded random_state,
        random_state + 1, ...) and returns them fitted, in order: by default one after the other here, stopping
        at one that was interrupted; ``digitlab.tasks.cluster.MemberTrainer`` trains each on a Dask worker.
        """
        self._validate_params()
        X, y = validate_data(self, X, y, reset=True, dtype=[np.float32, np.float64])
        check_classification_targets(y)
        seed = self._seed()
        t0 = time.perf_counter()
        members = [self._member(i, seed) for i in range(self.n_members)]
        self.members_ = (train_members or _one_after_another)(members, X, y)
        self.interrupted_ = any(member.interrupted_ for member in self.members_)
        self.classes_ = self.members_[0].classes_
        self.fit_seconds_ = time.perf_counter() - t0
        self._resolve_from_members()
        return self

    def _resolve_from_members(self) -> None:
        """``resolved_params_``: the members' parameters in effect, with the ensemble's own."""
        own = self.get_params(deep=False)
        self.resolved_params_ = self._public({**self.members_[0].resolved_params_, "n_members": own["n_members"],
                                              "random_state": own["random_state"]})

    def predict_proba(self, X) -> np.ndarray:
        """Mean of the members' class probabilities."""
        check_is_fitted(self, "members_")
        X = validate_data(self, X, reset=False, dtype=[np.float32, np.float64])
        return np.mean([m.predict_proba(X) for m in self.members_], axis=0)

    def predict(self, X) -> np.ndarray:
        """Labels, (n,): the class of highest mean probability."""
        best = self.predict_proba(X).argmax(1)
        return self.classes_[best]

    def _state(self):
        tensors, members = {}, []
        for i, m in enumerate(self.members_):
            t, info = m._state()
            tensors.update({f"members.{i}.{k}": v for k, v in t.items()})
            members.append(info)
        return tensors, {"members": members, "classes": classes_to_json(self.classes_),
                         "n_features_in": int(self.n_features_in_), "interrupted": self.interrupted_,
                         "fit_seconds": self.fit_seconds_}

    def _set_state(self, tensors, info):
        want = storage.want
        infos = want(info, "members", list, lambda v: 1 <= len(v) <= self.n_members, f"1 to {self.n_members} members")
        self.classes_ = classes_from_json(want(info, "classes", dict))
        self.n_features_in_ = read_n_features_in(info)
        self.interrupted_ = want(info, "interrupted", bool)
        self.fit_seconds_ = read_fit_seconds(info)
        self.members_ = []
        for i, member_info in enumerate(infos):
            member = CNNClassifier(**self._member_params())
            member._set_state(storage.strip(tensors, f"members.{i}."), member_info)
            if not np.array_equal(member.classes_, self.classes_) or member.n_features_in_ != self.n_features_in_:
                raise storage.Damaged(f"member {i + 1} was trained on other classes or inputs than the ensemble")
            self.members_.append(member)
        if sum(len(storage.strip(tensors, f"members.{i}.")) for i in range(len(infos))) != len(tensors):
            raise storage.Damaged("it holds tensors that belong to no member")
        self._resolve_from_members()

    def _nets(self):
        return [m.net_ for m in self.members_]


__all__ = ["MLPClassifier", "LeNet5Classifier", "CNNClassifier", "CNNEnsembleClassifier", "CNN_PRESETS",
           "OUTSIDE_AUGMENT"]
