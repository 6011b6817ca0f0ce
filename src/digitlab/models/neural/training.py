"""The training loop every net shares, and the callbacks that run at the end of each batch and epoch.

AdamW on shuffled mini-batches drawn with a seeded ``torch.Generator``, an optional one-cycle learning-rate
schedule, optional bfloat16 mixed precision; all on the training device, where the rows already are. What
happens between epochs is a list of callbacks, in order: :class:`KeepBest` (remember the best weights),
:class:`EarlyStopping`, a checkpoint writer (:class:`.checkpoints.Checkpoint`) and :class:`Report` (the
``progress`` callable and ``verbose`` lines).
Ctrl-C (KeyboardInterrupt, also raised from a callback) ends training with the best weights so far.
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass, field
from typing import Any, Callable

import torch
from torch import nn


@dataclass(frozen=True)
class Settings:
    """The effective training settings (a preset may have filled some)."""

    epochs: int
    batch_size: int
    lr: float
    weight_decay: float
    schedule: str  # "onecycle" or "constant"
    precision: str  # "float32" or "bfloat16" (already resolved)


@dataclass
class Split:
    """Prepared inputs and encoded targets: the rows trained on and the held-out ones (maybe none)."""

    X_train: torch.Tensor
    T_train: torch.Tensor
    X_val: torch.Tensor
    T_val: torch.Tensor


@dataclass(frozen=True)
class Objective:
    """What the estimator says about its task: the batch it trains on, the loss, the validation figures."""

    augment: Callable[[torch.Tensor, torch.Generator, torch.Tensor], torch.Tensor]
    loss: Callable[[torch.Tensor, torch.Tensor], torch.Tensor]
    evaluate: Callable[[nn.Module, torch.Tensor, torch.Tensor], tuple[float, float]]  # (val_loss, val_score)


@dataclass
class State:
    """Everything one training run holds; callbacks read and change it, a checkpoint saves it."""

    net: nn.Module
    settings: Settings
    opt: torch.optim.Optimizer
    sched: Any  # a torch learning-rate scheduler
    gen: torch.Generator  # on the training device: batch order and augmentation
    device: torch.device
    history: list[dict] = field(default_factory=list)
    best_state: dict[str, torch.Tensor] | None = None
    best_score: float | None = None
    best_epoch: int = -1
    epoch: int = 0  # epochs completed
    stopped: bool = False  # early stopping ended the run
    interrupted: bool = False
    resumed_from: int | None = None  # the epoch a checkpoint restored
    seconds: float = 0.0


class Callback:
    """Runs after every batch and every epoch; may set ``state.stopped`` or raise KeyboardInterrupt."""

    def on_batch_end(self, state: State, info: dict) -> None:
        pass

    def on_epoch_end(self, state: State, record: dict) -> None:
        pass


def start(net: nn.Module, settings: Settings, seed: int, n_train: int, device: torch.device) -> State:
    """A fresh run of ``net`` (already on ``device``): the optimiser, its schedule and the batch generator on
    ``device``, seeded with ``seed + 1``."""
    opt = torch.optim.AdamW(net.parameters(), lr=settings.lr, weight_decay=settings.weight_decay)
    total = settings.epochs * max(1, n_train // settings.batch_size)
    if settings.schedule == "onecycle" and total >= 10:  # fewer steps cannot hold the cycle
        sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=settings.lr, total_steps=total, pct_start=0.25)
    else:
        sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda step: 1.0)
    return State(net, settings, opt, sched, torch.Generator(device=device).manual_seed(seed + 1), device)


def run(state: State, data: Split, objective: Objective, callbacks: list[Callback]) -> State:
    """Train from ``state.epoch`` to ``settings.epochs`` (or an early stop, or Ctrl-C), then keep the best weights."""
    t0 = time.perf_counter()
    try:
        for epoch in range(state.epoch, state.settings.epochs):
            if state.stopped:
                break
            record = _epoch(state, data, objective, callbacks, epoch)
            state.history.append(record)
            state.epoch = epoch + 1
            for callback in callbacks:
                callback.on_epoch_end(state, record)
    except KeyboardInterrupt:
        state.interrupted = True
    if state.best_state is not None:
        state.net.load_state_dict(state.best_state)
    state.net.eval()
    state.seconds = time.perf_counter() - t0
    return state


def _epoch(state: State, data: Split, objective: Objective, callbacks: list[Callback], epoch: int) -> dict:
    """One pass over the training rows in a fresh order; returns the epoch's record for the history."""
    t0 = time.perf_counter()
    s = state.settings
    state.net.train()
    n_train, bs = data.X_train.shape[0], s.batch_size
    steps = max(1, n_train // bs)
    order = torch.randperm(n_train, generator=state.gen, device=state.device)
    total, count = 0.0, 0
    for step in range(steps):
        idx = order[step * bs:(step + 1) * bs] if n_train >= bs else order
        loss = _step(state, objective, data.X_train[idx], data.T_train[idx])
        total += loss * len(idx)
        count += len(idx)
        info = {"epoch": epoch + 1, "epochs": s.epochs, "step": step + 1, "steps": steps, "loss": total / count}
        for callback in callbacks:
            callback.on_batch_end(state, info)
    record = {"epoch": epoch + 1, "loss": total / count, "lr": state.opt.param_groups[0]["lr"]}
    if len(data.X_val):
        val_loss, val_score = objective.evaluate(state.net, data.X_val, data.T_val)
        record.update(val_loss=val_loss, val_score=val_score)
    record["seconds"] = time.perf_counter() - t0
    return record


def _step(state: State, objective: Objective, xb: torch.Tensor, tb: torch.Tensor) -> float:
    """One optimiser step on one batch; returns its loss."""
    xb = objective.augment(xb, state.gen, tb)
    with torch.autocast(state.device.type, dtype=torch.bfloat16, enabled=state.settings.precision == "bfloat16"):
        out = state.net(xb)
    loss = objective.loss(out.float(), tb)  # weights, optimiser and loss stay float32
    state.opt.zero_grad(set_to_none=True)
    loss.backward()
    state.opt.step()
    state.sched.step()
    return float(loss.detach())


class KeepBest(Callback):
    """Snapshot the weights whenever the validation score improves (every epoch without a validation split)."""

    def on_epoch_end(self, state, record):
        score = record.get("val_score")
        if "val_score" not in record or state.best_score is None or score > state.best_score:
            state.best_state = {k: v.detach().clone() for k, v in state.net.state_dict().items()}
            state.best_score, state.best_epoch = score, record["epoch"]


class EarlyStopping(Callback):
    """Stop after ``patience`` epochs without a better validation score (only with a validation split)."""

    def __init__(self, patience: int):
        self.patience = patience

    def on_epoch_end(self, state, record):
        state.stopped = "val_score" in record and record["epoch"] - state.best_epoch >= self.patience


class Report(Callback):
    """Pass batch and epoch events to ``progress`` and, when ``verbose``, print one line per epoch on stderr."""

    def __init__(self, progress: Callable[[dict], Any] | None, verbose: bool):
        self.progress, self.verbose = progress, verbose

    def on_batch_end(self, state, info):
        if self.progress is not None:
            self.progress({"event": "batch", **info})

    def on_epoch_end(self, state, record):
        if self.progress is not None:
            self.progress({"event": "epoch", "epochs": state.settings.epochs, "best_epoch": state.best_epoch,
                           **record})
        if self.verbose:
            extra = (f"  val_loss {record['val_loss']:.4f}  val_score {record['val_score']:.4f}"
                     if "val_score" in record else "")
            print(f"epoch {record['epoch']}/{state.settings.epochs}  loss {record['loss']:.4f}{extra}  "
                  f"{record['seconds']:.1f}s", file=sys.stderr)


__all__ = ["Settings", "Split", "Objective", "State", "Callback", "start", "run", "KeepBest", "EarlyStopping",
           "Report"]
