"""The network graph: every edit is checked as it is made, and a refused edit changes nothing."""
from __future__ import annotations

import copy

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from workbench import ModelCard, Network, Pathway, PythonModel
from workbench.errors import (CycleNotAllowed, DuplicateNode, DuplicatePathway, IncompatibleKinds, NetworkError,
                              PathwayError, SelfLoop, UnknownModel, UnknownNode)


def snapshot(net: Network):
    return copy.deepcopy(net.pathways), list(net.nodes), net.version


def refused(net: Network, exc_type: type, source: str, target: str, adapter=None, via_connect=True):
    """Try a pathway that must be refused; check it names its ends and leaves ``net`` unchanged."""
    before = snapshot(net)
    with pytest.raises(exc_type) as info:
        if via_connect:
            net.connect(source, target, adapter)
        else:
            net.add_pathway(Pathway(source, target, adapter))
    assert snapshot(net) == before, "a refused pathway changed the network"
    exc = info.value
    if isinstance(exc, PathwayError):
        assert (exc.source, exc.target) == (source, target)
        assert repr(source) in str(exc) and repr(target) in str(exc)
        assert exc.reason in str(exc)
    return exc


def chain(protocol="graph", ids=("a", "b", "c"), model="identity") -> Network:
    net = Network("t", protocol=protocol)
    for node in ids:
        net.add(model, node)
    for source, target in zip(ids, ids[1:]):
        net.connect(source, target)
    return net


# ---- refusals ---------------------------------------------------------------------------------
def test_self_loop_is_refused():
    net = chain()
    exc = refused(net, SelfLoop, "b", "b")
    assert "feed itself" in str(exc)


@pytest.mark.parametrize("via_connect", [True, False])
def test_unknown_endpoint_is_refused(via_connect):
    net = chain()
    for source, target, missing in [("a", "ghost", "ghost"), ("nobody", "c", "nobody")]:
        exc = refused(net, UnknownNode, source, target, via_connect=via_connect)
        assert exc.node == missing
        assert repr(missing) in str(exc)
        assert "known nodes: a, b, c" in str(exc)


def test_duplicate_pathway_via_add_pathway():
    net = chain()
    exc = refused(net, DuplicatePathway, "a", "b", via_connect=False)
    assert "already connected" in str(exc)


def test_connect_is_idempotent():
    net = chain()
    first = net.pathway("a", "b")
    before = snapshot(net)
    again = net.connect("a", "b")
    assert again is first
    assert snapshot(net) == before
    assert [(p.source, p.target) for p in net.pathways].count(("a", "b")) == 1


def test_connect_same_pair_with_another_adapter_is_a_duplicate():
    net = chain()
    refused(net, DuplicatePathway, "a", "b", adapter={"template": "again: {text}"})


def test_connect_with_the_same_adapter_again_is_idempotent():
    net = Network("t")
    net.add("identity", "a"), net.add("identity", "b")
    p = net.connect("a", "b", {"template": "Q: {text}"})
    assert net.connect("a", "b", {"template": "Q: {text}"}) is p
    assert len(net.pathways) == 1


def test_incompatible_kinds_are_refused():
    net = Network("t")
    net.add("vote", "voter")          # produces label.probs
    net.add("digits-logreg", "clf")   # takes image.digits
    exc = refused(net, IncompatibleKinds, "voter", "clf")
    assert "'label.probs'" in str(exc) and "'image.digits'" in str(exc)


def test_incompatible_kinds_with_models_built_in_code():
    net = Network("t")
    net.add(PythonModel(str.upper, ModelCard("up", "python", "text", "text")), "up")
    net.add(PythonModel(len, ModelCard("pix", "python", "image", "number")), "pix")
    refused(net, IncompatibleKinds, "up", "pix")
    net.add(PythonModel(str, ModelCard("any", "python")), "anything")  # "any" takes every kind
    net.connect("up", "anything")
    assert net.pathway("up", "anything") is not None


