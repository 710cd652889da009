"""Load progress: what a model reports while it gets ready, for a CLI progress bar or a UI badge.

A model whose ``load`` takes a ``progress`` keyword calls it with :class:`Progress` records::

    def load(self, progress=None):
        report = Reporter(progress)
        report("reading tokenizer")                  # a stage without a count
        for i, tensor in enumerate(tensors, 1):
            report("dequantizing weights", i, len(tensors))

The engine passes one when it was given ``Engine(on_load=fn)``: ``fn(node_id, progress)`` for each record.
Models whose ``load`` takes no ``progress`` are loaded as before, and report nothing.
"""
from __future__ import annotations

import inspect
from dataclasses import dataclass
from typing import Callable


@dataclass(frozen=True, slots=True)
class Progress:
    model: str                  # the catalog name, e.g. "smollm2-torch"
    stage: str                  # what is happening, in words: "dequantizing weights"
    done: int = 0               # units finished in this stage
    total: int | None = None    # units in this stage; None when unknown

    @property
    def fraction(self) -> float | None:
        return None if not self.total else min(1.0, self.done / self.total)

    def __str__(self) -> str:
        count = f" {self.done}/{self.total}" if self.total else ""
        return f"{self.model}: {self.stage}{count}"


ProgressCallback = Callable[[Progress], None]


class Reporter:
    """Calls ``callback`` with Progress records of one model; a no-op without a callback."""

    def __init__(self, model: str, callback: ProgressCallback | None):
        self.model, self.callback = model, callback

    def __call__(self, stage: str, done: int = 0, total: int | None = None) -> None:
        if self.callback is not None:
            self.callback(Progress(self.model, stage, done, total))


def takes_progress(load: Callable) -> bool:
    """Whether a model's ``load`` accepts a ``progress`` keyword."""
    try:
        return "progress" in inspect.signature(load).parameters
    except (TypeError, ValueError):
        return False


__all__ = ["Progress", "ProgressCallback", "Reporter", "takes_progress"]
