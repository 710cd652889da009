"""The protocols beyond the drawn dataflow: each decision is a step in the trace, and bad input is refused."""
import math
import random

import pytest

from workbench import Engine, Message, ModelCard, Network, PythonModel, Trace
from workbench.data import get_dataset
from workbench.engine.protocols.answers import answer_key
from workbench.errors import NetworkError


def chat(name, reply, cost=1.0):
    card = ModelCard(name, "python", "text", "text", ("text.generate",), cost=cost)
    return PythonModel(lambda m: Message("text", reply(m)), card, raw=False)


def run(net, content, meta=None):
    trace = Trace()
    result = Engine().run_sync(net, Message("text", content, meta or {}), sinks=[trace])
    return result, trace, [e.decision for e in trace if e.type == "decision"]


def test_self_consistency_votes_over_seeded_samples():
    def noisy(m):
        rng = random.Random(m.meta["seed"])
        return f"The answer is {12 if rng.random() < 0.6 else rng.randint(30, 90)}."
    net = Network("sc", "self-consistency", options={"k": 7, "seed": 3})
    net.add(chat("noisy", noisy), "m")
    result, trace, decisions = run(net, "3 + 9?")
    steps = [e.step for e in trace.steps()]
    assert steps == ["m"] + [f"m#{i}" for i in range(2, 8)]
    seeds = [e.input.meta["seed"] for e in trace if e.type == "step.start"]
    assert seeds == list(range(3, 10))
    assert answer_key(result.output.content) == "12"
    assert decisions and decisions[0].startswith("vote: '12' in ")
    again, _, _ = run(net, "3 + 9?")
    assert again.output.content == result.output.content  # fixed seeds: reproducible


def test_debate_stops_when_answers_converge_and_judge_decides():
    net = Network("debate", "debate", options={"rounds": 4, "judge": "judge"})
    net.add(chat("stubborn-then-agrees", lambda m: "12" if "Other answers" in m.content else "11"), "a")
    net.add(chat("steady", lambda m: "It is 12."), "b")
    net.add(chat("judge", lambda m: "12, clearly" if "- 12" in m.content else "no idea"), "judge")
    result, trace, decisions = run(net, "What is 3 + 9?")
    assert [e.step for e in trace.steps()] == ["a", "b", "a#2", "b#2", "judge"]
    assert decisions[0] == "round 1: 2 different answers"
    assert decisions[1] == "round 2: answers converged on '12'"
    assert decisions[-1] == "judge judge chose '12'"
    assert result.output.content == "12, clearly"


def test_moa_layers_feed_the_aggregator_and_left_out_proposers_are_named():
    def broken(m):
        raise RuntimeError("proposer down")
    net = Network("moa", "moa")
    net.add(chat("p1", lambda m: "Paris"), "p1")
    net.add(PythonModel(broken, ModelCard("p2", "python", "text", "text")), "p2")
    net.add(chat("agg", lambda m: "Final: " + m.content.split("assistants:")[1].split("\n")[1]), "agg")
    net.connect("p1", "agg"), net.connect("p2", "agg")
    result, trace, decisions = run(net, "Capital of France?")
    assert result.ok and result.output.content == "Final: - Paris"
    assert decisions[0] == "layer 1: 1 of 2 answered; left out p2"
    assert trace.steps()[1].status == "failed" and "proposer down" in trace.steps()[1].error


def test_moa_needs_one_aggregator():
    net = Network("moa", "moa")
    net.add(chat("p1", lambda m: "a"), "p1"), net.add(chat("p2", lambda m: "b"), "p2")
    with pytest.raises(NetworkError, match="ends in one node"):
        net.validate()


