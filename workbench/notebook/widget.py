"""The workbench as a notebook widget: the app's session object, laid out for a notebook cell.

:class:`Workbench` *is* the app's :class:`~workbench.app.session.Workbench` (canvas, run panel, inspector,
palette, trace and history, wired the same way) with three differences: it edits the network it was given
rather than a copy, it is laid out to fit a notebook's width, and it can be driven from Python —
``await wb.run(x)`` shows live on the graph and in the trace, exactly as a press of its Run button does.
"""
from __future__ import annotations

import asyncio
import time

import holoviews.plotting.bokeh  # noqa: F401  (the trace's timeline is drawn with Bokeh)
import panel as pn
import param

from workbench.app import session
from workbench.app.steps import StepRow, step_rows
from workbench.config import store_path
from workbench.core.catalog import Catalog
from workbench.core.network import Network
from workbench.engine.runner import Engine, RunResult
from workbench.notebook.records import dataframe as _dataframe, records as _records
from workbench.store.sqlite import Store

_loaded = False
LOCAL_PANEL = "/panel-preview/static/extensions/panel/"  # Panel's Jupyter server extension serves its dist here


def extension() -> None:
    """Load Panel and HoloViews into the notebook with every script inlined (no CDN), once per kernel.

    The same as ``pn.extension("tabulator", inline=True)`` and ``hv.extension("bokeh", inline=True)``, plus
    the workbench's stylesheet, and HoloViews objects shown through Panel (whose display inlines stylesheets)."""
    global _loaded
    if _loaded:
        return
    import holoviews as hv

    css = "\n".join(line for line in session.PAGE_CSS.splitlines() if not line.startswith("body"))
    pn.extension("tabulator", inline=True, global_css=[css])
    hv.extension("bokeh", inline=True, logo=False)
    _show_holoviews_through_panel()
    _loaded = True


def _show_holoviews_through_panel() -> None:
    """Display HoloViews objects as Panel panes: Panel's notebook display inlines their stylesheets, while
    HoloViews' own display names them on cdn.holoviz.org."""
    from IPython import get_ipython

    shell = get_ipython()
    if shell is not None:
        from holoviews.core.dimension import Dimensioned

        shell.display_formatter.mimebundle_formatter.for_type(Dimensioned, lambda obj: pn.panel(obj)._repr_mimebundle_())


def _local_assets(send):
    """Wrap a comm's ``send`` so that no update names Panel's CDN.

    With ``inline=True`` Panel inlines every stylesheet when a view is first drawn, but updates sent later
    can still name stylesheets on cdn.holoviz.org (holoviz/panel#5167, #7073). The same files are served by
    Panel's Jupyter server extension, on the machine: point the updates there."""
    from panel.io.resources import CDN_DIST

    def local_send(data=None, *args, **kwargs):
        if isinstance(data, str) and CDN_DIST in data:
            data = data.replace(CDN_DIST, LOCAL_PANEL)
        return send(data, *args, **kwargs)
    return local_send


class _Given(session.Shared):
    """A notebook's workbench edits the very network it was given (the app gives each session a copy)."""

    def fresh_network(self) -> Network:
        return self.network


def _network(network: Network | str | None, catalog: Catalog | None) -> Network:
    if isinstance(network, Network):
        return network
    from workbench.app.server import DEFAULT_NETWORK
    from workbench.examples import load_network

    return load_network(network or DEFAULT_NETWORK, catalog)


