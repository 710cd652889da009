"""Independent steps overlap, and a join runs exactly once after all its inputs arrived.

Overlap is proven by order and by handshakes that would deadlock if the steps ran one after another,
never by wall-clock durations.
"""
from __future__ import annotations

import asyncio
import threading
import time

from engine_helpers import model
from hypothesis import given, settings
from hypothesis import strategies as st

from workbench import Engine, Message, Network, Trace
from workbench.engine.events import STEP_END, STEP_START

GUARD = 10  # seconds: only reached when the engine deadlocks


def fan(*branches, join="gather", protocol="fanout") -> Network:
    net = Network("fan", protocol=protocol)
    for node_id, m in branches:
        net.add(m, node_id)
    net.add(join, "join")
    for node_id, _ in branches:
        net.connect(node_id, "join")
    return net


async def test_async_branches_overlap(engine):
    left_in, right_in = asyncio.Event(), asyncio.Event()

    async def left(x):   # waits for right to have started: deadlocks if run before it, alone
        left_in.set()
        await right_in.wait()
        return "L"

    async def right(x):
        right_in.set()
        await left_in.wait()
        return "R"

    net = fan(("left", model(left)), ("right", model(right)))
    result = await asyncio.wait_for(engine.run(net, "go"), GUARD)
    assert result.ok, result.error
    assert result.output.content == ["L", "R"]


async def test_blocking_models_overlap_in_threads(engine):
    barrier = threading.Barrier(2, timeout=GUARD)  # both threads must be inside at once

    def meet(x):
        barrier.wait()
        return threading.current_thread().name

    net = fan(("a", model(meet, blocking=True)), ("b", model(meet, blocking=True)))
    result = await engine.run(net, "go")
    assert result.ok, result.error
    a_thread, b_thread = result.output.content
    assert a_thread != b_thread and a_thread.startswith("workbench-step")


async def test_delay_branches_interleave_in_the_trace(engine):
    net = fan(("slow", "delay"), ("slower", "delay"), join="gather")
    net.nodes["slow"].params = {"seconds": 0.02}
    net.nodes["slower"].params = {"seconds": 0.03}
    trace = Trace()
    result = await engine.run(net, "x", sinks=[trace])
    assert result.ok
    seq = {(e.type, e.node): e.seq for e in trace}
    # the second branch starts before the first one ends: they overlap
    assert seq[(STEP_START, "slower")] < seq[(STEP_END, "slow")]
    assert seq[(STEP_START, "slow")] < seq[(STEP_END, "slower")]
    assert seq[(STEP_START, "join")] > max(seq[(STEP_END, "slow")], seq[(STEP_END, "slower")])


async def test_a_slow_branch_does_not_hold_up_an_independent_one(engine):
    release = asyncio.Event()
    seen = []

    async def slow(x):
        await release.wait()
        return "slow"

    def observer(event):  # the fast chain finishing lets the slow branch go
        seen.append((event.type, event.node))
        if event.type == STEP_END and event.node == "fast2":
            release.set()

    net = Network("two chains")
    net.add(model(slow), "slow"), net.add("identity", "fast1"), net.add("identity", "fast2")
    net.connect("fast1", "fast2")
    result = await asyncio.wait_for(engine.run(net, "x", sinks=[observer]), GUARD)
    assert result.ok
    assert set(result.output) == {"slow", "fast2"}
    assert seen.index((STEP_END, "fast2")) < seen.index((STEP_END, "slow"))


# ---- a join runs once, whatever the branches ------------------------------------------------------
KINDS = ["inline", "async", "thread"]
step_spec = st.tuples(st.sampled_from(KINDS), st.sampled_from([0.0, 0.0005, 0.002]))


def branch_model(name: str, kind: str, delay: float):
    def sync(x):
        if kind == "thread":
            time.sleep(delay)
        return f"{x}/{name}"

    async def asynchronous(x):
        await asyncio.sleep(delay)
        return f"{x}/{name}"

    return model(asynchronous if kind == "async" else sync, name, blocking=(kind == "thread"))


@settings(max_examples=40, deadline=None)
@given(branches=st.lists(st.lists(step_spec, min_size=1, max_size=3), min_size=1, max_size=5),
       join_kind=st.sampled_from(KINDS))
def test_join_runs_exactly_once_after_all_inputs(branches, join_kind):
    calls = []

    def join_fn(message):
        calls.append(message)
        return Message("list", [m.content for m in message.content])

    async def join_async(message):
        return join_fn(message)

    join = model(join_async if join_kind == "async" else join_fn, "join", join=True, raw=False,
                 blocking=(join_kind == "thread"))
    net = Network("prop", protocol="fanout")
    tails, expected = [], []
    for b, steps in enumerate(branches):
        names = [f"b{b}s{s}" for s in range(len(steps))]
        for name, (kind, delay) in zip(names, steps):
            net.add(branch_model(name, kind, delay), name)
        for source, target in zip(names, names[1:]):
            net.connect(source, target)
        tails.append(names[-1])
        expected.append("in/" + "/".join(names))
    net.add(join, "join")
    for tail in tails:
        net.connect(tail, "join")

    engine, trace = Engine(), Trace()
    try:
        result = asyncio.run(asyncio.wait_for(engine.run(net, "in", sinks=[trace]), GUARD))
    finally:
        engine.close()
    assert result.ok, result.error
    assert len(calls) == 1
    assert calls[0].meta["from"] == tails            # every input, in pathway order
    assert result.output.content == expected
    ends = [e for e in trace if e.type == STEP_END]
    assert sorted(e.node for e in ends) == sorted(net.nodes)   # every step ran once
    join_start = next(e.seq for e in trace if e.type == STEP_START and e.node == "join")
    assert all(e.seq < join_start for e in ends if e.node != "join")


async def test_compiled_network_runs_many_times_concurrently(engine):
    gate = asyncio.Event()
    waiting = []

    async def wait_for_all(x):
        waiting.append(x)
        if len(waiting) == 5:
            gate.set()
        await gate.wait()  # only returns once all five runs are inside this step at once
        return x * 2

    net = Network("many")
    net.add(model(wait_for_all), "w")
    compiled = engine.compile(net)
    results = await asyncio.wait_for(asyncio.gather(*(compiled.run(i) for i in range(5))), GUARD)
    assert [r.output.content for r in results] == [0, 2, 4, 6, 8]
    assert len({r.run_id for r in results}) == 5


def test_compile_is_cached_until_the_network_changes(engine):
    net = Network("c")
    net.add("identity", "a")
    first = engine.compile(net)
    assert engine.compile(net) is first
    net.add("identity", "b")
    assert engine.compile(net) is not first
    assert engine.compile(net).models["a"] is first.models["a"]  # loaded models are shared


def test_run_sync(engine):
    net = Network("s")
    net.add("identity", "a")
    result = engine.run_sync(net, "plain")
    assert result.ok and result.output == Message("any", "plain")
