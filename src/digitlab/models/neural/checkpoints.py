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
    device: str  # "cpu" or "cuda": a run resumes on the device it started on


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
    if state.device.type == "cuda":  # dropout draws from the GPU's own generator
        tensors["rng.cuda"] = torch.cuda.get_rng_state(state.device)
    sched = state.sched
    info = {"epoch": state.epoch, "history": state.history, "best_score": state.best_score,
            "best_epoch": state.best_epoch, "stopped": state.stopped, "n_rows": ident.n_rows,
            "optimizer": storage.jsonable(opt_state["param_groups"]),
            "scheduler": storage.jsonable(sched.state_dict())
            if isinstance(sched, torch.optim.lr_scheduler.OneCycleLR) else None,
            "mean": ident.mean, "std": ident.std, "net": ident.net, "config": ident.config, "device": ident.device}
    header = {"digitlab_version": __version__, "kind": "checkpoint", "class": ident.cls, "params": ident.params,
              "state": info}
    storage.write(path, tensors, header)


def restore(path, state: State, ident: Identity) -> None:
    """Load the checkpoint at ``path`` into ``state``, after checking it belongs to this run and that every
    fact and tensor in it fits the run (a damaged checkpoint is a ModelError, not a failure mid-training)."""
    tensors, header = storage.read(path)
    try:
        info = storage.want(header, "state", dict)
        _check_identity(path, header, info, ident)
        _check_progress(info, state.settings.epochs)
        storage.check_layout(tensors, _expected_tensors(state, tensors), what="the run being resumed")
        _check_optimizer(info, state)
        _load(state, tensors, info)
    except (ValueError, TypeError, KeyError, IndexError, RuntimeError, OverflowError) as exc:
        raise storage.damaged(path, str(exc).splitlines()[0] if str(exc) else type(exc).__name__) from None


def _load(state: State, tensors: dict[str, torch.Tensor], info: dict) -> None:
    state.net.load_state_dict(storage.strip(tensors, "net."))
    _load_optimizer(state.opt, storage.strip(tensors, "optim."), info["optimizer"])
    if info["scheduler"] is not None:
        state.sched.load_state_dict(info["scheduler"])
    torch.set_rng_state(tensors["rng.torch"])
    state.gen.set_state(tensors["rng.gen"])
    if "rng.cuda" in tensors:
        torch.cuda.set_rng_state(tensors["rng.cuda"], state.device)
    state.history = info["history"]
    state.best_state = storage.strip(tensors, "best.") or None
    state.best_score, state.best_epoch = info["best_score"], info["best_epoch"]
    state.epoch, state.stopped = info["epoch"], info["stopped"]
    state.resumed_from = state.epoch


def _check_identity(path, header: dict, info: dict, ident: Identity) -> None:
    if header.get("kind") != "checkpoint":
        raise ModelError(f"{path} is a saved model, not a training checkpoint.")
    if header.get("class") != ident.cls:
        raise ModelError(f"{path} is a checkpoint of a {header.get('class')}, not of a {ident.cls}.")
    theirs, mine = storage.want(header, "params", dict), ident.params
    diff = sorted(k for k in set(theirs) | set(mine) if k not in MAY_CHANGE and theirs.get(k) != mine.get(k))
    if diff:
        raise ModelError(f"{path} was made with different parameters ({', '.join(diff)}); resume with the same ones.")
    if info.get("n_rows") != ident.n_rows or info.get("mean") != ident.mean or info.get("config") != ident.config:
        raise ModelError(f"{path} was made on different training data; resume with the same data.")
    made_on = info.get("device", "cpu")
    if made_on != ident.device:
        raise ModelError(f"{path} was made on the {made_on.upper()}; resume it there (device={made_on!r}).")


def _check_progress(info: dict, epochs: int) -> None:
    """The epoch reached, the history and the best epoch must agree with each other and with ``epochs``."""
    want = storage.want
    epoch = want(info, "epoch", int, lambda v: 0 <= v <= epochs, f"an epoch from 0 to {epochs}")
    want(info, "history", list, lambda v: len(v) == epoch and all(isinstance(r, dict) for r in v),
         f"the records of {epoch} epochs")
    want(info, "best_epoch", int, lambda v: v == -1 or 1 <= v <= epoch, "-1 or an epoch of its history")
    want(info, "best_score", (int, float, type(None)))
    want(info, "stopped", bool)


