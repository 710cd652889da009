"""One browser session of the workbench: its own network, canvas, run panel and trace.

Sessions share only the engine (loaded models), the run store (the history) and the connected hosts (the
catalog); everything a user types, runs or sees lives in the session's own objects, so two sessions never
see each other's work. A host connected in one session joins every session's palette within seconds.
"""
from __future__ import annotations

import copy
import html
import io
from dataclasses import dataclass, field
from pathlib import Path

import panel as pn
from panel.viewable import Viewer

from workbench.app.connections import Hosts
from workbench.app.graph import GraphView
from workbench.app.history import History
from workbench.app.hosts import HostForm, HostList
from workbench.app.inspector import Inspector
from workbench.app.palette import Palette
from workbench.app.runpanel import RunPanel
from workbench.app.theme import html_pane, stylesheet
from workbench.app.trace import NO_RUN, TraceView
from workbench.core import files
from workbench.core.network import Network
from workbench.engine.runner import Engine
from workbench.errors import WorkbenchError
from workbench.examples import example_paths
from workbench.store.sqlite import Store

CARD = dict(collapsible=False, sizing_mode="stretch_width", margin=(0, 0, 12, 0), css_classes=["wb-card"])
POLL_MS = 3000  # how often a session looks for hosts connected elsewhere and updates their health


@dataclass
class Shared:
    """What every session of one server shares: the engine, the run store, the network it opens with, and
    the connected hosts (whose catalog every session's network uses)."""

    engine: Engine
    store: Store
    network: Network           # the opening network, laid out; never edited: each session gets a copy
    hosts: Hosts = field(default=None)  # type: ignore[assignment]  # default: the local catalog only

    def __post_init__(self):
        if self.hosts is None:
            self.hosts = Hosts(local=self.network.catalog, engine=self.engine)

    def fresh_network(self) -> Network:
        """A copy of the opening network for one session, on the hosts' current catalog (shared, not copied)."""
        return copy.deepcopy(self.network, {id(self.network.catalog): self.hosts.catalog})


