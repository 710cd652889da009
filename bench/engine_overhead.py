"""Engine cost per step vs LangGraph, on the same graphs of no-op models, in the same process.

    python bench/engine_overhead.py [--runs 400] [--rounds 5]

Graphs: a 3-model chain, and a 5-way fan-out into one join (6 steps). The workbench runs them with
in-memory tracing (a Trace sink) and with the SQLite store (a fresh file); LangGraph (``pip install
langgraph``, a benchmark-only dependency) runs the same graphs with ``invoke``, its fastest path.
Rounds are interleaved and the median taken. Targets: ≤ 0.1× LangGraph per step in memory,
≤ 0.5× with SQLite.
"""
from __future__ import annotations

import argparse
import asyncio
import operator
import statistics
import tempfile
import time
from pathlib import Path
from typing import Annotated, TypedDict

from workbench import Engine, Network, Store, Trace

TARGETS = {"memory": 0.1, "sqlite": 0.5}


def workbench_graph(shape: str) -> Network:
    if shape == "chain":
        net = Network("chain-3", protocol="pipeline")
        for name in "abc":
            net.add("identity", name)
        net.connect("a", "b"), net.connect("b", "c")
    else:
        net = Network("fanout-5", protocol="fanout")
        net.add("gather", "join")
        for i in range(5):
            net.add("identity", f"m{i}")
            net.connect(f"m{i}", "join")
    return net


def langgraph_graph(shape: str):
    from langgraph.graph import END, START, StateGraph

    class State(TypedDict):
        x: int
        seen: Annotated[list, operator.add]

    graph = StateGraph(State)
    if shape == "chain":
        for name in "abc":
            graph.add_node(name, lambda state: {"x": state["x"]})
        graph.add_edge(START, "a"), graph.add_edge("a", "b"), graph.add_edge("b", "c"), graph.add_edge("c", END)
    else:
        members = [f"m{i}" for i in range(5)]
        for name in members:
            graph.add_node(name, lambda state: {"seen": [state["x"]]})
            graph.add_edge(START, name)
        graph.add_node("join", lambda state: {"x": len(state["seen"])})
        graph.add_edge(members, "join"), graph.add_edge("join", END)
    return graph.compile()


def time_workbench(compiled, runs: int, sink_factory) -> float:
    async def go():
        sink = sink_factory()
        start = time.perf_counter()
        for _ in range(runs):
            await compiled.run(1, sinks=[sink])
        return time.perf_counter() - start
    return asyncio.run(go())


def time_langgraph(app, runs: int) -> float:
    start = time.perf_counter()
    for _ in range(runs):
        app.invoke({"x": 1, "seen": []})
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=400)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="wb-bench-"))
    store = Store(folder / "runs.sqlite")
    engine = Engine()
    print(f"{'graph':<10} {'mode':<7} {'workbench µs/step':>18} {'langgraph µs/step':>18} {'ratio':>7} {'target':>7}")
    for shape, steps in (("chain", 3), ("fanout", 6)):
        compiled, app = engine.compile(workbench_graph(shape)), langgraph_graph(shape)
        for mode, sink in (("memory", Trace), ("sqlite", lambda: store.write)):
            time_workbench(compiled, 50, sink), time_langgraph(app, 50)  # warm up
            ours, theirs = [], []
            for _ in range(args.rounds):
                ours.append(time_workbench(compiled, args.runs, sink) / args.runs / steps)
                theirs.append(time_langgraph(app, args.runs) / args.runs / steps)
            ratio = statistics.median(ours) / statistics.median(theirs)
            verdict = "ok" if ratio <= TARGETS[mode] else "MISSED"
            print(f"{shape:<10} {mode:<7} {statistics.median(ours) * 1e6:>18.1f} {statistics.median(theirs) * 1e6:>18.1f}"
                  f" {ratio:>6.3f}× {TARGETS[mode]:>5}× {verdict}")
    store.close()


if __name__ == "__main__":
    main()
