"""The app's components in process, on real networks and the real engine: edits, refusals, runs, tokens."""
from __future__ import annotations

import asyncio
import threading

import pytest

pytest.importorskip("panel_reactflow")

import holoviews.plotting.bokeh  # noqa: E402,F401  (the trace's timeline is drawn when a run ends)
from workbench.app.graph import GraphView  # noqa: E402
from workbench.app.hosts import HostForm  # noqa: E402
from workbench.app.runpanel import RunPanel  # noqa: E402
from workbench.app.session import Shared, Workbench  # noqa: E402
from workbench.backends.base import Model  # noqa: E402
from workbench.core import files  # noqa: E402
from workbench.core.cards import ModelCard  # noqa: E402
from workbench.core.messages import Message  # noqa: E402
from workbench.core.network import Network  # noqa: E402
from workbench.engine.runner import Engine  # noqa: E402
from workbench.examples import example_paths, load_network  # noqa: E402
from workbench.store.sqlite import Store  # noqa: E402


class Writer(Model):
    """A real streaming model: yields words one at a time (what the text models do with tokens)."""

    card = ModelCard("writer", "python", "text", "text")

    def invoke(self, message):
        return Message("text", " ".join(self.stream_words(message)))

    def stream(self, message):
        for word in self.stream_words(message):
            yield word + " "

    @staticmethod
    def stream_words(message):
        return ["Paris", "is", "the", "capital", "of", "France."]


class Gate(Model):
    """Blocks until released: a step that is still running when the test cancels it."""

    card = ModelCard("gate", "python", "text", "text")

    def __init__(self):
        self.entered, self.release = threading.Event(), threading.Event()

    def invoke(self, message):
        self.entered.set()
        self.release.wait(10)
        return message


def frontend_edge(graph: GraphView, source: str, target: str, suffix: str = "") -> None:
    """What panel-reactflow does when the browser reports a dragged connection."""
    graph.flow._process_msg({"type": "edge_added", "edge": {"id": f"{source}->{target}{suffix}", "source": source,
                                                            "target": target}})


def test_a_dragged_pathway_reaches_the_network_and_refusals_leave_it_unchanged():
    net = Network("t", protocol="graph")
    for node in ("a", "b", "c"):
        net.add("identity", node)
    graph = GraphView(net)
    frontend_edge(graph, "a", "b")
    frontend_edge(graph, "b", "c")
    assert [(p.source, p.target) for p in net.pathways] == [("a", "b"), ("b", "c")]
    frontend_edge(graph, "c", "a")
    assert "closes the cycle c → a → b → c" in graph.message and graph.message.startswith("⚠")
    frontend_edge(graph, "a", "b", ":1")  # the browser gives a second a→b edge a suffixed id
    assert "already connected" in graph.message
    assert len(net.pathways) == 2


def test_deleting_on_the_canvas_deletes_in_the_network():
    net = load_network("digits-ensemble")
    graph = GraphView(net)
    graph.flow._process_msg({"type": "edge_deleted", "edge_id": "mlp->vote"})
    assert net.pathway("mlp", "vote") is None and len(net.pathways) == 2
    graph.flow._process_msg({"type": "node_deleted", "node_id": "cnn"})
    assert "cnn" not in net.nodes and [(p.source, p.target) for p in net.pathways] == [("logreg", "vote")]
    graph.flow._process_msg({"type": "node_moved", "node_id": "vote", "position": {"x": 500, "y": 40}})
    assert net.nodes["vote"].position == (500.0, 40.0)


def test_palette_additions_take_free_slots_and_are_saved_with_their_positions():
    net = load_network("digits-ensemble")
    graph = GraphView(net)
    added = [graph.add_model("digits-logreg") for _ in range(3)]
    positions = [n.position for n in net.nodes.values()]
    assert len(set(positions)) == len(positions) == 7
    saved = files.loads(files.dumps(net))
    assert [saved.nodes[n].position for n in added] == [net.nodes[n].position for n in added]


async def test_streamed_tokens_appear_in_the_run_panel_and_the_trace_is_complete(tmp_path):
    net = Network("writer", protocol="pipeline")
    net.add(Writer(), "writer")
    store = Store(tmp_path / "runs.sqlite")
    seen = []
    panel = RunPanel(graph=GraphView(net), engine=Engine(sinks=[store.write]), on_events=seen.extend)
    assert panel.mode.value == "text"
    panel.text.value = "What is the capital of France?"
    await panel.run()
    assert "Paris is the capital of France." in panel.tokens.object
    assert sum(e.type == "step.token" for e in seen) == 6
    assert "Paris is the capital of France." in panel.status.object and "ok in" in panel.status.object
    assert panel.graph.statuses == {"writer": "ok"}
    assert store.runs()[0].status == "ok"


