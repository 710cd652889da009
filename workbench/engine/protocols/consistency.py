"""Self-consistency: sample k answers from one model and keep the most common one.

Contract:
- members: one node (a ``text.generate`` model); with several, samples go round-robin over them;
- the k samples are drawn at once (a batching backend decodes them together);
- options ``k`` (5), ``temperature`` (0.7), ``seed`` (0): sample i is asked with
  ``meta = {"temperature": temperature, "seed": seed + i}``, so a table is reproducible;
- answers are compared by :func:`~workbench.engine.protocols.answers.answer_key` (the stated number, or
  the first word that is not in the question); failed samples are left out;
- decision: ``vote: '12' in 3 of 5 samples``; output: the first sample with the winning answer.
"""
from __future__ import annotations

import asyncio

from workbench.core.messages import Message
from workbench.engine.context import RunContext
from workbench.engine.protocols.answers import majority, text_of


async def execute(ctx: RunContext) -> Message | None:
    k, temperature, seed = int(ctx.options["k"]), float(ctx.options["temperature"]), int(ctx.options["seed"])

    def sample(i: int) -> Message:
        return Message(ctx.input.kind, ctx.input.content, {**ctx.input.meta, "temperature": temperature,
                                                           "seed": seed + i})

    nodes = [ctx.order[i % len(ctx.order)] for i in range(k)]
    drawn = await asyncio.gather(*(ctx.call(node, sample(i)) for i, node in enumerate(nodes)))
    answers = [(node, answer) for node, answer in zip(nodes, drawn) if answer is not None]
    if not answers:
        return None
    key, votes, chosen = majority(answers, text_of(ctx.input))
    ctx.decide(f"vote: {key!r} in {votes} of {len(answers)} samples" +
               (f" ({k - len(answers)} failed)" if len(answers) < k else ""))
    return Message(chosen.kind, chosen.content, {**chosen.meta, "votes": votes, "samples": len(answers)})
