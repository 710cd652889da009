"""The notebook widget in process: the app's components on the given network, runs from Python, the trace as
records and a DataFrame, pictures, and updates that name no CDN."""
from __future__ import annotations

import asyncio
import sys

import pytest

from workbench import Network, Store, Trace
from workbench.data.digits import heldout_image
from workbench.errors import WorkbenchError
from workbench.notebook import dataframe, records

pn = pytest.importorskip("panel")


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("WORKBENCH_HOME", str(tmp_path))
    return tmp_path


def small_network() -> Network:
    net = Network("two-members", protocol="graph")
    net.add("digits-logreg", "logreg")
    net.add("digits-logreg", "second")
    net.add("vote", "vote")
    net.connect("logreg", "vote")
    return net


def test_the_widget_edits_the_network_it_was_given(home):
    from workbench.app.graph import GraphView
    from workbench.app.runpanel import RunPanel
    from workbench.app.trace import TraceView
    from workbench.notebook import Workbench

    net = small_network()
    wb = Workbench(net)
    assert wb.network is net and isinstance(wb.graph, GraphView) and isinstance(wb.runs, RunPanel)
    assert isinstance(wb.trace, TraceView)
    layout = wb.__panel__()
    assert wb.graph.flow in [obj for obj in layout.select()]  # the app's own canvas, not a copy of it
    wb.graph._on_edge_added({"edge": {"id": "second->vote", "source": "second", "target": "vote"}})  # as a drag
    assert net.pathway("second", "vote") is not None and "pathway 'second' → 'vote' added" in wb.message
    assert wb.connect("vote", "logreg") is False and wb.message.startswith("⚠")
    assert net.pathway("vote", "logreg") is None
    node = wb.add("identity")
    assert node in net.nodes and wb.connect("vote", node)


def test_a_run_from_python_shows_on_the_graph_and_in_the_trace(home):
    from workbench.notebook import Workbench

    wb = Workbench(small_network())
    image, label = heldout_image(17)
    result = asyncio.run(wb.run(image))
    assert result.ok and result.output["vote"].content["label"] == label
    assert wb.graph.statuses == {"logreg": "ok", "second": "ok", "vote": "ok"}
    assert [row.step for row in wb.trace.rows] == [row.step for row in wb.steps] and len(wb.steps) == 3
    assert "ok" in wb.trace.header.object and "ok in" in wb.runs.status.object
    assert wb.events[0].type == "run.start" and wb.events[-1].type == "run.end"
    stored = Store(home / "runs.sqlite").runs()
    assert [r.id for r in stored] == [result.run_id]  # stored, so the history lists it
    assert wb.history.table.value["id"].tolist() == [result.run_id]


def test_a_network_that_cannot_run_raises_and_says_why(home):
    from workbench.notebook import Workbench

    net = Network("broken", protocol="vote")
    net.add("digits-logreg", "logreg")
    wb = Workbench(net)
    with pytest.raises(WorkbenchError, match="join"):
        asyncio.run(wb.run(heldout_image(0)[0]))
    assert "wb-alert-bad" in wb.runs.status.object and not wb.runs.running


def test_records_and_dataframe_one_row_per_step_run_by_run(home):
    from workbench import Engine

    trace = Trace()
    engine = Engine(sinks=[trace])
    net = small_network()
    first = engine.run_sync(net, heldout_image(1)[0])
    second = engine.run_sync(net, heldout_image(2)[0])
    rows = records(trace)
    assert [(r["run"], r["n"]) for r in rows] == [(first.run_id, n) for n in (1, 2, 3)] + \
           [(second.run_id, n) for n in (1, 2, 3)]
    assert {r["status"] for r in rows} == {"ok"} and rows[0]["device"] == "python/cpu"
    assert any(r["output"].startswith("majority") for r in rows if r["step"] == "vote")
    frame = dataframe(trace)
    assert len(frame) == 6 and list(frame.columns)[:3] == ["run", "n", "step"]
    assert frame.groupby("run").size().tolist() == [3, 3]


def test_dataframe_without_pandas_says_how_to_get_it(monkeypatch):
    monkeypatch.setitem(sys.modules, "pandas", None)
    with pytest.raises(WorkbenchError, match=r"pip install 'modelnet-workbench\[notebook\]'"):
        dataframe([])


def test_pictures_network_and_timeline(home):
    import holoviews as hv

    from workbench.notebook import Workbench, network_plot, timeline

    hv.extension("bokeh")
    net = small_network()
    plot = network_plot(net, color_by="host")
    graph = plot.get(0)
    assert len(graph.nodes) == 3 and len(graph) == 1  # three models, one pathway
    assert set(graph.nodes.dimension_values("label")) == {"logreg", "second", "vote"}
    hv.render(plot)  # draws with Bokeh
    assert timeline([]) is None
    wb = Workbench(net)
    asyncio.run(wb.run(heldout_image(3)[0]))
    segments = timeline(wb.events)
    assert set(segments.dimension_values("step")) == {"logreg", "second", "vote"}
    hv.render(segments)


def test_updates_after_the_first_drawing_name_no_cdn(home, monkeypatch):
    """Panel inlines stylesheets when a view is drawn, but later updates may name cdn.holoviz.org; the widget
    points them at the Jupyter server instead (what a page without internet needs)."""
    import pyviz_comms
    from panel.io.resources import CDN_DIST
    from panel.io.state import state

    from workbench.notebook import Workbench, widget

    sent: list[str] = []
    monkeypatch.setattr(pyviz_comms.Comm, "send", lambda self, data=None, *a, **k: sent.append(data or ""))
    pn.extension("tabulator", inline=True)
    wb = Workbench(small_network())
    before = set(state._views)
    bundle = wb._repr_mimebundle_()
    assert "cdn.holoviz.org" not in str(bundle)
    for ref in set(state._views) - before:
        state._views[ref][3]._comm = object()  # as if the browser had opened the comm
    asyncio.run(wb.run(heldout_image(4)[0]))
    text = "".join(s for s in sent if isinstance(s, str))
    assert "patch_node_props" in text and widget.LOCAL_PANEL in text  # updates went out, CDN names rewritten
    assert CDN_DIST not in text


def test_records_load_no_panel_holoviews_or_pandas():
    import subprocess

    code = ("import sys; from workbench.notebook import dataframe, records; "
            "print(sorted(m for m in ('panel', 'holoviews', 'pandas', 'bokeh') if m in sys.modules))")
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert loaded == "[]"
