"""Pipeline, fan-out/join and majority vote, run end to end on the engine."""
from __future__ import annotations

import math
from collections import Counter

import pytest
from engine_helpers import model, voter
from hypothesis import given, settings
from hypothesis import strategies as st

from workbench import Message, ModelCard, Network, Trace
from workbench.backends.builtin import MajorityVote
from workbench.core.messages import JOIN_KIND
from workbench.engine.events import DECISION, STEP_END, STEP_START
from workbench.errors import NetworkError
from workbench.models import card_of


async def test_pipeline_passes_each_output_on_through_adapters(engine):
    net = Network("p", protocol="pipeline")
    net.add(model(str.upper, "upper", output_kind="text"), "upper")
    net.add(model(lambda s: s[::-1], "rev", output_kind="text"), "rev")
    net.add("identity", "last")
    net.connect("upper", "rev", {"template": "<{text}>"}), net.connect("rev", "last")
    trace = Trace()
    result = await engine.run(net, "abc", sinks=[trace])
    assert result.ok and result.output.content == ">CBA<"
    inputs = {e.node: e.input.content for e in trace if e.type == STEP_START}
    assert inputs == {"upper": "abc", "rev": "<ABC>", "last": ">CBA<"}
    assert [e.node for e in trace if e.type == STEP_END] == ["upper", "rev", "last"]


async def test_fanout_gives_every_branch_the_input_and_joins_in_pathway_order(engine):
    net = Network("f", protocol="fanout")
    for node_id, fn in [("len", len), ("upper", str.upper), ("same", lambda s: s)]:
        net.add(model(fn, node_id), node_id)
    net.add("gather", "join")
    for node_id in ("upper", "len", "same"):  # pathway order, not node order
        net.connect(node_id, "join")
    trace = Trace()
    result = await engine.run(net, "word", sinks=[trace])
    assert result.ok
    assert {e.node: e.input.content for e in trace if e.type == STEP_START and e.node != "join"} == \
           {"len": "word", "upper": "word", "same": "word"}
    assert result.output.content == ["WORD", 4, "word"]
    join_input = next(e.input for e in trace if e.type == STEP_START and e.node == "join")
    assert join_input.kind == JOIN_KIND and join_input.meta["from"] == ["upper", "len", "same"]


async def test_several_sinks_give_a_dict_of_outputs(engine):
    net = Network("g")
    net.add("identity", "a"), net.add(model(len, "n"), "n")
    net.connect("a", "n")
    net.add("identity", "lonely")
    result = await engine.run(net, "xyz")
    assert set(result.output) == {"n", "lonely"} and result.output["n"].content == 3


def vote_net(*members, voter_model="vote") -> Network:
    net = Network("v", protocol="vote")
    for node_id, m in members:
        net.add(m, node_id)
    net.add(voter_model, "vote")
    for node_id, _ in members:
        net.connect(node_id, "vote")
    return net


def probs(**p):
    return [p.get(f"p{c}", 0.0) for c in range(10)]


async def test_majority_vote_and_its_decision_event(engine):
    net = vote_net(("a", voter(7)), ("b", voter(7)), ("c", voter(3)))
    trace = Trace()
    result = await engine.run(net, "img", sinks=[trace])
    assert result.ok
    assert result.output.content["label"] == 7
    assert result.output.content["votes"] == {"a": 7, "b": 7, "c": 3}
    assert result.output.content["probs"][7] == pytest.approx(2 / 3)
    decisions = [e for e in trace if e.type == DECISION]
    assert len(decisions) == 1
    decision = decisions[0]
    assert decision.node == "vote" and decision.step == "vote"
    assert decision.decision == "majority 7: 2 of 3 votes" == result.output.meta["decision"]
    assert decision.seq < result.steps["vote"].seq  # the decision comes before the step's end


@pytest.mark.parametrize("members, winner, why", [
    ([(1, probs(p1=0.9)), (2, probs(p2=0.6))], 1, "a tie goes to the larger summed probability"),
    ([(4, probs(p4=0.5)), (2, probs(p2=0.5))], 2, "then to the smaller label"),
    ([(5, probs(p5=0.2)), (5, probs(p5=0.2)), (6, probs(p6=1.0))], 5, "a majority beats confidence"),
])
async def test_vote_ties(engine, members, winner, why):
    net = vote_net(*[(f"m{i}", voter(label, p)) for i, (label, p) in enumerate(members)])
    result = await engine.run(net, "img")
    assert result.output.content["label"] == winner, why


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
async def test_non_finite_scores_are_left_out_and_the_decision_says_so(engine, bad):
    net = vote_net(("a", voter(2)), ("b", voter(2)), ("odd", voter(9, probs(p9=1.0, p0=bad))),
                   ("odd2", voter(9, probs(p9=bad))))
    trace = Trace()
    result = await engine.run(net, "img", sinks=[trace])
    assert result.ok
    assert result.output.content["label"] == 2
    assert result.output.content["votes"] == {"a": 2, "b": 2}
    decision = next(e.decision for e in trace if e.type == DECISION)
    assert decision == "majority 2: 2 of 2 votes; left out odd, odd2 (no finite scores)"


async def test_a_vote_with_no_usable_member_fails_and_says_why(engine):
    net = vote_net(("a", voter(1, probs(p1=math.nan))), ("b", voter(2, probs(p2=math.inf))))
    result = await engine.run(net, "img")
    assert result.status == "failed" and result.steps["vote"].status == "failed"
    assert "no usable vote" in result.steps["vote"].error and "a, b" in result.steps["vote"].error


async def test_a_member_without_a_label_is_left_out(engine):
    unlabelled = model(lambda _: {"probs": probs(p1=1.0)}, "nolabel", output_kind="label.probs")
    net = vote_net(("a", voter(1)), ("mute", unlabelled))
    result = await engine.run(net, "img")
    assert result.output.content["votes"] == {"a": 1}
    assert "left out mute" in result.output.meta["decision"]


def test_vote_network_shape_is_checked(engine):
    net = Network("bad vote", protocol="vote")
    net.add(voter(1), "a"), net.add("gather", "g")
    net.connect("a", "g")
    with pytest.raises(NetworkError, match="cannot vote"):
        engine.compile(net)


@settings(max_examples=100, deadline=None)
@given(labels=st.lists(st.integers(0, 9), min_size=1, max_size=9))
def test_the_majority_label_has_the_most_votes(labels):
    members = [Message("label.probs", {"label": y, "probs": probs(**{f"p{y}": 0.5})}) for y in labels]
    names = [f"m{i}" for i in range(len(labels))]
    out = MajorityVote(card_of("vote")).invoke(Message(JOIN_KIND, members, {"from": names}))
    counts = Counter(labels)
    winner = out.content["label"]
    assert counts[winner] == max(counts.values())
    assert winner == min(y for y in counts if counts[y] == counts[winner])  # equal mass: smallest label
    assert out.content["votes"] == dict(zip(names, labels))
    assert sum(out.content["probs"]) == pytest.approx(1.0)
    assert out.meta["decision"] == f"majority {winner}: {counts[winner]} of {len(labels)} votes"
