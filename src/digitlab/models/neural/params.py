"""The parameters of digitlab's nets, declared once: default, type, meaning (and, later, valid values).

Every net takes the training parameters in ``SHARED``. A class declares only its own parameters
(``_own_params``) and the shared defaults it changes (``_shared_defaults``); :func:`install` then gives it
an ``__init__`` with a real signature (keyword-only, no ``**kwargs``: scikit-learn's ``get_params``, ``clone``
and the registry read it) that only stores the parameters, and the Parameters section of its docstring.
"""

from __future__ import annotations

import inspect
import textwrap
from dataclasses import dataclass, replace
from typing import Any


@dataclass(frozen=True)
class Param:
    """One constructor parameter."""

    default: Any
    type: str  # as numpydoc writes it: "int", "float or None"
    doc: str  # what it does, in a sentence or two
    internal: bool = False  # set by digitlab's tasks (callbacks, file paths), not a model setting


# The training parameters every net shares, with the defaults a class gets unless it changes them.
SHARED: dict[str, Param] = {
    "epochs": Param(20, "int", "Passes over the training rows."),
    "batch_size": Param(128, "int", "Rows per optimiser step (the last incomplete batch of each epoch is dropped)."),
    "lr": Param(1e-3, "float", "Learning rate (the peak rate under the one-cycle schedule)."),
    "weight_decay": Param(0.0, "float", "Decoupled weight decay (AdamW)."),
    "schedule": Param("onecycle", "{'onecycle', 'constant'}",
                      "Learning-rate schedule: one cycle (warm-up then annealing) or a constant rate."),
    "validation_fraction": Param(0.1, "float",
                                 "Share of the rows held out to pick the best epoch and stop early; 0 = none."),
    "patience": Param(5, "int", "Epochs without a better validation score before stopping."),
    "random_state": Param(0, "int, RandomState or None",
                          "Seed for initial weights, split, shuffling, dropout and augmentation."),
    "n_threads": Param(None, "int or None", "Torch threads; None = every core."),
    "progress": Param(None, "callable or None",
                      "Called with one dict per batch and per epoch: {'event': 'batch', 'epoch', 'epochs', 'step', "
                      "'steps', 'loss'} and {'event': 'epoch', 'epoch', 'epochs', 'loss', 'lr', 'seconds', "
                      "'best_epoch', and with a validation split 'val_loss', 'val_score'}; an ensemble adds "
                      "'member', 'members'. Raising KeyboardInterrupt from it stops training as Ctrl-C does.",
                      internal=True),
    "verbose": Param(False, "bool", "Print one line per epoch on stderr.", internal=True),
    "checkpoint_path": Param(None, "str or None", "Write a checkpoint there after every epoch (atomically).",
                             internal=True),
    "resume_from": Param(None, "str or None", "Continue fitting from that checkpoint (same data and parameters).",
                         internal=True),
}


def optional(param: Param, meaning: str) -> Param:
    """``param`` made optional: default None, which means ``meaning`` (e.g. "the preset's value")."""
    return replace(param, default=None, type=f"{param.type} or None", doc=f"{param.doc} None: {meaning}.")


def table(own: dict[str, Param], shared_defaults: dict[str, Any]) -> dict[str, Param]:
    """Every parameter of a class, its own first: ``own`` may also replace a shared one (same name)."""
    unknown = set(shared_defaults) - set(SHARED)
    if unknown:
        raise TypeError(f"no shared parameter {sorted(unknown)[0]!r} to change the default of")
    shared = {name: own.get(name) or replace(p, default=shared_defaults.get(name, p.default))
              for name, p in SHARED.items()}
    return {**{name: p for name, p in own.items() if name not in SHARED}, **shared}


def install(cls: type, params: dict[str, Param]) -> None:
    """Give ``cls`` the ``__init__`` and the docstring section that ``params`` describe."""
    cls._param_table = params
    cls.__init__ = _make_init(cls, params)
    cls.__doc__ = (cls.__doc__ or "").rstrip() + "\n\n" + docstring_section(params)


def _make_init(cls: type, params: dict[str, Param]):
    """An ``__init__`` that stores each parameter as given: what scikit-learn asks of an estimator."""
    signature = inspect.Signature(
        [inspect.Parameter("self", inspect.Parameter.POSITIONAL_OR_KEYWORD)]
        + [inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=p.default) for name, p in params.items()])

    def __init__(self, **kwargs):
        try:
            bound = signature.bind(self, **kwargs)
        except TypeError as exc:  # an unknown parameter: say whose
            raise TypeError(f"{type(self).__name__}() {exc}") from None
        bound.apply_defaults()
        for name, value in bound.arguments.items():
            if name != "self":
                setattr(self, name, value)

    __init__.__signature__ = signature
    __init__.__qualname__ = f"{cls.__qualname__}.__init__"
    __init__.__module__ = cls.__module__
    __init__.__doc__ = f"Store the parameters; see the {cls.__name__} docstring."
    return __init__


def docstring_section(params: dict[str, Param], indent: str = "    ") -> str:
    """The numpydoc Parameters section for ``params``."""
    lines = ["Parameters", "----------"]
    for name, p in params.items():
        lines.append(f"{name} : {p.type}, default={p.default!r}")
        lines += textwrap.wrap(p.doc, 100, initial_indent="    ", subsequent_indent="    ")
    return textwrap.indent("\n".join(lines), indent) + "\n"


__all__ = ["Param", "SHARED", "optional", "table", "install", "docstring_section"]
