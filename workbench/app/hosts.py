"""Connecting hosts: the form (another workbench host, or an OpenAI-compatible endpoint) and the host list.

*Check* probes the host and says what it offers; *Connect* probes it, saves it to the remotes config (the
one ``workbench peers``/``remote`` use) and rebuilds the app's catalog, so its models join the palette.
Probing awaits the network without blocking the page: the canvas stays usable, and a probe gives up after
a few seconds. Every failure is one short sentence (:func:`workbench.app.connections.explain`).
"""
from __future__ import annotations

import html

import panel as pn
import param
from panel.viewable import Viewer

from workbench.app.connections import Hosts
from workbench.app.endpoints import KINDS, check_endpoint
from workbench.app.palette import css_name
from workbench.app.theme import health_dot, html_pane
from workbench.errors import WorkbenchError

URLS = {"peer": "http://127.0.0.1:8765", "openai": "http://127.0.0.1:8080/v1"}


def _alert(kind: str, body: str) -> str:
    return f"<div class='wb-alert wb-alert-{kind}'>{body}</div>"


class HostForm(Viewer):
    """Kind, name, URL, token or key, and (OpenAI-compatible) model names of a host to connect."""

    hosts = param.ClassSelector(class_=Hosts, doc="The app's hosts: where a connected host is saved and used.")
    on_change = param.Callable(default=None, doc="Called with no arguments after a host was connected.")
    busy = param.Boolean(default=False, doc="Whether a probe is in progress.")

    def __init__(self, **params):
        params.setdefault("hosts", Hosts())
        super().__init__(**params)
        self.kind = pn.widgets.Select(label="Kind", options={v: k for k, v in KINDS.items()}, value="peer",
                                      sizing_mode="stretch_width", css_classes=["wb-host-kind"])
        self.host_name = pn.widgets.TextInput(label="Name (after the @ in model names)",
                                              placeholder="default: host:port", sizing_mode="stretch_width",
                                              css_classes=["wb-host-name"])
        self.url = pn.widgets.TextInput(label="URL", placeholder=URLS["peer"], sizing_mode="stretch_width",
                                        css_classes=["wb-host-url"])
        self.key = pn.widgets.PasswordInput(label="Token (optional)", sizing_mode="stretch_width",
                                            css_classes=["wb-host-key"])
        self.chat = pn.widgets.TextInput(label="Chat models", placeholder="e.g. smollm2 (default: all it lists)",
                                         sizing_mode="stretch_width", visible=False, css_classes=["wb-host-chat"])
        self.embed = pn.widgets.TextInput(label="Embedding models", placeholder="e.g. all-minilm",
                                          sizing_mode="stretch_width", visible=False, css_classes=["wb-host-embed"])
        self.check = pn.widgets.Button(label="Check", color="default", css_classes=["wb-host-check"])
        self.connect = pn.widgets.Button(label="Connect", color="primary", css_classes=["wb-host-connect"])
        self.result = html_pane("", sizing_mode="stretch_width", css_classes=["wb-host-result"])
        self.note = html_pane(f"<p class='wb-host-note'>Saved to <code>{html.escape(str(self.hosts.path))}</code>, "
                              f"shared with every session of this app and with the <code>workbench</code> command; "
                              f"your canvas stays your own.</p>", sizing_mode="stretch_width")
        self.check.on_click(self.check_host)
        self.connect.on_click(self.connect_host)
        self.kind.param.watch(self._show_kind, "value")
        self.param.watch(self._buttons, "busy")

    def _buttons(self, event) -> None:
        self.check.disabled = self.connect.disabled = event.new

    def _show_kind(self, *_):
        openai = self.kind.value == "openai"
        self.chat.visible = self.embed.visible = openai
        self.url.placeholder = URLS[self.kind.value]
        self.key.name = "API key (optional)" if openai else "Token (optional)"

    def _remote(self):
        """The remote the fields describe, or None with the problems shown."""
        remote, problems = check_endpoint(self.kind.value, self.url.value, self.host_name.value, self.key.value,
                                          self.chat.value, self.embed.value)
        if problems:
            items = "".join(f"<li>{html.escape(p)}</li>" for p in problems)
            self.result.object = _alert("bad", f"<ul>{items}</ul>")
        return remote

    async def check_host(self, _event=None) -> bool:
        """Probe the host without saving it; True if it answered as it should."""
        return await self._probe(save=False)

    async def connect_host(self, _event=None) -> bool:
        """Probe the host, save it and use it; True if it was connected."""
        return await self._probe(save=True)

    async def _probe(self, save: bool) -> bool:
        from workbench.app.connections import probe

        remote = self._remote()
        if remote is None or self.busy:
            return False
        self.busy = True
        self.result.object = _alert("info", f"asking {html.escape(remote.url)}…")
        try:
            probed = await (self.hosts.connect(remote) if save else probe(remote, self.hosts.probe_timeout))
        except WorkbenchError as exc:
            self.result.object = _alert("bad", html.escape(str(exc)))
            return False
        finally:
            self.busy = False
        self.result.object = _alert("ok", self._found(remote, probed, save))
        if save:
            self.key.value = ""
            if self.on_change:
                self.on_change()
        return True

    @staticmethod
    def _found(remote, probed, saved: bool) -> str:
        names = [c.name for c in probed.cards]
        shown = ", ".join(html.escape(n) for n in names[:6]) + (f" and {len(names) - 6} more" if len(names) > 6 else "")
        verb = f"connected <b>{html.escape(remote.name)}</b>" if saved else f"{html.escape(remote.url)} answers"
        notes = "".join(f"<br>note: {html.escape(n)}" for n in probed.notes)
        return f"{verb}: {len(names)} model{'s' if len(names) != 1 else ''} ({shown}){notes}"

    def __panel__(self):
        return pn.Column(self.kind, self.host_name, self.url, self.key, self.chat, self.embed,
                         pn.Row(self.check, self.connect), self.result, self.note, sizing_mode="stretch_width")


