"""The SQLite run store: list, show, replay exactly, keep NaN and infinities, resolve id prefixes."""
from __future__ import annotations

import asyncio
import math
import sqlite3

import numpy as np
import pytest

from workbench import Engine, Message, ModelCard, Network, PythonModel, Store, Trace
from workbench.engine.events import RUN_END
from workbench.errors import RunNotFound, StoreError


@pytest.fixture
def store(tmp_path):
    store = Store(tmp_path / "runs.sqlite")
    yield store
    store.close()


@pytest.fixture
def engine(store):
    engine = Engine(sinks=[store.write])
    yield engine
    engine.close()


def same(a, b) -> bool:
    """Equality that treats NaN as equal to NaN, through Messages, dicts and lists."""
    if isinstance(a, Message) and isinstance(b, Message):
        return a.kind == b.kind and same(a.content, b.content) and same(a.meta, b.meta)
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    return type(a) is type(b) and a == b


def assert_same_events(stored, traced):
    assert len(stored) == len(traced)
    for s, t in zip(stored, traced):
        for name in t.__slots__:
            assert same(getattr(s, name), getattr(t, name)), (t.type, t.step, name, getattr(s, name), getattr(t, name))


def vote_net() -> Network:
    card = ModelCard("member", "python", output_kind="label.probs")
    net = Network("ballot", protocol="vote")
    for node_id, label in [("a", 3), ("b", 3), ("c", 8)]:
        net.add(PythonModel(lambda _, y=label: {"label": y, "probs": [float(c == y) for c in range(10)]}, card), node_id)
    net.add("vote", "vote")
    for node_id in "abc":
        net.connect(node_id, "vote")
    return net


def failing_net() -> Network:
    net = Network("broken", protocol="pipeline")
    net.add("identity", "ok-step"), net.add(PythonModel(lambda x: 1 / 0), "div"), net.add("identity", "after")
    net.connect("ok-step", "div"), net.connect("div", "after")
    return net


async def test_runs_are_listed_newest_first_with_filters(engine, store):
    first = await engine.run(vote_net(), "one")
    second = await engine.run(failing_net(), "two")
    third = await engine.run(vote_net(), "three")
    listed = store.runs()
    assert [r.id for r in listed] == [third.run_id, second.run_id, first.run_id]
    assert [r.id for r in store.runs(limit=2)] == [third.run_id, second.run_id]
    assert [r.id for r in store.runs(network="broken")] == [second.run_id]
    assert [r.id for r in store.runs(status="ok")] == [third.run_id, first.run_id]
    assert store.runs(status="cancelled") == []


async def test_an_evaluations_runs_are_found_by_their_batch(engine, store):
    ours = [await engine.run(vote_net(), str(i), meta={"batch": "b1", "index": i}) for i in range(3)]
    await engine.run(vote_net(), "other", meta={"batch": "b2"})
    await engine.run(vote_net(), "none")
    found = store.runs(limit=None, batch="b1")
    assert sorted(r.id for r in found) == sorted(r.run_id for r in ours)
    assert sorted(r.meta["index"] for r in found) == [0, 1, 2]
    assert store.runs(batch="missing") == []


async def test_a_run_record_shows_the_run(engine, store):
    result = await engine.run(vote_net(), "img", meta={"who": "tester", "n": 1})
    record = store.run(result.run_id)
    assert (record.id, record.network, record.protocol, record.status) == (result.run_id, "ballot", "vote", "ok")
    assert record.input == Message("any", "img")
    assert record.output == result.output
    assert record.error is None and record.meta == {"who": "tester", "n": 1} and record.steps == 4
    assert record.started == pytest.approx(result.started, abs=1) and record.ended == result.ended
    assert record.to_dict()["output"]["content"]["label"] == 3


async def test_a_failed_run_is_stored_with_its_error(engine, store):
    result = await engine.run(failing_net(), "x")
    record = store.run(result.run_id)
    assert record.status == "failed" and record.error == result.error and "ZeroDivisionError" in record.error
    steps = {e.step: e for e in store.events(result.run_id) if e.type == "step.end"}
    assert steps["ok-step"].status == "ok" and steps["ok-step"].output.content == "x"
    assert steps["div"].status == "failed" and steps["div"].error.startswith("ZeroDivisionError")
    assert steps["after"].status == "skipped"


def two_ends_net() -> Network:
    net = Network("two ends")
    net.add("identity", "a"), net.add(PythonModel(len), "b"), net.add("identity", "c")
    net.connect("a", "b")
    return net


@pytest.mark.parametrize("make", [vote_net, failing_net, two_ends_net])
async def test_replay_gives_the_traced_events_field_by_field(engine, store, make):
    trace = Trace()
    result = await engine.run(make(), "input ✓ שלום", sinks=[trace])
    assert_same_events(list(store.replay(result.run_id)), list(trace))
    assert_same_events(store.events(result.run_id[:6]), list(trace))
    assert same(store.run(result.run_id).output, result.output)


