"""Data sets that ship with the workbench (nothing is downloaded), each with its way of scoring an answer.

A data set loads as ``(input Message, expected)`` pairs; ``score(output, expected)`` says whether a run's
output is right. Loaders and scorers are named by import path and imported only when used.
"""
from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any, Callable


@dataclass(frozen=True)
class Dataset:
    name: str
    description: str
    loader: str   # "module:function" -> list of (Message, expected)
    scorer: str   # "module:function" (output Message | None, expected) -> bool

    def load(self) -> list:
        return _resolve(self.loader)()

    def score(self, output: Any, expected: Any) -> bool:
        return bool(_resolve(self.scorer)(output, expected))


DATASETS: dict[str, Dataset] = {d.name: d for d in [
    Dataset("digits", "scikit-learn's digits, the 450 held-out images",
            "workbench.data.digits:heldout_examples", "workbench.data.digits:score_label"),
    Dataset("router-questions", "269 questions, each labelled with the specialist that should take it",
            "workbench.data.textsets:router_examples", "workbench.data.textsets:score_route"),
    Dataset("text-tasks", "187 short questions with checkable answers: arithmetic, units, capitals, logic",
            "workbench.data.textsets:task_examples", "workbench.data.textsets:score_task"),
]}


def get_dataset(name: str) -> Dataset:
    from workbench.errors import WorkbenchError

    try:
        return DATASETS[name]
    except KeyError:
        raise WorkbenchError(f"unknown data set {name!r}; known: {', '.join(DATASETS)}") from None


def load_dataset(name: str) -> list:
    return get_dataset(name).load()


def _resolve(path: str) -> Callable:
    module_name, _, attr = path.partition(":")
    return getattr(importlib.import_module(module_name), attr)