async def test_cancel_stops_the_run_and_says_so(tmp_path):
    gate = Gate()
    net = Network("gated", protocol="pipeline")
    net.add(gate, "gate")
    panel = RunPanel(graph=GraphView(net), engine=Engine())
    running = asyncio.ensure_future(panel.run())
    await asyncio.get_running_loop().run_in_executor(None, gate.entered.wait, 10)
    await asyncio.sleep(0.1)
    assert panel.running and not panel.cancel_button.disabled and panel.graph.statuses["gate"] == "running"
    panel.cancel()
    await running
    gate.release.set()
    assert "cancelled" in panel.status.object and not panel.running
    assert panel.graph.statuses["gate"] == "cancelled"


async def test_a_network_that_cannot_run_says_why(tmp_path):
    net = load_network("digits-ensemble")
    panel = RunPanel(graph=GraphView(net), engine=Engine())
    panel.protocol.value = "pipeline"
    assert "before it can run" in panel.status.object
    await panel.run()
    assert "wb-alert-bad" in panel.status.object and "pipeline" in panel.status.object
    assert set(panel.graph.statuses.values()) == {"idle"} and not panel.running


def test_loading_a_bad_file_keeps_the_network_and_says_where(tmp_path):
    text = example_paths()["digits-ensemble"].read_text()
    workbench = Workbench(Shared(Engine(), Store(tmp_path / "runs.sqlite"), files.loads(text)))
    assert not workbench.load_text("schema: workbench.network/1\nname: x\nnodes:\n- {id: a, model: nope}\n", "bad.yaml")
    assert "bad.yaml at nodes[0].model" in workbench.graph.message and "no model named 'nope'" in workbench.graph.message
    assert workbench.graph.network.name == "digits-ensemble"
    assert workbench.load_text(text.replace("name: digits-ensemble", "name: copy"), "copy.yaml")
    assert workbench.graph.network.name == "copy" and workbench.runs.mode.value == "digit"


async def test_opening_another_network_clears_the_last_runs_results(tmp_path):
    text = example_paths()["digits-ensemble"].read_text()
    workbench = Workbench(Shared(Engine(), Store(tmp_path / "runs.sqlite"), files.loads(text)))
    await workbench.runs.run()
    assert len(workbench.trace.rows) == 4 and workbench.runs.status.object  # the answer, said in the panel
    workbench._open_example(type("Change", (), {"new": "digits-cascade"}))
    assert workbench.graph.network.name == "digits-cascade"
    assert workbench.trace.rows == [] and workbench.trace.title == "No run yet: press Run."
    assert len(workbench.trace.table.value) == 0 and workbench.runs.status.object == ""
    assert "wb-badge" not in workbench.trace.header.object


def test_the_host_form_reports_every_problem_before_asking_the_host(tmp_path):
    from workbench.app.connections import Hosts

    form = HostForm(hosts=Hosts(tmp_path / "remotes.yaml"))
    form.kind.value, form.url.value, form.host_name.value = "peer", "ftp://x", "lab 2"
    remote = form._remote()
    assert remote is None and "http:// or https://" in form.result.object
    form.url.value, form.host_name.value = "http://127.0.0.1:8000/", ""
    assert form._remote().name == "127.0.0.1:8000" and form._remote().url == "http://127.0.0.1:8000"
    form.host_name.value = "lab 2"
    assert form._remote() is None and "may hold only letters" in form.result.object
    assert not form.chat.visible
    form.kind.value = "openai"
    assert form.chat.visible and form.embed.visible and form.key.name == "API key (optional)"
    form.host_name.value, form.chat.value, form.embed.value = "llm", "smollm2, qwen", "minilm"
    remote = form._remote()
    assert (remote.kind, remote.chat, remote.embed) == ("openai", ["smollm2", "qwen"], ["minilm"])
    assert "remotes.yaml" in form.note.object and "every session" in form.note.object


def test_read_only_tables_ignore_an_older_copy_of_their_rows_from_the_browser():
    """In JupyterLab the browser sent back a two-row copy of the trace while the kernel held three rows; Panel's
    Tabulator failed on it and the trace stopped updating. The app's tables keep the server's rows."""
    import pandas as pd
    import panel as pn

    from workbench.app.table import ReadOnlyTable

    three = pd.DataFrame({"step": ["a", "b", "c"], "status": ["ok", "ok", "ok"]})
    older = {"step": ["a", "b"], "status": ["ok", "running"]}
    plain = pn.widgets.Tabulator(three.copy(), disabled=True)
    with pytest.raises(ValueError):  # what Panel does with it (if this starts passing, Panel fixed it)
        plain._process_events({"data": dict(older)})
    table = ReadOnlyTable(three.copy())
    table._process_events({"data": dict(older)})
    assert table.value.equals(three) and table.disabled