async def test_non_finite_numbers_are_stored_and_come_back(engine, store):
    weird = {"nan": math.nan, "inf": math.inf, "-inf": -math.inf, "list": [1.5, math.nan, -math.inf],
             "array": np.array([[0.5, np.nan], [np.inf, -np.inf]], dtype=np.float32), "np": np.float64("nan")}
    net = Network("weird")
    net.add(PythonModel(lambda _: weird), "w")
    trace = Trace()
    result = await engine.run(net, {"in": math.inf}, sinks=[trace])
    record = store.run(result.run_id)
    out = record.output.content
    assert math.isnan(out["nan"]) and out["inf"] == math.inf and out["-inf"] == -math.inf
    assert out["list"][0] == 1.5 and math.isnan(out["list"][1]) and out["list"][2] == -math.inf
    assert out["array"][0][0] == 0.5 and math.isnan(out["array"][0][1]) and out["array"][1] == [math.inf, -math.inf]
    assert math.isnan(out["np"])
    assert record.input.content == {"in": math.inf}
    stored = store.events(result.run_id)[-2]
    assert stored.type == "step.end" and math.isnan(stored.output.content["nan"])
    # the file holds strict JSON: no bare NaN or Infinity tokens
    with sqlite3.connect(store.path) as db:
        bodies = " ".join(row[0] for row in db.execute("SELECT body FROM events"))
    assert "NaN" not in bodies and "Infinity" not in bodies


async def test_odd_contents_do_not_detach_the_store(engine, store, recwarn):
    net = Network("odd")
    net.add(PythonModel(lambda _: {(1, 2): "tuple key", "set": {1}, "bytes": b"\x00"}), "o")
    result = await engine.run(net, "x")
    assert not [w for w in recwarn if "detached" in str(w.message)]
    record = store.run(result.run_id)
    assert record.status == "ok" and record.output.content["(1, 2)"] == "tuple key"


async def test_concurrent_runs_on_one_store(engine, store):
    compiled = engine.compile(vote_net())
    results = await asyncio.gather(*(compiled.run(f"in {i}") for i in range(6)))
    for result in results:
        events = store.events(result.run_id)
        assert [e.seq for e in events] == list(range(len(events)))
        assert events[-1].type == RUN_END and events[-1].status == "ok"
        assert store.run(result.run_id).steps == 4


# ---- run ids -------------------------------------------------------------------------------------
async def test_unique_prefixes_resolve(engine, store):
    net = vote_net()
    for run_id in ("abc123", "abd456", "run1", "run10", "😀-emoji", "ab😀x"):
        await engine.run(net, "x", run_id=run_id)
    assert store.resolve("abc") == "abc123" and store.run("abd").id == "abd456"
    assert store.resolve("abc123") == "abc123"
    assert store.resolve("run1") == "run1"       # a whole id wins over the ids it prefixes
    assert store.resolve("run10") == "run10"
    assert store.resolve("😀") == "😀-emoji"
    assert store.resolve("ab😀") == "ab😀x"
    with pytest.raises(StoreError, match="ambiguous") as info:
        store.resolve("ab")
    assert not isinstance(info.value, RunNotFound)
    for unknown in ("zzz", "", "abc1234"):
        with pytest.raises(RunNotFound) as missing:
            store.run(unknown)
        assert missing.value.run_id == unknown and isinstance(missing.value, KeyError)
    with pytest.raises(RunNotFound):
        list(store.replay("nope"))


def test_a_store_that_cannot_be_opened(tmp_path):
    (tmp_path / "dir.sqlite").mkdir()
    with pytest.raises(StoreError, match="cannot open the run store"):
        Store(tmp_path / "dir.sqlite")
    (tmp_path / "junk.sqlite").write_bytes(b"this is not a database" * 100)
    with pytest.raises(StoreError):
        Store(tmp_path / "junk.sqlite")


async def test_a_run_in_progress_in_a_live_process_is_not_interrupted(tmp_path):
    path = tmp_path / "runs.sqlite"
    writer = Store(path)
    engine = Engine(sinks=[writer.write])
    inside, release = asyncio.Event(), asyncio.Event()

    async def wait(x):
        inside.set()
        await release.wait()
        return x

    net = Network("live")
    net.add("identity", "first"), net.add(PythonModel(wait), "wait"), net.connect("first", "wait")
    try:
        task = asyncio.ensure_future(engine.run(net, "x"))
        await asyncio.wait_for(inside.wait(), 10)
        reader = Store(path)  # opening a store while this process is still running the run
        assert reader.interrupted == []
        (record,) = reader.runs()
        assert record.status == "running" and record.steps == 1
        release.set()
        result = await task
        assert reader.run(result.run_id).status == "ok"
        reader.close()
    finally:
        release.set()
        engine.close()
        writer.close()
