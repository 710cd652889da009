"""Mixture-of-agents: layers of proposers, each layer reading the previous one's answers, then an aggregator.

Contract:
- layers come from the drawn graph: the sources are the first layer, a node's layer is one more than
  its deepest feeder's; the last layer must be one node, the aggregator;
- every node of a layer gets the question plus the answers of the layer before it (of its feeders);
  the nodes of a layer answer at once;
- proposers that fail are left out (the decision says so); output: the aggregator's answer;
- options ``temperature`` (0: greedy) and ``seed`` (0): with temperature > 0 every answer is sampled, the
  run's i-th call with seed ``seed + i`` (see :mod:`workbench.engine.context`).
"""
from __future__ import annotations

import asyncio

from workbench.core.messages import Message
from workbench.engine.context import RunContext
from workbench.engine.protocols.answers import text_of

AGGREGATE = ("{question}\n\nAnswers from other assistants:\n{answers}\n\nUsing them, give the best answer to the "
             "question in one short sentence.")


def layers(ctx: RunContext) -> list[list[str]]:
    depth: dict[str, int] = {}
    for node in ctx.order:
        feeders = ctx.network.predecessors(node)
        depth[node] = 1 + max((depth[f] for f in feeders), default=-1)
    return [[n for n in ctx.order if depth[n] == d] for d in range(max(depth.values()) + 1)]


async def execute(ctx: RunContext) -> Message | None:
    question, answers = text_of(ctx.input), {}
    for number, layer in enumerate(layers(ctx), 1):
        prompts = [question if number == 1 else AGGREGATE.format(question=question, answers="\n".join(
            f"- {text_of(answers[f]).strip()}" for f in ctx.network.predecessors(node) if f in answers))
            for node in layer]
        said = await asyncio.gather(*(ctx.call(node, Message("text", prompt, dict(ctx.input.meta)))
                                      for node, prompt in zip(layer, prompts)))
        answers.update({node: answer for node, answer in zip(layer, said) if answer is not None})
        missing = [n for n in layer if n not in answers]
        ctx.decide(f"layer {number}: {len(layer) - len(missing)} of {len(layer)} answered"
                   + (f"; left out {', '.join(missing)}" if missing else ""))
    return answers.get(ctx.order[-1]) if len(layers(ctx)[-1]) == 1 else None
