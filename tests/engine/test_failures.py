"""Failed, timed-out and cancelled steps: each recorded as such, with the rest of the run kept."""
from __future__ import annotations

import asyncio
import contextlib
import threading

import pytest
from engine_helpers import model
from hypothesis import given, settings
from hypothesis import strategies as st

from workbench import Engine, Message, ModelCard, Network, Trace
from workbench.backends.base import Model
from workbench.engine.events import RUN_END, STEP_END, STEP_START
from workbench.errors import ModelError

GUARD = 10


def boom(x):
    raise ValueError(f"bad input {x!r}")


def diamond(middle) -> Network:
    """first → middle → after → join ← other ← first; ``other`` is independent of ``middle``."""
    net = Network("diamond")
    net.add("identity", "first"), net.add(middle, "middle"), net.add("identity", "after")
    net.add(model(lambda x: x + "!"), "other"), net.add("gather", "join")
    net.connect("first", "middle"), net.connect("middle", "after"), net.connect("after", "join")
    net.connect("first", "other"), net.connect("other", "join")
    return net


def statuses(trace) -> dict:
    return {e.step: e.status for e in trace if e.type == STEP_END}


async def test_a_failed_step_keeps_what_came_before_and_skips_what_follows(engine):
    trace = Trace()
    result = await engine.run(diamond(model(boom)), "in", sinks=[trace])
    assert result.status == "failed"
    assert statuses(trace) == {"first": "ok", "middle": "failed", "after": "skipped", "other": "ok", "join": "skipped"}
    failed = result.steps["middle"]
    assert failed.error == "ValueError: bad input 'in'"
    assert failed.start is not None and failed.end >= failed.start and failed.device == "python/cpu"
    assert result.steps["first"].output.content == "in"        # the steps before it are kept
    assert result.steps["other"].output.content == "in!"       # the independent branch finished
    assert result.steps["after"].error == "no input from middle"
    assert "no input from" in result.steps["join"].error and "after" in result.steps["join"].error
    assert result.error == "step 'middle' failed: ValueError: bad input 'in'"
    end = trace[-1]
    assert end.type == RUN_END and end.status == "failed" and end.error == result.error
    assert not any(e.type == STEP_START and e.node in ("after", "join") for e in trace)


@pytest.mark.parametrize("kind", ["inline", "async", "thread"])
async def test_failures_in_every_kind_of_model(engine, kind):
    async def aboom(x):
        boom(x)

    m = model(aboom) if kind == "async" else model(boom, blocking=(kind == "thread"))
    result = await engine.run(diamond(m), "in")
    assert result.steps["middle"].status == "failed" and "ValueError" in result.steps["middle"].error
    assert result.steps["other"].status == "ok"


@pytest.mark.parametrize("returned, problem", [
    ("a string", "returned str, not a Message"),
    (Message("x", 1, None), "meta is NoneType, not a dict"),
])
async def test_a_model_returning_something_odd_fails_its_step_only(engine, returned, problem):
    class Odd(Model):
        card, blocking = ModelCard("odd", "python"), False

        def invoke(self, message):
            return returned

    result = await engine.run(diamond(Odd()), "in")
    assert result.status == "failed"
    assert result.steps["middle"].status == "failed" and problem in result.steps["middle"].error
    assert result.steps["after"].status == "skipped" and result.steps["other"].status == "ok"


async def test_a_timeout_error_from_the_model_itself_is_a_failure(engine):
    async def gives_up(x):
        raise TimeoutError("upstream server did not answer")

    result = await engine.run(diamond(model(gives_up)), "in")
    assert result.steps["middle"].status == "failed"
    assert result.steps["middle"].error == "TimeoutError: upstream server did not answer"
    result = await engine.run(diamond(model(gives_up)), "in", step_timeout=5)
    assert result.steps["middle"].status == "failed"


# ---- timeouts -----------------------------------------------------------------------------------
async def test_an_async_step_past_its_deadline_times_out(engine):
    async def hang(x):
        await asyncio.Event().wait()

    result = await asyncio.wait_for(engine.run(diamond(model(hang)), "in", step_timeout=0.05), GUARD)
    assert result.status == "failed"
    step = result.steps["middle"]
    assert step.status == "timeout" and step.error == "StepTimeout: no answer within 0.05 s"
    assert step.start is not None and step.end is not None
    assert result.steps["after"].status == "skipped" and result.steps["other"].status == "ok"
    assert result.error.startswith("step 'middle' timeout")


async def test_a_thread_step_past_its_deadline_times_out():
    release = threading.Event()
    engine = Engine(step_timeout=0.05)  # the engine's default deadline
    try:
        net = diamond(model(lambda x: release.wait(GUARD), blocking=True))
        result = await asyncio.wait_for(engine.run(net, "in"), GUARD)
        assert result.steps["middle"].status == "timeout"
        assert result.steps["other"].status == "ok"
    finally:
        release.set()
        engine.close()


async def test_the_delay_model_times_out(engine):
    net = Network("slow", protocol="pipeline")
    net.add("identity", "a"), net.add("delay", "wait", params={"seconds": 30}), net.connect("a", "wait")
    result = await asyncio.wait_for(engine.run(net, "x", step_timeout=0.02), GUARD)
    assert result.steps["wait"].status == "timeout" and result.steps["a"].status == "ok"


async def test_a_run_deadline_overrides_the_engines():
    engine = Engine(step_timeout=0.01)
    try:
        net = Network("d")
        net.add("delay", "wait", params={"seconds": 0.05})
        assert (await engine.run(net, "x")).steps["wait"].status == "timeout"
        assert (await engine.run(net, "x", step_timeout=GUARD)).ok
    finally:
        engine.close()


