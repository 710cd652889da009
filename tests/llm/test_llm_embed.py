"""MiniLM embeddings offline, micro-batched, and the meaning router that picks a successor."""
import asyncio

import numpy as np
import pytest

from workbench import Engine, Message, Network, Trace
from workbench.engine.events import DECISION
from workbench.errors import ModelError

pytestmark = pytest.mark.slow


async def test_minilm_gives_unit_vectors_where_close_meanings_are_close(minilm):
    out = await minilm.invoke(Message("text", "How do I add two fractions?"))
    assert out.kind == "vector" and out.content.shape == (384,) and out.content.dtype == np.float32
    assert abs(float(np.linalg.norm(out.content)) - 1) < 1e-5
    near, far = minilm.embed(["What is one half plus one third?", "The Eiffel Tower is in Paris."])
    assert float(out.content @ near) > float(out.content @ far) + 0.2
    assert minilm.card.capabilities == ("text.embed",)


async def test_concurrent_embeddings_are_batched_and_equal_to_one_by_one(minilm):
    texts = [f"sentence number {i} about {topic}" for i, topic in enumerate(["cats", "tax", "rain", "jazz"] * 4)]
    before = minilm.batcher.batches
    vectors = await asyncio.gather(*(minilm.vector(t) for t in texts))
    assert minilm.batcher.batches - before < len(texts)
    alone = minilm.embed(texts[:1])[0]
    np.testing.assert_allclose(vectors[0], alone, atol=1e-5)
    np.testing.assert_allclose(np.stack(vectors), minilm.embed(texts), atol=1e-5)


async def test_non_text_input_is_a_model_error(minilm):
    with pytest.raises(ModelError, match="minilm: bad input: expected text, got int"):
        await minilm.invoke(Message("text", 7))


def router_net(routes) -> Network:
    net = Network("route")
    net.add("route-by-meaning", "router", device="cpu", params={"routes": routes})
    for target in ("math", "cooking"):
        net.add("identity", target)
        net.connect("router", target)
    net.add("merge", "merge")
    net.connect("math", "merge")
    net.connect("cooking", "merge")
    return net


ROUTES = {"math": "arithmetic, algebra, numbers and equations", "cooking": "recipes, food, baking and kitchens"}


@pytest.mark.parametrize("question, chosen", [("What is 17 plus 25?", "math"),
                                              ("How long should I bake bread?", "cooking")])
async def test_the_router_sends_text_to_the_nearest_description_only(minilm, question, chosen):
    trace = Trace()
    result = await Engine(sinks=[trace]).run(router_net(ROUTES), question)
    other = "cooking" if chosen == "math" else "math"
    assert result.ok and result.output.content == question
    assert result.steps[chosen].status == "ok"
    assert result.steps[other].status == "skipped" and result.steps[other].error == "not routed here"
    decision = next(e.decision for e in trace if e.type == DECISION and e.node == "router")
    assert decision.startswith(f"routed to {chosen}: similarity 0.") and f"({other} " in decision
    scores = result.steps["router"].output.meta["similarity"]
    assert scores[chosen] > scores[other]


@pytest.mark.parametrize("routes", [{}, {"math": ""}, {"math": 3}, ["math"]])
def test_bad_routes_are_refused_naming_the_node(routes):
    with pytest.raises(ModelError, match=r"node 'router'.*routes must map successor node ids to descriptions"):
        Engine().compile(router_net(routes))
