"""The run history: every stored run (shared by all sessions), newest first; click one to reopen it."""
from __future__ import annotations

import pandas as pd
import panel as pn
import param
from panel.viewable import Viewer

from workbench.app.steps import summary
from workbench.app.table import ReadOnlyTable
from workbench.app.theme import html_pane
from workbench.console import ms, when
from workbench.store.sqlite import Store

COLUMNS = {"id": "run", "started": "started", "network": "network", "status": "status", "steps": "steps",
           "time": "time", "input": "input", "output": "output"}


class History(Viewer):
    """Stored runs from the run store; ``on_open(run_id)`` is called when a row is clicked."""

    store = param.ClassSelector(class_=Store, doc="The run store (runs.sqlite) shared by every session.")
    on_open = param.Callable(default=None, doc="Called with a run id when the user opens a run.")
    limit = param.Integer(default=100, bounds=(1, None), doc="How many of the newest runs are listed.")

    def __init__(self, **params):
        super().__init__(**params)
        self.table = ReadOnlyTable(pd.DataFrame(columns=list(COLUMNS)), titles=COLUMNS,
                                   show_index=False, selectable=1, layout="fit_data_stretch", height=300,
                                   sizing_mode="stretch_width", css_classes=["wb-history"],
                                   pagination=None)
        self.table.on_click(self._open)
        self.refresh_button = pn.widgets.Button(label="↻ Refresh", width=110, css_classes=["wb-history-refresh"])
        self.refresh_button.on_click(lambda _: self.refresh())
        self.refresh()

    def refresh(self) -> None:
        records = self.store.runs(limit=self.limit)
        self.table.value = pd.DataFrame(
            [{"id": r.id, "started": when(r.started), "network": r.network, "status": r.status, "steps": r.steps,
              "time": ms(r.ended - r.started) if r.ended else "", "input": summary(r.input, 40),
              "output": summary(r.output, 40)} for r in records], columns=list(COLUMNS))

    def _open(self, event) -> None:
        run_id = self.table.value.iloc[event.row]["id"]
        if self.on_open:
            self.on_open(run_id)

    def __panel__(self):
        return pn.Column(pn.Row(self.refresh_button, html_pane(
            "<span class='wb-muted'>Runs of every session, kept in runs.sqlite. Click one to reopen its trace.</span>",
            margin=(12, 8))), self.table, sizing_mode="stretch_width")
