"""From trace events to what the views show: step rows, node statuses, a timeline. Pure Python.

The live run, a stored run and a replay position all go through the same functions, so what the page shows
during a run is exactly what it shows when the run is reopened from the history.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Iterable

from workbench.core.messages import Message
from workbench.engine.events import DECISION, RUN_END, RUN_START, STEP_END, STEP_START, STEP_TOKEN, Event


@dataclass
class StepRow:
    """One finished step, as the trace table shows it."""

    n: int                      # 1, 2, … in the order steps ended
    step: str
    node: str
    status: str
    device: str
    ms: float | None            # the step's own time, milliseconds
    input: str
    output: str                 # the output, the decision, or the error
    start: float | None = None  # seconds since the run started
    end: float | None = None

    def to_dict(self) -> dict:
        return asdict(self)


def summary(value, width: int = 60) -> str:
    if isinstance(value, Message):
        return value.summary(width)
    if isinstance(value, dict) and value and all(isinstance(v, Message) for v in value.values()):
        return "; ".join(f"{k}: {v.summary(24)}" for k, v in value.items())[:width]  # the outputs of several sinks
    return "" if value is None else str(value)[:width]


class StepTable:
    """Step rows built as events arrive: ``feed`` a live run's batches, or a stored run's events at once."""

    def __init__(self):
        self.rows: list[StepRow] = []
        self._inputs: dict = {}
        self._decisions: dict = {}
        self._t0: float | None = None

    def feed(self, events: Iterable[Event]) -> list[StepRow]:
        """Take more events; return the rows of the steps that ended among them."""
        new = []
        for e in events:
            if self._t0 is None or e.type == RUN_START:
                self._t0 = e.time
            if e.type == STEP_START:
                self._inputs[e.step] = e.input
            elif e.type == DECISION:
                self._decisions[e.step] = e.decision
            elif e.type == STEP_END:
                new.append(self._row(e))
                self.rows.append(new[-1])
        return new

    def _row(self, e: Event) -> StepRow:
        detail = self._decisions.get(e.step) or (summary(e.output) if e.status == "ok" else e.error or e.status)
        return StepRow(len(self.rows) + 1, e.step, e.node or e.step, e.status or "", e.device or "",
                       None if e.seconds is None else round(e.seconds * 1000, 2),
                       summary(self._inputs.get(e.step)), detail or "",
                       None if e.start is None else e.start - self._t0, None if e.end is None else e.end - self._t0)


def step_rows(events: Iterable[Event]) -> list[StepRow]:
    """One row per ended step, in the order the steps ended."""
    return StepTable().feed(events)


def live_statuses(events: Iterable[Event], statuses: dict[str, str] | None = None,
                  current: str | None = None) -> tuple[dict[str, str], str | None]:
    """Each node's status after ``events`` (continuing from ``statuses``/``current`` when given), and the
    node that started last and is still running."""
    statuses = {} if statuses is None else statuses
    for e in events:
        if e.type == RUN_START:
            statuses.clear()
            statuses.update({n: "idle" for n in (e.data or {}).get("nodes", {})})
        elif e.type == STEP_START:
            statuses[e.node], current = "running", e.node
        elif e.type == STEP_END:
            statuses[e.node] = e.status or "ok"
            current = None if current == e.node else current
    return statuses, current


def replay_statuses(rows: list[StepRow], nodes: Iterable[str], position: int) -> tuple[dict[str, str], str | None]:
    """Node statuses with the first ``position`` steps done; the last of them is the current one."""
    statuses = {n: "idle" for n in nodes}
    for row in rows[:position]:
        statuses[row.node] = row.status
    return statuses, rows[position - 1].node if 0 < position <= len(rows) else None


def tokens(events: Iterable[Event], text: dict[str, str] | None = None) -> dict[str, str]:
    """The streamed text of each step so far (``step.token`` pieces joined onto ``text`` when given)."""
    text = {} if text is None else text
    for e in events:
        if e.type == STEP_TOKEN:
            text[e.step] = text.get(e.step, "") + str(e.output)
    return text


def outcome(events: Iterable[Event]) -> Event | None:
    """The run's ``run.end`` event, once there is one."""
    return next((e for e in events if e.type == RUN_END), None)
