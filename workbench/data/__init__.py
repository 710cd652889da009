"""Data sets that ship with the workbench (nothing is downloaded)."""
from __future__ import annotations

import importlib
from typing import Callable

# name -> "module:function" returning a list of (input Message, expected label)
DATASETS: dict[str, str] = {
    "digits": "workbench.data.digits:heldout_examples",
}


def load_dataset(name: str) -> list:
    from workbench.errors import WorkbenchError

    try:
        module_name, _, attr = DATASETS[name].partition(":")
    except KeyError:
        raise WorkbenchError(f"unknown data set {name!r}; known: {', '.join(DATASETS)}") from None
    loader: Callable[[], list] = getattr(importlib.import_module(module_name), attr)
    return loader()