class HostList(Viewer):
    """The connected hosts with their health and model count, each with a Remove button; Check health."""

    hosts = param.ClassSelector(class_=Hosts, doc="The app's hosts.")
    on_change = param.Callable(default=None, doc="Called with no arguments after a host was removed or checked.")

    def __init__(self, **params):
        super().__init__(**params)
        self.message = html_pane("", sizing_mode="stretch_width", css_classes=["wb-hosts-message"])
        self.recheck = pn.widgets.Button(label="Check hosts", color="default", css_classes=["wb-hosts-check"],
                                         description="Probe every host now; read remotes.yaml again if it changed "
                                                     "(e.g. after workbench peers add)")
        self.recheck.on_click(self.check_health)
        self._names: list[str] = []
        self._panes: dict[str, pn.pane.HTML] = {}
        self._rows = pn.Column(sizing_mode="stretch_width", css_classes=["wb-hosts"])
        self.refresh()

    def refresh(self) -> None:
        """Show the hosts as they are now: rebuild the rows if the hosts changed, else update their health."""
        rows = self.hosts.rows()
        if [r.name for r in rows] != self._names:
            self._names, self._panes = [r.name for r in rows], {}
            self._rows[:] = [self._row(r.name) for r in rows]
        for row in rows:
            self._panes[row.name].object = (
                f"<div class='wb-host-row'><b>{html.escape(row.name)}</b> · {row.kind} · {row.models} models<br>"
                f"<span class='wb-muted'>{html.escape(row.url)}</span><div class='wb-host-health'>"
                f"{health_dot(row.healthy)} {html.escape(row.health)}</div></div>")
        problem = self.hosts.problem
        self.message.object = (_alert("bad", html.escape(problem)) if problem else
                               "" if rows else "<p class='wb-muted'>No hosts connected yet.</p>")

    def _row(self, name: str):
        self._panes[name] = html_pane("", sizing_mode="stretch_width", margin=(2, 4))
        remove = pn.widgets.Button(label="Remove", color="danger", variant="outline", width=80, margin=(4, 4),
                                   css_classes=["wb-host-remove", f"wb-remove-{css_name(name)}"])
        remove.on_click(lambda _event, host=name: self.remove(host))
        return pn.Row(self._panes[name], remove, sizing_mode="stretch_width")

    async def remove(self, name: str) -> None:
        try:
            await self.hosts.remove(name)
        except WorkbenchError as exc:
            self.message.object = _alert("bad", html.escape(str(exc)))
            return
        self.refresh()
        self.message.object = _alert("ok", f"removed <b>{html.escape(name)}</b>")
        if self.on_change:
            self.on_change()

    async def check_health(self, _event=None) -> None:
        await self.hosts.check(force=True)
        self.refresh()
        if self.on_change:
            self.on_change()

    def __panel__(self):
        return pn.Column(self.message, self._rows, self.recheck, sizing_mode="stretch_width")
