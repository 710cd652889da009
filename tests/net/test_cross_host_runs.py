"""Two real hosts and the engine's process: remote models in the catalog, runs across hosts, the CLI."""
from __future__ import annotations

import json
import os
import socket
import stat
import subprocess
import sys

import pytest
import yaml
from conftest import REPO

from workbench import Engine, Network, Store
from workbench.core.messages import Message
from workbench.data.digits import heldout_image
from workbench.core.cards import ModelCard
from workbench.core.catalog import Catalog
from workbench.errors import CapabilityUnavailable, ConfigError, HostUnreachable, ModelError
from workbench.net.connected import ConnectedCatalog, connect
from workbench.net.discovery import HealthMonitor
from workbench.net.remotes import Remote, Remotes

pytestmark = pytest.mark.network


@pytest.fixture
def remotes(host_a, host_b, tmp_path):
    return Remotes([Remote("a", "peer", host_a.url), Remote("b", "peer", host_b.url)], tmp_path / "remotes.yaml")


async def test_remote_models_join_the_catalog_with_their_cards(remotes):
    catalog = await connect(remotes)
    card = catalog.get("digits-cnn@b").card
    assert (card.backend, card.host, card.device) == ("peer", "b", "torch/cpu@b")
    assert card.capabilities == ("image.classify.digits",) and card.input_kind == "image.digits"
    assert catalog.get("digits-cnn").card.host == "local"
    assert catalog.get("cap:text.reverse").card.output_kind == "text"
    assert set(catalog.hosts()) == {"a", "b"} and catalog.hosts()["a"].startswith("healthy")
    offering = {c.name for c in catalog.router.who_can("image.classify.digits")}
    assert {"digits-cnn", "digits-cnn@a", "digits-mlp@b", "digits-logreg@b"} <= offering
    assert catalog.router.who_can("image.classify.digits")[0].host == "local"  # no latency beats any


async def test_a_pipeline_across_both_hosts_streams_and_traces_each_host(remotes, tmp_path):
    catalog = await connect(remotes)
    net = Network("across", "pipeline", catalog=catalog)
    for node, model in [("first", "reverse-chat@a"), ("second", "reverse-chat@b"), ("here", "identity")]:
        net.add(model, node)
    net.connect("first", "second")
    net.connect("second", "here")
    store = Store(tmp_path / "runs.sqlite")
    result = await Engine(sinks=[store.write]).run(net, "alpha beta gamma")
    assert result.ok and result.output.content == "alpha beta gamma"
    events = store.events(result.run_id)
    ends = {e.step: e for e in events if e.type == "step.end"}
    assert ends["first"].output.content == "gamma beta alpha"
    assert (ends["first"].device, ends["second"].device) == ("peer/python/cpu@a", "peer/python/cpu@b")
    assert [e.output for e in events if e.type == "step.token" and e.step == "second"] == ["alpha", " beta", " gamma"]


async def test_a_vote_across_hosts_matches_the_local_vote(remotes):
    catalog = await connect(remotes)
    members = {"cnn": "digits-cnn@a", "mlp": "digits-mlp@b", "logreg": "digits-logreg"}

    def ensemble(names):
        net = Network("ensemble", "vote", catalog=catalog)
        for node, model in names.items():
            net.add(model, node)
        net.add("vote")
        for node in names:
            net.connect(node, "vote")
        return net
    engine = Engine()
    remote, local = ensemble(members), ensemble({n: m.split("@")[0] for n, m in members.items()})
    for index in (0, 17, 101):
        image, label = heldout_image(index)
        far, near = await engine.run(remote, image), await engine.run(local, image)
        assert far.ok and far.output.content["label"] == near.output.content["label"]
        assert far.output.content["votes"] == near.output.content["votes"]


async def test_remote_steps_take_no_parameters_but_a_timeout(remotes):
    catalog = await connect(remotes)
    with pytest.raises(ModelError, match="takes one parameter, timeout"):
        catalog.create("delay@a", params={"seconds": 100})
    assert catalog.create("reverse-chat@a", params={"timeout": 5}).timeout == 5


