"""`workbench eval`'s comparison: which variants a network gets, sampling protocols measured per seed, and the
summary (mean, spread, margin over the best member) computed from the rows."""
import random
import statistics

import pytest

from workbench import Engine, Message, ModelCard, Network, PythonModel, Trace
from workbench.data import get_dataset
from workbench.engine.compare import compare, runs_per_variant, summarise, variants, with_seed

TASKS = get_dataset("text-tasks")
ANSWERS = {example.content: expected["answer"] for example, expected in TASKS.load()}


def chat(name, reply):
    card = ModelCard(name, "python", "text", "text", ("text.generate",))
    return PythonModel(lambda m: Message("text", reply(m)), card, raw=False)


def knows(share: float):
    """A chat model that answers a text task right with probability ``share`` (greedy: only the first ``share``
    of the questions; sampled: decided by the seed), and says "I do not know" otherwise."""
    def reply(m):
        question = m.content.split("\n")[0]
        if "seed" in m.meta:
            right = random.Random(f"{m.meta['seed']}:{question}").random() < share
        else:
            right = (sum(map(ord, question)) % 100) < share * 100
        return f"The answer is {ANSWERS[question]}." if right and question in ANSWERS else "I do not know."
    return reply


def together(protocol="moa") -> Network:
    net = Network("together", protocol, options={"temperature": 0.7} if protocol == "moa" else None)
    net.add(chat("a", knows(0.5)), "a"), net.add(chat("b", knows(0.3)), "b")
    if protocol == "moa":
        net.add(chat("agg", lambda m: m.content.split("assistants:\n- ")[-1]), "agg")
        net.connect("a", "agg"), net.connect("b", "agg")
    return net


@pytest.mark.parametrize("protocol", ["debate", "moa"])
def test_debate_and_moa_sample_with_a_seed_per_call_when_their_temperature_is_above_zero(protocol):
    net = Network(protocol, protocol, options={"temperature": 0.5, "seed": 40, **({"rounds": 2} if protocol == "debate" else {})})
    net.add(chat("a", lambda m: f"a {m.meta.get('seed')}"), "a"), net.add(chat("b", lambda m: f"b {m.meta.get('seed')}"), "b")
    if protocol == "moa":
        net.add(chat("agg", lambda m: "done"), "agg"), net.connect("a", "agg"), net.connect("b", "agg")
    trace = Trace()
    Engine().run_sync(net, Message("text", "What is 7 + 5?"), sinks=[trace])
    inputs = [e.input.meta for e in trace if e.type == "step.start"]
    assert [meta["seed"] for meta in inputs] == list(range(40, 40 + len(inputs))) and len(inputs) >= 3
    assert {meta["temperature"] for meta in inputs} == {0.5}

    greedy = with_seed(net, 40)
    greedy.options["temperature"] = 0.0
    trace = Trace()
    Engine().run_sync(greedy, Message("text", "What is 7 + 5?"), sinks=[trace])
    assert all("temperature" not in e.input.meta for e in trace if e.type == "step.start")


def test_a_network_of_chat_models_is_compared_with_the_text_protocols():
    rows = [(name, kind) for name, kind, _ in variants(together("moa"))]
    assert rows == [("a", "member"), ("b", "member"), ("together", "moa"),
                    ("self-consistency ×5 of a", "self-consistency"), ("debate of 2, 2 rounds", "debate")]
    drawn_as_graph = together("graph")
    generated = {kind: net for _, kind, net in variants(drawn_as_graph, temperature=0.4)}
    moa = generated["moa"]  # a mixture is generated when the drawing is not one: a copy of "a" aggregates
    assert moa.predecessors("aggregator") == ["a", "b"] and moa.options["temperature"] == 0.4
    assert generated["self-consistency"].options == {"k": 5, "temperature": 0.4, "seed": 0}


def test_sampling_variants_run_once_per_seed_and_the_summary_follows_from_the_rows():
    net, examples = together("moa"), TASKS.load()[:12]
    seeds = [0, 1, 2]
    with Engine() as engine:
        import asyncio
        rows = asyncio.run(compare(engine, net, TASKS, examples, seeds=seeds))
    assert len(rows) == runs_per_variant(net, 0.6, 0.7, seeds) == 2 + 3 * 3
    assert [r.seed for r in rows if r.kind == "member"] == [None, None]
    for kind in ("moa", "self-consistency", "debate"):
        assert [r.seed for r in rows if r.kind == kind] == seeds
    assert len({r.batch for r in rows}) == len(rows)  # every pass is its own batch of stored runs
    consistency = [r for r in rows if r.kind == "self-consistency"]
    assert all(r.calls == 5 for r in consistency)
    assert len({r.correct for r in consistency}) > 1  # the seed changes the answers

    summary = {s.kind: s for s in summarise(rows)}
    best = max(r.accuracy for r in rows if r.kind == "member")
    accuracies = [r.accuracy for r in consistency]
    s = summary["self-consistency"]
    assert s.seeds == 3 and s.accuracy == pytest.approx(statistics.fmean(accuracies))
    assert s.spread == pytest.approx(statistics.stdev(accuracies))
    assert (s.low, s.high) == (min(accuracies), max(accuracies))
    assert s.margin == pytest.approx(s.accuracy - best)
    assert summary["member"].spread == 0.0 and summary["member"].seeds == 1
