"""Micro-batching: concurrent requests to one model become one call on a batch.

A :class:`MicroBatcher` owns a function of a list (``fn(items) -> results``, one result per item, in order)
and a worker thread. ``await batcher.submit(item)`` queues the item; the worker takes the first waiting item,
waits up to ``window`` seconds for more (or until ``max_size`` are waiting), calls ``fn`` once on the lot
and hands each caller its own result. Requests that arrive while a batch runs go into the next one, so
under load batches fill up without waiting at all. The worker exits when the queue is empty and a new one
starts with the next request. Futures are thread-safe and tied to no event loop: any loop, or several,
may submit.

If ``fn`` raises, every request of that batch gets the error. A request cancelled before its batch starts is
left out of it.

:class:`BatchedArrayModel` puts an :class:`~workbench.backends.arrays.ArrayModel` behind a batcher: each
request is encoded on its own (bad input fails alone), the batch runs as one ``forward``, each row is decoded
for its caller.
"""
from __future__ import annotations

import asyncio
import concurrent.futures
import math
import threading
import time
from typing import Any, Callable, Sequence

import numpy as np

from workbench.backends.base import Model
from workbench.core.messages import Message

DEFAULT_WINDOW = 0.002   # seconds a batch waits for company after its first request
DEFAULT_MAX_SIZE = 64


class MicroBatcher:
    """See the module docstring. ``batches`` and ``items`` count what ran, for tests and benchmarks."""

    def __init__(self, fn: Callable[[list], Sequence], *, window: float = DEFAULT_WINDOW,
                 max_size: int = DEFAULT_MAX_SIZE, name: str = "batch"):
        if not (isinstance(window, (int, float)) and math.isfinite(window) and window >= 0):
            raise ValueError(f"batch window must be a finite number of seconds ≥ 0, not {window!r}")
        if not isinstance(max_size, int) or isinstance(max_size, bool) or max_size < 1:
            raise ValueError(f"max batch size must be a whole number ≥ 1, not {max_size!r}")
        self.fn, self.window, self.max_size, self.name = fn, float(window), max_size, name
        self._waiting: list[tuple[Any, concurrent.futures.Future]] = []
        self._wake = threading.Condition()
        self._worker: threading.Thread | None = None
        self.batches = self.items = 0

    async def submit(self, item: Any) -> Any:
        """The result of ``fn`` for ``item``, computed in a batch with whatever else is waiting."""
        return await asyncio.wrap_future(self.put(item))

    def put(self, item: Any) -> concurrent.futures.Future:
        """Queue ``item`` from any thread; the returned future gets its result."""
        future: concurrent.futures.Future = concurrent.futures.Future()
        with self._wake:
            self._waiting.append((item, future))
            if self._worker is None:
                self._worker = threading.Thread(target=self._work, name=f"batcher-{self.name}", daemon=True)
                self._worker.start()
            self._wake.notify()
        return future

    def _work(self) -> None:
        wait = True  # the first batch waits out the window; later ones take what queued while one ran
        while batch := self._next_batch(wait):
            self._run([(item, f) for item, f in batch if f.set_running_or_notify_cancel()])
            wait = False

    def _next_batch(self, wait: bool) -> list:
        """Take up to ``max_size`` waiting requests (after the window if ``wait``); [] ends the worker."""
        with self._wake:
            deadline = time.monotonic() + (self.window if wait else 0)
            while len(self._waiting) < self.max_size and (left := deadline - time.monotonic()) > 0:
                self._wake.wait(left)
            batch, self._waiting = self._waiting[:self.max_size], self._waiting[self.max_size:]
            if not batch:
                self._worker = None
            return batch

    def _run(self, batch: list) -> None:
        if not batch:
            return
        try:
            results = self.fn([item for item, _ in batch])
            if len(results) != len(batch):
                raise RuntimeError(f"{self.name}: a batch of {len(batch)} gave {len(results)} results")
        except BaseException as exc:
            for _, future in batch:
                future.set_exception(exc)
            return
        self.batches, self.items = self.batches + 1, self.items + len(batch)
        for (_, future), result in zip(batch, results):
            future.set_result(result)


class BatchedArrayModel(Model):
    """An ArrayModel whose concurrent invokes run as one ``forward``; other attributes are the inner model's."""

    blocking = False

    def __init__(self, inner: Model, *, window: float = DEFAULT_WINDOW, max_size: int = DEFAULT_MAX_SIZE):
        self.inner, self.card = inner, inner.card
        self.batcher = MicroBatcher(self._forward_rows, window=window, max_size=max_size, name=inner.card.name)

    def load(self) -> None:
        self.inner.load()

    async def invoke(self, message: Message) -> Message:
        x = self.inner.encode(message)  # (1, …): checked on its own
        return self.inner.decode(await self.batcher.submit(x), message)

    def _forward_rows(self, xs: list[np.ndarray]) -> list[np.ndarray]:
        ys = self.inner.forward(np.concatenate(xs))  # (sum of rows, …)
        return np.split(ys, np.cumsum([len(x) for x in xs])[:-1])

    def __getattr__(self, name: str):
        if name == "inner":  # not set yet (during unpickling or a failed __init__)
            raise AttributeError(name)
        return getattr(self.inner, name)


def batched(model: Model, window_ms: float | None, max_batch: int | None) -> Model:
    """``model`` behind a batcher, or ``model`` itself when batching is off (no window, or max_batch 1)."""
    if window_ms is None or max_batch in (None, 1):
        return model
    return BatchedArrayModel(model, window=window_ms / 1000, max_size=max_batch)


__all__ = ["MicroBatcher", "BatchedArrayModel", "batched", "DEFAULT_WINDOW", "DEFAULT_MAX_SIZE"]
