"""The workbench in JupyterLab: the app's own components in a notebook, and the trace as plain Python.

    from workbench.notebook import Workbench, extension
    extension()                       # Panel and HoloViews, inlined: nothing is fetched from a CDN
    wb = Workbench("digits-ensemble") # a network, a network file or a shipped example's name
    wb                                # the graph editor (drag to link), run panel, inspector, trace
    result = await wb.run(image)      # a run started from Python shows live in the widget
    wb.dataframe()                    # one row per step

- :mod:`~workbench.notebook.widget`   ``Workbench``, ``extension``: the app's canvas, run panel and trace view
- :mod:`~workbench.notebook.records`  ``records``, ``dataframe``: steps as dicts and as a pandas DataFrame
- :mod:`~workbench.notebook.plots`    ``network_plot``, ``timeline``: HoloViews pictures for tutorials

There is one implementation: the widget *is* the app's ``GraphView``, ``RunPanel``, ``TraceView``,
``Inspector``, ``Palette`` and ``History``, laid out for a notebook. ``records`` and ``dataframe`` load no
Panel; the rest import Panel and HoloViews when first used.
"""
from __future__ import annotations

from workbench.notebook.records import dataframe, records

_LAZY = {"Workbench": "widget", "extension": "widget", "network_plot": "plots", "timeline": "plots"}

__all__ = ["Workbench", "dataframe", "extension", "network_plot", "records", "timeline"]


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(f"workbench.notebook.{_LAZY[name]}"), name)
    raise AttributeError(f"module 'workbench.notebook' has no attribute {name!r}")
