"""The parameters of digitlab's nets, declared once: default, type, meaning and valid values.

Every net takes the training parameters in ``SHARED``. A class declares only its own parameters
(``_own_params``) and the shared defaults it changes (``_shared_defaults``); :func:`install` then gives it
an ``__init__`` with a real signature (keyword-only, no ``**kwargs``: scikit-learn's ``get_params``, ``clone``
and the registry read it) that only stores the parameters, scikit-learn's ``_parameter_constraints`` (checked
by ``_validate_params``, with scikit-learn's own one-sentence message) and the Parameters section of its
docstring.
"""

from __future__ import annotations

import inspect
import os
import textwrap
from dataclasses import dataclass, replace
from numbers import Integral, Real
from typing import Any

from sklearn.utils._param_validation import Interval, Options, StrOptions


@dataclass(frozen=True)
class Param:
    """One constructor parameter."""

    default: Any
    type: str  # as numpydoc writes it: "int", "float or None"
    doc: str  # what it does, in a sentence or two
    valid: tuple = ()  # scikit-learn constraints: the value must satisfy one of them
    internal: bool = False  # set by digitlab's tasks (callbacks, file paths), not a model setting


class IntTuple(Options):
    """A tuple (or list, as JSON gives it back) of ``length`` integers in [low, high].

    A subclass of scikit-learn's ``Options`` only because its validator accepts no other custom constraint.
    """

    def __init__(self, length: int, low: int, high: int):
        super().__init__(tuple, set())
        self.length, self.low, self.high = length, low, high

    def is_satisfied_by(self, val) -> bool:
        return (isinstance(val, (tuple, list)) and len(val) == self.length
                and all(isinstance(v, Integral) and not isinstance(v, bool) and self.low <= v <= self.high
                        for v in val))

    def __str__(self) -> str:
        return f"a tuple of {self.length} ints in the range [{self.low}, {self.high}]"


def count(low: int = 1, high: int | None = None) -> Interval:
    """An integer from ``low`` to ``high`` (no upper bound when None)."""
    return Interval(Integral, low, high, closed="both" if high is not None else "left")


PATH = (str, os.PathLike, None)


# The training parameters every net shares, with the defaults a class gets unless it changes them.
SHARED: dict[str, Param] = {
    "epochs": Param(20, "int", "Passes over the training rows.", (count(),)),
    "batch_size": Param(128, "int", "Rows per optimiser step (the last incomplete batch of each epoch is dropped).",
                        (count(),)),
    # Adam's step is about lr per weight whatever the gradient's scale: past 1 every step wrecks the net.
    "lr": Param(1e-3, "float", "Learning rate (the peak rate under the one-cycle schedule).",
                (Interval(Real, 0, 1, closed="right"),)),
    "weight_decay": Param(0.0, "float", "Decoupled weight decay (AdamW): the share of each weight removed per "
                          "step, times the learning rate.", (Interval(Real, 0, 1, closed="both"),)),
    "schedule": Param("onecycle", "{'onecycle', 'constant'}",
                      "Learning-rate schedule: one cycle (warm-up then annealing) or a constant rate.",
                      (StrOptions({"onecycle", "constant"}),)),
    "validation_fraction": Param(0.1, "float",
                                 "Share of the rows held out to pick the best epoch and stop early; 0 = none.",
                                 (Interval(Real, 0, 1, closed="left"),)),
    "patience": Param(5, "int", "Epochs without a better validation score before stopping.", (count(),)),
    "random_state": Param(0, "int, RandomState or None",
                          "Seed for initial weights, split, shuffling, dropout and augmentation.", ("random_state",)),
    "n_threads": Param(None, "int or None", "Torch threads (at most the number of cores); None = every core.",
                       (count(), None)),
    "device": Param("auto", "{'auto', 'cpu', 'cuda'}",
                    "Where the net trains and predicts: 'auto' is the CUDA GPU when PyTorch sees one, else the CPU. "
                    "On a GPU the training rows are moved there once and augmented there, in bfloat16 mixed "
                    "precision where ``precision`` allows it. Model files hold no device: they load and predict "
                    "anywhere. 'cpu' trains exactly as digitlab did before it knew GPUs (same seed, same weights).",
                    (StrOptions({"auto", "cpu", "cuda"}),)),
    "progress": Param(None, "callable or None",
                      "Called with one dict per batch and per epoch: {'event': 'batch', 'epoch', 'epochs', 'step', "
                      "'steps', 'loss'} and {'event': 'epoch', 'epoch', 'epochs', 'loss', 'lr', 'seconds', "
                      "'best_epoch', and with a validation split 'val_loss', 'val_score'}; an ensemble adds "
                      "'member', 'members'. Raising KeyboardInterrupt from it stops training as Ctrl-C does.",
                      (callable, None), internal=True),
    "verbose": Param(False, "bool", "Print one line per epoch on stderr.", ("boolean",), internal=True),
    "checkpoint_path": Param(None, "str or None", "Write a checkpoint there after every epoch (atomically).",
                             PATH, internal=True),
    "resume_from": Param(None, "str or None", "Continue fitting from that checkpoint (same data and parameters).",
                         PATH, internal=True),
}


def optional(param: Param, meaning: str) -> Param:
    """``param`` made optional: default None, which means ``meaning`` (e.g. "the preset's value")."""
    return replace(param, default=None, type=f"{param.type} or None", doc=f"{param.doc} None: {meaning}.",
                   valid=(*param.valid, None))


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
    cls._internal_params = frozenset(name for name, p in params.items() if p.internal)
    cls._parameter_constraints = {name: list(p.valid) for name, p in params.items()}
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


__all__ = ["Param", "IntTuple", "count", "SHARED", "optional", "table", "install", "docstring_section"]
