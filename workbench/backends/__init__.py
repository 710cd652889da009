"""Backends: one module per way of running a model, all behind :class:`workbench.backends.base.Model`."""
from workbench.backends.base import Model, PythonModel

__all__ = ["Model", "PythonModel"]
