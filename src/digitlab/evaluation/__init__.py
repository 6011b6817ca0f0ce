"""Evaluation: metric definitions (``metrics``) and plots drawn on a given Axes (``plots``, imports matplotlib
only when a plot is drawn)."""

__all__ = ["metrics", "plots"]
