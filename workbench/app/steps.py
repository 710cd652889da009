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
    return "" if value is None else str(value)[:width]


def step_rows(events: Iterable[Event]) -> list[StepRow]:
    """One row per ended step, in the order the steps ended."""
    events = list(events)
    t0 = next((e.time for e in events if e.type == RUN_START), events[0].time if events else 0.0)
    inputs = {e.step: e.input for e in events if e.type == STEP_START}
    decisions = {e.step: e.decision for e in events if e.type == DECISION}
    rows = []
    for e in events:
        if e.type != STEP_END:
            continue
        detail = decisions.get(e.step) or (summary(e.output) if e.status == "ok" else e.error or e.status)
        rows.append(StepRow(len(rows) + 1, e.step, e.node or e.step, e.status or "", e.device or "",
                            None if e.seconds is None else round(e.seconds * 1000, 2),
                            summary(inputs.get(e.step)), detail or "",
                            None if e.start is None else e.start - t0, None if e.end is None else e.end - t0))
    return rows


def live_statuses(events: Iterable[Event]) -> tuple[dict[str, str], str | None]:
    """Each node's status after ``events``, and the node that started last and is still running."""
    statuses: dict[str, str] = {}
    current = None
    for e in events:
        if e.type == RUN_START:
            statuses = {n: "idle" for n in (e.data or {}).get("nodes", {})}
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


def tokens(events: Iterable[Event]) -> dict[str, str]:
    """The streamed text of each step so far (``step.token`` pieces joined)."""
    text: dict[str, list[str]] = {}
    for e in events:
        if e.type == STEP_TOKEN:
            text.setdefault(e.step, []).append(str(e.output))
    return {step: "".join(pieces) for step, pieces in text.items()}


def outcome(events: Iterable[Event]) -> Event | None:
    """The run's ``run.end`` event, once there is one."""
    return next((e for e in events if e.type == RUN_END), None)
