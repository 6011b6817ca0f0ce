"""What a fitted net is and how it was trained, for ``digitlab info``: its layers and its training facts."""

from __future__ import annotations

from typing import Any

import torch
from sklearn.utils.validation import check_is_fitted
from torch import nn

from ...shapes import SIDE


def training_facts(estimator) -> dict[str, Any]:
    """How a fitted net was trained: epochs run, best epoch, seconds, arithmetic, device, whether interrupted."""
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
    facts["device"] = (members or [estimator])[0].device_
    facts["interrupted"] = bool(estimator.interrupted_)
    return facts


def describe_net(estimator) -> list[tuple[str, tuple[int, ...], int]]:
    """Rows (layer, output shape without the batch axis, parameters) in forward order.

    Activations are folded into the layer before them, as in "Linear 784 -> 10 [ReLU]"; for an ensemble the
    first member is listed and one row stands for the others. The total is the sum of the last column.
    """
    check_is_fitted(estimator)
    all_nets = estimator._nets()
    image = getattr(estimator, "_image_input", True)
    device = next(all_nets[0].parameters()).device
    x = torch.zeros((1, 1, SIDE, SIDE) if image else (1, estimator.n_features_in_), device=device)
    rows = _layer_rows(all_nets[0], x)
    activation = getattr(estimator, "_output_activation", None)  # applied outside the net
    if activation and rows:
        rows[-1][0] += f" [{activation}]"
    out = [(r[0], r[1], int(r[2])) for r in rows]
    if len(all_nets) > 1:
        rest = sum(p.numel() for n in all_nets[1:] for p in n.parameters())
        out.append((f"{len(all_nets) - 1} more members like the one above", out[-1][1], int(rest)))
    return out


def _layer_rows(net: nn.Module, x: torch.Tensor) -> list[list]:
    """[label, output shape, parameters] of each leaf module as ``x`` goes through ``net``."""
    rows: list[list] = []

    def hook(module, _inputs, output):
        if isinstance(module, (nn.ReLU, nn.LeakyReLU, nn.Sigmoid)) and rows:
            rows[-1][0] += f" [{type(module).__name__}]"
            return
        rows.append([_label(module), tuple(output.shape[1:]), sum(p.numel() for p in module.parameters())])

    hooks = [m.register_forward_hook(hook) for m in net.modules() if not list(m.children())]
    try:
        with torch.inference_mode():
            net.eval()
            net(x)
    finally:
        for h in hooks:
            h.remove()
    return rows


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


__all__ = ["describe_net", "training_facts"]