# ---- cancellation -----------------------------------------------------------------------------------
def hanging_fan():
    """src → hang1, hang2 → join, plus ``done`` which finishes at once."""
    async def hang(x):
        await asyncio.Event().wait()

    net = Network("hang")
    net.add("identity", "src"), net.add(model(hang), "hang1"), net.add(model(hang), "hang2")
    net.add("gather", "join"), net.add("identity", "done")
    net.connect("src", "hang1"), net.connect("src", "hang2"), net.connect("hang1", "join"), net.connect("hang2", "join")
    return net


@pytest.mark.parametrize("step_timeout", [None, GUARD])  # a deadline that has not passed does not matter
async def test_cancelling_a_run(engine, step_timeout):
    trace, both_running = Trace(), asyncio.Event()

    def watch(event):
        if sum(e.type == STEP_START and e.node.startswith("hang") for e in trace) == 2:
            both_running.set()

    task = asyncio.ensure_future(engine.run(hanging_fan(), "x", sinks=[trace, watch], step_timeout=step_timeout))
    await asyncio.wait_for(both_running.wait(), GUARD)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert statuses(trace) == {"src": "ok", "done": "ok", "hang1": "cancelled", "hang2": "cancelled"}
    for node in ("hang1", "hang2"):
        end = next(e for e in trace if e.type == STEP_END and e.node == node)
        assert end.start is not None and end.end >= end.start
    assert not any(e.node == "join" for e in trace)  # never started
    last = trace[-1]
    assert last.type == RUN_END and last.status == "cancelled" and last.error is None
    assert [e.seq for e in trace] == list(range(len(trace)))


async def test_cancelling_a_thread_step():
    release, inside = threading.Event(), threading.Event()

    def block(x):
        inside.set()
        release.wait(GUARD)
        return x

    engine, trace = Engine(), Trace()
    net = Network("t")
    net.add(model(block, blocking=True), "block")
    try:
        task = asyncio.ensure_future(engine.run(net, "x", sinks=[trace]))
        await asyncio.wait_for(asyncio.get_running_loop().run_in_executor(None, inside.wait, GUARD), GUARD)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert statuses(trace) == {"block": "cancelled"} and trace[-1].status == "cancelled"
    finally:
        release.set()
        engine.close()


async def test_leaving_a_stream_early_cancels_the_run(engine):
    trace = Trace()
    compiled = engine.compile(hanging_fan())
    async with contextlib.aclosing(compiled.stream("x", sinks=[trace])) as events:
        async for event in events:
            if event.type == STEP_START and event.node == "hang1":
                break
    assert trace[-1].type == RUN_END and trace[-1].status == "cancelled"
    assert statuses(trace)["hang1"] == "cancelled"


# ---- building models ----------------------------------------------------------------------------------
class FailsToLoad(Model):
    card = ModelCard("fragile", "python")

    def load(self):
        raise OSError("weights file is truncated")

    def invoke(self, message):
        return message


def test_a_model_that_fails_to_load_is_named(engine):
    net = Network("l")
    net.add(FailsToLoad(), "fragile-node")
    with pytest.raises(ModelError) as info:
        engine.compile(net)
    assert info.value.node == "fragile-node"
    assert "'fragile-node'" in str(info.value) and "OSError: weights file is truncated" in str(info.value)


def test_bad_params_are_reported_at_compile_naming_the_node(engine):
    net = Network("p")
    net.add("delay", "nap", params={"seconds": -1})
    with pytest.raises(ModelError) as info:
        engine.compile(net)
    assert info.value.node == "nap" and "finite number ≥ 0" in str(info.value)
    net2 = Network("p2")
    net2.add("delay", "nap", params={"secs": 1})
    with pytest.raises(ModelError, match="takes no parameter secs") as info:
        engine.compile(net2)
    assert info.value.node == "nap"


# ---- property: on any graph, a step is skipped exactly when one of its inputs did not arrive -------------
@st.composite
def graphs(draw):
    """Random DAGs: node j may be fed by any earlier nodes; each node fails or not, inline or async."""
    n = draw(st.integers(1, 8))
    nodes = []
    for j in range(n):
        feeders = draw(st.lists(st.integers(0, j - 1), unique=True, max_size=3)) if j else []
        nodes.append((f"n{j}", [f"n{i}" for i in sorted(feeders)], draw(st.booleans()), draw(st.booleans())))
    return nodes


@settings(max_examples=60, deadline=None)
@given(spec=graphs())
def test_failures_propagate_as_skips_and_nothing_else(spec):
    net = Network("random")
    for node_id, feeders, fails, is_async in spec:
        def fn(x, node_id=node_id, fails=fails):
            if fails:
                raise RuntimeError(f"{node_id} broke")
            return node_id

        async def afn(x, fn=fn):
            await asyncio.sleep(0)
            return fn(x)

        net.add(model(afn if is_async else fn, node_id, join=len(feeders) > 1), node_id)
        for feeder in feeders:
            net.connect(feeder, node_id)
    engine = Engine()
    try:
        result = asyncio.run(asyncio.wait_for(engine.run(net, "in"), GUARD))
    finally:
        engine.close()
    expected = {}
    for node_id, feeders, fails, _ in spec:
        if any(expected[f] != "ok" for f in feeders):
            expected[node_id] = "skipped"
        else:
            expected[node_id] = "failed" if fails else "ok"
    assert {n: e.status for n, e in result.steps.items()} == expected
    assert result.status == ("failed" if "failed" in expected.values() else "ok")
    for node_id, status in expected.items():
        if status == "ok":
            assert result.steps[node_id].output.content == node_id
        elif status == "failed":
            assert result.steps[node_id].error == f"RuntimeError: {node_id} broke"
