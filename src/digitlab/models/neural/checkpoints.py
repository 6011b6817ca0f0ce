"""Training checkpoints: the whole state of a run after an epoch, written as a callback and read to resume.

A checkpoint is a :mod:`.storage` file with ``"kind": "checkpoint"``: the net's weights, the best weights so
far, the optimiser's tensors and both random generators as tensors; the history, schedule and the facts
that tie it to its training data and parameters (``Identity``) in the header. Resuming with other
parameters or other data is refused, so a resumed run is the uninterrupted one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch

from ..._version import __version__
from ...errors import ModelError
from . import storage
from .training import Callback, State

# Parameters that may change between a run and its resumption without changing the result.
MAY_CHANGE = {"verbose", "n_threads"}


@dataclass(frozen=True)
class Identity:
    """What a checkpoint must share with the run that resumes it."""

    cls: str  # the estimator's class name
    params: dict[str, Any]  # its saved parameters
    n_rows: int  # training rows, validation split included
    mean: float  # input scaling learnt from the data
    std: float
    net: str
    config: dict[str, Any]


class Checkpoint(Callback):
    """Write a checkpoint to ``path`` (atomically) after every epoch."""

    def __init__(self, path, identity: Identity):
        self.path, self.identity = path, identity

    def on_epoch_end(self, state, record):
        write(self.path, state, self.identity)


def write(path, state: State, ident: Identity) -> None:
    opt_state = state.opt.state_dict()
    tensors = {f"net.{k}": v for k, v in state.net.state_dict().items()}
    if state.best_state is not None:
        tensors.update({f"best.{k}": v for k, v in state.best_state.items()})
    for pid, values in opt_state["state"].items():
        for key, value in values.items():
            tensors[f"optim.{pid}.{key}"] = value if torch.is_tensor(value) else torch.tensor(value)
    tensors["rng.torch"] = torch.get_rng_state()
    tensors["rng.gen"] = state.gen.get_state()
    sched = state.sched
    info = {"epoch": state.epoch, "history": state.history, "best_score": state.best_score,
            "best_epoch": state.best_epoch, "stopped": state.stopped, "n_rows": ident.n_rows,
            "optimizer": storage.jsonable(opt_state["param_groups"]),
            "scheduler": storage.jsonable(sched.state_dict())
            if isinstance(sched, torch.optim.lr_scheduler.OneCycleLR) else None,
            "mean": ident.mean, "std": ident.std, "net": ident.net, "config": ident.config}
    header = {"format": storage.FORMAT, "format_version": storage.FORMAT_VERSION, "digitlab_version": __version__,
              "kind": "checkpoint", "class": ident.cls, "params": ident.params, "state": info}
    storage.write(path, tensors, header)


def restore(path, state: State, ident: Identity) -> None:
    """Load the checkpoint at ``path`` into ``state``, after checking it belongs to this run."""
    tensors, header = storage.read(path)
    info = header.get("state", {})
    _check(path, header, info, ident)
    state.net.load_state_dict(storage.strip(tensors, "net."))
    _load_optimizer(state.opt, storage.strip(tensors, "optim."), info["optimizer"])
    if info["scheduler"] is not None:
        state.sched.load_state_dict(info["scheduler"])
    torch.set_rng_state(tensors["rng.torch"])
    state.gen.set_state(tensors["rng.gen"])
    state.history = info["history"]
    state.best_state = storage.strip(tensors, "best.") or None
    state.best_score, state.best_epoch = info["best_score"], info["best_epoch"]
    state.epoch, state.stopped = info["epoch"], info["stopped"]
    state.resumed_from = state.epoch


def _check(path, header: dict, info: dict, ident: Identity) -> None:
    if header.get("kind") != "checkpoint":
        raise ModelError(f"{path} is a saved model, not a training checkpoint.")
    if header.get("class") != ident.cls:
        raise ModelError(f"{path} is a checkpoint of a {header.get('class')}, not of a {ident.cls}.")
    theirs, mine = header["params"], ident.params
    diff = sorted(k for k in set(theirs) | set(mine) if k not in MAY_CHANGE and theirs.get(k) != mine.get(k))
    if diff:
        raise ModelError(f"{path} was made with different parameters ({', '.join(diff)}); resume with the same ones.")
    if info["n_rows"] != ident.n_rows or info["mean"] != ident.mean or info["config"] != ident.config:
        raise ModelError(f"{path} was made on different training data; resume with the same data.")


def _load_optimizer(opt: torch.optim.Optimizer, tensors: dict[str, torch.Tensor], param_groups: list) -> None:
    state: dict[int, dict] = {}
    for name, value in tensors.items():
        pid, key = name.split(".", 1)
        state.setdefault(int(pid), {})[key] = value
    groups = [{**g, "betas": tuple(g["betas"])} if "betas" in g else dict(g) for g in param_groups]
    opt.load_state_dict({"state": state, "param_groups": groups})


__all__ = ["Identity", "Checkpoint", "write", "restore", "MAY_CHANGE"]
