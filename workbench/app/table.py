"""A table whose rows only the server writes (the trace's steps, the stored runs)."""
from __future__ import annotations

import panel as pn


class ReadOnlyTable(pn.widgets.Tabulator):
    """A disabled Tabulator that ignores row data coming back from the browser.

    Nobody edits these rows in the page, yet in a notebook the browser can send back an older copy of the data
    while the kernel has already put more rows in the table. Panel would write the older, shorter columns into
    the newer rows and fail ("Must have equal len keys and value"), and the failure drops the other changes of
    that message: in JupyterLab a run's trace then stopped updating. Selection and clicks still come through.
    """

    def __init__(self, value=None, **params):
        super().__init__(value, disabled=True, **params)

    def _process_data(self, data) -> None:  # the server's rows are the truth; see the class docstring
        return None
