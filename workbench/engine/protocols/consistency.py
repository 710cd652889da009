"""Self-consistency: sample k answers from one model and keep the most common one.

Contract:
- members: one node (a ``text.generate`` model); with several, samples go round-robin over them;
- options ``k`` (5), ``temperature`` (0.7), ``seed`` (0): sample i is asked with
  ``meta = {"temperature": temperature, "seed": seed + i}``, so a table is reproducible;
- answers are compared by :func:`~workbench.engine.protocols.answers.answer_key` (the stated number, or
  the first words); failed samples are left out;
- decision: ``vote: '12' in 3 of 5 samples``; output: the first sample with the winning answer.
"""
from __future__ import annotations

from workbench.core.messages import Message
from workbench.engine.context import RunContext
from workbench.engine.protocols.answers import majority


async def execute(ctx: RunContext) -> Message | None:
    k, temperature, seed = int(ctx.options["k"]), float(ctx.options["temperature"]), int(ctx.options["seed"])
    answers = []
    for i in range(k):
        node = ctx.order[i % len(ctx.order)]
        prompt = Message(ctx.input.kind, ctx.input.content, {**ctx.input.meta, "temperature": temperature,
                                                             "seed": seed + i})
        answer = await ctx.call(node, prompt)
        if answer is not None:
            answers.append((node, answer))
    if not answers:
        return None
    key, votes, chosen = majority(answers)
    ctx.decide(f"vote: {key!r} in {votes} of {len(answers)} samples" +
               (f" ({k - len(answers)} failed)" if len(answers) < k else ""))
    return Message(chosen.kind, chosen.content, {**chosen.meta, "votes": votes, "samples": len(answers)})
