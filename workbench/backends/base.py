"""The one interface every backend implements.

A :class:`Model` has a :class:`~workbench.core.cards.ModelCard` and one required method, ``invoke``,
which turns a :class:`~workbench.core.messages.Message` into another. ``invoke`` may be a plain function
or a coroutine function. Plain ones that do real work (torch, MLX) set ``blocking = True`` and the engine
runs them in a worker thread, so independent steps overlap; cheap ones run inline.

A model that produces text piece by piece may also define ``stream(message)``: a generator (run in a
worker thread) or an async generator that yields text pieces and may ``return`` the final Message (else
the engine joins the pieces into one; an async generator, which cannot return a value, may yield its final
Message as its last item). The engine prefers ``stream`` when it is there, reports every piece
as a ``step.token`` event, and stops asking for pieces as soon as the step is cancelled or times out.
"""
from __future__ import annotations

import inspect
from typing import Any, Callable

from workbench.core.cards import ModelCard
from workbench.core.messages import Message

# Worker threads for blocking steps, per engine or host. Most of them wait (on a decode batch, a remote host,
# a lock) rather than compute, idle threads cost nothing, and a batching backend can only batch as many
# generations as there are threads asking: so many more than cores.
WORKER_THREADS = 32


class Model:
    card: ModelCard
    blocking: bool = True  # run ``invoke`` in a worker thread

    def invoke(self, message: Message) -> Message:  # or ``async def``
        raise NotImplementedError

    stream = None  # optional: see the module docstring

    def load(self) -> None:
        """Get ready to run (read weights, move to the device). Called once, before the first invoke."""

    @property
    def device(self) -> str:
        return self.card.device

    @property
    def is_async(self) -> bool:
        return inspect.iscoroutinefunction(self.invoke)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.card.name} on {self.card.backend}/{self.device}>"


class PythonModel(Model):
    """A plain Python callable as a model: ``fn(message) -> Message`` or ``fn(content) -> content``.

    With ``raw=True`` (the default) ``fn`` receives and returns message contents, and the output is
    wrapped in a message of the card's ``output_kind``. A plain function runs on a worker thread, so a slow
    one neither blocks other steps nor escapes its timeout; pass ``blocking=False`` for a cheap one, which
    then runs inline on the event loop (faster, but no timeout applies).
    """

    def __init__(self, fn: Callable[..., Any], card: ModelCard | None = None, *,
                 raw: bool = True, blocking: bool = True):
        self.fn = fn
        self.card = card or ModelCard(name=getattr(fn, "__name__", "callable"), backend="python")
        self.raw = raw
        self.blocking = blocking
        if inspect.iscoroutinefunction(fn):
            self.invoke = self._invoke_async  # type: ignore[method-assign]

    def invoke(self, message: Message) -> Message:
        return self._wrap(self.fn(message.content if self.raw else message))

    async def _invoke_async(self, message: Message) -> Message:
        return self._wrap(await self.fn(message.content if self.raw else message))

    def _wrap(self, result: Any) -> Message:
        if isinstance(result, Message):
            return result
        return Message(self.card.output_kind, result)

    @property
    def is_async(self) -> bool:
        return inspect.iscoroutinefunction(self.fn)