class Workbench(Viewer):
    """The whole app for one session: palette and host form | canvas, trace, history | run panel, inspector."""

    def __init__(self, shared: Shared, **params):
        super().__init__(**params)
        self.shared = shared
        self.graph = GraphView(shared.fresh_network())
        self.trace = TraceView(graph=self.graph)
        self.history = History(store=shared.store, on_open=self.open_run)
        self.runs = RunPanel(graph=self.graph, engine=shared.engine, on_start=self._started,
                             on_events=self.trace.extend, on_done=lambda _result: self.history.refresh())
        self.palette = Palette(hosts=shared.hosts, on_add=self.graph.add_model)
        self.inspector = Inspector(graph=self.graph)
        self.hosts = HostForm(hosts=shared.hosts, on_change=self.show_hosts)
        self.host_list = HostList(hosts=shared.hosts, on_change=self.show_hosts)
        self._hosts_seen = shared.hosts.version
        shared.hosts.subscribe(self._adopt_catalog)
        self.notice = html_pane("", sizing_mode="stretch_width", css_classes=["wb-notice"])
        self.title = html_pane("", sizing_mode="stretch_width")
        self.graph.param.watch(self._refresh, ["message", "edited"])
        self.tabs = pn.Tabs(("Trace", self.trace), ("History", self.history), dynamic=False,
                            sizing_mode="stretch_width", css_classes=["wb-tabs"])
        served = pn.state.curdoc is not None
        self.lower = pn.Column(html_pane("<p class='wb-muted'>…</p>") if served else self.tabs,
                               sizing_mode="stretch_width")  # the trace and history follow the canvas
        self._refresh()
        if served:
            pn.state.onload(self.preload)
            pn.state.add_periodic_callback(self.poll_hosts, period=POLL_MS)

    async def preload(self) -> None:
        """Once the canvas is drawn: add the parts below it, then load the models (shared, so usually loaded
        already) to show each node's real device."""
        self.lower[:] = [self.tabs]
        try:
            compiled = await self.runs.compile(self.graph.network)
        except WorkbenchError as exc:
            self.graph.message = f"⚠ {exc}"
        else:
            self.graph.show_devices(compiled.devices)
        self.graph.reset_statuses()
        self.runs.status.object = ""

    # ---- hosts --------------------------------------------------------------------------------
    def _adopt_catalog(self) -> None:
        """The hosts changed (here or in another session): this session's network uses the new catalog."""
        net = self.graph.network
        net.catalog, net.version = self.shared.hosts.catalog, net.version + 1

    def show_hosts(self) -> None:
        """Show the hosts as they are: the palette redrawn if they changed since it was drawn, else their health."""
        hosts = self.shared.hosts
        if hosts.version != self._hosts_seen:
            self._hosts_seen = hosts.version
            self.palette.refresh()
        else:
            self.palette.show_health()
        self.host_list.refresh()

    async def poll_hosts(self) -> None:
        """Show hosts connected or removed in other sessions, and keep their health current."""
        if len(self.shared.hosts.remotes):
            await self.shared.hosts.check()  # probes only the hosts not checked for a while
        self.show_hosts()

    # ---- files --------------------------------------------------------------------------------
    def _file_controls(self):
        save = pn.widgets.FileDownload(callback=self._saved, filename="network.yaml", label="Save network",
                                       color="default", css_classes=["wb-save"], width=140)
        self._save = save
        load = pn.widgets.FileInput(accept=".yaml,.yml,.json", css_classes=["wb-load"], width=230)
        load.param.watch(lambda e: self.load_text(e.new.decode("utf-8", "replace"), load.filename or "upload"),
                         "value")
        examples = pn.widgets.Select(options=["open an example…", *sorted(example_paths())], width=190,
                                     css_classes=["wb-examples"])
        examples.param.watch(self._open_example, "value")
        return pn.Row(examples, html_pane("<span class='wb-muted'>open a file</span>", margin=(14, 0, 0, 8)), load,
                      save, align="center")

    def _saved(self):
        self._save.filename = f"{self.graph.network.name}.yaml"
        return io.BytesIO(files.dumps(self.graph.network).encode("utf-8"))

    def load_text(self, text: str, source: str) -> bool:
        """Replace the network with the one in ``text`` (a network file); False with the reason if it is bad."""
        try:
            network = files.loads(text, source=source, catalog=self.shared.hosts.catalog)
        except WorkbenchError as exc:
            self.graph.message = f"⚠ {exc}"
            return False
        self.runs.cancel()  # a run of the network shown so far must not paint the new one
        self.graph.set_network(network)
        self.runs.sync_network()
        self.runs.clear()
        self.trace.show([], NO_RUN)
        self.graph.message = f"opened {network.name!r} from {source}"
        return True

    def _open_example(self, event) -> None:
        path = example_paths().get(event.new)
        if path is not None:
            self.load_text(Path(path).read_text(encoding="utf-8"), path.name)

    # ---- runs ---------------------------------------------------------------------------------
    def _started(self, run_id: str, title: str) -> None:
        self.trace.show([], title)
        self.tabs.active = 0

    def open_run(self, run_id: str) -> None:
        """Reopen a stored run in the trace view (and replay it on the graph with previous / next)."""
        store = self.shared.store
        record, events = store.run(run_id), store.events(run_id)
        self.trace.show(events, f"Stored run {record.id} · {record.network} · {record.status}")
        missing = {e.node for e in events if e.node} - set(self.graph.network.nodes)
        if missing:
            self.graph.message = f"this run used models not on the canvas: {', '.join(sorted(missing))}"
        self.tabs.active = 0

    # ---- view ---------------------------------------------------------------------------------
    def _refresh(self, *_):
        net, message = self.graph.network, self.graph.message
        refused = " wb-refused" if message.startswith("⚠") else ""
        self.notice.object = (f"<div class='wb-message{refused}' role='status'>{html.escape(message)}</div>"
                              if message else "")
        self.title.object = (f"<div class='wb-header'><div class='wb-logo'>ModelNet <span>Workbench</span></div>"
                             f"<div class='wb-net'><b>{html.escape(net.name)}</b> · {net.protocol} · "
                             f"<span class='wb-counts'>{len(net.nodes)} models · {len(net.pathways)} pathways"
                             f"</span></div></div>")

    def __panel__(self):
        header = pn.Row(self.title, self._file_controls(), sizing_mode="stretch_width", css_classes=["wb-top"])
        left = pn.Column(pn.Card(self.palette, title="Palette", **CARD),
                         pn.Card(self.host_list, title="Connected hosts", **CARD),
                         pn.Card(self.hosts, title="Connect a remote host", collapsed=True,
                                 **{**CARD, "collapsible": True}), width=270)
        canvas = pn.Column(self.graph, height=560, sizing_mode="stretch_width", css_classes=["wb-canvas-box"])
        centre = pn.Column(self.notice, canvas, self.lower, sizing_mode="stretch_width")
        right = pn.Column(pn.Card(self.runs, title="Run", **CARD), pn.Card(self.inspector, title="Inspector", **CARD),
                          width=340)
        return pn.Column(header, pn.Row(left, centre, right, sizing_mode="stretch_width"),
                         sizing_mode="stretch_width", css_classes=["wb-page"])


PAGE_CSS = stylesheet("page")
