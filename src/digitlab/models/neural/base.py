"""The estimator base of digitlab's nets: declared parameters, seeds, input scaling, fitting and predicting.

Every net takes images as (n, 784) rows on the 0..255 scale (uint8, int16 or float) and scales them inside:
pixels / 255, then centred and divided by the training set's mean and standard deviation (two numbers,
saved with the model). :class:`NeuralEstimator` is the root of every digitlab net (the ensemble included);
:class:`NetEstimator` is one net trained by :mod:`.training`'s loop. A subclass says which net to build
(``_net_spec``), the loss and the validation score; classifiers and denoisers do so in their own modules.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted, validate_data
from torch import nn
from torch.nn import functional as F

from ...shapes import N_PIXELS, SIDE
from . import checkpoints, networks, params, storage, training
from .compute import resolve_device, resolve_precision, rng_devices, torch_threads

EVAL_BATCH = 1000  # rows per forward pass when predicting

# Parameters not saved with a model: callbacks, file paths and the device belong to one run, not to the model
# (the device trained on is recorded in the file's state, for ``digitlab info``; loading never needs it).
NOT_SAVED = frozenset({"progress", "checkpoint_path", "resume_from", "device"})


class NeuralEstimator(BaseEstimator):
    """The root of digitlab's nets: parameters declared once (see :mod:`.params`), seeds, saved parameters.

    A subclass declares ``_own_params`` and the shared defaults it changes (``_shared_defaults``); its
    ``__init__`` and the Parameters section of its docstring are generated from them.
    """

    _own_params: dict[str, params.Param] = {}
    _shared_defaults: dict[str, Any] = {}
    _image_input = True  # feed (n, 1, 28, 28) rather than (n, 784)
    _net_names: tuple[str, ...] = ()  # the nets (networks.NETS) a model file of this class may hold

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if "_own_params" in cls.__dict__ or "_shared_defaults" in cls.__dict__:
            params.install(cls, params.table(cls._own_params, cls._shared_defaults))

    def _validate_params(self) -> None:
        """scikit-learn's checks of the declared constraints, then the ones they cannot express (``_check_params``);
        InvalidParameterError names the parameter and its valid values. Called by ``fit`` and ``registry.make``."""
        super()._validate_params()
        self._check_params()

    def _check_params(self) -> None:
        """Checks of single parameters beyond scikit-learn's constraints: the device exists on this machine
        (a subclass may add more)."""
        resolve_device(self.device)

    def _public(self, values: dict[str, Any]) -> dict[str, Any]:
        """The user-facing parameters among ``values`` (callbacks and file paths left out)."""
        return {k: v for k, v in values.items() if k in self._param_table and k not in self._internal_params}

    def _seed(self) -> int:
        if isinstance(self.random_state, (int, np.integer)):
            return int(self.random_state)
        return int(check_random_state(self.random_state).randint(2**31 - 1))

    def _saved_params(self) -> dict[str, Any]:
        """Constructor parameters that describe the model, as JSON values."""
        return {k: storage.jsonable(v) for k, v in self.get_params(deep=False).items() if k not in NOT_SAVED}

    def _nets(self) -> list[nn.Module]:
        return [self.net_]


class NetEstimator(NeuralEstimator):
    """One net, trained by the shared loop; the file state it saves and restores.

    A subclass provides ``_net_spec`` (net name and JSON config), ``_loss`` and ``_evaluate``, and may
    change ``_resolved`` (a preset's values), ``_augment`` (the batch trained on) and ``_check_data``.
    """

    # --- what a subclass provides -------------------------------------------------------------------
    def _net_spec(self) -> tuple[str, dict]:
        raise NotImplementedError

    def _resolved(self, n_rows: int | None = None) -> dict[str, Any]:
        """The parameters in effect for a fit on ``n_rows`` rows: the ones given (a preset may fill those left
        as None, and scale its epochs to ``n_rows``)."""
        return self.get_params(deep=False)

    def _augment(self, xb: torch.Tensor, generator: torch.Generator, target: torch.Tensor) -> torch.Tensor:
        """The batch the net trains on, from the prepared inputs ``xb`` and their targets."""
        return xb

    def _target_info(self) -> dict:
        """What a model file keeps about the targets (classes, number of outputs)."""
        return {}

    def _set_target_info(self, info: dict) -> None:
        pass

    def _check_data(self) -> None:
        """Checks that need the fitted facts (``n_features_in_``, ...), made before any work."""

    # --- input handling -----------------------------------------------------------------------------
    def _to_tensor(self, X: np.ndarray) -> torch.Tensor:
        """Rows on the 0..255 scale -> standardised float32 CPU tensor shaped for the net."""
        return self._standardise(torch.tensor(np.asarray(X, dtype=np.float32)))

    def _standardise(self, t: torch.Tensor) -> torch.Tensor:
        """Float rows on the 0..255 scale (any device) -> standardised, shaped for the net, on the same device."""
        t = (t / 255.0 - self.input_mean_) / self.input_std_
        if self._image_input:
            if t.shape[1] < N_PIXELS:
                t = F.pad(t, (0, N_PIXELS - t.shape[1]), value=(0.0 - self.input_mean_) / self.input_std_)
            t = t.reshape(-1, 1, SIDE, SIDE).contiguous(memory_format=torch.channels_last)
        return t

    def _check_X(self, X, y="no_validation", reset=False):
        kw = dict(dtype=[np.float32, np.float64], ensure_min_samples=1)
        if isinstance(y, str) and y == "no_validation":
            X = validate_data(self, X, reset=reset, **kw)
        else:
            X, y = validate_data(self, X, y, reset=reset, multi_output=not isinstance(self, ClassifierMixin), **kw)
        if self._image_input and X.shape[1] > N_PIXELS:
            raise ValueError(f"{type(self).__name__} reads 28x28 images: rows of at most {N_PIXELS} pixels, "
                             f"got {X.shape[1]}.")
        return X if isinstance(y, str) and y == "no_validation" else (X, y)

    # --- fitting ------------------------------------------------------------------------------------
    def _fit_tensors(self, X: np.ndarray, T: torch.Tensor) -> None:
        """Train on rows X (0..255) and encoded targets T; sets net_, history_, resolved_params_ and more."""
        self._check_data()
        device = resolve_device(self.device)
        resolved = self._resolved(X.shape[0])
        settings = training.Settings(epochs=resolved["epochs"], batch_size=resolved["batch_size"], lr=resolved["lr"],
                                     weight_decay=resolved["weight_decay"], schedule=resolved["schedule"],
                                     precision=resolve_precision(resolved.get("precision") or "float32", device))
        self.resolved_params_ = self._public({**resolved, "device": device.type})
        self.device_ = device.type
        seed = self._seed()
        data = self._prepare(X, T, resolved["validation_fraction"], seed, device)
        self.net_name_, self.net_config_ = self._net_spec()
        self.precision_ = settings.precision
        with torch_threads(self.n_threads), torch.random.fork_rng(devices=rng_devices(device)):
            torch.manual_seed(seed)
            state = self._train(settings, seed, data, device)
        self.history_ = state.history
        self.best_epoch_ = state.best_epoch
        self.n_epochs_ = len(state.history)
        self.stopped_early_ = bool(state.stopped) and len(state.history) < settings.epochs
        self.fit_seconds_ = state.seconds
        self.interrupted_ = state.interrupted
        self.resumed_from_epoch_ = state.resumed_from

    def _prepare(self, X: np.ndarray, T: torch.Tensor, validation_fraction: float, seed: int,
                 device: torch.device) -> training.Split:
        """Hold out the validation rows, learn the input scaling on the others, make the tensors and move them
        to ``device`` once (no copy per batch)."""
        train_idx, val_idx = _split(X.shape[0], validation_fraction, seed)
        Xf = np.asarray(X, dtype=np.float32)
        scaled = Xf[train_idx.numpy()] / 255.0
        self.input_mean_ = float(scaled.mean())
        self.input_std_ = float(scaled.std()) or 1.0
        del scaled
        Xt = self._to_tensor(Xf)
        parts = (Xt[train_idx], T[train_idx], Xt[val_idx], T[val_idx])
        return training.Split(*(t.to(device) for t in parts))

    def _train(self, settings: training.Settings, seed: int, data: training.Split,
               device: torch.device) -> training.State:
        """Build the net (the first draw from the seeded CPU generator, whatever the device), move it to
        ``device``, resume if asked, run the loop."""
        net = networks.build(self.net_name_, self.net_config_).to(device)
        if self._image_input:
            net = net.to(memory_format=torch.channels_last)
        self.net_ = net
        state = training.start(net, settings, seed, len(data.X_train), device)
        ident = checkpoints.Identity(type(self).__name__, self._saved_params(), len(data.X_train) + len(data.X_val),
                                     self.input_mean_, self.input_std_, self.net_name_, self.net_config_,
                                     device.type)
        if self.resume_from:
            checkpoints.restore(self.resume_from, state, ident)
        callbacks = [training.KeepBest(), training.EarlyStopping(self.patience)]
        if self.checkpoint_path:
            callbacks.append(checkpoints.Checkpoint(self.checkpoint_path, ident))
        callbacks.append(training.Report(self.progress, self.verbose))
        objective = training.Objective(self._augment, self._loss, self._evaluate)
        return training.run(state, data, objective, callbacks)

    # --- predicting ---------------------------------------------------------------------------------
    @torch.inference_mode()
    def _forward(self, net: nn.Module, X: torch.Tensor) -> torch.Tensor:
        net.eval()
        return torch.cat([net(X[i:i + EVAL_BATCH]) for i in range(0, len(X), EVAL_BATCH)]) if len(X) else X

    def _predict_raw(self, X) -> torch.Tensor:
        """The net's raw outputs for rows X, computed on the ``device`` asked for, returned on the CPU."""
        check_is_fitted(self, "net_")
        X = self._check_X(X)
        device = resolve_device(self.device)
        with torch_threads(self.n_threads):
            net = self.net_.to(device)  # in place, once: a loaded net starts on the CPU
            return self._forward(net, self._to_tensor(X).to(device)).cpu()

    # --- what a model file holds --------------------------------------------------------------------
    def _state(self) -> tuple[dict[str, torch.Tensor], dict]:
        tensors = {f"net.{k}": v for k, v in self.net_.state_dict().items()}
        info = {"net": self.net_name_, "config": storage.jsonable(self.net_config_),
                "preprocessing": {"scale": 1 / 255, "mean": self.input_mean_, "std": self.input_std_,
                                  "image": self._image_input},
                "n_features_in": int(self.n_features_in_), "history": self.history_,
                "best_epoch": self.best_epoch_, "interrupted": self.interrupted_,
                "fit_seconds": self.fit_seconds_, "precision": self.precision_, "device": self.device_,
                "resolved_params": storage.jsonable(self.resolved_params_), **self._target_info()}
        return tensors, info

    def _set_state(self, tensors: dict[str, torch.Tensor], info: dict) -> None:
        """Rebuild the fitted state from a file's tensors and header. Every fact is checked before it is used
        and the tensors against the net the header describes (built on the meta device) before the net is
        built: an inconsistency raises ``storage.Damaged`` (a ValueError), never a later failure."""
        want = storage.want
        self.n_features_in_ = read_n_features_in(info)
        pre = want(info, "preprocessing", dict)
        self.input_mean_ = float(want(pre, "mean", (int, float), storage.finite, "a finite number"))
        self.input_std_ = float(want(pre, "std", (int, float), lambda v: storage.finite(v) and v > 0,
                                     "a positive number"))
        self.history_ = want(info, "history", list, lambda v: all(isinstance(r, dict) for r in v), "a list of epochs")
        self.n_epochs_ = len(self.history_)
        self.best_epoch_ = want(info, "best_epoch", int, lambda v: v == -1 or 1 <= v <= self.n_epochs_,
                                "-1 or an epoch of its history")
        self.interrupted_ = want(info, "interrupted", bool)
        self.fit_seconds_ = read_fit_seconds(info)
        self.precision_ = want(info, "precision", str, lambda v: v in ("float32", "bfloat16"),
                               "float32 or bfloat16", "float32")
        self.device_ = want(info, "device", str, lambda v: v in ("cpu", "cuda"), "cpu or cuda", "cpu")
        self.resumed_from_epoch_ = None
        self.stopped_early_ = False
        recorded = want(info, "resolved_params", dict, lambda v: all(isinstance(k, str) for k in v),
                        "the parameters in effect", None)  # none in version 1: trained on the preset's values
        self.resolved_params_ = recorded or self._public({**self._resolved(), "device": self.device_})
        self._set_target_info(info)
        name = want(info, "net", str, lambda v: v in self._net_names, " or ".join(self._net_names))
        self.net_ = self._load_net(name, want(info, "config", dict), tensors)

    def _load_net(self, name: str, config: dict, tensors: dict[str, torch.Tensor]) -> nn.Module:
        """The net ``name`` built from ``config`` with the file's weights, once the config agrees with the
        fitted facts and the tensors have exactly the shapes the net needs."""
        for key, fact in self._config_facts().items():
            if key in config and config[key] != fact:
                raise storage.Damaged(f"its net has {key}={config[key]!r} but the model {fact!r}")
        weights = storage.strip(tensors, "net.")
        if len(weights) != len(tensors):
            raise storage.Damaged(f"tensor {sorted(set(tensors) - {'net.' + k for k in weights})[0]} belongs to no net")
        storage.check_layout(weights, networks.expected_state(name, config), "net.")
        net = networks.build(name, config)
        net.load_state_dict(weights, strict=True)
        net.eval()
        if self._image_input:
            net = net.to(memory_format=torch.channels_last)
        self.net_name_, self.net_config_ = name, config
        return net

    def _config_facts(self) -> dict[str, Any]:
        """What the net's config must say, given the fitted facts (inputs; classes or outputs in subclasses)."""
        return {"n_inputs": self.n_features_in_}


def read_n_features_in(info: dict) -> int:
    """The number of input columns a file records: 1 to 784."""
    return storage.want(info, "n_features_in", int, lambda v: 1 <= v <= N_PIXELS, f"an integer from 1 to {N_PIXELS}")


def read_fit_seconds(info: dict) -> float | None:
    """The training time a file records, if any."""
    return storage.want(info, "fit_seconds", (int, float, type(None)),
                        lambda v: v is None or (storage.finite(v) and v >= 0), "a number of seconds", None)


def _split(n: int, validation_fraction: float, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Row indices (train, validation): a seeded random share held out, none if it would be empty or leave <2."""
    n_val = int(round(validation_fraction * n))
    if n_val < 1 or n - n_val < 2:
        n_val = 0
    order = torch.randperm(n, generator=torch.Generator().manual_seed(seed))
    return order[n_val:], order[:n_val]


__all__ = ["NeuralEstimator", "NetEstimator", "EVAL_BATCH", "NOT_SAVED"]
