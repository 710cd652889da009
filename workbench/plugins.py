"""Plugins: other packages add backends (catalog entries) and protocols through entry points.

In a plugin's ``pyproject.toml``::

    [project.entry-points."workbench.backends"]
    sklearn = "workbench_sklearn:ENTRIES"        # a list of CatalogEntry, or a function returning one

    [project.entry-points."workbench.protocols"]
    best-of = "workbench_best_of:RULES"          # a ProtocolRules, a list of them, or a function returning either

Entry points are read once, on first use. A plugin that fails to load is reported with a warning naming
it and left out; the rest of the workbench goes on working.
"""
from __future__ import annotations

import functools
import warnings
from importlib.metadata import entry_points
from typing import Any

BACKENDS, PROTOCOLS = "workbench.backends", "workbench.protocols"


def _items(value: Any) -> list:
    value = value() if callable(value) and not hasattr(value, "name") else value
    return list(value) if isinstance(value, (list, tuple)) else [value]


def _load(group: str, kind: type) -> list:
    found = []
    for point in entry_points(group=group):
        try:
            items = _items(point.load())
            bad = [i for i in items if not isinstance(i, kind)]
            if bad:
                raise TypeError(f"expected {kind.__name__} objects, got {type(bad[0]).__name__}")
            found.extend(items)
        except Exception as exc:
            warnings.warn(f"workbench plugin {point.name!r} ({point.value}) in group {group} was left out: "
                          f"{type(exc).__name__}: {exc}", stacklevel=2)
    return found


@functools.cache
def plugin_entries() -> tuple:
    from workbench.core.catalog import CatalogEntry

    return tuple(_load(BACKENDS, CatalogEntry))


@functools.cache
def plugin_protocols() -> tuple:
    from workbench.core.protocols import ProtocolRules

    return tuple(_load(PROTOCOLS, ProtocolRules))