def test_router_by_capability_takes_the_cheapest_able_member():
    net = Network("router", "router")
    net.add("digits-logreg")
    net.add(chat("dear", lambda m: "dear", cost=5), "dear")
    net.add(chat("cheap", lambda m: "cheap", cost=1), "cheap")
    result, trace, decisions = run(net, "hello", {"capability": "text.generate"})
    assert result.output.content == "cheap" and result.output.meta["routed_to"] == "cheap"
    assert [e.step for e in trace.steps()] == ["cheap"]
    assert decisions == ["routed to cheap: offers text.generate, cost 1"]
    missing, _, decisions = run(net, "hello", {"capability": "audio.transcribe"})
    assert missing.status == "failed" and "no member offers 'audio.transcribe'" in decisions[0]


def test_router_by_meaning_uses_the_embedder_and_caches_member_vectors():
    vocab = ["sum", "capital", "recipe"]
    embed_card = ModelCard("bag-of-words", "python", "text", "vector", ("text.embed",))
    embed = PythonModel(lambda text: [float(w in text.lower()) for w in vocab], embed_card)
    net = Network("meaning", "router", options={"by": "meaning", "embedder": "embed",
                                                "descriptions": {"math": "a sum", "geo": "a capital city"}})
    net.add(embed, "embed")
    net.add(chat("math", lambda m: "math here"), "math"), net.add(chat("geo", lambda m: "geo here"), "geo")
    engine, trace = Engine(), Trace()
    first = engine.run_sync(net, Message("text", "What is the capital of Peru?"), sinks=[trace])
    assert first.output.content == "geo here"
    assert [e.decision for e in trace if e.type == "decision"] == ["routed to geo: similarity 1.00 (next: math 0.00)"]
    second = Trace()
    engine.run_sync(net, Message("text", "Give me the sum"), sinks=[second])
    assert [e.step for e in second.steps()] == ["embed", "math"]  # member vectors were cached


def test_loop_needs_an_iteration_limit_and_stops_at_it_or_when_told():
    net = Network("loop", "loop")
    net.add(chat("draft", lambda m: m.content + "+"), "draft")
    with pytest.raises(NetworkError, match="iteration limit"):
        net.validate()
    net = Network("loop", "loop", options={"max_iterations": 3})
    net.add(chat("draft", lambda m: m.content + "+"), "draft")
    critic = PythonModel(lambda m: Message("text", m.content, {"stop": m.content.endswith("++")}),
                         ModelCard("critic", "python", "text", "text"), raw=False)
    net.add(critic, "critic")
    net.connect("draft", "critic"), net.connect("critic", "draft")  # a cycle: allowed in a loop
    result, trace, decisions = run(net, "x")
    assert result.output.content == "x++"
    assert decisions == ["stopped by critic after 4 steps"]
    net.options["max_iterations"] = 1
    capped = Engine().run_sync(net, Message("text", "x"))
    assert capped.output.content == "x+"


def test_cascade_escalates_below_threshold_and_accounts_cost():
    net = Network("cascade", "cascade", options={"threshold": 0.9})
    for model in ("digits-logreg", "digits-mlp", "digits-cnn"):
        net.add(model)
    net.connect("digits-logreg", "digits-mlp"), net.connect("digits-mlp", "digits-cnn")  # order, not data
    examples = get_dataset("digits").load()
    engine = Engine()
    outcomes = []
    for message, label in examples[:60]:
        trace = Trace()
        result = engine.run_sync(net, message, sinks=[trace])
        decisions = [e.decision for e in trace if e.type == "decision"]
        called = [e.step for e in trace.steps()]
        assert decisions[-1].startswith(f"accepted {result.output.meta['answered_by']}: confidence")
        assert len(decisions) == len(called)  # one decision per escalation or acceptance
        expected_cost = sum(engine.compile(net).models[n].card.cost for n in called)
        assert math.isclose(result.output.meta["cost"], expected_cost)
        outcomes.append(called)
    assert any(len(c) == 1 for c in outcomes) and any(len(c) > 1 for c in outcomes)


