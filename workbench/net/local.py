"""The models a host serves: built from its catalog on first use, loaded once, shared by every request.

``invoke`` runs a model the way the engine does (coroutines awaited, blocking models on worker threads,
cheap ones inline); ``stream`` yields text pieces and ends with the final Message. ``inflight`` counts the
calls running now: the host's load, reported by ``/health``.
"""
from __future__ import annotations

import asyncio
import inspect
from concurrent.futures import ThreadPoolExecutor
from typing import AsyncIterator

from workbench.backends.base import WORKER_THREADS, Model
from workbench.core.cards import ModelCard
from workbench.core.catalog import Catalog
from workbench.core.messages import Message

_END = object()


class LocalModels:
    def __init__(self, catalog: Catalog, max_workers: int | None = None):
        self.catalog = catalog
        self.executor = ThreadPoolExecutor(max_workers or WORKER_THREADS, thread_name_prefix="host-model")
        self._models: dict[str, Model] = {}
        self._locks: dict[str, asyncio.Lock] = {}
        self.inflight = 0
        self.served = 0

    def cards(self) -> list[ModelCard]:
        return [entry.card.with_device(_device(entry)) for entry in self.catalog if not entry.missing()]

    def has(self, name: str) -> bool:
        return name in self.catalog and not self.catalog.get(name).missing()

    async def get(self, name: str) -> Model:
        """The loaded model ``name`` (built and loaded on a worker thread the first time)."""
        if (model := self._models.get(name)) is not None:
            return model
        async with self._locks.setdefault(name, asyncio.Lock()):
            if name not in self._models:
                loop = asyncio.get_running_loop()
                self._models[name] = await loop.run_in_executor(self.executor, self._build, name)
        return self._models[name]

    def _build(self, name: str) -> Model:
        model = self.catalog.create(name, "auto", node=name)
        model.load()
        return model

    async def invoke(self, name: str, message: Message) -> Message:
        model = await self.get(name)
        self.inflight += 1
        try:
            if model.is_async:
                output = await model.invoke(message)
            elif model.blocking:
                output = await asyncio.get_running_loop().run_in_executor(self.executor, model.invoke, message)
            else:
                output = model.invoke(message)
        finally:
            self.inflight -= 1
            self.served += 1
        return _checked(output)

    async def stream(self, name: str, message: Message) -> AsyncIterator[str | Message]:
        """Text pieces as the model makes them, then the final Message (models without ``stream``: only that)."""
        model = await self.get(name)
        if model.stream is None:
            yield await self.invoke(name, message)
            return
        self.inflight += 1
        pieces: list[str] = []
        try:
            async for piece in self._pieces(model, message):
                if isinstance(piece, Message):
                    yield _checked(piece)
                    return
                pieces.append(piece)
                yield piece
        finally:
            self.inflight -= 1
            self.served += 1
        yield Message(model.card.output_kind, "".join(pieces))

    async def _pieces(self, model: Model, message: Message) -> AsyncIterator[str | Message]:
        if inspect.isasyncgenfunction(model.stream):
            async for piece in model.stream(message):
                yield piece
            return
        generator, loop = model.stream(message), asyncio.get_running_loop()
        try:  # one worker-thread hop per piece: a client that goes away stops the model within one piece
            while (piece := await loop.run_in_executor(self.executor, _next, generator)) is not _END:
                yield piece
        finally:
            try:
                generator.close()
            except ValueError:  # still running on its thread: it stops after this piece, unreferenced
                pass

    def close(self) -> None:
        self.executor.shutdown(wait=False, cancel_futures=True)


def _next(generator):
    try:
        return next(generator)
    except StopIteration as done:
        return done.value if isinstance(done.value, Message) else _END


def _checked(output) -> Message:
    if not isinstance(output, Message):
        raise TypeError(f"the model returned {type(output).__name__}, not a Message")
    return output


def _device(entry) -> str:
    """The device ``auto`` resolves to on this host, without loading the model."""
    if entry.card.device != "auto":
        return entry.card.device
    from importlib import import_module

    try:
        return import_module(f"workbench.backends.{entry.card.backend}").pick_device("auto")
    except (ImportError, AttributeError):
        return "cpu"