def _expected_tensors(state: State, tensors: dict) -> dict[str, tuple[tuple[int, ...], torch.dtype]]:
    """The layout the checkpoint's tensors must have: the run's net (and best weights, if saved), Adam's
    step and two moments for each parameter it has state for, and both random generators."""
    net = {k: (tuple(v.shape), v.dtype) for k, v in state.net.state_dict().items()}
    expected = {f"net.{k}": v for k, v in net.items()}
    if any(k.startswith("best.") for k in tensors):
        expected.update({f"best.{k}": v for k, v in net.items()})
    params = [p for group in state.opt.param_groups for p in group["params"]]
    for pid in sorted({k.split(".")[1] for k in tensors if k.startswith("optim.")}):
        p = params[int(pid)] if pid.isdigit() and int(pid) < len(params) else None
        if p is None:
            raise storage.Damaged(f"optimiser state for parameter {pid[:20]!r}, which the net has not")
        expected.update({f"optim.{pid}.step": ((), torch.float32),
                         f"optim.{pid}.exp_avg": (tuple(p.shape), p.dtype),
                         f"optim.{pid}.exp_avg_sq": (tuple(p.shape), p.dtype)})
    rng = (tuple(torch.get_rng_state().shape), torch.uint8)
    expected.update({"rng.torch": rng, "rng.gen": (tuple(state.gen.get_state().shape), torch.uint8)})
    if state.device.type == "cuda":
        expected["rng.cuda"] = (tuple(torch.cuda.get_rng_state(state.device).shape), torch.uint8)
    return expected


# Scheduler entries that change as training goes; every other one must be what these parameters give.
_COUNTERS = {"last_epoch", "_step_count", "_is_initial", "_get_lr_called_within_step", "_last_lr"}


def _check_optimizer(info: dict, state: State) -> None:
    """The optimiser's groups and the schedule must be the ones this run builds, up to their counters."""
    fresh = state.opt.state_dict()["param_groups"]
    groups = storage.want(info, "optimizer", list, lambda v: len(v) == len(fresh), "the optimiser's groups")
    for group, ref in zip(groups, fresh):
        if not isinstance(group, dict) or set(group) != set(ref) or group["params"] != ref["params"] \
                or not all(_numbers(v) for k, v in group.items() if k != "params"):
            raise storage.Damaged("its optimiser settings do not fit the net")
    saved = info.get("scheduler")
    if not isinstance(state.sched, torch.optim.lr_scheduler.OneCycleLR):
        storage.want(info, "scheduler", type(None), expected="none (a constant learning rate)")
        return
    ref = storage.jsonable(state.sched.state_dict())
    if not isinstance(saved, dict) or set(saved) != set(ref) \
            or any(saved[k] != ref[k] for k in ref if k not in _COUNTERS) \
            or not all(_numbers(saved[k]) for k in _COUNTERS & set(ref)) \
            or not 0 <= saved["last_epoch"] <= ref["total_steps"]:
        raise storage.Damaged("its learning-rate schedule does not fit these parameters")


def _numbers(value) -> bool:
    """A plain setting: None, a bool, a string, a finite number, or a list of those."""
    if isinstance(value, list):
        return all(_numbers(v) for v in value if not isinstance(v, list))
    return value is None or isinstance(value, (bool, str)) or storage.finite(value)


def _load_optimizer(opt: torch.optim.Optimizer, tensors: dict[str, torch.Tensor], param_groups: list) -> None:
    state: dict[int, dict] = {}
    for name, value in tensors.items():
        pid, key = name.split(".", 1)
        state.setdefault(int(pid), {})[key] = value
    groups = [{**g, "betas": tuple(g["betas"])} if "betas" in g else dict(g) for g in param_groups]
    opt.load_state_dict({"state": state, "param_groups": groups})


__all__ = ["Identity", "Checkpoint", "write", "restore", "MAY_CHANGE"]
