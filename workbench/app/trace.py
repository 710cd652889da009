"""The trace view: the steps of one run (live or stored) with a timeline, and step-through on the graph."""
from __future__ import annotations

import html
import time

import holoviews as hv
import pandas as pd
import panel as pn
import param
from panel.viewable import Viewer

from workbench.app import steps
from workbench.app.graph import GraphView
from workbench.app.table import ReadOnlyTable
from workbench.app.theme import STATUS_COLOURS, html_pane
from workbench.console import ms

COLUMNS = {"n": "#", "step": "step", "status": "status", "device": "device", "ms": "time (ms)",
           "input": "input", "output": "output / decision / error"}
NO_RUN = "No run yet: press Run."


class TraceView(Viewer):
    """Steps with input, output, time, device and status; a timeline; previous/next replays on the graph."""

    graph = param.ClassSelector(class_=GraphView, doc="Where a replay position is shown.")
    position = param.Integer(default=0, bounds=(0, None), doc="Replay position: how many steps are shown done.")
    title = param.String(default=NO_RUN, doc="What the view shows, in words.")
    refresh = param.Number(default=0.5, bounds=(0, None), doc="Seconds between two table updates in a live run.")

    def __init__(self, **params):
        super().__init__(**params)
        self.events: list = []
        self._steps = steps.StepTable()
        self.rows = self._steps.rows
        self._shown, self._dirty = 0.0, False
        self.table = ReadOnlyTable(pd.DataFrame(columns=list(COLUMNS)), titles=COLUMNS,
                                   show_index=False, selectable=1, layout="fit_data_stretch",
                                   sizing_mode="stretch_width", height=220, css_classes=["wb-steps"],
                                   widths={"input": 200, "output": 260})
        self.table.on_click(lambda event: self._go(event.row + 1))
        self.plot = pn.pane.HoloViews(None, sizing_mode="stretch_width", height=220, css_classes=["wb-timeline"])
        self.prev = pn.widgets.Button(label="◀ Previous", css_classes=["wb-prev"], width=110)
        self.next = pn.widgets.Button(label="Next ▶", css_classes=["wb-next"], width=110)
        self.where = html_pane("", css_classes=["wb-where"], margin=(10, 8))
        self.prev.on_click(lambda _: self._go(self.position - 1))
        self.next.on_click(lambda _: self._go(self.position + 1))
        self.header = html_pane("", sizing_mode="stretch_width", css_classes=["wb-trace-title"])
        self.param.watch(self._refresh_header, ["title"])
        self._refresh_header()

    # ---- content ------------------------------------------------------------------------------
    def show(self, events: list, title: str) -> None:
        """Show a whole run (a stored one, or a live one starting) and put the replay at its end."""
        self.events, self._steps, self.title = list(events), steps.StepTable(), title
        self._steps.feed(self.events)
        self.rows = self._steps.rows
        self.table.value = _frame(self.rows)
        self._at_end(plot=True)

    def extend(self, events: list) -> None:
        """Append a batch of the live run's events. The table follows at most every ``refresh`` seconds and
        the timeline is drawn when the run ends: redrawing them costs more than a batch of fast steps, and the
        graph already shows each step as it happens."""
        self.events.extend(events)
        self._dirty = bool(self._steps.feed(events)) or self._dirty
        ended = any(e.type == steps.RUN_END for e in events)
        if ended or (self._dirty and time.monotonic() - self._shown > self.refresh):
            self.table.value = _frame(self.rows)
            self._at_end(plot=ended)

    def _at_end(self, plot: bool) -> None:
        self._shown, self._dirty = time.monotonic(), False
        if plot:
            self.plot.object = timeline(self.rows)
        self.position = len(self.rows)
        self._controls()
        self._refresh_header()

    def _go(self, position: int) -> None:
        """Replay: show the run on the graph as it was after ``position`` steps."""
        if not self.rows:
            return
        self.position = max(1, min(position, len(self.rows)))
        statuses, current = steps.replay_statuses(self.rows, self.graph.network.nodes, self.position)
        self.graph.show_statuses({n: s for n, s in statuses.items() if n in self.graph.network.nodes}, current)
        self.table.selection = [self.position - 1]
        self._controls()

    def _controls(self) -> None:
        n = len(self.rows)
        self.prev.disabled = self.position <= 1
        self.next.disabled = self.position >= n
        row = self.rows[self.position - 1] if 0 < self.position <= n else None
        detail = f": <b>{html.escape(row.step)}</b> {html.escape(row.status)} in {ms((row.ms or 0) / 1000)}" if row else ""
        self.where.object = f"<span class='wb-step-of'>step <b>{self.position}</b> of {n}{detail}</span>" if n else ""

    def _refresh_header(self, *_):
        end = steps.outcome(self.events)
        badge = f"<span class='wb-badge wb-badge-{end.status}'>{end.status}</span>" if end else ""
        self.header.object = f"<div class='wb-trace-head'>{html.escape(self.title)} {badge}</div>"

    def __panel__(self):
        return pn.Column(self.header, pn.Row(self.prev, self.next, self.where), self.table, self.plot,
                         sizing_mode="stretch_width")


def _frame(rows: list[steps.StepRow]) -> pd.DataFrame:
    frame = pd.DataFrame([r.to_dict() for r in rows], columns=[*COLUMNS, "start", "end"])[list(COLUMNS)]
    frame["ms"] = [("" if r.ms is None else f"{r.ms:g}") for r in rows]  # a skipped step has no time, not NaN
    return frame


def timeline(rows: list[steps.StepRow]):
    """A Gantt chart of the steps (HoloViews segments), coloured by status; None without timed steps."""
    timed = [r for r in rows if r.start is not None and r.end is not None]
    if not timed:
        return None
    span = max(r.end for r in timed) - min(r.start for r in timed)
    shortest = max(span * 0.006, 5e-5)  # a step of a few µs still shows as a visible mark
    frame = pd.DataFrame({"step": [r.step for r in timed], "start": [r.start * 1000 for r in timed],
                          "end": [max(r.end, r.start + shortest) * 1000 for r in timed],
                          "status": [r.status for r in timed], "n": [r.n for r in timed]})
    colours = {s: STATUS_COLOURS.get(s, "#64748b") for s in frame["status"].unique()}
    segments = hv.Segments(frame, kdims=["start", "step", "end", "step"], vdims=["status", "n"])
    return segments.opts(color="status", cmap=colours, line_width=12, xlabel="ms since the run started",
                         ylabel="", tools=["hover"], invert_yaxis=True, responsive=True, height=220, toolbar=None,
                         title="Timeline", fontsize={"title": 11}, show_legend=False)
