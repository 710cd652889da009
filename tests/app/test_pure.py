"""The app's pure-Python parts: layout, endpoint checks, trace rows and replay, digit pictures, light imports."""
from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from workbench.app import layout
from workbench.app.endpoints import check_endpoint
from workbench.app.pictures import digit_svg
from workbench.app.steps import live_statuses, replay_statuses, step_rows, tokens
from workbench.core.network import Network
from workbench.engine.events import Trace
from workbench.engine.runner import Engine
from workbench.examples import load_network


def chain(n: int) -> Network:
    net = Network("chain", protocol="pipeline")
    for i in range(n):
        net.add("identity", f"n{i}")
        if i:
            net.connect(f"n{i - 1}", f"n{i}")
    return net


def test_a_network_without_positions_is_laid_out_in_columns_by_depth():
    net = load_network("digits-ensemble")
    for node in net.nodes.values():
        node.position = None
    layout.place_missing(net)
    xs = {n: node.position[0] for n, node in net.nodes.items()}
    assert xs["cnn"] == xs["mlp"] == xs["logreg"] == 0 and xs["vote"] == layout.COLUMN
    assert len({node.position for node in net.nodes.values()}) == 4


def test_adding_models_never_moves_the_ones_already_placed():
    net = chain(5)
    layout.place_missing(net)
    before = {n: node.position for n, node in net.nodes.items()}
    for i in range(30):
        net.add("identity", f"extra{i}", position=layout.free_slot(net))
    assert all(net.nodes[n].position == p for n, p in before.items())
    assert len({node.position for node in net.nodes.values()}) == 35  # no two nodes share a slot


def test_500_nodes_get_distinct_positions():
    net = Network("big")
    for i in range(500):
        net.add("identity", f"n{i}")
    layout.place_missing(net)
    assert len({node.position for node in net.nodes.values()}) == 500


@pytest.mark.parametrize("kind, url, name, chat, problem", [
    ("peer", "", "", "", "give the host's URL"),
    ("peer", "ftp://host", "", "", "must start with http:// or https://"),
    ("peer", "http://:8000", "", "", "names no host"),
    ("peer", "http://user:pw@host", "", "", "no user name or password"),
    ("peer", "http://host:99999", "", "", "port must be a number from 1 to 65535"),
    ("peer", "http://host/?x=1", "", "", "no ?query"),
    ("peer", "http://host:8765", "lab two", "", "may hold only letters"),
    ("peer", "http://host:8765", "", "smollm2", "a workbench host lists its own models"),
    ("gopher", "http://host", "", "", "unknown kind"),
])
def test_the_host_form_refuses_bad_endpoints_with_a_reason(kind, url, name, chat, problem):
    remote, problems = check_endpoint(kind, url, name, chat=chat)
    assert remote is None and any(problem in p for p in problems), problems


def test_the_host_form_accepts_and_normalizes_a_good_endpoint():
    remote, problems = check_endpoint("openai", " http://127.0.0.1:8000/v1/ ", "", " sk-1 ", "smollm2,qwen  x",
                                      "minilm")
    assert problems == [] and remote.url == "http://127.0.0.1:8000/v1" and remote.name == "127.0.0.1:8000"
    assert (remote.token, remote.chat, remote.embed) == ("sk-1", ["smollm2", "qwen", "x"], ["minilm"])
    assert check_endpoint("peer", "http://lab2:8765", "lab2")[0].token is None


def test_trace_rows_statuses_and_replay_follow_a_real_run():
    trace = Trace()
    net = load_network("digits-ensemble")
    engine = Engine(sinks=[trace])
    from workbench.data.inputs import parse_input

    result = engine.run_sync(net, parse_input("17", "image.digits"))
    rows = step_rows(trace)
    assert result.ok and [r.n for r in rows] == [1, 2, 3, 4] and rows[-1].step == "vote"
    assert rows[-1].output == "majority 9: 3 of 3 votes" and rows[0].input == "digit #17 (label 9)"
    assert all(r.start is not None and r.end >= r.start for r in rows)
    assert live_statuses(trace) == ({n: "ok" for n in net.nodes}, None)
    statuses, current = replay_statuses(rows, net.nodes, 2)
    assert current == rows[1].node and statuses["vote"] == "idle"
    assert sorted(s for s in statuses.values()) == ["idle", "idle", "ok", "ok"]
    halfway = [e for e in trace if not (e.type == "step.end" and e.step == "vote")]
    assert live_statuses(halfway)[0]["vote"] == "running"
    assert tokens(trace) == {}


def test_a_digit_picture_has_one_cell_per_inked_pixel():
    image = np.zeros((8, 8))
    image[2, 3], image[5, 5] = 16, 8
    svg = digit_svg(image, 80)
    assert svg.count("<rect") == 3 and 'fill="rgb(0,0,0)"' in svg and 'fill="rgb(128,128,128)"' in svg


def test_importing_the_package_and_the_cli_loads_no_panel():
    code = ("import sys, workbench, workbench.cli, workbench.app, workbench.app.layout, workbench.app.steps, "
            "workbench.app.endpoints; import json; print(json.dumps(sorted({m.split('.')[0] for m in sys.modules} "
            "& {'panel', 'bokeh', 'holoviews', 'panel_reactflow', 'torch', 'mlx', 'pandas'})))")
    loaded = json.loads(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout)
    assert loaded == []


def test_a_deep_network_is_folded_into_bands_instead_of_one_long_row():
    net = chain(100)
    layout.place_missing(net)
    xs = {node.position[0] for node in net.nodes.values()}
    ys = {node.position[1] for node in net.nodes.values()}
    assert len(xs) == 10 and len(ys) == 10  # 100 steps deep: ten bands of ten columns
    assert len({node.position for node in net.nodes.values()}) == 100
