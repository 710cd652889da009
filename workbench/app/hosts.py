"""The "connect a remote host" form: checks what is typed; connecting waits for the host backend.

The interconnection layer (``workbench.net``: host server, peer and OpenAI-compatible clients) is not part
of this build yet, so the Connect button stays disabled and says so; the form already checks every field.
"""
from __future__ import annotations

import html

import panel as pn
import param
from panel.viewable import Viewer

from workbench.app.endpoints import KINDS, Endpoint, check_endpoint
from workbench.app.theme import html_pane

NOT_YET = "Connecting needs the host backend (workbench.net), which this build does not include yet."


class HostForm(Viewer):
    """Kind, URL, model and key of a remote endpoint; ``endpoint`` holds the last one that passed the checks."""

    endpoint = param.ClassSelector(class_=Endpoint, allow_None=True, doc="The last endpoint that passed the checks.")

    def __init__(self, **params):
        super().__init__(**params)
        self.kind = pn.widgets.Select(label="Kind", options={v: k for k, v in KINDS.items()}, value="workbench",
                                      sizing_mode="stretch_width")
        self.url = pn.widgets.TextInput(label="URL", placeholder="http://127.0.0.1:8765", sizing_mode="stretch_width")
        self.model = pn.widgets.TextInput(label="Model (OpenAI-compatible)", placeholder="e.g. smollm2",
                                          sizing_mode="stretch_width")
        self.key = pn.widgets.PasswordInput(label="API key (optional)", sizing_mode="stretch_width")
        self.check = pn.widgets.Button(label="Check", color="default", css_classes=["wb-host-check"])
        self.connect = pn.widgets.Button(label="Connect (not available yet)", disabled=True, description=NOT_YET,
                                         css_classes=["wb-host-connect"])
        self.result = html_pane("", sizing_mode="stretch_width", css_classes=["wb-host-result"])
        self.check.on_click(self._check)

    def _check(self, _event=None) -> None:
        endpoint, problems = check_endpoint(self.kind.value, self.url.value, self.model.value)
        self.endpoint = endpoint
        if problems:
            items = "".join(f"<li>{html.escape(p)}</li>" for p in problems)
            self.result.object = f"<div class='wb-alert wb-alert-bad'><ul>{items}</ul></div>"
        else:
            self.result.object = (f"<div class='wb-alert wb-alert-ok'>{html.escape(endpoint.url)} looks right. "
                                  f"{html.escape(NOT_YET)}</div>")

    def __panel__(self):
        return pn.Column(self.kind, self.url, self.model, self.key, pn.Row(self.check, self.connect),
                         self.result, sizing_mode="stretch_width")
