"""Continuing an interrupted net's run: the run's own configuration, and the options that would contradict it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..errors import UsageError
from ..runs import Run, find_run

CHECKPOINT = "checkpoint.safetensors"  # a neural model's last epoch, in its run folder
DEFAULT_SEED = 42
RECORDED = ("model", "dataset", "set", "augment", "noise", "n_train", "n_test", "seed", "holdout")


def resumed(resume: str | Path, runs: str | Path | None, kind: str, asked: dict[str, Any]) -> tuple[Run, dict]:
    """The run to resume and the configuration it was started with.

    ``asked`` holds what the caller passed (None where nothing was); a value that differs from the run's is
    refused in one sentence rather than silently ignored, since the checkpoint can only continue the same
    training (same model, data, parameters and seed).
    """
    run = find_run(resume, runs)
    recorded = run.read()
    if recorded.get("kind") != kind:
        raise UsageError(f"Run {run.path} is a {recorded.get('kind', 'unknown')} run, not a {kind} run; resume it "
                         f"with `digitlab {recorded.get('kind', kind)} --resume`.")
    if not run.file(CHECKPOINT).is_file():
        raise UsageError(f"Run {run.path} has no {CHECKPOINT} to resume from (it trained a model without epochs, "
                         f"or was stopped before its first epoch ended); start a new run instead.")
    run.sweep_parts()  # temporary files a killed process left behind
    config = {key: recorded.get(key) for key in RECORDED if key in recorded}
    config["params"] = config.pop("set", None) or {}
    differing = [f"{key} {value!r} (the run has {config.get(key)!r})" for key, value in asked.items()
                 if value is not None and value != config.get(key) and not (key == "params" and not value)]
    if differing:
        raise UsageError(f"Resuming {run.path.name} continues it exactly as it was started; these differ from it: "
                         f"{'; '.join(differing)}. Leave them out, or start a new run.")
    return run, config


def resume_args(resume: str | Path, runs: str | Path | None, kind: str, args: dict[str, Any],
                defaults: dict[str, Any] | None = None) -> tuple[Run, dict[str, Any]]:
    """A task's arguments replaced by those of the run to resume; ``args`` values equal to ``defaults`` count
    as not given. The data may stay arrays or a Dataset the caller passes (they cannot be recorded)."""
    data, model = args["data"], args["model"]
    asked = {key: value for key, value in args.items() if key not in ("data", "model")}
    asked |= {"model": model if isinstance(model, str) else None, "dataset": data if isinstance(data, str) else None}
    for key, default in (defaults or {}).items():
        if asked.get(key) == default:
            asked[key] = None
    run, recorded = resumed(resume, runs, kind, asked)
    replaced = {**args, **{key: recorded.get(key) for key in args if key != "data"}}
    replaced["data"] = data if data is not None and not isinstance(data, str) else recorded.get("dataset")
    return run, replaced
