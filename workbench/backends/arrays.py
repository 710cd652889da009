"""What the array backends (torch, MLX, numpy) share: weights files and the encode → forward → decode path.

An :class:`ArrayModel` turns a message into a numpy array (``encode``), runs it through the backend
(``forward``) and turns the result back into a message (``decode``). Backends implement ``_load`` and
``_forward``; models built on them override ``encode`` and ``decode``. Whatever the library underneath
raises during ``load`` or ``forward`` comes out as a :class:`~workbench.errors.ModelError`.
"""
from __future__ import annotations

import zipfile
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from workbench.backends.base import Model
from workbench.core.cards import ModelCard
from workbench.core.messages import Message
from workbench.errors import ModelError


@dataclass(frozen=True)
class WeightsFile:
    """A versioned ``.npz`` of named arrays, read without pickle. ``hint`` says how to (re)make it."""

    path: Path
    hint: str = ""

    def read(self) -> dict[str, np.ndarray]:
        with open(self.path, "rb") as file:  # np.load would take any other bytes for a pickle
            if not zipfile.is_zipfile(file):
                raise ValueError("not an .npz archive: the file is corrupt or was not written by np.savez")
        with np.load(self.path, allow_pickle=False) as npz:
            return {key: npz[key] for key in npz.files}

    def __str__(self) -> str:
        return f"weights file {self.path}" + (f"; {self.hint}" if self.hint else "")


class ArrayModel(Model):
    """A model whose work is a function of numpy arrays. ``node`` names the node in errors."""

    blocking = True

    def __init__(self, card: ModelCard, *, weights: WeightsFile | None = None, node: str | None = None):
        self.card, self.weights, self.node = card, weights, node

    def load(self) -> None:
        with self._errors("load"):
            self._load(self.weights.read() if self.weights else {})

    def forward(self, x: np.ndarray) -> np.ndarray:
        with self._errors("run"):
            return self._forward(x)

    def invoke(self, message: Message) -> Message:
        return self.decode(self.forward(self.encode(message)), message)

    def encode(self, message: Message) -> np.ndarray:
        return np.asarray(message.content, dtype=np.float32)

    def decode(self, output: np.ndarray, message: Message) -> Message:
        return Message(self.card.output_kind, output)

    def _load(self, state: dict[str, np.ndarray]) -> None:
        """Take the named arrays of the weights file (empty without one) and get ready to run."""

    def _forward(self, x: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    @contextmanager
    def _errors(self, action: str):
        """Re-raise anything but our own errors as a ModelError naming the model, the cause and the weights."""
        try:
            yield
        except ModelError:
            raise
        except Exception as exc:
            where = f" ({self.weights})" if action == "load" and self.weights else ""
            raise ModelError(f"{self.card.name}: {action} failed{where}: {type(exc).__name__}: {exc}",
                             self.node) from exc


__all__ = ["ArrayModel", "WeightsFile"]
