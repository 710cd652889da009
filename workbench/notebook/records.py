"""A run's trace as plain Python: one record (a dict) per finished step, and a pandas DataFrame of them.

Records come from the same :class:`~workbench.app.steps.StepRow` the app's trace table shows, so a notebook
reads exactly what the page shows. The full input and output messages stay in the events themselves.
"""
from __future__ import annotations

from typing import Iterable

from workbench.app.steps import step_rows
from workbench.engine.events import Event
from workbench.errors import WorkbenchError

COLUMNS = ["run", "n", "step", "node", "status", "device", "ms", "input", "output", "start", "end"]
"""A record's keys: the run id; the step's number in the order steps ended; step and node ids; status (ok,
failed, skipped, cancelled, timeout); device; the step's own time in milliseconds; input and output (or the
decision, or the error) in short words; start and end in seconds since the run started."""


def records(events: Iterable[Event]) -> list[dict]:
    """One dict per finished step (keys: :data:`COLUMNS`), run by run, in the order the steps ended."""
    runs: dict[str, list[Event]] = {}
    for event in events:
        runs.setdefault(event.run, []).append(event)
    return [{"run": run, **row.to_dict()} for run, trace in runs.items() for row in step_rows(trace)]


def dataframe(events: Iterable[Event]):
    """:func:`records` as a pandas DataFrame, one row per step."""
    try:
        import pandas as pd
    except ImportError as exc:
        raise WorkbenchError("a DataFrame needs pandas: pip install 'modelnet-workbench[notebook]' "
                             "(or use records(), plain dicts)") from exc
    return pd.DataFrame(records(events), columns=COLUMNS)
