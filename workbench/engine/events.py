"""Trace events: the typed records a run emits, in order.

One record type, :class:`Event`, with a ``type``:

- ``run.start``  ``data`` = {network, protocol, nodes, pathways, meta}; ``input`` = the run's input
- ``step.start`` a node began; ``input`` = what it received, ``device`` = where it runs
- ``step.token`` a piece of a streamed output (text), in ``output``; not committed on its own
- ``decision``   a protocol choice made in a step (a vote, a route, an escalation); ``decision`` says it
- ``step.end``   ``status`` is ok | failed | skipped | cancelled | timeout; ``output`` or ``error``
- ``run.end``    ``status`` is ok | failed | cancelled | interrupted; ``output`` = the result
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Callable

RUN_START, STEP_START, STEP_TOKEN, DECISION, STEP_END, RUN_END = (
    "run.start", "step.start", "step.token", "decision", "step.end", "run.end")
EVENT_TYPES = (RUN_START, STEP_START, STEP_TOKEN, DECISION, STEP_END, RUN_END)

Sink = Callable[["Event"], None]


@dataclass(slots=True)
class Event:
    type: str                       # one of EVENT_TYPES
    run: str                        # the run's id
    seq: int                        # 0, 1, 2, … within the run
    time: float                     # wall clock, seconds since the epoch
    step: str | None = None         # the step's id (the node id, for one pass through a graph)
    node: str | None = None         # the node that ran the step
    status: str | None = None       # see the module docstring
    input: Any = None               # a Message, or None
    output: Any = None              # a Message, or None
    device: str | None = None       # e.g. "torch/cpu"
    error: str | None = None        # "ErrorType: message" for a failed step or run
    decision: str | None = None     # a protocol decision, in words
    start: float | None = None      # the step's start (step.end, run.end)
    end: float | None = None        # the step's end (step.end, run.end)
    data: dict | None = None        # extra, per type (run.start)

    @property
    def seconds(self) -> float | None:
        return None if self.start is None or self.end is None else self.end - self.start

    def to_dict(self) -> dict:
        return asdict(self)


class Trace(list):
    """An in-memory sink: a list of the events of one or more runs."""

    def __call__(self, event: Event) -> None:
        self.append(event)

    def steps(self) -> list[Event]:
        """The ``step.end`` events, one per finished step, in order."""
        return [e for e in self if e.type == STEP_END]
