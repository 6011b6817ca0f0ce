"""What a saved model is: its class, the facts it carries (training data, parameters, test figures) and, for a
net, how it was trained and its layers."""

from __future__ import annotations

import os
from typing import Any

from ..models import persist


def info(path: str | os.PathLike) -> dict[str, Any]:
    """Describe the model file at ``path`` without running anything from it (``digitlab info``)."""
    saved = persist.load(path)
    result: dict[str, Any] = {"model_file": str(path), "class": type(saved.estimator).__name__, **saved.meta}
    if persist.is_net(saved.estimator):
        from ..models.neural import describe_net, training_facts

        result.update(training_facts(saved.estimator))
        result["layers"] = [{"layer": layer, "output shape": "x".join(map(str, shape)), "parameters": count}
                            for layer, shape, count in describe_net(saved.estimator)]
        result["total_parameters"] = sum(row["parameters"] for row in result["layers"])
    return result
