"""A host killed (SIGKILL) during a run: only its steps fail, a capability step fails over, the trace says so."""
from __future__ import annotations

import asyncio

import pytest
from conftest import host_process

from workbench import Engine, Network, Store
from workbench.core.messages import Message
from workbench.engine.events import DECISION
from workbench.net.connected import connect
from workbench.net.remotes import Remote, Remotes

pytestmark = [pytest.mark.network, pytest.mark.slow]


@pytest.fixture
def hosts(tmp_path):
    with host_process(tmp_path, "k1") as k1, host_process(tmp_path, "k2") as k2:
        yield k1, k2


def remotes_of(hosts, tmp_path) -> Remotes:
    k1, k2 = hosts  # k1 first among healthy hosts, whatever the latencies
    return Remotes([Remote("k1", "peer", k1.url), Remote("k2", "peer", k2.url, priority=1)], tmp_path / "remotes.yaml")


async def test_killed_host_mid_run_fails_its_steps_and_the_capability_fails_over(hosts, tmp_path):
    catalog = await connect(remotes_of(hosts, tmp_path), interval=3600)  # health as discovered: k1 looks fine
    assert [c.name for c in catalog.router.who_can("text.reverse")][:2] == ["reverse-chat@k1", "slow-chat@k1"]
    net = Network("failover", "graph", catalog=catalog)
    net.add("slow-chat@k2", "first")          # runs while k1 is killed
    net.add("cap:text.reverse", "routed")     # then picks k1, finds it dead, fails over to k2
    net.add("reverse-chat@k1", "pinned")      # can only run on k1: fails
    net.add("identity", "local")              # this machine: unaffected
    for target in ("routed", "pinned", "local"):
        net.connect("first", target)
    store = Store(tmp_path / "runs.sqlite")
    compiled = Engine(sinks=[store.write]).compile(net)
    async for event in compiled.stream(Message("text", "one two three four")):
        if event.type == "step.start" and event.step == "first":
            hosts[0].kill()
    run_id = event.run
    steps = {e.step: e for e in store.events(run_id) if e.type == "step.end"}
    assert {s: e.status for s, e in steps.items()} == {"first": "ok", "routed": "ok", "pinned": "failed", "local": "ok"}
    assert steps["routed"].output.content == "one two three four"  # reversed twice
    assert steps["routed"].output.meta["routed_to"] == "reverse-chat@k2"
    decisions = [e.decision for e in store.events(run_id) if e.type == DECISION]
    assert decisions == ["failover: host 'k1' unreachable (ConnectError), used reverse-chat@k2"]
    assert steps["pinned"].error.startswith("HostUnreachable: host 'k1': no answer from ")
    assert "(gave up after 4 attempts)" in steps["pinned"].error
    record = store.run(run_id)
    assert record.status == "failed" and "'pinned' failed" in record.error
    assert catalog.monitor.status["k1"].healthy is False  # the failed calls marked it down


async def test_a_host_killed_mid_stream_fails_that_step_keeping_the_partial_text(hosts, tmp_path):
    catalog = await connect(remotes_of(hosts, tmp_path))
    net = Network("mid-stream", catalog=catalog)
    net.add("slow-chat@k1", "talk")
    tokens, ends = [], {}
    async for event in Engine().compile(net).stream(Message("text", "a b c d e f g h")):
        if event.type == "step.token":
            tokens.append(event.output)
            if len(tokens) == 2:
                hosts[0].kill()
        if event.type in ("step.end", "run.end"):
            ends[event.type] = event
    step, run = ends["step.end"], ends["run.end"]
    assert run.status == step.status == "failed"
    assert step.error.startswith("StreamBroken: host 'k1': the answer broke off (")
    assert step.output.meta == {"incomplete": True} and step.output.content.startswith("h g")
    assert "".join(tokens).startswith("h g")


async def test_health_is_kept_current_and_routing_skips_a_dead_host(hosts, tmp_path):
    catalog = await connect(remotes_of(hosts, tmp_path), interval=0.05)
    monitor, stop = catalog.monitor, asyncio.Event()
    watcher = asyncio.ensure_future(monitor.watch(stop))
    try:
        hosts[0].kill()
        for _ in range(200):  # bounded: about 10 s
            if monitor.status["k1"].healthy is False:
                break
            await asyncio.sleep(0.05)
        assert monitor.status["k1"].healthy is False and monitor.status["k2"].healthy is True
        assert monitor.status["k1"].describe() == "unreachable (ConnectError)"
        ranked = [c.host for c in catalog.router.who_can("text.reverse")]
        assert ranked == ["k2", "k2", "k1", "k1"]  # healthy first, whatever the priority
        model = catalog.create("cap:text.reverse")
        answer = await model.invoke(Message("text", "x y"))
        assert answer.content == "y x" and answer.meta["decision"].startswith("routed to reverse-chat@k2 (healthy")
    finally:
        stop.set()
        await watcher