@pytest.mark.parametrize("protocol", ["graph", "fanout", "vote"])
def test_cycle_is_refused_and_named(protocol):
    net = Network("t", protocol=protocol)
    for node in ("a", "b", "c"):
        net.add("gather", node)  # join nodes: a second input is allowed, only the cycle is wrong
    net.connect("a", "b"), net.connect("b", "c")
    exc = refused(net, CycleNotAllowed, "c", "a")
    assert exc.cycle == ["c", "a", "b", "c"]
    assert "'c' → 'a'" in str(exc) and "c → a → b → c" in str(exc)
    assert repr(protocol) in str(exc)


def test_second_input_into_a_non_join_node_is_refused():
    net = Network("t")
    for node in ("a", "b", "target"):
        net.add("identity", node)
    net.connect("a", "target")
    exc = refused(net, PathwayError, "b", "target")
    assert type(exc) is PathwayError
    assert "takes one input" in str(exc) and "'a'" in str(exc)


def test_a_join_node_takes_many_inputs():
    net = Network("t")
    for node in ("a", "b", "c"):
        net.add("identity", node)
    net.add("gather", "join")
    for node in ("a", "b", "c"):
        net.connect(node, "join")
    assert net.predecessors("join") == ["a", "b", "c"]


def test_pipeline_refuses_a_fork():
    net = chain("pipeline", ("a", "b"))
    net.add("identity", "c")
    exc = refused(net, PathwayError, "a", "c")
    assert "pipeline" in str(exc) and "already feeds 'b'" in str(exc)


def test_pipeline_refuses_a_join():
    net = Network("t", protocol="pipeline")
    net.add("identity", "a"), net.add("identity", "b"), net.add("gather", "join")
    net.connect("a", "join")
    exc = refused(net, PathwayError, "b", "join")
    assert "pipeline" in str(exc) and "'join' is already fed by 'a'" in str(exc)


def test_pipeline_with_two_first_models_fails_validation():
    net = Network("t", protocol="pipeline")
    net.add("identity", "a"), net.add("identity", "b")
    with pytest.raises(NetworkError, match="one first model.*a, b"):
        net.validate()
    net.connect("a", "b")
    assert net.validate() is net


def test_fanout_needs_one_join_node():
    net = Network("t", protocol="fanout")
    for node in ("x", "y"):
        net.add("identity", node)
    with pytest.raises(NetworkError, match="ends in 2: x, y"):
        net.validate()


def test_vote_must_end_in_a_voter():
    net = Network("t", protocol="vote")
    net.add("identity", "a"), net.add("gather", "g")
    net.connect("a", "g")
    with pytest.raises(NetworkError, match="'g' cannot vote"):
        net.validate()


def test_empty_network_fails_validation():
    with pytest.raises(NetworkError, match="no models"):
        Network("empty").validate()


@pytest.mark.parametrize("adapter, problem", [
    ({"colour": "red"}, "unknown adapter"),
    ({"template": "no slot"}, "{text} slot"),
    ({"template": 3}, "{text} slot"),
])
def test_bad_adapters_are_refused(adapter, problem):
    net = Network("t")
    net.add("identity", "a"), net.add("identity", "b")
    exc = refused(net, PathwayError, "a", "b", adapter=adapter)
    assert problem in str(exc)


# ---- nodes ------------------------------------------------------------------------------------
def test_unknown_model_and_duplicate_node():
    net = Network("t")
    with pytest.raises(UnknownModel) as info:
        net.add("no-such-model", "x")
    assert info.value.model == "no-such-model" and "identity" in str(info.value)
    net.add("identity", "x")
    with pytest.raises(DuplicateNode) as dup:
        net.add("identity", "x")
    assert dup.value.node == "x" and "'x'" in str(dup.value)
    with pytest.raises(NetworkError, match="empty"):
        net.add("identity", "   ")
    assert list(net.nodes) == ["x"]


def test_free_ids_and_display_names():
    net = Network("t")
    assert net.add("identity").id == "identity"
    assert net.add("identity").id == "identity-2"
    node = net.add("identity", "z", name="Zed ✓")
    assert (node.id, node.name) == ("z", "Zed ✓")
    assert net.nodes["identity"].name == "identity"  # a node's name defaults to its id


def test_remove_drops_the_node_and_its_pathways():
    net = chain()
    net.remove("b")
    assert list(net.nodes) == ["a", "c"] and net.pathways == []
    with pytest.raises(UnknownNode):
        net.remove("b")