def test_remotes_config_round_trip_and_errors(tmp_path):
    path = tmp_path / "remotes.yaml"
    remotes = Remotes(path=path)
    remotes.add(Remote("lab2", "peer", "http://127.0.0.1:9", token="t0ken"))
    remotes.add(Remote("llm", "openai", "http://127.0.0.1:8080/v1", key_env="LLM_KEY", chat=["smol"], priority=2))
    remotes.save()
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    again = Remotes.load(path)
    assert [(r.name, r.kind, r.token, r.chat, r.priority) for r in again] == [
        ("lab2", "peer", "t0ken", [], 0), ("llm", "openai", None, ["smol"], 2)]
    with pytest.raises(ConfigError, match="already"):
        again.add(Remote("lab2", "peer", "http://127.0.0.1:10"))
    with pytest.raises(ConfigError, match="must be an http"):
        again.add(Remote("x", "peer", "ftp://h"))
    with pytest.raises(ConfigError, match="name 'a b'"):
        again.add(Remote("a b", "peer", "http://h"))
    path.write_text(yaml.safe_dump({"peers": [{"url": "http://h:1", "colour": "red"}]}))
    with pytest.raises(ConfigError, match=r"peers\[0\]: expected a mapping with url"):
        Remotes.load(path)
    path.write_text("peers: [\n")
    with pytest.raises(ConfigError, match="cannot read the remotes config"):
        Remotes.load(path)


def workbench(home, *args, check=True) -> subprocess.CompletedProcess:
    env = {**os.environ, "WORKBENCH_HOME": str(home)}
    result = subprocess.run([sys.executable, "-m", "workbench.cli", *args], capture_output=True, text=True,
                            env=env, cwd=REPO, timeout=300)
    if check:
        assert result.returncode == 0, result.stderr
    return result


def test_cli_peers_models_and_a_run_across_hosts(host_a, host_b, tmp_path):
    home = tmp_path / "home"
    added = workbench(home, "peers", "add", host_a.url, "--name", "a").stdout
    assert "added peer 'a'" in added and "healthy" in added and "reverse-chat@a" in added
    workbench(home, "peers", "add", host_b.url, "--name", "b", "--priority", "1")
    rows = {r["name"]: r for r in json.loads(workbench(home, "models", "--json").stdout)}
    assert rows["digits-cnn@a"]["host"] == "a" and rows["digits-cnn@a"]["device"] == "torch/cpu@a"
    assert rows["hash-embed@b"]["capabilities"] == ["text.embed"] and rows["digits-cnn"]["host"] == "local"
    listing = workbench(home, "peers", "list").stdout
    assert "a  " in listing and "healthy" in listing
    caps = json.loads(workbench(home, "capabilities", "text.reverse", "--json").stdout)
    assert [r["host"] for r in caps] == ["a", "a", "b", "b"]  # b has priority 1: after a
    network = tmp_path / "across.yaml"
    network.write_text(yaml.safe_dump({"schema": "workbench.network/1", "name": "across", "protocol": "pipeline",
                                       "nodes": [{"id": "first", "model": "reverse-chat@a"},
                                                 {"id": "second", "model": "cap:text.reverse"}],
                                       "pathways": [{"from": "first", "to": "second"}]}))
    run = json.loads(workbench(home, "run", str(network), "--input", "one two three", "--json").stdout)
    assert run["status"] == "ok" and run["output"]["content"] == "one two three"
    assert run["output"]["meta"]["decision"].startswith("routed to reverse-chat@a (healthy")
    assert "removed peer 'b'" in workbench(home, "peers", "remove", "b").stdout
    assert "no remote named 'b'" in workbench(home, "peers", "remove", "b", check=False).stderr


