"""Micro-batching: concurrent requests to one model become one call on a batch.

A :class:`MicroBatcher` owns a function of a list (``fn(items) -> results``, one result per item, in order)
and a worker thread. ``await batcher.submit(item)`` queues the item; the worker takes the first waiting item,
waits up to ``window`` seconds for more (or until ``max_size`` are waiting), calls ``fn`` once on the lot
and hands each caller its own result, with one wake-up per event loop for the whole batch. Requests that
arrive while a batch runs go into the next one, taken at once without a window. The worker exits when the
queue has been empty for ``IDLE_SECONDS``; a new one starts with the next request. Any event loop, or
several, may submit.

If ``fn`` raises, every request of that batch gets the error. A request cancelled before its batch starts is
left out of it.

:class:`BatchedArrayModel` puts an :class:`~workbench.backends.arrays.ArrayModel` behind a batcher: each
request is encoded on its own (bad input fails alone), the batch runs as one ``forward`` and is decoded into
one message per caller.
"""
from __future__ import annotations

import asyncio
import math
import threading
import time
from typing import Any, Callable, Sequence

import numpy as np

from workbench.backends.base import Model
from workbench.core.messages import Message

DEFAULT_WINDOW = 0.002   # seconds a batch waits for company after its first request
DEFAULT_MAX_SIZE = 64
IDLE_SECONDS = 30.0      # an idle worker thread exits after this long without requests


class MicroBatcher:
    """See the module docstring. ``batches`` and ``items`` count what ran, for tests and benchmarks."""

    def __init__(self, fn: Callable[[list], Sequence], *, window: float = DEFAULT_WINDOW,
                 max_size: int = DEFAULT_MAX_SIZE, name: str = "batch"):
        if not (isinstance(window, (int, float)) and math.isfinite(window) and window >= 0):
            raise ValueError(f"batch window must be a finite number of seconds ≥ 0, not {window!r}")
        if not isinstance(max_size, int) or isinstance(max_size, bool) or max_size < 1:
            raise ValueError(f"max batch size must be a whole number ≥ 1, not {max_size!r}")
        self.fn, self.window, self.max_size, self.name = fn, float(window), max_size, name
        self._waiting: list[tuple[Any, asyncio.Future]] = []
        self._wake = threading.Condition()
        self._worker: threading.Thread | None = None
        self._idle = False
        self.batches = self.items = 0

    async def submit(self, item: Any) -> Any:
        """The result of ``fn`` for ``item``, computed in a batch with whatever else is waiting."""
        future = asyncio.get_running_loop().create_future()
        with self._wake:
            self._waiting.append((item, future))
            if self._worker is None:
                self._worker = threading.Thread(target=self._work, name=f"batcher-{self.name}", daemon=True)
                self._worker.start()
            elif self._idle or len(self._waiting) == self.max_size:
                self._wake.notify()  # wake an idle worker, or one waiting out the window for a full batch
        return await future

    def _work(self) -> None:
        wait = True  # the first batch waits out the window; later ones take what queued while one ran
        while batch := self._next_batch(wait):
            self._run([(item, f) for item, f in batch if not f.cancelled()])
            wait = False

    def _next_batch(self, wait: bool) -> list:
        """Take up to ``max_size`` waiting requests (after the window if ``wait``); [] ends the worker.

        With nothing waiting, the worker idles up to ``IDLE_SECONDS`` for the next request: a thread that
        stays warms up once (torch pays tens of milliseconds on a new thread's first forward pass).
        """
        with self._wake:
            if not self._waiting:
                self._idle = True
                self._wake.wait_for(lambda: self._waiting, timeout=IDLE_SECONDS)
                self._idle, wait = False, True
                if not self._waiting:
                    self._worker = None
                    return []
            deadline = time.monotonic() + (self.window if wait else 0)
            while len(self._waiting) < self.max_size and (left := deadline - time.monotonic()) > 0:
                self._wake.wait(left)
            batch, self._waiting = self._waiting[:self.max_size], self._waiting[self.max_size:]
            return batch

    def _run(self, batch: list) -> None:
        if not batch:
            return
        try:
            results = self.fn([item for item, _ in batch])
            if len(results) != len(batch):
                raise RuntimeError(f"{self.name}: a batch of {len(batch)} gave {len(results)} results")
            outcomes = [(future, result, None) for (_, future), result in zip(batch, results)]
            self.batches, self.items = self.batches + 1, self.items + len(batch)
        except BaseException as exc:
            outcomes = [(future, None, exc) for _, future in batch]
        by_loop: dict[asyncio.AbstractEventLoop, list] = {}
        for outcome in outcomes:
            by_loop.setdefault(outcome[0].get_loop(), []).append(outcome)
        for loop, settled in by_loop.items():  # one wake-up per event loop, not one per request
            try:
                loop.call_soon_threadsafe(_settle, settled)
            except RuntimeError:  # that loop has closed: nobody is waiting any more
                pass


def _settle(outcomes: list) -> None:
    for future, result, error in outcomes:
        if not future.done():
            future.set_exception(error) if error is not None else future.set_result(result)


class BatchedArrayModel(Model):
    """An ArrayModel whose concurrent invokes run as one ``forward``; other attributes are the inner model's.

    The batch is decoded on the batcher's thread too: by ``inner.decode_batch(outputs, messages)`` when the
    model has one (one vectorized pass), else row by row with ``inner.decode``.
    """

    blocking = False

    def __init__(self, inner: Model, *, window: float = DEFAULT_WINDOW, max_size: int = DEFAULT_MAX_SIZE):
        self.inner, self.card = inner, inner.card
        self.batcher = MicroBatcher(self._run_batch, window=window, max_size=max_size, name=inner.card.name)

    def load(self) -> None:
        self.inner.load()

    async def invoke(self, message: Message) -> Message:
        x = self.inner.encode(message)  # (1, …): bad input fails here, on its own
        return await self.batcher.submit((x, message))

    def _run_batch(self, requests: list[tuple[np.ndarray, Message]]) -> list[Message]:
        xs, messages = zip(*requests)
        ys = self.inner.forward(np.concatenate(xs))  # (sum of rows, …)
        if len(ys) == len(messages) and hasattr(self.inner, "decode_batch"):
            return self.inner.decode_batch(ys, list(messages))
        rows = np.split(ys, np.cumsum([len(x) for x in xs])[:-1])
        return [self.inner.decode(y, m) for y, m in zip(rows, messages)]

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
