"""Trace events: typed records with every field filled where it applies, streamed in order."""
from __future__ import annotations

import asyncio
import dataclasses

import pytest
from engine_helpers import voter

from workbench import Engine, Event, Message, Network, Trace
from workbench.engine.events import DECISION, EVENT_TYPES, RUN_END, RUN_START, STEP_END, STEP_START

FIELDS = {"type", "run", "seq", "time", "step", "node", "status", "input", "output", "device", "error", "decision",
          "start", "end", "data"}


def vote_net() -> Network:
    net = Network("ballot", protocol="vote")
    net.add(voter(4), "a"), net.add(voter(4), "b"), net.add(voter(1), "c"), net.add("vote", "vote")
    for member in "abc":
        net.connect(member, "vote")
    return net


def test_event_has_the_documented_fields():
    assert {f.name for f in dataclasses.fields(Event)} == FIELDS
    assert set(Event(RUN_END, "r", 0, 0.0).to_dict()) == FIELDS
    assert Event(STEP_END, "r", 0, 0.0, start=1.0, end=3.5).seconds == 2.5
    assert Event(STEP_START, "r", 0, 0.0, start=1.0).seconds is None


async def test_events_carry_run_step_node_decision_input_output_times_device_status(engine):
    trace = Trace()
    result = await engine.run(vote_net(), "img", sinks=[trace], meta={"why": "test"})
    assert result.ok
    assert all(e.type in EVENT_TYPES for e in trace)
    assert {e.run for e in trace} == {result.run_id}
    assert [e.seq for e in trace] == list(range(len(trace)))
    assert trace[0].type == RUN_START and trace[-1].type == RUN_END

    start = trace[0]
    assert start.input == Message("any", "img")
    assert start.data == {"network": "ballot", "protocol": "vote", "meta": {"why": "test"},
                          "nodes": {n: "python/cpu" for n in ("a", "b", "c", "vote")},
                          "pathways": [["a", "vote"], ["b", "vote"], ["c", "vote"]]}

    for node in ("a", "b", "c", "vote"):
        began = next(e for e in trace if e.type == STEP_START and e.node == node)
        ended = next(e for e in trace if e.type == STEP_END and e.node == node)
        assert began.step == ended.step == node
        assert began.device == ended.device == "python/cpu"
        assert began.input is not None and began.start is not None
        assert ended.status == "ok" and ended.error is None
        assert isinstance(ended.output, Message) and ended.output.kind == "label.probs"
        assert ended.start == began.start and ended.end >= ended.start
        assert result.steps[node] is ended

    decision = next(e for e in trace if e.type == DECISION)
    assert (decision.step, decision.node) == ("vote", "vote") and decision.decision.startswith("majority 4")

    end = trace[-1]
    assert end.status == "ok" and end.output == result.output and end.error is None
    assert end.start == result.started and end.end == result.ended and end.end >= end.start


async def test_stream_yields_the_same_events_in_order(engine):
    compiled = engine.compile(vote_net())
    trace = Trace()
    streamed = [e async for e in compiled.stream("img", sinks=[trace])]
    assert streamed == list(trace)
    assert [e.seq for e in streamed] == list(range(len(streamed)))
    assert streamed[0].type == RUN_START and streamed[-1].type == RUN_END
    assert len({e.run for e in streamed}) == 1


async def test_stream_of_an_engine(engine):
    types = [e.type async for e in engine.stream(vote_net(), "img")]
    assert types[0] == RUN_START and types[-1] == RUN_END and types.count(STEP_END) == 4


async def test_a_sink_that_raises_is_detached_with_a_warning_and_the_run_finishes(engine):
    calls, trace = [], Trace()

    def broken(event):
        calls.append(event)
        raise OSError("disk full")

    with pytest.warns(UserWarning, match="detached.*OSError: disk full"):
        result = await engine.run(vote_net(), "img", sinks=[broken, trace])
    assert result.ok
    assert len(calls) == 1                       # called once, then detached
    assert trace[-1].type == RUN_END and len(trace) == result.steps["vote"].seq + 2


async def test_engine_sinks_and_run_sinks_both_hear_everything():
    engine_trace, run_trace = Trace(), Trace()
    engine = Engine(sinks=[engine_trace])
    try:
        await engine.run(vote_net(), "img", sinks=[run_trace])
        await engine.run(vote_net(), "img")
    finally:
        engine.close()
    assert len({e.run for e in engine_trace}) == 2
    assert list(run_trace) == [e for e in engine_trace if e.run == run_trace[0].run]
    assert engine_trace.steps() == [e for e in engine_trace if e.type == STEP_END]


async def test_a_given_run_id_is_used(engine):
    trace = Trace()
    result = await engine.run(vote_net(), "img", sinks=[trace], run_id="my-run-ü")
    assert result.run_id == "my-run-ü" and {e.run for e in trace} == {"my-run-ü"}


async def test_concurrent_runs_keep_their_own_sequences(engine):
    trace = Trace()
    compiled = engine.compile(vote_net())
    results = await asyncio.gather(*(compiled.run(i, sinks=[trace]) for i in range(4)))
    for result in results:
        seqs = [e.seq for e in trace if e.run == result.run_id]
        assert seqs == list(range(len(seqs)))