def test_cli_lists_cached_cards_of_a_host_that_is_down(host_a, tmp_path):
    home = tmp_path / "home"
    workbench(home, "peers", "add", host_a.url, "--name", "a")
    remotes = Remotes.load(home / "remotes.yaml")
    moved = remotes.remove("a")
    moved.url = "http://127.0.0.1:9"  # nothing listens on the discard port here
    remotes.add(moved)
    remotes.save()
    rows = {r["name"]: r for r in json.loads(workbench(home, "models", "--json").stdout)}
    assert rows["digits-cnn@a"]["host"] == "a (unreachable)"
    assert "unreachable (ConnectError)" in workbench(home, "peers", "list").stdout


async def test_a_message_survives_the_trip(remotes):
    catalog = await connect(remotes)
    model = catalog.create("identity@b")
    sent = Message("any", {"nan": float("nan"), "list": [1, 2.5, "x"], "nested": {"inf": float("inf")}}, {"k": "v"})
    back = await model.invoke(sent)
    assert back.content["list"] == [1, 2.5, "x"] and back.content["nested"]["inf"] == float("inf")
    assert back.content["nan"] != back.content["nan"] and back.meta == {"k": "v"}


def test_cli_remote_add_openai_lists_and_runs_its_models(host_a, tmp_path):
    home = tmp_path / "home"
    added = workbench(home, "remote", "add-openai", "facade", f"{host_a.url}/v1", "--chat", "reverse-chat",
                      "--embed", "hash-embed").stdout
    assert "added openai 'facade'" in added and "2 models: reverse-chat@facade, hash-embed@facade" in added
    rows = {r["name"]: r for r in json.loads(workbench(home, "models", "--json").stdout)}
    assert rows["reverse-chat@facade"]["backend"] == "openai" and rows["reverse-chat@facade"]["host"] == "facade"
    assert rows["hash-embed@facade"]["capabilities"] == ["text.embed"]
    assert "facade  openai" in workbench(home, "remote", "list").stdout
    network = tmp_path / "chat.yaml"
    network.write_text(yaml.safe_dump({"schema": "workbench.network/1", "name": "chat",
                                       "nodes": [{"id": "chat", "model": "reverse-chat@facade"}]}))
    printed = workbench(home, "run", str(network), "--input", "to be or not").stdout
    assert "openai/remote@facade" in printed and "not or be to" in printed
    assert "removed openai 'facade'" in workbench(home, "remote", "remove", "facade").stdout


async def test_capability_routing_prefers_this_machine_and_says_so(remotes):
    catalog = await connect(remotes)
    image, _ = heldout_image(5)
    local = catalog.create("digits-logreg")
    local.load()
    answer = await catalog.create("cap:image.classify.digits").invoke(Message("image.digits", image))
    assert answer.meta["decision"] == "routed to digits-logreg (local)"  # no latency, and the lowest cost
    assert answer.content["label"] == local.invoke(Message("image.digits", image)).content["label"]


async def test_when_every_host_offering_a_capability_is_down_the_step_says_who_failed(tmp_path):
    closed = []
    for _ in range(2):
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))  # bound, never listening: connections are refused
        closed.append(sock)
    remotes = Remotes([Remote(f"d{i}", "peer", f"http://127.0.0.1:{s.getsockname()[1]}") for i, s in enumerate(closed)])
    cards = {r.name: [ModelCard(f"echo@{r.name}", "peer", "text", "text", ("text.echo",), host=r.name)] for r in remotes}
    catalog = ConnectedCatalog(Catalog(), HealthMonitor(remotes), cards)
    with pytest.raises(CapabilityUnavailable) as caught:
        await catalog.create("cap:text.echo").invoke(Message("text", "hi"))
    assert str(caught.value) == ("every model offering text.echo failed: host 'd0' unreachable (ConnectError); "
                                 "host 'd1' unreachable (ConnectError)")
    assert isinstance(caught.value.__cause__, HostUnreachable)
    for sock in closed:
        sock.close()