class Workbench(session.Workbench):
    """The network as a graph editor (drag from a model's right handle to another's left handle to link
    them), a run panel, an inspector, a palette, and the trace of the last run, in one notebook cell.

    ``network`` is a :class:`Network`, a network file, or a shipped example's name (default
    ``digits-ensemble``). Runs are stored in ``store`` (default: ``$WORKBENCH_HOME/runs.sqlite``).
    """

    height = param.Integer(default=460, bounds=(240, None), doc="The canvas's height in pixels.")
    settle = param.Number(default=3.0, bounds=(0, None), doc=(
        "Seconds a run started from Python waits after the widget was displayed, so that the browser has drawn "
        "it before the first updates arrive (with Run All, the next cell starts at once; updates sent before "
        "the view exists are lost)."))

    def __init__(self, network: Network | str | None = None, *, catalog: Catalog | None = None,
                 engine: Engine | None = None, store: Store | None = None, **params):
        store = store if store is not None else Store(store_path())
        engine = engine if engine is not None else Engine(sinks=[store.write])
        super().__init__(_Given(engine, store, _network(network, catalog)), **params)
        self._shown_at: float | None = None

    # ---- the network ---------------------------------------------------------------------------
    @property
    def network(self) -> Network:
        """The network shown, and edited by every drag, delete and palette click."""
        return self.graph.network

    @property
    def message(self) -> str:
        """The last notice or refusal, in words (a refusal starts with ⚠)."""
        return self.graph.message

    def add(self, model: str) -> str:
        """Add a catalog model to the canvas, as the palette does; returns the new node's id."""
        return self.graph.add_model(model)

    def connect(self, source: str, target: str) -> bool:
        """Link two models, as a drag does: False when the network refuses, with the reason in ``message``."""
        return self.graph.connect(source, target)

    # ---- runs ----------------------------------------------------------------------------------
    async def run(self, input) -> RunResult | None:
        """Run the network on ``input`` (a Message, or content for the first model, e.g. an 8×8 image), live
        in the widget; returns the RunResult (None if cancelled). In a notebook: ``await wb.run(x)``."""
        if self._shown_at is not None:
            await asyncio.sleep(max(0.0, self._shown_at + self.settle - time.monotonic()))
        self.graph.reset_statuses()  # the page shows every status change of this run, whatever it showed before
        return await self.runs.run_input(input)

    def start(self, input) -> asyncio.Task:
        """Start a run in the background and return its task: the cell ends at once, the run goes on live."""
        return asyncio.ensure_future(self.run(input))

    def cancel(self) -> None:
        """Cancel the run in progress, if any; its finished steps stay in the trace."""
        self.runs.cancel()

    @property
    def events(self) -> list:
        """The events of the last run, in order (typed records: :class:`~workbench.engine.events.Event`)."""
        return list(self.runs.events)

    @property
    def steps(self) -> list[StepRow]:
        """The finished steps of the last run, as the trace table shows them."""
        return step_rows(self.events)

    def records(self) -> list[dict]:
        """The last run's steps as plain dicts (see :data:`workbench.notebook.records.COLUMNS`)."""
        return _records(self.events)

    def dataframe(self):
        """The last run's steps as a pandas DataFrame, one row per step."""
        return _dataframe(self.events)

    def close(self) -> None:
        """Stop the engine's worker threads (also done when the kernel exits)."""
        self.runs.cancel()
        self.shared.engine.close()

    # ---- view ----------------------------------------------------------------------------------
    def _repr_mimebundle_(self, include=None, exclude=None):
        from panel.io.state import state

        before = set(state._views)
        bundle = super()._repr_mimebundle_(include, exclude)
        self._shown_at = time.monotonic()
        for ref in set(state._views) - before:
            comm = state._views[ref][3]
            if comm is not None:
                comm.send = _local_assets(comm.send)
        return bundle

    def __panel__(self):
        canvas = pn.Column(self.graph, height=self.height, sizing_mode="stretch_width", css_classes=["wb-canvas-box"])
        card = dict(session.CARD, margin=(0, 0, 8, 0))
        side = pn.Column(pn.Card(self.runs, title="Run", **card), pn.Card(self.inspector, title="Inspector", **card),
                         pn.Card(self.palette, title="Palette", **{**card, "collapsible": True}, collapsed=True),
                         width=320, margin=(0, 0, 0, 12))
        return pn.Column(self.title, self.notice, pn.Row(canvas, side, sizing_mode="stretch_width"), self.tabs,
                         sizing_mode="stretch_width", css_classes=["wb-page", "wb-notebook"])