def test_disconnect():
    net = chain()
    net.disconnect("a", "b")
    assert net.pathway("a", "b") is None
    with pytest.raises(PathwayError, match="no such pathway"):
        net.disconnect("a", "b")


def test_network_needs_a_name_and_a_known_protocol():
    with pytest.raises(NetworkError, match="unknown protocol 'telepathy'"):
        Network("t", protocol="telepathy")
    with pytest.raises(NetworkError, match="name"):
        Network("  ")


def test_graph_queries():
    net = Network("t")
    for node in ("a", "b", "c", "d"):
        net.add("gather", node)
    net.connect("a", "c"), net.connect("b", "c"), net.connect("c", "d")
    assert net.sources() == ["a", "b"] and net.sinks() == ["d"]
    assert net.successors("c") == ["d"] and net.predecessors("c") == ["a", "b"]
    order = net.topological_order()
    assert all(order.index(p.source) < order.index(p.target) for p in net.pathways)


# ---- property: whatever edits are tried, the network stays valid -------------------------------
NODES = ["i0", "i1", "i2", "j0", "j1", "j2"]  # i*: identity (one input), j*: gather (a join)


@settings(max_examples=60, deadline=None)
@given(protocol=st.sampled_from(["graph", "pipeline", "fanout"]),
       attempts=st.lists(st.tuples(st.sampled_from(NODES + ["ghost"]), st.sampled_from(NODES + ["ghost"])),
                         max_size=25))
def test_any_sequence_of_edits_keeps_the_network_valid(protocol, attempts):
    net = Network("prop", protocol=protocol)
    for node in NODES:
        net.add("identity" if node.startswith("i") else "gather", node)
    for source, target in attempts:
        before = snapshot(net)
        existed = net.pathway(source, target) if "ghost" not in (source, target) else None
        try:
            pathway = net.connect(source, target)
        except (PathwayError, UnknownNode) as exc:
            assert snapshot(net) == before
            assert (exc.source, exc.target) == (source, target) if isinstance(exc, PathwayError) else \
                exc.node in (source, target)
        else:
            assert (pathway.source, pathway.target) == (source, target)
            assert (snapshot(net) == before) == (existed is not None)
    # the invariants every accepted edit keeps
    order = net.topological_order()  # raises on a cycle
    assert all(order.index(p.source) < order.index(p.target) for p in net.pathways)
    pairs = [(p.source, p.target) for p in net.pathways]
    assert len(pairs) == len(set(pairs)) and all(s != t for s, t in pairs)
    for node in NODES:
        fed = net.predecessors(node)
        if node.startswith("i") or protocol == "pipeline":
            assert len(fed) <= 1
        if protocol == "pipeline":
            assert len(net.successors(node)) <= 1


def weighted_vote(weights) -> Network:
    net = Network("weighted", protocol="vote")
    net.add("digits-logreg", "a"), net.add("digits-logreg", "b")
    net.add("soft-vote", "combine", params={"weights": weights})
    net.connect("a", "combine"), net.connect("b", "combine")
    return net


def test_weights_must_weigh_feeders_and_not_all_be_zero():
    assert weighted_vote({"a": 0.7, "b": 0.3}).validate()
    assert weighted_vote({"a": 0}).validate()  # b keeps its default weight 1
    with pytest.raises(NetworkError, match=r"combine: weights name 'bogus', which does not feed it \(its inputs: a, b\)"):
        weighted_vote({"a": 1, "bogus": 2}).validate()
    with pytest.raises(NetworkError, match="combine: weights are all zero"):
        weighted_vote({"a": 0, "b": 0.0}).validate()
    with pytest.raises(NetworkError, match="combine: weights must be ≥ 0, not -1"):
        weighted_vote({"a": -1, "b": 0.5}).validate()


@pytest.mark.parametrize("threshold", [7, -0.1, "high", True, float("nan")])
def test_a_cascade_threshold_is_a_confidence_from_0_to_1(threshold):
    net = Network("steps", protocol="cascade", options={"threshold": threshold})
    net.add("digits-logreg", "cheap")
    with pytest.raises(NetworkError, match="threshold is a confidence from 0 to 1"):
        net.validate()
    net.options["threshold"] = 1
    assert net.validate()
