"""The tasks, one module each; every module's function of the same name returns a result object (model, metrics,
plot_* methods) and writes a run folder only when given ``runs=``. The public API (``digitlab.train``, ...)
re-exports those functions; see each module.
"""

__all__ = ["train", "denoise", "binary", "multiclass", "multilabel", "search", "evaluate", "predict", "show",
           "info", "result", "common", "cv", "data"]