def test_cascade_says_when_a_model_gives_no_finite_confidence():
    net = Network("cascade", "cascade", options={"threshold": 0.5})
    net.add(chat("guess", lambda m: "maybe"), "guess"), net.add(chat("last", lambda m: "also maybe"), "last")
    net.connect("guess", "last")
    result, _, decisions = run(net, "x")
    assert decisions == ["escalated: no finite confidence (guess), cost so far 1",
                         "accepted last: no finite confidence, but last in the cascade, cost 2"]
    assert result.output.content == "also maybe"


def test_cascade_refuses_unknown_options():
    with pytest.raises(NetworkError, match="has no option treshold; options: threshold"):
        Network("c", "cascade", options={"treshold": 0.5})


@pytest.mark.parametrize("text,key", [("The answer is 12.", "12"), ("3 + 9 = 12", "12"), ("12,000 metres", "12000"),
                                      ("Paris is the capital.", "paris"), ("12.0", "12"), ("The.", "")])
def test_answer_key(text, key):
    assert answer_key(text) == key


@pytest.mark.parametrize("question,a,b", [
    ("What is the capital of France?", "The capital of France is Paris.", "Paris, of course."),
    ("Is a whale a fish?", "No, a whale is a mammal.", "No."),
    ("Which month comes after May?", "The month after May is June.", "June comes after May."),
])
def test_answers_that_say_the_same_share_a_key_given_the_question(question, a, b):
    assert answer_key(a, question) == answer_key(b, question) != ""
    assert answer_key(a, question) != answer_key("The capital is Lyon. No.", question)


@pytest.mark.parametrize("voter", ["vote", "soft-vote"])
def test_a_vote_goes_ahead_without_failed_members_and_says_so(voter):
    def broken(content):
        raise RuntimeError("member down")
    net = Network("tolerant", "vote")
    probs = [0.0] * 10
    probs[4] = 1.0
    sure = ModelCard("sure", "python", "label.probs", "label.probs")
    net.add(PythonModel(lambda c: {"label": 4, "probs": probs}, sure), "good")
    net.add(PythonModel(broken, ModelCard("broken", "python", "label.probs", "label.probs")), "bad")
    net.add(voter, "v")
    net.connect("good", "v"), net.connect("bad", "v")
    result, trace, decisions = run(net, "x")
    assert result.output.content["label"] == 4
    assert decisions[0].endswith("; without bad (failed)")
    assert {e.step: e.status for e in trace.steps()} == {"good": "ok", "bad": "failed", "v": "ok"}
    assert result.status == "failed"  # a member failed: the run says so, with the vote's answer kept


def test_a_vote_is_skipped_when_every_member_failed():
    def broken(content):
        raise RuntimeError("down")
    net = Network("all-down", "vote")
    for name in ("a", "b"):
        net.add(PythonModel(broken, ModelCard(name, "python", "label.probs", "label.probs")), name)
    net.add("vote", "v")
    net.connect("a", "v"), net.connect("b", "v")
    result, trace, _ = run(net, "x")
    assert trace.steps()[-1].status == "skipped" and result.output is None


def test_router_by_meaning_scores_a_list_of_examples_by_the_best_match():
    vocab = ["sum", "capital", "recipe", "peru"]
    embed = PythonModel(lambda text: [float(w in text.lower()) for w in vocab],
                        ModelCard("bag-of-words", "python", "text", "vector", ("text.embed",)))
    net = Network("meaning", "router", options={"by": "meaning", "embedder": "embed", "descriptions": {
        "math": ["a sum", "another sum"], "geo": ["a capital city", "peru and its neighbours"]}})
    net.add(embed, "embed")
    net.add(chat("math", lambda m: "math here"), "math"), net.add(chat("geo", lambda m: "geo here"), "geo")
    result, trace, decisions = run(net, "Tell me about Peru")
    assert result.output.content == "geo here"
    assert decisions == ["routed to geo: similarity 1.00 (next: math 0.00)"]
    assert len([e for e in trace.steps() if e.node == "embed"]) == 5  # four examples, then the request
